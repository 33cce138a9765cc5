/* The lab programs' shared helpers (lab.h). */
#include "lab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures; /* lab_expect calls that failed; one thread */

void lab_parse(int argc, char **argv, const long long *defaults,
               struct lab_args *a)
{
    char *rest[64];
    int n = 0;
    a->check = false;
    for (int i = 0; i < argc && n < 64; i++) {
        if (i > 0 && strcmp(argv[i], "--check") == 0)
            a->check = true;
        else
            rest[n++] = argv[i];
    }
    bh_parse(n, rest, defaults, &a->bh);
}

bool lab_expect(bool ok, const char *what)
{
    fprintf(stderr, "lab: %s: %s\n", ok ? "ok" : "FAILED", what);
    if (!ok)
        failures++;
    return ok;
}

int lab_status(void)
{
    return failures ? 1 : 0;
}

int lab_child(int (*fn)(void *arg, void *shared), void *arg, void *out,
              size_t shared_len, char *err, size_t cap)
{
    void *shared = mmap(NULL, shared_len, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int p[2];
    if (shared == MAP_FAILED || pipe(p) != 0)
        bh_fail("lab_child: mmap or pipe failed");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        bh_fail("lab_child: fork failed");
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        _exit(fn(arg, shared));
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p[0], err + len, cap - 1 - len);
        if (n <= 0 || (len += (size_t)n) == cap - 1)
            break;
    }
    err[len] = '\0';
    close(p[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        bh_fail("lab_child: waitpid failed");
    memcpy(out, shared, shared_len);
    munmap(shared, shared_len);
    return status;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lab_percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t k = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

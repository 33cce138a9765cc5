#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

void bh_parse(int argc, char **argv, const long long *defaults,
              struct bh_args *a)
{
    a->runs = 5;
    a->nparams = 0;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            a->runs = (int)strtol(argv[++i], &end, 10);
            if (*end || a->runs < 1 || a->runs > BH_MAX_RUNS) {
                fprintf(stderr, "%s: --runs takes 1..%d\n", argv[0],
                        BH_MAX_RUNS);
                exit(2);
            }
            continue;
        }
        long long v = strtoll(argv[i], &end, 10);
        if (*end || v < 0 || a->nparams == BH_MAX_PARAMS) {
            fprintf(stderr,
                    "%s: bad argument '%s' (want --runs N and up to "
                    "%d non-negative integers)\n",
                    argv[0], argv[i], BH_MAX_PARAMS);
            exit(2);
        }
        a->params[a->nparams++] = v;
    }
    if (a->nparams == 0)
        for (int i = 0; defaults[i] >= 0 && i < BH_MAX_PARAMS; i++)
            a->params[a->nparams++] = defaults[i];
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

void bh_row(const char *workload, const char *backend, long long param,
            const char *metric, const char *unit, double *samples, int n)
{
    char p[32] = "";
    if (param >= 0)
        snprintf(p, sizeof p, "%lld", param);
    bh_row_named(workload, backend, p, metric, unit, samples, n);
}

void bh_row_named(const char *workload, const char *backend, const char *param,
                  const char *metric, const char *unit, double *samples, int n)
{
    qsort(samples, (size_t)n, sizeof(*samples), cmp);
    double median =
        n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    printf("%s,%s,%s,%s,%.6g,%s,%d,%.6g,%.6g\n", workload, backend, param,
           metric, median, unit, n, samples[0], samples[n - 1]);
    fflush(stdout);
}

size_t bh_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
        bh_fail("cannot read /proc/self/statm");
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

uint64_t bh_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bh_fail(const char *msg)
{
    fprintf(stderr, "bench: %s\n", msg);
    exit(1);
}

/* The first number after `key` in a /proc file of "Key:  N kB" lines, in
 * bytes. */
static size_t proc_kb(const char *path, const char *key)
{
    FILE *f = fopen(path, "r");
    if (!f)
        bh_fail("cannot open a /proc file");
    char line[256];
    size_t len = strlen(key), kb = 0;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            found = sscanf(line + len + 1, "%zu", &kb) == 1;
            break;
        }
    fclose(f);
    if (!found)
        bh_fail("a /proc file lacks the field asked for");
    return kb * 1024;
}

size_t bh_kernel_bytes(void)
{
    return proc_kb("/proc/self/status", "VmPTE") +
           proc_kb("/proc/meminfo", "KernelStack");
}

void bh_in_child_n(void (*fn)(long long param, double *out), long long param,
                   double *out, int n)
{
    if (n < 1 || n > BH_MAX_VALUES)
        bh_fail("bh_in_child_n: bad count");
    int fds[2];
    if (pipe(fds) < 0)
        bh_fail("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        bh_fail("fork");
    size_t len = (size_t)n * sizeof(double);
    if (pid == 0) {
        close(fds[0]);
        double v[BH_MAX_VALUES] = {0};
        fn(param, v);
        fflush(stdout); /* notes the child printed; _exit would drop them */
        ssize_t w = write(fds[1], v, len);
        _exit(w == (ssize_t)len ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, len);
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || got != (ssize_t)len)
        bh_fail("a measuring child process failed");
}

/* bh_in_child's function, for the child to call (benchmarks are one
 * thread, and the child is a copy of this process). */
static double (*single_fn)(long long param);

static void single_value(long long param, double *out)
{
    out[0] = single_fn(param);
}

double bh_in_child(double (*fn)(long long param), long long param)
{
    double v = 0;
    single_fn = fn;
    bh_in_child_n(single_value, param, &v, 1);
    return v;
}

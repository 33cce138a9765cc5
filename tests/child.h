/* Runs a function in a forked child with stderr captured, for tests that
 * expect the process to die (stack overflow) or to print a report. */
#ifndef RT_TESTS_CHILD_H
#define RT_TESTS_CHILD_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "check.h"

/* Forks; the child runs fn() with stderr going to a pipe and exits with
 * its return value. The parent collects up to cap-1 bytes of that stderr
 * into out (NUL-terminated) and returns the raw wait status. */
static inline int run_child(int (*fn)(void), char *out, size_t cap)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], STDERR_FILENO);
        close(p[1]);
        _exit(fn());
    }
    close(p[1]);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p[0], out + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1)
            break;
    }
    out[len] = '\0';
    close(p[0]);
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    return status;
}

#endif

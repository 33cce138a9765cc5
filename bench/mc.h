/* What the multi-core workloads share (bench_spawn_many.c, bench_yield_many.c,
 * bench_ping_pong.c, bench_chained_spawn.c, bench_skynet.c): their command
 * line, a run on a given number of workers, and their rows, whose param is
 * the worker count ("workers=2").
 *
 *     bench_<w> [--runs N] [--size S] WORKERS...
 *
 * S is the workload's size (each program says what it counts; the default
 * is the size of the published benchmark); each WORKERS is a worker count,
 * 0 for one per online CPU (the row then names the count it used). With no
 * WORKERS: 1 and one per online CPU. Included by each program, which
 * includes <greenfut/rt.h> first: the helpers run on the backend the
 * program is built for.
 */
#ifndef RT_BENCH_MC_H
#define RT_BENCH_MC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MC_MAX_WORKERS 16

struct mc_args {
    int runs;
    long long size;
    int nworkers;
    unsigned workers[MC_MAX_WORKERS];
};

static inline unsigned mc_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

/* Parses the command line above into *a; exits 2 on bad input. */
static inline void mc_parse(int argc, char **argv, long long default_size,
                            struct mc_args *a)
{
    a->runs = 5;
    a->size = default_size;
    a->nworkers = 0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        long long v = -1;
        if ((strcmp(argv[i], "--runs") == 0 ||
             strcmp(argv[i], "--size") == 0) &&
            i + 1 < argc) {
            v = strtoll(argv[i + 1], &end, 10);
            if (*end || v < 1 || (argv[i][2] == 'r' && v > BH_MAX_RUNS))
                goto bad;
            if (argv[i][2] == 'r')
                a->runs = (int)v;
            else
                a->size = v;
            i++;
            continue;
        }
        v = strtoll(argv[i], &end, 10);
        if (*end || v < 0 || v > 256 || a->nworkers == MC_MAX_WORKERS)
            goto bad;
        a->workers[a->nworkers++] = v == 0 ? mc_cpus() : (unsigned)v;
        continue;
    bad:
        fprintf(stderr,
                "%s: bad argument '%s' (want [--runs 1..%d] [--size N] "
                "and up to %d worker counts, 0 = one per CPU)\n",
                argv[0], argv[i], BH_MAX_RUNS, MC_MAX_WORKERS);
        exit(2);
    }
    if (a->nworkers == 0) {
        a->workers[a->nworkers++] = 1;
        if (mc_cpus() > 1)
            a->workers[a->nworkers++] = mc_cpus();
    }
}

/* Runs the root task fn over a copy of frame on `workers` workers and
 * returns its result; a run that fails is the workload's failure. */
static inline intptr_t mc_run(const char *workload, unsigned workers,
                              rt_task_fn fn, const void *frame, size_t size)
{
    struct rt_opts o = {.workers = workers};
    intptr_t ret = 0;
    int rc = rt_run_opts(&o, fn, frame, size, &ret);
    if (rc < 0) {
        fprintf(stderr, "bench: %s: rt_run_opts on %u workers: %s\n", workload,
                workers, strerror(-rc));
        exit(1);
    }
    return ret;
}

/* One row whose param is "workers=<workers>". */
static inline void mc_row(const char *workload, unsigned workers,
                          const char *metric, const char *unit, double *samples,
                          int n)
{
    char p[32];
    snprintf(p, sizeof p, "workers=%u", workers);
    bh_row_named(workload, rt_backend_name(), p, metric, unit, samples, n);
}

/* Fails the workload with a message naming it. */
static inline _Noreturn void mc_fail(const char *workload, const char *what)
{
    fprintf(stderr, "bench: %s on %s: %s\n", workload, rt_backend_name(), what);
    exit(1);
}

#endif

/* Handoff cost: two green threads yielding to each other (each gt_yield is
 * one direct task-to-task jump) against a raw jump_fcontext ping-pong in the
 * same process. Prints ns per switch, median of RUNS runs with min/max, as
 * CSV rows of the comparison runner (bench/harness.h), backend
 * design:<variant> where the variant (SWITCH_VARIANT, set by the build) says
 * how jump_fcontext is entered.
 *
 * Usage: bench_sf_switch [iterations per run, default 2000000]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <greenfut/clock.h>
#include "fcontext.h"
#include <greenfut/gt.h>

#define RUNS 9

static long iters = 2000000;

static void raw_entry(transfer_t t)
{
    for (;;)
        t = jump_fcontext(t.fctx, NULL);
}

/* ns per jump_fcontext (a round trip is two). */
static double raw_run(void)
{
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        abort();
    fcontext_t c = make_fcontext(stack + size, size, raw_entry);
    transfer_t t = jump_fcontext(c, NULL); /* warm up, start it */
    uint64_t t0 = rt_now_ns();
    for (long i = 0; i < iters; i++)
        t = jump_fcontext(t.fctx, NULL);
    uint64_t t1 = rt_now_ns();
    munmap(stack, size);
    return (double)(t1 - t0) / (2.0 * (double)iters);
}

static void *yielder(void *arg)
{
    (void)arg;
    for (long i = 0; i < iters; i++)
        gt_yield();
    return NULL;
}

static double gt_ns;

static void *gt_root(void *arg)
{
    (void)arg;
    int64_t a = gt_spawn(yielder, NULL, NULL);
    int64_t b = gt_spawn(yielder, NULL, NULL);
    struct gt_stats s0, s1;
    gt_stats(&s0);
    uint64_t t0 = rt_now_ns();
    gt_join(a, NULL); /* the root parks; a and b hand off to each other */
    gt_join(b, NULL);
    uint64_t t1 = rt_now_ns();
    gt_stats(&s1);
    gt_ns = (double)(t1 - t0) / (double)(s1.switches - s0.switches);
    return NULL;
}

static double gt_run_once(void)
{
    if (gt_run(NULL, gt_root, NULL, NULL) != 0)
        abort();
    return gt_ns;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats(double *v, double *med, double *lo, double *hi)
{
    qsort(v, RUNS, sizeof(*v), cmp);
    *med = v[RUNS / 2];
    *lo = v[0];
    *hi = v[RUNS - 1];
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iters = atol(argv[1]);
    double raw[RUNS], gt[RUNS];
    raw_run(); /* warm-up */
    gt_run_once();
    for (int i = 0; i < RUNS; i++) { /* interleaved: same conditions */
        raw[i] = raw_run();
        gt[i] = gt_run_once();
    }
    double rm, rl, rh, gm, gl, gh;
    stats(raw, &rm, &rl, &rh);
    stats(gt, &gm, &gl, &gh);
    /* Rows in the comparison runner's CSV format (bench/harness.h); the
     * variant names how jump_fcontext is entered. */
    const char *variant = SWITCH_VARIANT;
    printf("# bench_sf_switch %s: %ld switches x %d runs\n", variant, 2 * iters,
           RUNS);
    printf("sf_switch,design:%s,,ns_per_raw_switch,%.4g,ns,%d,%.4g,%.4g\n",
           variant, rm, RUNS, rl, rh);
    printf("sf_switch,design:%s,,ns_per_gt_yield,%.4g,ns,%d,%.4g,%.4g\n",
           variant, gm, RUNS, gl, gh);
    return 0;
}

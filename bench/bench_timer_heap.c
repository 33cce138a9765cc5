/* Timer heap costs with n timers armed, for choosing the heap's arity.
 *
 * Usage: bench_timer_heap [n ...]   (default: 1000 100000 1000000)
 * For each n it arms n timers at random deadlines, then measures, as the
 * median of RUNS runs with min and max:
 *   arm_cancel  arm one extra timer at a random deadline, cancel it;
 *   rearm       move a random armed timer to a new random deadline;
 *   expire      fire all n timers in deadline order (ns per timer).
 * Output: one line per (n, metric):
 *   timers arity=<a> n=<n> <metric>_ns median=<m> min=<lo> max=<hi> runs=<k>
 * bench_timer_heap_binary is the same program over a binary heap. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "timer.h"

#ifndef RT_TIMER_ARITY
#define RT_TIMER_ARITY 4
#endif
#define OPS  200000
#define RUNS 7
#define SPAN 1000000000u

static struct rt_waker nop_clone(void *data);
static void nop(void *data)
{
    (void)data;
}
static const struct rt_waker_vtable nop_vt = {nop_clone, nop, nop, nop};
static struct rt_waker nop_clone(void *data)
{
    return (struct rt_waker){&nop_vt, data};
}

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(size_t n, const char *metric, double *res)
{
    qsort(res, RUNS, sizeof res[0], cmp);
    printf("timers arity=%d n=%zu %s_ns median=%.1f min=%.1f max=%.1f "
           "runs=%d\n",
           RT_TIMER_ARITY, n, metric, res[RUNS / 2], res[0], res[RUNS - 1],
           RUNS);
}

static int fill(struct rt_timers *h, struct rt_timer *ts, size_t n,
                const struct rt_waker *w)
{
    for (size_t i = 0; i < n; i++) {
        rt_timer_init(&ts[i]);
        if (rt_timers_arm(h, &ts[i], rnd() % SPAN, w) < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    size_t sizes[16] = {1000, 100000, 1000000};
    int nsizes = 3;
    if (argc > 1) {
        nsizes = 0;
        for (int i = 1; i < argc && nsizes < 16; i++)
            sizes[nsizes++] = strtoull(argv[i], NULL, 10);
    }
    struct rt_waker w = {&nop_vt, NULL};
    for (int s = 0; s < nsizes; s++) {
        size_t n = sizes[s];
        struct rt_timer *ts = malloc((n + 1) * sizeof(*ts));
        struct rt_timers h;
        rt_timers_init(&h);
        if (!ts || fill(&h, ts, n, &w) < 0) {
            fprintf(stderr, "bench_timer_heap: out of memory for n=%zu\n", n);
            return 1;
        }
        struct rt_timer *extra = &ts[n];
        rt_timer_init(extra);
        double ac[RUNS], ra[RUNS], ex[RUNS];
        for (int run = 0; run < RUNS; run++) {
            uint64_t t0 = rt_now_ns();
            for (int k = 0; k < OPS; k++) {
                (void)rt_timers_arm(&h, extra, rnd() % SPAN, &w);
                rt_timers_cancel(&h, extra);
            }
            ac[run] = (double)(rt_now_ns() - t0) / OPS;
            t0 = rt_now_ns();
            for (int k = 0; k < OPS; k++)
                (void)rt_timers_arm(&h, &ts[rnd() % n], rnd() % SPAN, &w);
            ra[run] = (double)(rt_now_ns() - t0) / OPS;
        }
        for (int run = 0; run < RUNS; run++) {
            uint64_t t0 = rt_now_ns();
            size_t fired = rt_timers_expire(&h, UINT64_MAX);
            ex[run] = (double)(rt_now_ns() - t0) / (double)n;
            if (fired != n) {
                fprintf(stderr, "bench_timer_heap: fired %zu of %zu\n", fired,
                        n);
                return 1;
            }
            if (fill(&h, ts, n, &w) < 0)
                return 1;
        }
        report(n, "arm_cancel", ac);
        report(n, "rearm", ra);
        report(n, "expire", ex);
        rt_timers_fini(&h);
        free(ts);
    }
    return 0;
}

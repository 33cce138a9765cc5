/* Timer heap costs with n timers armed, for choosing the heap's arity.
 *
 * Usage: bench_timer_heap [--paged] [n ...]
 * (default: 1000 100000 1000000 in one array, then 1000 and 10000 paged)
 * Timers sit either in one array (dense) or one per 4 KiB page, each at a
 * different cache-line offset in its page (paged), the way the timers of
 * green threads sit on their stacks and those of futures in their frames.
 * For each n it arms n timers at random deadlines, then measures, as the
 * median of RUNS runs with min and max:
 *   arm_cancel  arm one extra timer at a random deadline, cancel it;
 *   rearm       move a random armed timer to a new random deadline;
 *   expire      fire all n timers in deadline order (ns per timer).
 * Output: one line per (layout, n, metric):
 *   timers arity=<a> layout=<dense|paged> n=<n> <metric>_ns median=<m>
 *   min=<lo> max=<hi> runs=<k>
 * bench_timer_heap_binary is the same program over a binary heap. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/clock.h>
#include <greenfut/timer.h>

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

static void report(const char *layout, size_t n, const char *metric,
                   double *res)
{
    qsort(res, RUNS, sizeof res[0], cmp);
    /* A row in the comparison runner's CSV format (bench/harness.h). */
    printf("timer_heap,design:arity%d_%s,%zu,ns_per_%s,%.4g,ns,%d,%.4g,%.4g\n",
           RT_TIMER_ARITY, layout, n, metric, res[RUNS / 2], RUNS, res[0],
           res[RUNS - 1]);
}

/* Where timer i lives: `stride` bytes apart, plus a cache-line colour of
 * (i % 16) * 64 bytes when paged (as stacks have, see stackful/thread.c). */
static size_t stride;
static char *mem;
static struct rt_timer *timer_at(size_t i)
{
    size_t colour = stride > sizeof(struct rt_timer) ? (i % 16) * 64 : 0;
    return (struct rt_timer *)(void *)(mem + i * stride + colour);
}

static int fill(struct rt_timers *h, size_t n, const struct rt_waker *w)
{
    for (size_t i = 0; i < n; i++) {
        rt_timer_init(timer_at(i));
        if (rt_timers_arm(h, timer_at(i), rnd() % SPAN, w) < 0)
            return -1;
    }
    return 0;
}

static int measure(size_t n, bool paged);

int main(int argc, char **argv)
{
    size_t sizes[16];
    int nsizes = 0;
    bool paged = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--paged") == 0)
            paged = true;
        else if (nsizes < 16)
            sizes[nsizes++] = strtoull(argv[i], NULL, 10);
    }
    if (nsizes > 0) {
        for (int s = 0; s < nsizes; s++)
            if (measure(sizes[s], paged) < 0)
                return 1;
        return 0;
    }
    static const size_t dense[] = {1000, 100000, 1000000};
    static const size_t pages[] = {1000, 10000};
    for (size_t s = 0; s < sizeof dense / sizeof dense[0]; s++)
        if (measure(dense[s], false) < 0)
            return 1;
    for (size_t s = 0; s < sizeof pages / sizeof pages[0]; s++)
        if (measure(pages[s], true) < 0)
            return 1;
    return 0;
}

static int measure(size_t n, bool paged)
{
    const char *layout = paged ? "paged" : "dense";
    struct rt_waker w = {&nop_vt, NULL};
    stride = paged ? 4096 : sizeof(struct rt_timer);
    mem = malloc((n + 1) * stride);
    struct rt_timers h;
    rt_timers_init(&h);
    if (!mem || fill(&h, n, &w) < 0) {
        fprintf(stderr, "bench_timer_heap: out of memory for n=%zu\n", n);
        return -1;
    }
    struct rt_timer *extra = timer_at(n);
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
            (void)rt_timers_arm(&h, timer_at(rnd() % n), rnd() % SPAN, &w);
        ra[run] = (double)(rt_now_ns() - t0) / OPS;
    }
    for (int run = 0; run < RUNS; run++) {
        uint64_t t0 = rt_now_ns();
        size_t fired = rt_timers_expire(&h, UINT64_MAX);
        ex[run] = (double)(rt_now_ns() - t0) / (double)n;
        if (fired != n) {
            fprintf(stderr, "bench_timer_heap: fired %zu of %zu\n", fired, n);
            return -1;
        }
        if (fill(&h, n, &w) < 0)
            return -1;
    }
    report(layout, n, "arm_cancel", ac);
    report(layout, n, "rearm", ra);
    report(layout, n, "expire", ex);
    rt_timers_fini(&h);
    free(mem);
    return 0;
}

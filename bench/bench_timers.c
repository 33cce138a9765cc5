/* Arm+cancel cost of the timer heap with n timers already armed.
 *
 * Usage: bench_timers [n ...]   (default: 1000 100000 1000000)
 * For each n: arms n timers at random deadlines, then times REPS pairs of
 * "arm one more timer at a random deadline, cancel it" and prints
 * "timers n=<n> arm_cancel_ns median=<m> min=<a> max=<b> runs=<k>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "timer.h"

#define REPS 200000
#define RUNS 7

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
        if (!ts) {
            fprintf(stderr, "bench_timers: out of memory for n=%zu\n", n);
            return 1;
        }
        struct rt_timers h;
        rt_timers_init(&h);
        for (size_t i = 0; i < n; i++) {
            rt_timer_init(&ts[i]);
            if (rt_timers_arm(&h, &ts[i], rnd() % 1000000000, &w) < 0) {
                fprintf(stderr, "bench_timers: arm failed\n");
                return 1;
            }
        }
        struct rt_timer *extra = &ts[n];
        rt_timer_init(extra);
        double res[RUNS];
        for (int run = 0; run < RUNS; run++) {
            uint64_t t0 = rt_now_ns();
            for (int k = 0; k < REPS; k++) {
                (void)rt_timers_arm(&h, extra, rnd() % 1000000000, &w);
                rt_timers_cancel(&h, extra);
            }
            res[run] = (double)(rt_now_ns() - t0) / REPS;
        }
        qsort(res, RUNS, sizeof res[0], cmp);
        printf("timers n=%zu arm_cancel_ns median=%.1f min=%.1f max=%.1f "
               "runs=%d\n",
               n, res[RUNS / 2], res[0], res[RUNS - 1], RUNS);
        rt_timers_fini(&h);
        free(ts);
    }
    return 0;
}

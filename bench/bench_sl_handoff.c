/* Handoff: two tasks wake each other in turn; each poll is one handoff
 * (a wake = NOTIFIED flip + FIFO push, then a pop + poll). Prints ns per
 * handoff as the median of RUNS runs with min and max, next to an in-run
 * baseline: the same number of indirect calls through a vtable. */
#include <stdio.h>
#include <stdlib.h>

#include <greenfut/clock.h>
#include <greenfut/task.h>

#define RUNS     9
#define HANDOFFS 2000000L

struct pingpong {
    struct rt_waker w[2]; /* each task's stored waker (one clone each) */
    long count;
};

static struct pingpong pp;

struct player {
    struct fut_future base;
    int me;
};

static enum rt_poll player_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct player *f = (struct player *)self;
    (void)out;
    struct rt_waker *other = &pp.w[1 - f->me];
    if (pp.count >= HANDOFFS) {
        rt_waker_wake_by_ref(other); /* let the other one see the end */
        return RT_READY;
    }
    rt_waker_store(&pp.w[f->me], cx->waker); /* clones on the first poll */
    pp.count++;
    rt_waker_wake_by_ref(other);
    return RT_PENDING;
}

static const struct fut_vtable player_vt = {player_poll, NULL, "player"};

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double one_run(void)
{
    pp.count = 0;
    struct player a = {{&player_vt}, 0}, b = {{&player_vt}, 1};
    struct fut_join ja, jb;
    if (fut_spawn(&a.base, sizeof(a), 0, &ja) < 0 ||
        fut_spawn(&b.base, sizeof(b), 0, &jb) < 0)
        abort();
    uint64_t t0 = rt_now_ns();
    if (fut_join(&ja, NULL) < 0 || fut_join(&jb, NULL) < 0)
        abort();
    uint64_t t1 = rt_now_ns();
    rt_waker_drop(&pp.w[0]);
    rt_waker_drop(&pp.w[1]);
    return (double)(t1 - t0) / (double)pp.count;
}

/* Baseline: an indirect call that the compiler cannot inline. */
static volatile long sink;

static enum rt_poll noop_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    sink++;
    return RT_PENDING;
}

static const struct fut_vtable noop_vt = {noop_poll, NULL, "noop"};

static double baseline_run(void)
{
    struct fut_future f = {&noop_vt};
    struct fut_future *volatile fp = &f;
    uint64_t t0 = rt_now_ns();
    for (long i = 0; i < HANDOFFS; i++)
        (void)fut_poll(fp, NULL, NULL);
    uint64_t t1 = rt_now_ns();
    return (double)(t1 - t0) / (double)HANDOFFS;
}

int main(void)
{
    struct fut_executor *ex;
    if (fut_executor_new(&ex) < 0)
        return 1;
    double hand[RUNS], base[RUNS];
    (void)one_run(); /* warm up */
    for (int i = 0; i < RUNS; i++) {
        hand[i] = one_run();
        base[i] = baseline_run();
    }
    qsort(hand, RUNS, sizeof(double), cmp);
    qsort(base, RUNS, sizeof(double), cmp);
    /* Rows in the comparison runner's CSV format (bench/harness.h). */
    printf("# bench_sl_handoff: %ld handoffs x %d runs\n", HANDOFFS, RUNS);
    printf("sl_handoff,design:native,,ns_per_handoff,%.4g,ns,%d,%.4g,%.4g\n",
           hand[RUNS / 2], RUNS, hand[0], hand[RUNS - 1]);
    printf("sl_handoff,design:native,,ns_per_indirect_call,%.4g,ns,%d,%.4g,"
           "%.4g\n",
           base[RUNS / 2], RUNS, base[0], base[RUNS - 1]);
    fut_executor_free(ex);
    return 0;
}

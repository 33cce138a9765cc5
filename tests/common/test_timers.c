/* Timer heap: deadline order, FIFO among equal deadlines, cancel of armed,
 * fired and never-armed timers, re-arm, and wakers that re-arm. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include <greenfut/clock.h>
#include <greenfut/reactor.h>
#include "testwaker.h"
#include <greenfut/timer.h>

#define N 10000

/* A waker that records which timer fired, in order. */
struct rec {
    int order[N];
    int n;
};
static struct rec rec;
static struct rt_timer timers[N];

static struct rt_waker rec_clone(void *data);
static void rec_wake(void *data)
{
    rec.order[rec.n++] = (int)((struct rt_timer *)data - timers);
}
static void rec_drop(void *data)
{
    (void)data;
}
static const struct rt_waker_vtable rec_vt = {rec_clone, rec_wake, rec_wake,
                                              rec_drop};
static struct rt_waker rec_clone(void *data)
{
    return (struct rt_waker){&rec_vt, data};
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static void test_order_and_ties(void)
{
    struct rt_timers h;
    rt_timers_init(&h);
    rec.n = 0;
    /* Few distinct deadlines, so ties are common. */
    uint64_t dl[N];
    for (int i = 0; i < N; i++) {
        rt_timer_init(&timers[i]);
        dl[i] = 1000 + rnd() % 500;
        struct rt_waker w = {&rec_vt, &timers[i]};
        CHECK_OK(rt_timers_arm(&h, &timers[i], dl[i], &w));
    }
    /* Cancel every 7th: they must never fire. */
    for (int i = 0; i < N; i += 7)
        rt_timers_cancel(&h, &timers[i]);
    CHECK_EQ(rt_timers_expire(&h, 999), 0);
    size_t fired = rt_timers_expire(&h, 1000 + 250);
    fired += rt_timers_expire(&h, UINT64_MAX - 1);
    CHECK_EQ(fired, (size_t)rec.n);
    CHECK_EQ(rec.n, N - (N + 6) / 7);
    for (int k = 0; k < rec.n; k++) {
        int i = rec.order[k];
        CHECK(i % 7 != 0);
        CHECK(!rt_timer_armed(&timers[i]));
        if (k > 0) {
            int p = rec.order[k - 1];
            CHECK_LE(dl[p], dl[i]);
            if (dl[p] == dl[i])
                CHECK_LT(p, i); /* armed in index order */
        }
    }
    CHECK_EQ(rt_timers_len(&h), 0);
    CHECK_EQ(rt_timers_next(&h), UINT64_MAX);
    rt_timers_fini(&h);
}

static void test_cancel_and_rearm(void)
{
    struct rt_timers h;
    rt_timers_init(&h);
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_timer a, b, never;
    rt_timer_init(&a);
    rt_timer_init(&b);
    rt_timer_init(&never);

    rt_timers_cancel(&h, &never); /* never armed: no-op */
    CHECK(!rt_timer_armed(&never));

    CHECK_OK(rt_timers_arm(&h, &a, 10, &w));
    CHECK_OK(rt_timers_arm(&h, &b, 20, &w));
    CHECK_EQ(atomic_load(&tw.live), 2);
    rt_timers_cancel(&h, &a); /* armed */
    CHECK_EQ(atomic_load(&tw.live), 1);
    CHECK_EQ(rt_timers_next(&h), 20);
    CHECK_EQ(rt_timers_expire(&h, 100), 1);
    CHECK_EQ(atomic_load(&tw.wakes), 1);
    rt_timers_cancel(&h, &b); /* fired: no-op */
    rt_timers_cancel(&h, &b);
    CHECK_EQ(atomic_load(&tw.wakes), 1);

    /* Re-arm moves a timer, and puts it after existing equal deadlines. */
    CHECK_OK(rt_timers_arm(&h, &a, 50, &w));
    CHECK_OK(rt_timers_arm(&h, &b, 30, &w));
    CHECK_OK(rt_timers_arm(&h, &a, 5, &w));
    CHECK_EQ(rt_timers_next(&h), 5);
    CHECK_EQ(atomic_load(&tw.live), 2); /* re-arm kept one waker each */
    CHECK_EQ(rt_timers_expire(&h, 5), 1);
    CHECK(!rt_timer_armed(&a));
    CHECK(rt_timer_armed(&b));

    /* Bad input. */
    CHECK_EQ(rt_timers_arm(&h, NULL, 1, &w), -EINVAL);
    CHECK_EQ(rt_timers_arm(&h, &a, 1, NULL), -EINVAL);
    struct rt_waker none = RT_WAKER_NONE;
    CHECK_EQ(rt_timers_arm(&h, &a, 1, &none), -EINVAL);
    rt_timers_cancel(&h, NULL);

    rt_timers_fini(&h); /* drops b's waker */
    CHECK(!rt_timer_armed(&b));
    CHECK_EQ(atomic_load(&tw.live), 0);
}

/* A waker that re-arms its own timer for "now": it must not fire again in
 * the same expire call (no livelock). */
static struct rt_timers *rearm_heap;
static int rearm_count;
static struct rt_waker rearm_clone(void *data);
static void rearm_wake(void *data)
{
    rearm_count++;
    struct rt_waker self = rearm_clone(data);
    CHECK_OK(rt_timers_arm(rearm_heap, data, 0, &self));
}
static void rearm_drop(void *data)
{
    (void)data;
}
static const struct rt_waker_vtable rearm_vt = {rearm_clone, rearm_wake,
                                                rearm_wake, rearm_drop};
static struct rt_waker rearm_clone(void *data)
{
    return (struct rt_waker){&rearm_vt, data};
}

static void test_rearm_from_waker(void)
{
    struct rt_timers h;
    rt_timers_init(&h);
    rearm_heap = &h;
    struct rt_timer t;
    rt_timer_init(&t);
    struct rt_waker w = {&rearm_vt, &t};
    CHECK_OK(rt_timers_arm(&h, &t, 0, &w));
    CHECK_EQ(rt_timers_expire(&h, 1), 1);
    CHECK_EQ(rearm_count, 1);
    CHECK(rt_timer_armed(&t));
    CHECK_EQ(rt_timers_expire(&h, 1), 1);
    CHECK_EQ(rearm_count, 2);
    rt_timers_fini(&h);
}

/* Through the reactor: turn sleeps until the earliest deadline, fires due
 * timers only. */
static void test_reactor_timers(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_timer soon, late;
    rt_timer_init(&soon);
    rt_timer_init(&late);
    uint64_t now = rt_now_ns();
    CHECK_OK(rt_reactor_timer_arm(r, &soon, now + 2000000, &w));
    CHECK_OK(rt_reactor_timer_arm(r, &late, now + 3600000000000ull, &w));
    int n = 0;
    while (n == 0) {
        n = rt_reactor_turn(r, -1); /* returns at soon's deadline */
        CHECK_OK(n);
    }
    CHECK_EQ(n, 1);
    CHECK_GE(rt_now_ns(), now + 2000000);
    CHECK(!rt_timer_armed(&soon));
    CHECK(rt_timer_armed(&late));
    CHECK_EQ(rt_reactor_turn(r, 0), 0);
    CHECK(rt_reactor_has_waiters(r));
    rt_reactor_free(r); /* drops late's waker */
    CHECK_EQ(atomic_load(&tw.live), 0);
    CHECK_EQ(atomic_load(&tw.wakes), 1);
}

int main(void)
{
    test_order_and_ties();
    test_cancel_and_rearm();
    test_rearm_from_waker();
    test_reactor_timers();
    return 0;
}

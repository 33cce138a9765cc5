/* spawn_blocking on either backend. A "blocking call" here waits (bounded)
 * until a ticker task has ticked TICKS times. Through the blocking pool the
 * scheduler keeps running, so the ticker ticks while the call blocks and
 * the call returns as soon as it sees TICKS. Made directly on the
 * scheduler's thread, it stalls every task: the ticker cannot tick, and the
 * call gives up at its bound having seen no tick. The assertions are on
 * that ordering of events; the stall is measured and printed, not judged.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include <greenfut/rt.h>

#define TICKS 5
/* How long the blocking call waits for the ticks at most. Through the pool
 * it returns as soon as it has seen them, so its bound only has to be
 * generous (a loaded or instrumented machine ticks slowly); made directly it
 * can never see one, so it always waits its whole, shorter, bound. */
#define POOLED_BOUND_MS 30000
#define DIRECT_BOUND_MS 300

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ticked = PTHREAD_COND_INITIALIZER;
static int ticks;

/* The blocking call: returns the number of ticks it saw happen while it
 * was blocked, waiting at most `arg` milliseconds for TICKS of them. */
static intptr_t wait_for_ticks(void *arg)
{
    long bound_ms = (long)(intptr_t)arg;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += bound_ms / 1000;
    until.tv_nsec += (bound_ms % 1000) * 1000000;
    until.tv_sec += until.tv_nsec / 1000000000;
    until.tv_nsec %= 1000000000;
    pthread_mutex_lock(&lock);
    int start = ticks;
    while (ticks - start < TICKS &&
           pthread_cond_timedwait(&ticked, &lock, &until) != ETIMEDOUT)
        ;
    int seen = ticks - start;
    pthread_mutex_unlock(&lock);
    return seen;
}

/* Atomics: with RT_WORKERS the ticker and the root may run on two
 * threads at once. */
static atomic_int stop;
static _Atomic uint64_t last_tick, max_gap;

struct ticker {
    RT_FRAME;
};

static enum rt_poll ticker(void *self)
{
    struct ticker *f = self;
    RT_BEGIN(f);
    last_tick = rt_now_ns();
    while (!stop) {
        RT_AWAIT_SLEEP(f, 1000000);
        uint64_t now = rt_now_ns();
        if (now - last_tick > max_gap)
            max_gap = now - last_tick;
        last_tick = now;
        pthread_mutex_lock(&lock);
        ticks++;
        pthread_cond_broadcast(&ticked);
        pthread_mutex_unlock(&lock);
    }
    RT_END(f);
}

struct root {
    RT_FRAME;
    int pooled;
    struct rt_join t;
    intptr_t seen;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    {
        struct ticker t = {0};
        CHECK_OK(rt_spawn(ticker, &t, sizeof t, &f->t));
    }
    RT_AWAIT_SLEEP(f, 2000000); /* the ticker is up and ticking */
    max_gap = 0;
    if (f->pooled) {
        RT_AWAIT_BLOCKING(f, f->seen, wait_for_ticks,
                          (void *)(intptr_t)POOLED_BOUND_MS);
    } else {
        /* What not to do: */
        f->seen = wait_for_ticks((void *)(intptr_t)DIRECT_BOUND_MS);
    }
    stop = 1;
    RT_AWAIT_JOIN(f, f->rc, &f->t);
    CHECK_EQ(f->rc, 0);
    RT_RETURN(f, f->seen);
    RT_END(f);
}

int main(void)
{
    intptr_t seen = -1;
    struct root pooled = {.pooled = 1};
    CHECK_OK(rt_run(root, &pooled, sizeof pooled, &seen));
    uint64_t pooled_gap = max_gap;
    /* The ticker ran while the call blocked on a pool thread. */
    CHECK_GE(seen, TICKS);

    stop = 0;
    struct root direct = {.pooled = 0};
    CHECK_OK(rt_run(root, &direct, sizeof direct, &seen));
    /* The direct call stalled the scheduler: not one tick got in. With
     * more workers (RT_WORKERS) another one may run the ticker meanwhile:
     * the call stalls only its own worker. */
    if (one_worker())
        CHECK_EQ(seen, 0);
    printf("%s: longest gap between 1 ms ticks: %.1f ms through the pool, "
           "%.1f ms with the call made directly\n",
           rt_backend_name(), (double)pooled_gap / 1e6, (double)max_gap / 1e6);
    return 0;
}

/* Mutex exclusion (a yield inside the critical section cannot let another
 * task in), a condition with a producer/consumer pair, a semaphore bounding
 * concurrency, a wait group, and two tasks passing control back and forth
 * through notifications (strict alternation; a second waiter refused), on
 * either backend. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <greenfut/rt.h>

#define WORKERS 16
#define ROUNDS  200

static struct rt_mutex mu;
static int inside; /* tasks inside the critical section now */
static long counter;

struct locker {
    RT_FRAME;
    int i;
    long seen;
};

static enum rt_poll locker(void *self)
{
    struct locker *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < ROUNDS; f->i++) {
        RT_AWAIT_LOCK(f, &mu);
        CHECK_EQ(inside, 0);
        inside++;
        f->seen = counter;
        RT_AWAIT_YIELD(f); /* everyone else runs now, but cannot get in */
        CHECK_EQ(counter, f->seen);
        counter = f->seen + 1;
        inside--;
        rt_mutex_unlock(&mu);
    }
    RT_END(f);
}

/* Semaphore of 3: never more than 3 holders at once. */
static struct rt_sem sem;
static atomic_int holders, max_holders; /* tasks may run on two workers */
static struct rt_wg wg;

struct limited {
    RT_FRAME;
};

static enum rt_poll limited(void *self)
{
    struct limited *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SEM(f, &sem);
    {
        int now = atomic_fetch_add(&holders, 1) + 1;
        int max = atomic_load(&max_holders);
        while (now > max &&
               !atomic_compare_exchange_weak(&max_holders, &max, now))
            ;
    }
    /* Hold until three held at once, so that the limit is reached
     * whatever the timing (with several workers a worker may be preempted
     * between two of them); the ones after that go straight on. */
    while (atomic_load(&max_holders) < 3)
        RT_AWAIT_YIELD(f);
    atomic_fetch_sub(&holders, 1);
    rt_sem_release(&sem);
    CHECK_OK(rt_wg_done(&wg));
    RT_END(f);
}

/* Condition: the consumer waits until the producer has set `ready`. */
static struct rt_cond cond;
static int ready;
static int waiting; /* under mu: waiters that reached the condition */

struct waiter {
    RT_FRAME;
};

static enum rt_poll waiter(void *self)
{
    struct waiter *f = self;
    RT_BEGIN(f);
    RT_AWAIT_LOCK(f, &mu);
    waiting++; /* the condition's wait releases mu only once queued */
    while (!ready)
        RT_AWAIT_COND(f, &cond, &mu);
    CHECK_EQ(ready, 1);
    rt_mutex_unlock(&mu);
    CHECK_OK(rt_wg_done(&wg));
    RT_END(f);
}

#define PINGS 1000

static struct rt_notify to_pong, to_ping;
static int turn; /* 1 while it is pong's turn */

struct pong {
    RT_FRAME;
    int i, rc;
};

static enum rt_poll pong(void *self)
{
    struct pong *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < PINGS; f->i++) {
        RT_AWAIT_NOTIFIED(f, f->rc, &to_pong);
        CHECK_EQ(f->rc, 0);
        CHECK_EQ(turn, 1);
        turn = 0;
        rt_notify_one(&to_ping);
    }
    RT_RETURN(f, f->i);
    RT_END(f);
}

/* Waits on to_pong while pong does: refused. */
struct intruder {
    RT_FRAME;
    int rc;
};

static enum rt_poll intruder(void *self)
{
    struct intruder *f = self;
    RT_BEGIN(f);
    RT_AWAIT_NOTIFIED(f, f->rc, &to_pong);
    RT_RETURN(f, f->rc);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join p;
    struct rt_join j[WORKERS];
    int i;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < WORKERS; f->i++) {
        struct locker l = {0};
        CHECK_OK(rt_spawn(locker, &l, sizeof l, &f->j[f->i]));
    }
    for (f->i = 0; f->i < WORKERS; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    CHECK_EQ(counter, (long)WORKERS * ROUNDS);

    rt_wg_add(&wg, 12);
    for (f->i = 0; f->i < 10; f->i++) {
        struct limited l = {0};
        CHECK_OK(rt_spawn(limited, &l, sizeof l, NULL));
    }
    for (f->i = 0; f->i < 2; f->i++) {
        struct waiter w = {0};
        CHECK_OK(rt_spawn(waiter, &w, sizeof w, NULL));
    }
    /* Let the waiters block on the condition: with several workers
     * (RT_WORKERS) that may take more than one yield. */
    for (;;) {
        RT_AWAIT_LOCK(f, &mu);
        if (waiting == 2)
            break;
        rt_mutex_unlock(&mu);
        RT_AWAIT_YIELD(f);
    }
    ready = 1;
    CHECK_EQ(rt_cond_notify_all(&cond), 2);
    rt_mutex_unlock(&mu);
    RT_AWAIT_WG(f, &wg);
    CHECK_EQ(max_holders, 3);
    CHECK_EQ(holders, 0);

    rt_notify_init(&to_pong);
    rt_notify_init(&to_ping);
    {
        struct pong p = {0};
        CHECK_OK(rt_spawn(pong, &p, sizeof p, &f->p));
    }
    RT_AWAIT_YIELD(f); /* pong waits on to_pong now */
    /* With one worker, that is: with several (RT_WORKERS) pong may not
     * have reached its wait yet, and the intruder would come first. */
    if (one_worker()) {
        {
            struct intruder in = {0};
            CHECK_OK(rt_spawn(intruder, &in, sizeof in, &f->j[0]));
        }
        RT_AWAIT_JOIN(f, f->rc, &f->j[0]);
        CHECK_EQ(f->rc, 0);
        CHECK_EQ(f->j[0].ret, -EBUSY);
    }
    for (f->i = 0; f->i < PINGS; f->i++) {
        turn = 1;
        rt_notify_one(&to_pong);
        RT_AWAIT_NOTIFIED(f, f->rc, &to_ping);
        CHECK_EQ(f->rc, 0);
        CHECK_EQ(turn, 0);
    }
    RT_AWAIT_JOIN(f, f->rc, &f->p);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->p.ret, PINGS);
    RT_END(f);
}

int main(void)
{
    rt_mutex_init(&mu);
    rt_sem_init(&sem, 3);
    rt_cond_init(&cond);
    rt_wg_init(&wg);
    struct root r = {0};
    CHECK_OK(rt_run(root, &r, sizeof r, NULL));
    return 0;
}

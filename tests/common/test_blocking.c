/* The blocking pool: a job's result comes back through a cross-thread wake
 * and a reactor turn; the reactor counts the job as a waiter meanwhile; a
 * cancelled job is freed (ASan checks) whether it ran or not. */
#include <errno.h>
#include <pthread.h>

#include <greenfut/blocking.h>
#include "check.h"
#include <greenfut/reactor.h>
#include "testwaker.h"

/* The waker is woken on a worker thread: it counts (the test waker, whose
 * counters are atomic) and pokes the reactor so that a blocked turn
 * returns, as a backend's waker does through rt_reactor_remote. */
static struct rt_reactor *reactor;
static struct tw tw;
static struct rt_waker inner;

static struct rt_waker poke_clone(void *data);
static void poke_wake(void *data)
{
    (void)data;
    rt_waker_wake_by_ref(&inner);
    CHECK_OK(rt_reactor_notify(reactor));
}
static void poke_drop(void *data)
{
    (void)data;
}
static const struct rt_waker_vtable poke_vt = {poke_clone, poke_wake, poke_wake,
                                               poke_drop};
static struct rt_waker poke_clone(void *data)
{
    return (struct rt_waker){&poke_vt, data};
}

static intptr_t square(void *arg)
{
    intptr_t v = (intptr_t)arg;
    return v * v;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static intptr_t gated(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return (intptr_t)arg;
}

int main(void)
{
    CHECK_OK(rt_reactor_new(&reactor));
    inner = tw_init(&tw);
    struct rt_waker w = {&poke_vt, NULL};
    struct rt_cx cx = {&w};

    struct rt_blocking *jobs[16];
    for (intptr_t i = 0; i < 16; i++)
        CHECK_OK(rt_blocking_submit(reactor, square, (void *)i, &jobs[i]));
    CHECK(rt_reactor_has_waiters(reactor));
    for (int i = 0; i < 16; i++) {
        intptr_t res = -1;
        while (rt_blocking_poll(jobs[i], &cx, &res) == RT_PENDING)
            CHECK_OK(rt_reactor_turn(reactor, -1));
        CHECK_EQ(res, (intptr_t)i * i);
    }
    CHECK(!rt_reactor_has_waiters(reactor));

    /* A job that cannot finish before our first poll must wake us. */
    pthread_mutex_lock(&gate);
    struct rt_blocking *g;
    CHECK_OK(rt_blocking_submit(reactor, gated, (void *)9, &g));
    intptr_t gres = -1;
    CHECK_EQ(rt_blocking_poll(g, &cx, &gres), RT_PENDING);
    int before = atomic_load(&tw.wakes);
    pthread_mutex_unlock(&gate);
    while (rt_blocking_poll(g, &cx, &gres) == RT_PENDING)
        CHECK_OK(rt_reactor_turn(reactor, -1));
    CHECK_EQ(gres, 9);
    CHECK_EQ(atomic_load(&tw.wakes), before + 1);

    /* Cancel a job that is still running: it finishes and frees itself. */
    pthread_mutex_lock(&gate);
    struct rt_blocking *j;
    CHECK_OK(rt_blocking_submit(reactor, gated, (void *)5, &j));
    intptr_t res;
    CHECK_EQ(rt_blocking_poll(j, &cx, &res), RT_PENDING);
    rt_blocking_cancel(j);
    CHECK(!rt_reactor_has_waiters(reactor));
    pthread_mutex_unlock(&gate);

    CHECK_EQ(rt_blocking_submit(NULL, square, NULL, &j), -EINVAL);
    CHECK_EQ(rt_blocking_submit(reactor, NULL, NULL, &j), -EINVAL);
    CHECK_EQ(rt_blocking_poll(NULL, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    rt_blocking_cancel(NULL);
    rt_reactor_free(reactor);
    return 0;
}

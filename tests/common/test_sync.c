/* Semaphore, mutex, condition, wait group and notification poll functions
 * driven by hand: FIFO hand-off, cancellation handing on what was granted,
 * condition wait releasing and re-taking the mutex, the notification's one
 * permit and one waiter, and waker balance. */
#include <errno.h>

#include "check.h"
#include <greenfut/sync.h>
#include "testwaker.h"

static struct tw tw;
static struct rt_waker w;
static struct rt_cx cx;

static void test_mutex_handoff(void)
{
    struct rt_mutex m;
    rt_mutex_init(&m);
    struct rt_waiter a, b, c;
    rt_waiter_init(&a);
    rt_waiter_init(&b);
    rt_waiter_init(&c);
    int res;
    CHECK_EQ(rt_mutex_poll_lock(&m, &a, &cx, &res), RT_READY);
    CHECK(!rt_mutex_try_lock(&m));
    CHECK_EQ(rt_mutex_poll_lock(&m, &b, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_mutex_poll_lock(&m, &c, &cx, &res), RT_PENDING);
    rt_mutex_unlock(&m); /* handed to b, not to whoever asks next */
    CHECK(!rt_mutex_try_lock(&m));
    CHECK_EQ(rt_mutex_poll_lock(&m, &b, &cx, &res), RT_READY);
    rt_mutex_unlock(&m);     /* handed to c... */
    rt_mutex_cancel(&m, &c); /* ...which is dropped: the lock is free */
    CHECK(rt_mutex_try_lock(&m));
    rt_mutex_unlock(&m);
}

static void test_sem_cancel_queued(void)
{
    struct rt_sem s;
    rt_sem_init(&s, 0);
    struct rt_waiter a, b;
    rt_waiter_init(&a);
    rt_waiter_init(&b);
    int res;
    CHECK_EQ(rt_sem_poll_acquire(&s, &a, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_sem_poll_acquire(&s, &b, &cx, &res), RT_PENDING);
    rt_sem_cancel(&s, &a); /* queued: just leaves */
    rt_sem_release(&s);
    CHECK_EQ(rt_sem_poll_acquire(&s, &b, &cx, &res), RT_READY);
    CHECK(!rt_sem_try_acquire(&s));
    rt_sem_release(&s);
    rt_sem_release(&s);
    CHECK(rt_sem_try_acquire(&s));
    CHECK(rt_sem_try_acquire(&s));
    CHECK(!rt_sem_try_acquire(&s));
}

static void test_cond(void)
{
    struct rt_mutex m;
    struct rt_cond c;
    rt_mutex_init(&m);
    rt_cond_init(&c);
    struct rt_cond_waiter cw1, cw2;
    rt_cond_waiter_init(&cw1);
    rt_cond_waiter_init(&cw2);
    int res;
    CHECK(rt_mutex_try_lock(&m));
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw1, &cx, &res), RT_PENDING);
    /* Waiting released the mutex. */
    CHECK(rt_mutex_try_lock(&m));
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw2, &cx, &res), RT_PENDING);
    CHECK(rt_mutex_try_lock(&m));
    CHECK_EQ(rt_cond_notify_all(&c), 2);
    CHECK_EQ(rt_cond_notify_one(&c), 0);
    /* Notified while the mutex is held: they queue for it. */
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw1, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw2, &cx, &res), RT_PENDING);
    rt_mutex_unlock(&m);
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw1, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    rt_mutex_unlock(&m); /* handed to cw2, which is dropped */
    rt_cond_cancel(&c, &cw2);
    CHECK(rt_mutex_try_lock(&m));
    /* A notified waiter that is dropped passes the notify on. */
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw1, &cx, &res), RT_PENDING);
    CHECK(rt_mutex_try_lock(&m));
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw2, &cx, &res), RT_PENDING);
    CHECK(rt_cond_notify_one(&c));
    rt_cond_cancel(&c, &cw1);
    CHECK(rt_mutex_try_lock(&m));
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw2, &cx, &res), RT_PENDING);
    rt_mutex_unlock(&m);
    CHECK_EQ(rt_cond_poll_wait(&c, &m, &cw2, &cx, &res), RT_READY);
    rt_mutex_unlock(&m);
}

static void test_wg(void)
{
    struct rt_wg g;
    rt_wg_init(&g);
    struct rt_waiter a;
    rt_waiter_init(&a);
    int res;
    CHECK_EQ(rt_wg_poll_wait(&g, &a, &cx, &res), RT_READY);
    rt_wg_add(&g, 2);
    CHECK_EQ(rt_wg_poll_wait(&g, &a, &cx, &res), RT_PENDING);
    int wakes = atomic_load(&tw.wakes);
    CHECK_OK(rt_wg_done(&g));
    CHECK_EQ(atomic_load(&tw.wakes), wakes);
    CHECK_OK(rt_wg_done(&g));
    CHECK_EQ(atomic_load(&tw.wakes), wakes + 1);
    CHECK_EQ(rt_wg_done(&g), -EINVAL);
    CHECK_EQ(rt_wg_poll_wait(&g, &a, &cx, &res), RT_READY);
    CHECK_EQ(rt_wg_poll_wait(NULL, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
}

static void test_notify(void)
{
    struct rt_notify n;
    rt_notify_init(&n);
    struct rt_waiter a, b;
    rt_waiter_init(&a);
    rt_waiter_init(&b);
    int res = 1;
    /* A permit left before the wait is taken at once; two do not add up. */
    rt_notify_one(&n);
    rt_notify_one(&n);
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_PENDING);
    CHECK_EQ(atomic_load(&tw.live), 1); /* the stored clone */
    /* Polled again while waiting: still one clone. */
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_PENDING);
    CHECK_EQ(atomic_load(&tw.live), 1);
    /* A second waiter is refused, not queued. */
    res = 1;
    CHECK_EQ(rt_notify_poll_wait(&n, &b, &cx, &res), RT_READY);
    CHECK_EQ(res, -EBUSY);
    int wakes = atomic_load(&tw.wakes);
    rt_notify_one(&n);
    CHECK_EQ(atomic_load(&tw.wakes), wakes + 1);
    CHECK_EQ(atomic_load(&tw.live), 0);
    res = 1;
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    /* The notification went to the waiter: no permit is left over. */
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_PENDING);
    /* Cancelled while waiting: the slot is free for another waiter. */
    rt_notify_cancel(&n, &a);
    CHECK_EQ(atomic_load(&tw.live), 0);
    CHECK_EQ(rt_notify_poll_wait(&n, &b, &cx, &res), RT_PENDING);
    /* Notified, then cancelled before it returned: the permit is handed
     * on to the next wait. */
    rt_notify_one(&n);
    rt_notify_cancel(&n, &b);
    res = 1;
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    /* Notified, and another waiter came before the first was cancelled:
     * the notification goes on to that waiter, not to a permit. */
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_PENDING);
    rt_notify_one(&n);
    CHECK_EQ(rt_notify_poll_wait(&n, &b, &cx, &res), RT_PENDING);
    wakes = atomic_load(&tw.wakes);
    rt_notify_cancel(&n, &a);
    CHECK_EQ(atomic_load(&tw.wakes), wakes + 1);
    res = 1;
    CHECK_EQ(rt_notify_poll_wait(&n, &b, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    CHECK_EQ(rt_notify_poll_wait(&n, &a, &cx, &res), RT_PENDING);
    rt_notify_cancel(&n, &a);
    CHECK_EQ(rt_notify_poll_wait(NULL, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
}

int main(void)
{
    w = tw_init(&tw);
    cx.waker = &w;
    test_mutex_handoff();
    test_sem_cancel_queued();
    test_cond();
    test_wg();
    test_notify();
    CHECK_EQ(atomic_load(&tw.live), 0);
    return 0;
}

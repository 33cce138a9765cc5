#include <greenfut/waitq.h>

#include <stddef.h>

#include <greenfut/check.h>

/* Every function here runs under the lock of the queue's object (waitq.h). */

enum rt_poll rt_waitq_park(struct rt_list *q, struct rt_waiter *w,
                           const struct rt_cx *cx)
{
    /* Queued means linked: a queued waiter is on exactly one queue. */
    RT_DEBUG_ASSERT(w->state != RT_WAIT_QUEUED || rt_list_linked(&w->link));
    if (w->state != RT_WAIT_QUEUED) {
        w->state = RT_WAIT_QUEUED;
        rt_list_push_back(q, &w->link);
    }
    rt_waker_store(&w->waker, cx->waker);
    return RT_PENDING;
}

bool rt_waitq_take_one(struct rt_list *q, int state, struct rt_waker *out)
{
    struct rt_list *n = rt_list_pop_front(q);
    if (!n)
        return false;
    struct rt_waiter *w = RT_CONTAINER_OF(n, struct rt_waiter, link);
    RT_DEBUG_ASSERT(w->state == RT_WAIT_QUEUED);
    RT_DEBUG_ASSERT(state != RT_WAIT_IDLE && state != RT_WAIT_QUEUED);
    RT_DEBUG_ASSERT(!rt_waker_is_set(out));
    w->state = state;
    *out = w->waker;
    w->waker = RT_WAKER_NONE;
    return true;
}

bool rt_waitq_wake_one(struct rt_list *q, int state)
{
    struct rt_waker w = RT_WAKER_NONE;
    if (!rt_waitq_take_one(q, state, &w))
        return false;
    rt_waker_wake(&w); /* the lock is still held: allowed */
    return true;
}

int rt_waitq_wake_all(struct rt_list *q, int state)
{
    int n = 0;
    while (rt_waitq_wake_one(q, state))
        n++;
    return n;
}

int rt_waiter_reset(struct rt_waiter *w)
{
    int old = w->state;
    if (old == RT_WAIT_QUEUED) {
        RT_DEBUG_ASSERT(rt_list_linked(&w->link));
        rt_list_remove(&w->link);
    }
    rt_waker_drop(&w->waker);
    w->state = RT_WAIT_IDLE;
    return old;
}

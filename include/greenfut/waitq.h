/* Wait queues: FIFO lists of parked operations, the building block of the
 * channel and of every synchronisation primitive (sync.h).
 *
 * A struct rt_waiter is owned by the caller (in a future's frame or on a
 * green thread's stack) and is linked into a queue while its operation is
 * pending. Whoever completes or signals it sets its state, unlinks it and
 * wakes its waker; the operation's next poll reads the state. Nothing here
 * allocates. Single-threaded: a queue belongs to one scheduler's thread.
 */
#ifndef RT_COMMON_WAITQ_H
#define RT_COMMON_WAITQ_H

#include <stdbool.h>

#include "list.h"
#include "rt_poll.h"

/* Waiter states shared by all users. */
enum {
    RT_WAIT_IDLE = 0,   /* not queued, nothing happened */
    RT_WAIT_QUEUED = 1, /* linked, waiting */
    RT_WAIT_WOKEN = 2,  /* unlinked and woken: look again */
    RT_WAIT_DONE = 3,   /* unlinked and woken: your operation completed */
};

struct rt_waiter {
    /* private: written by the waitq functions and their users */
    struct rt_list link;   /* on a queue while RT_WAIT_QUEUED */
    struct rt_waker waker; /* stored while queued */
    int state;
};

/* Makes `w` idle; call once before its first use. Inline: every await
 * of the portable API starts with it. */
static inline void rt_waiter_init(struct rt_waiter *w)
{
    rt_list_init(&w->link);
    w->waker = RT_WAKER_NONE;
    w->state = RT_WAIT_IDLE;
}

/* Queues `w` at the tail of `q` unless it is already queued, and stores
 * cx's waker in it. Always returns RT_PENDING, for tail calls. */
enum rt_poll rt_waitq_park(struct rt_list *q, struct rt_waiter *w,
                           const struct rt_cx *cx);

/* Unlinks the first waiter of `q`, sets its state to `state` and wakes it.
 * Returns the waiter, or NULL when `q` is empty. */
struct rt_waiter *rt_waitq_wake_one(struct rt_list *q, int state);

/* rt_waitq_wake_one until `q` is empty; returns how many were woken. */
int rt_waitq_wake_all(struct rt_list *q, int state);

/* Unlinks `w` if queued, drops its waker and makes it idle. Returns the
 * state it had. */
int rt_waiter_reset(struct rt_waiter *w);

#endif

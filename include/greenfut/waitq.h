/* Wait queues: FIFO lists of parked operations, the building block of the
 * channel and of every synchronisation primitive (sync.h).
 *
 * A struct rt_waiter is owned by the caller (in a future's frame or on a
 * green thread's stack) and is linked into a queue while its operation is
 * pending. Whoever completes or signals it sets its state, unlinks it and
 * wakes its waker; the operation's next poll reads the state. Nothing here
 * allocates.
 *
 * Threads. A queue belongs to an object (a channel, a semaphore, ...) that
 * embeds a struct rt_spin (mt.h), and the workers of a multi-worker
 * scheduler may all operate on that object at once. The protocol every
 * user keeps:
 * - The functions below take no lock: call them with the object's lock
 *   held (rt_spin_lock, which takes nothing while no multi-worker scheduler
 *   runs). A queued or completed waiter's fields (link, waker, state) are
 *   that lock's too, including the owner's own read of its state in its
 *   next poll: the completing side may have written it on another worker.
 * - The owner alone initialises a waiter (rt_waiter_init) and reuses or
 *   frees its memory, and only once its last poll or cancel, made under
 *   the lock, left it unlinked.
 * - A completer must not touch a waiter after releasing the lock under
 *   which it set the waiter's state: from then on the owner may see the
 *   state on another worker, return and free the waiter. So the waker is
 *   taken out of the waiter under the lock (rt_waitq_take_one) and woken
 *   after the unlock (the waker holds its own reference to the task, so
 *   the task outlives the wake), or woken while the lock is still held
 *   (rt_waitq_wake_one, rt_waitq_wake_all; mt.h's lock order allows a
 *   waker's wake, clone and drop under a primitive's lock).
 * - A wake taken out of a waiter may thus reach its task after the task
 *   has seen the state and moved on: to an owner a wake only ever means
 *   "poll again" (every backend re-polls in a loop), never "it completed".
 * - Dropping a waker under the lock is allowed too (rt_waiter_reset,
 *   rt_waitq_park replacing a stale one); a drop that frees a task takes
 *   only leaf locks.
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
    /* private: written by the waitq functions and their users, under the
     * lock of the object whose queue it is on (see Threads above) */
    struct rt_list link;   /* on a queue while RT_WAIT_QUEUED */
    struct rt_waker waker; /* stored while queued */
    int state;
};

/* Makes `w` idle; call once before its first use (the owner, with `w` on
 * no queue: no lock needed). Inline: every await of the portable API
 * starts with it. */
static inline void rt_waiter_init(struct rt_waiter *w)
{
    rt_list_init(&w->link);
    w->waker = RT_WAKER_NONE;
    w->state = RT_WAIT_IDLE;
}

/* Queues `w` at the tail of `q` unless it is already queued, and stores
 * cx's waker in it. Always returns RT_PENDING, for tail calls. Lock held. */
enum rt_poll rt_waitq_park(struct rt_list *q, struct rt_waiter *w,
                           const struct rt_cx *cx);

/* Unlinks the first waiter of `q`, sets its state to `state` and moves its
 * waker into *out (which must be empty; it stays empty when the waiter
 * stored none): the caller owns it and wakes it, normally after releasing
 * the lock, with rt_waker_wake. Returns false when `q` is empty. The
 * waiter must not be touched once the lock is released. Lock held. */
bool rt_waitq_take_one(struct rt_list *q, int state, struct rt_waker *out);

/* Unlinks the first waiter of `q`, sets its state to `state` and wakes it
 * while the lock is still held. Returns true when there was one, false
 * when `q` is empty. Lock held. */
bool rt_waitq_wake_one(struct rt_list *q, int state);

/* rt_waitq_wake_one until `q` is empty; returns how many were woken. Lock
 * held (the wakes happen under it). */
int rt_waitq_wake_all(struct rt_list *q, int state);

/* Unlinks `w` if queued, drops its waker and makes it idle. Returns the
 * state it had. Lock held. */
int rt_waiter_reset(struct rt_waiter *w);

#endif

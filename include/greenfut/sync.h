/* Synchronisation for tasks: semaphore, mutex, condition variable, wait
 * group and a one-waiter notification, as poll functions over wait queues,
 * so both backends share them.
 *
 * Every waiting operation uses a caller-owned struct rt_waiter (waitq.h),
 * initialised with rt_waiter_init, that stays valid while the operation is
 * pending. An operation abandoned while pending (a dropped future) must be
 * given to the matching *_cancel function, which hands on whatever it had
 * been granted, so no permit or wake-up is lost.
 *
 * Fairness: permits and the mutex are handed directly to the first waiter
 * (FIFO), so a task that releases and re-acquires in a loop cannot starve
 * the others.
 *
 * Threads: the workers of a multi-worker scheduler may use one object at
 * once. Each object embeds a struct rt_spin (mt.h; nothing is locked while
 * no multi-worker scheduler runs) that every function below takes for the
 * whole operation, the poll that reads a waiter's state and the *_cancel
 * functions included. A waiter completed by another worker is woken after
 * that worker released the lock, except by rt_cond_notify_all and
 * rt_wg_done, which wake every waiter under it (waitq.h states the
 * protocol). One waiter is polled or cancelled by one task at a time (its
 * owner). No function here holds two of these locks at once: a condition
 * and its mutex are locked one after the other.
 */
#ifndef RT_COMMON_SYNC_H
#define RT_COMMON_SYNC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "list.h"
#include "mt.h"
#include "rt_poll.h"
#include "waitq.h"

/* A counting semaphore. */
struct rt_sem {
    /* private: permits, the queue and its waiters are `lock`'s */
    struct rt_spin lock;
    size_t permits;
    struct rt_list waiters;
};

/* Initialises `s` with `permits` permits. Allocates nothing; no fini. */
void rt_sem_init(struct rt_sem *s, size_t permits);

/* Takes one permit: RT_READY (*res = 0) when it has one, RT_PENDING while
 * none is free. *res = -EINVAL for NULL arguments. */
enum rt_poll rt_sem_poll_acquire(struct rt_sem *s, struct rt_waiter *w,
                                 struct rt_cx *cx, int *res);

/* Takes a permit without waiting: true when one was taken. */
bool rt_sem_try_acquire(struct rt_sem *s);

/* Returns one permit: hands it to the first waiter, if any. */
void rt_sem_release(struct rt_sem *s);

/* Abandons a pending acquire; a permit it had been handed is released. */
void rt_sem_cancel(struct rt_sem *s, struct rt_waiter *w);

/* A mutex: a semaphore with one permit. Unlocking a mutex nobody holds
 * aborts (RT_ASSERT). There is no owner check: unlock is given no task, so
 * which task holds the lock is the caller's to know, as with a binary
 * semaphore. */
struct rt_mutex {
    /* private */
    struct rt_sem sem;
};

/* Initialises `m` unlocked. Allocates nothing; there is no fini. */
void rt_mutex_init(struct rt_mutex *m);
/* Locks `m`: RT_READY (*res = 0) when held. See rt_sem_poll_acquire. */
enum rt_poll rt_mutex_poll_lock(struct rt_mutex *m, struct rt_waiter *w,
                                struct rt_cx *cx, int *res);
/* True when the lock was free and is now held. */
bool rt_mutex_try_lock(struct rt_mutex *m);
/* Unlocks `m`, handing it to the first waiter. */
void rt_mutex_unlock(struct rt_mutex *m);
/* Abandons a pending lock (an acquired-but-unseen lock is unlocked). */
void rt_mutex_cancel(struct rt_mutex *m, struct rt_waiter *w);

/* A condition variable: tasks wait for a notify. */
struct rt_cond {
    /* private: the queue and its waiters are `lock`'s */
    struct rt_spin lock;
    struct rt_list waiters;
};

/* A pending wait on a condition: first queued on the condition, then, once
 * notified, re-acquiring the mutex. */
struct rt_cond_waiter {
    /* private */
    struct rt_waiter w;       /* the condition's lock's while queued on it,
                               * then the mutex's while locking */
    struct rt_mutex *locking; /* notified; now re-acquiring this mutex.
                               * The owner's alone: only its poll and
                               * cancel read or write it */
};

/* Initialises `c` with no waiters. Allocates nothing; there is no fini. */
void rt_cond_init(struct rt_cond *c);

/* Makes `cw` idle; call once before its first use. */
void rt_cond_waiter_init(struct rt_cond_waiter *cw);

/* Waits on `c` while holding `m`: the first poll queues the waiter and
 * unlocks `m`; once notified the poll re-locks `m` and returns RT_READY
 * (*res = 0) with `m` held again. As with pthreads, re-check the condition
 * in a loop. *res = -EINVAL for NULL arguments. */
enum rt_poll rt_cond_poll_wait(struct rt_cond *c, struct rt_mutex *m,
                               struct rt_cond_waiter *cw, struct rt_cx *cx,
                               int *res);

/* Wakes the first waiter; returns true if there was one. */
bool rt_cond_notify_one(struct rt_cond *c);

/* Wakes every waiter; returns how many. */
int rt_cond_notify_all(struct rt_cond *c);

/* Abandons a pending wait. A waiter that had been notified passes the
 * notify on to the next; one that had been handed the mutex unlocks it. */
void rt_cond_cancel(struct rt_cond *c, struct rt_cond_waiter *cw);

/* A wait group: a counter that tasks can wait to reach zero. */
struct rt_wg {
    /* private: count, the queue and its waiters are `lock`'s */
    struct rt_spin lock;
    size_t count;
    struct rt_list waiters;
};

/* Initialises `g` with a zero counter. Allocates nothing. */
void rt_wg_init(struct rt_wg *g);

/* Adds `n` to the counter. */
void rt_wg_add(struct rt_wg *g, size_t n);

/* Subtracts one; at zero every waiter is woken. Returns 0, or -EINVAL when
 * the counter already was zero (a done without a matching add). */
int rt_wg_done(struct rt_wg *g);

/* RT_READY (*res = 0) once the counter is zero, or once it has reached
 * zero while this wait was queued (a later rt_wg_add does not make a
 * released waiter wait again). */
enum rt_poll rt_wg_poll_wait(struct rt_wg *g, struct rt_waiter *w,
                             struct rt_cx *cx, int *res);

/* Abandons a pending wait. */
void rt_wg_cancel(struct rt_wg *g, struct rt_waiter *w);

/* A notification with at most one waiter: rt_notify_one wakes the task
 * waiting in rt_notify_poll_wait or, when none waits, leaves one permit
 * that the next wait takes at once (permits do not add up). The cheapest
 * way to pass control to one known task: no queue, one waker slot. For
 * many waiters use a semaphore or a condition. Rust: tokio's
 * Notify::notify_one, restricted to one waiter. */
struct rt_notify {
    /* private: waiter, permit and the waiting waiter's fields are
     * `lock`'s */
    struct rt_spin lock;
    struct rt_waiter *waiter; /* the one waiting, or NULL */
    bool permit;
};

/* Initialises `n`: no waiter, no permit. */
void rt_notify_init(struct rt_notify *n);

/* The body of rt_notify_poll_wait once its arguments are checked, with
 * n's lock held (or none needed: one worker). Internal. */
static inline enum rt_poll rt__notify_wait(struct rt_notify *n,
                                           struct rt_waiter *w,
                                           struct rt_cx *cx, int *res)
{
    if (w->state == RT_WAIT_DONE) { /* notified; our waker was consumed */
        w->state = RT_WAIT_IDLE;
        *res = 0;
        return RT_READY;
    }
    if (w->state == RT_WAIT_QUEUED) { /* polled again before the notify */
        rt_waker_store(&w->waker, cx->waker);
        return RT_PENDING;
    }
    if (n->permit) {
        n->permit = false;
        *res = 0;
        return RT_READY;
    }
    if (n->waiter) {
        *res = -EBUSY;
        return RT_READY;
    }
    n->waiter = w;
    w->state = RT_WAIT_QUEUED;
    w->waker = rt_waker_clone(cx->waker); /* idle: it held none */
    return RT_PENDING;
}

/* rt_notify_poll_wait's refusal (rt__cx_refusal into *res, RT_READY),
 * out of line: the handoff path inlines the rest. Internal. */
enum rt_poll rt__notify_refuse(int *res);

/* rt__notify_wait under n's lock: rt_notify_poll_wait while a
 * multi-worker scheduler runs. Internal. */
enum rt_poll rt__notify_wait_locked(struct rt_notify *n, struct rt_waiter *w,
                                    struct rt_cx *cx, int *res);

/* Waits for a notification: RT_READY with *res = 0 once notified (or at
 * once when a permit was left), RT_PENDING meanwhile. *res = -EBUSY when
 * another waiter already waits on `n`, -EINVAL for NULL arguments. Inline,
 * as is rt_notify_one: a handoff through two notifications is the cheapest
 * pass of control the portable API has, and a call per step would be a
 * good part of its cost; with one worker it takes no lock (one relaxed
 * load says so), with several the locked path is a call. */
static inline enum rt_poll rt_notify_poll_wait(struct rt_notify *n,
                                               struct rt_waiter *w,
                                               struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!n || !w || !rt_cx_ok(cx))
        return rt__notify_refuse(res);
    if (rt_mt())
        return rt__notify_wait_locked(n, w, cx, res);
    return rt__notify_wait(n, w, cx, res);
}

/* The body of rt_notify_one, with n's lock held (or none needed). With
 * `later` NULL the waiter is woken at once; otherwise its waker goes to
 * *later, for the caller to wake after the unlock (the waiter may be gone
 * by then, waitq.h). Internal. */
static inline void rt__notify_one(struct rt_notify *n, struct rt_waker *later)
{
    struct rt_waiter *w = n->waiter;
    if (!w) {
        n->permit = true;
        return;
    }
    RT_DEBUG_ASSERT(w->state == RT_WAIT_QUEUED); /* n->waiter is queued */
    n->waiter = NULL;
    w->state = RT_WAIT_DONE;
    if (later) {
        *later = w->waker;
        w->waker = RT_WAKER_NONE;
    } else {
        rt_waker_wake(&w->waker);
    }
}

/* rt__notify_one under n's lock, the wake after the unlock: rt_notify_one
 * while a multi-worker scheduler runs. Internal. */
void rt__notify_one_locked(struct rt_notify *n);

/* Wakes the waiter (it completes on its next poll) or, when nobody waits,
 * leaves the permit. Never blocks, never fails. */
static inline void rt_notify_one(struct rt_notify *n)
{
    if (!n)
        return;
    if (rt_mt())
        rt__notify_one_locked(n);
    else
        rt__notify_one(n, NULL);
}

/* For a wait abandoned while pending: takes `w` off `n`, or, when it had
 * been notified and not yet returned, puts the permit back. */
void rt_notify_cancel(struct rt_notify *n, struct rt_waiter *w);

#endif

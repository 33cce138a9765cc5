/* What common/io.c needs of the reactor: its structure, a registration,
 * the lock of a shared reactor. Not for use outside
 * common/ (tests of the shared mode include it for one probe).
 *
 * The invariant to keep: on a shared reactor (rt_reactor_share) every
 * field below marked "lock" is read and written only while holding
 * rt_reactor.lock; on an unshared one the lock is never taken (the
 * reactor's one thread is its only user). Wakers are cloned under the lock
 * (allowed by the lock order of mt.h: a clone takes leaf locks only) and
 * woken or dropped after it is released, so a wake or drop that reaches
 * back into the reactor cannot deadlock on it.
 */
#ifndef RT_COMMON_REACTOR_INTERNAL_H
#define RT_COMMON_REACTOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include <greenfut/mt.h>
#include <greenfut/reactor.h>
#include <greenfut/timer.h>
#include "timer_internal.h"

/* Events one epoll_wait takes. */
#define RT_REACTOR_EVENTS 256

struct rt__io {
    uint32_t gen;       /* lock; bumped at every register: stale epoll
                         * events and ops that raced a deregister miss */
    uint32_t tick;      /* lock; shared mode: bumped by every epoll event
                         * the turn applies. A clear of readiness by io.c
                         * applies only if tick is what the op read before
                         * its syscall, so a clear never undoes a newer
                         * edge (tokio's ScheduledIo readiness tick). */
    uint8_t registered; /* lock; written by register/deregister */
    uint8_t ready;      /* lock; RT_IO_* bits: set by turn, cleared by io.c */
    uint8_t connecting; /* lock; a non-blocking connect is in flight (io.c) */
    uint8_t socket;     /* lock; fd is a socket: writes use MSG_NOSIGNAL */
    uint8_t stream;     /* lock; a SOCK_STREAM socket: set by register (io.c
                         * may clear readiness on a short transfer) */
    uint8_t hup;        /* lock; turn saw a hang-up or an error: sticky until
                         * the next register, so io.c never clears readiness
                         * whose edge will not come again */
    struct rt_waker rd; /* lock; who waits to read: stored by io.c, woken
                         * by turn */
    struct rt_waker wr; /* lock; who waits to write */
};

struct rt_reactor {
    /* Fixed at creation. */
    int epfd; /* the one epoll instance */
    int evfd; /* eventfd for rt_reactor_notify */
    /* Set once by rt_reactor_share, before a second thread may call in
     * (the thread start that follows orders it); read by every call. */
    bool shared;
    /* Atomics, any thread (the protocols are in reactor.c). */
    atomic_int notified;                /* a notify is pending: no write */
    _Atomic(struct rt_remote *) remote; /* LIFO pushed by any thread */
    atomic_size_t holds;                /* rt_reactor_hold minus release */
    /* Shared mode: true while a turn wakes what it collected (its wakers
     * are out of the tables and not yet woken), so has_waiters does not
     * report an empty reactor in between. Written by the turner only. */
    atomic_bool delivering;
    /* The lock of a shared reactor: guards every field marked "lock". */
    struct rt_spin lock;
    /* lock; shared mode: a turn is between its first and last section
     * (the caller serialises turns; this checks it). */
    bool turning;
    /* lock; shared mode: the deadline (rt_now_ns) until which the turn
     * blocked in epoll sleeps: UINT64_MAX without a limit, 0 when no turn
     * is blocked. An arm of an earlier deadline lowers it and notifies. */
    uint64_t sleep_until;
    struct rt__io *io;       /* lock; registrations indexed by fd */
    size_t io_cap;           /* lock; entries in io */
    size_t fds;              /* lock; registered fds */
    size_t io_waiters;       /* lock; stored rd + wr wakers */
    struct rt_timers timers; /* lock; the one timer heap */
    uint64_t turns;          /* lock */
    uint64_t woken;          /* lock */
    /* The turner's own (one turn at a time): what epoll returned, and in
     * shared mode the wakers collected under the lock, woken after it. */
    struct epoll_event events[RT_REACTOR_EVENTS];
    struct rt_waker due[2 * RT_REACTOR_EVENTS];
};

/* Takes the lock of a shared reactor; returns whether it did (false on an
 * unshared reactor, at the cost of one plain load). */
static inline bool rt__reactor_lock(struct rt_reactor *r)
{
    if (!r->shared)
        return false;
    rt_spin_lock_always(&r->lock);
    return true;
}

/* Releases what rt__reactor_lock took. */
static inline void rt__reactor_unlock(struct rt_reactor *r, bool taken)
{
    rt_spin_unlock(&r->lock, taken);
}

/* The registration of `fd`, or NULL when it is not registered. Shared
 * mode: under the lock, and the pointer is good only until it is released
 * (a register may move the table). */
struct rt__io *rt__reactor_io(struct rt_reactor *r, int fd);

/* Stores `w` in `slot` (rd or wr of a registration), keeping the waiter
 * count right. Unshared mode (it drops a replaced waker at once). */
void rt__reactor_io_wait(struct rt_reactor *r, struct rt_waker *slot,
                         const struct rt_waker *w);

/* rt__reactor_io_wait for a shared reactor, under its lock: returns the
 * replaced waker, for the caller to drop after unlocking. */
struct rt_waker rt__reactor_io_swap(struct rt_reactor *r, struct rt_waker *slot,
                                    const struct rt_waker *w);

/* Shared mode, for rt_poll_sleep_until: under the lock, re-wakes `t` when
 * it is armed for `deadline` (rt_timer_rewake), else arms it; notifies a
 * turn that sleeps past `deadline`. Returns 0 or rt_timers_arm's error. */
int rt__reactor_sleep_arm(struct rt_reactor *r, struct rt_timer *t,
                          uint64_t deadline, const struct rt_waker *w);

/* Shared mode: the deadline a blocked turn sleeps until (sleep_until
 * above), read under the lock. For tests that wait until a turn blocks. */
uint64_t rt__reactor_sleep_until(struct rt_reactor *r);

#endif

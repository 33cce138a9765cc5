/* The reactor: the one place that waits for the outside world.
 *
 * Both schedulers share it. It owns one edge-triggered epoll instance, the
 * timer heap, and an eventfd through which other threads interrupt a
 * blocked turn. It never runs user code: all it does when something is due
 * is call wakers.
 *
 * Invariants:
 * - One registration per fd for as long as the fd is registered. Each keeps
 *   readiness bits plus one read waker and one write waker (the idea of
 *   tokio/mio's ScheduledIo). So at most one task at a time may wait to read
 *   and one to write on a given fd; a second waiter replaces the first,
 *   whose waker is dropped unwoken.
 * - Readiness is set by epoll edges and cleared only when an operation sees
 *   EAGAIN (common/io.c), never by guessing.
 * - By default a reactor belongs to the thread that turns it. Only
 *   rt_reactor_notify, rt_reactor_remote, rt_reactor_post, rt_remote_add,
 *   rt_reactor_hold and rt_reactor_release may be called from other
 *   threads; nothing else takes a lock or a locked instruction.
 * - A shared reactor (rt_reactor_share: the one reactor of a multi-worker
 *   scheduler) may be called by every worker thread of that scheduler at
 *   once: every function here except rt_reactor_new, rt_reactor_share and
 *   rt_reactor_free, with at most one thread inside rt_reactor_turn at a
 *   time (the caller hands the turn around; a second concurrent turn
 *   aborts). Other threads keep to the list above. Its tables and timers
 *   are guarded by one spinlock that is never held while a turn blocks in
 *   epoll_wait, across a syscall of a read or write, or while a waker is
 *   woken or dropped (only clones happen under it, which mt.h's lock order
 *   allows). A timer armed earlier than the deadline a blocked turn sleeps
 *   until makes that turn wake and recompute its wait. Edges are never
 *   lost to a concurrent clear of readiness (common/io.c says how).
 * - A timer's arms and cancels, and the operations on one fd's direction,
 *   are serialised by their owner (the task that waits), on any thread.
 *
 * Errors are negative errno values; no function here aborts on bad input.
 */
#ifndef RT_COMMON_REACTOR_H
#define RT_COMMON_REACTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timer.h"
#include "waker.h"

struct rt_reactor;

/* Readiness bits of a registration (our own mask: epoll's bits are
 * translated in exactly one place, reactor.c). Hang-up and error set both,
 * so that the next operation runs and reports EOF or the error. */
enum {
    RT_IO_READABLE = 1u << 0,
    RT_IO_WRITABLE = 1u << 1,
};

/* A node that another thread can hand to the reactor's thread. The owner
 * sets `run` and calls rt_remote_init once; rt_reactor_remote queues the
 * node from any thread, and the next turn calls run(node) on the reactor's
 * thread. A node queued twice before it runs runs once. The node must stay
 * valid until run has been called.
 *
 * A node also carries a word of the owner's own: rt_reactor_post adds to it
 * and queues the node in one atomic step, rt_remote_add adds without
 * queuing, and the turn takes the word (and clears it) in the same atomic
 * step that marks the node unqueued, leaving it in `taken` for run. So what
 * other threads posted is seen by exactly one run, and a poster whose
 * addition came after that step queues the node again. Owners use it to
 * count what other threads did to an object (wakes, dropped references)
 * without a locked instruction on the owner's own path. */
struct rt_remote {
    void (*run)(struct rt_remote *node); /* set by the owner */
    /* private: written by rt_reactor_remote and the turn */
    struct rt_remote *next;
    atomic_uint queued; /* RT_REMOTE_QUEUED | the owner's word */
    /* The owner's word as the turn took it, for run (multiples of
     * RT_REMOTE_UNIT, wrapping). Reactor thread only. */
    unsigned taken;
};

/* The bit of rt_remote.queued that says "queued"; the owner's word uses
 * the bits above it, so additions come in multiples of RT_REMOTE_UNIT. */
#define RT_REMOTE_QUEUED 1u
#define RT_REMOTE_UNIT   2u

/* Counters, for deadlock detection and for users' stats. */
struct rt_reactor_stats {
    size_t fds;        /* registered fds */
    size_t io_waiters; /* stored read + write wakers */
    size_t timers;     /* armed timers */
    size_t holds;      /* rt_reactor_hold minus rt_reactor_release */
    uint64_t turns;    /* completed rt_reactor_turn calls */
    uint64_t woken;    /* wakers woken and remote nodes run by turns */
};

/* Creates a reactor in *out. Returns 0, or -EINVAL (out NULL), -ENOMEM, or
 * the errno of epoll_create1/eventfd (e.g. -EMFILE). The caller owns the
 * reactor and frees it with rt_reactor_free. */
int rt_reactor_new(struct rt_reactor **out);

/* Makes `r` shared: from now on the functions of this header may be called
 * concurrently by the worker threads of one scheduler, under the rules of
 * the invariants above, at the cost of a lock around each table update.
 * Call it on the thread that owns `r` before any other thread may call
 * in (before the other workers start: their start orders it); it cannot be
 * undone, and calling it again is a no-op. Before it, `r` keeps its
 * single-thread paths, which take no lock. Returns 0 or -EINVAL (r NULL). */
int rt_reactor_share(struct rt_reactor *r);

/* Frees `r`: every stored IO waker and every armed timer's waker is dropped
 * unwoken, timers become idle, the epoll fd and eventfd are closed. The fds
 * that were registered are not closed (they belong to the caller). NULL is a
 * no-op. Must not be called while another thread may still notify it. */
void rt_reactor_free(struct rt_reactor *r);

/* Registers `fd` for edge-triggered read and write readiness and puts it in
 * O_NONBLOCK mode. Both readiness bits start set, so the first operation
 * tries its syscall. Returns 0, -EINVAL (r NULL), -EBADF (fd negative or
 * not open), -EEXIST (already registered), -EPERM (a kind of file epoll
 * cannot watch, such as a regular file), or -ENOMEM.
 * A registration left behind by an fd that was closed without
 * rt_reactor_deregister is detected here and replaced (its wakers are
 * woken). */
int rt_reactor_register(struct rt_reactor *r, int fd);

/* Ends the registration of `fd`: removes it from epoll and wakes its read and
 * write wakers, so that waiters poll again and get -EBADF. Does not close
 * the fd. Returns 0, -EINVAL (r NULL) or -EBADF (not registered). Also fine
 * after the fd was closed. */
int rt_reactor_deregister(struct rt_reactor *r, int fd);

/* rt_reactor_deregister, then close(fd). Returns 0 or a negative errno (from
 * either step; the fd is closed whenever it was open). */
int rt_reactor_close(struct rt_reactor *r, int fd);

/* Withdraws a waiter that gave up: for each direction in `bits` (RT_IO_*),
 * the waker stored for `fd` is dropped unwoken when it would wake the same
 * target as `w` (rt_waker_will_wake); another waiter's waker stays. An
 * operation that leaves RT_PENDING for another reason than its fd (a
 * deadline won the race, its future was dropped) calls this, or the
 * reactor would go on counting a waiter that nothing wakes, and a deadlock
 * would never be reported. A no-op for an fd that is not registered, for
 * NULL r or w. Dropping the waker may release its target's last reference;
 * no other user code runs. */
void rt_reactor_io_cancel(struct rt_reactor *r, int fd, unsigned bits,
                          const struct rt_waker *w);

/* Current readiness bits (RT_IO_*) of a registered fd, or -EBADF. */
int rt_reactor_readiness(const struct rt_reactor *r, int fd);

/* Waits up to `timeout_ns` (negative: no limit; 0: do not block) for IO
 * readiness, the earliest timer deadline, or a notify, then wakes exactly
 * what is due: the wakers of fds that became ready, the remote nodes queued
 * by other threads, and the timers whose deadline passed. EINTR is retried,
 * never returned. Returns how many wakers it woke plus remote nodes it ran
 * (0 on a plain timeout), or a negative errno from epoll_wait. Wakers may
 * call any function here except rt_reactor_turn and rt_reactor_free.
 * Shared: one thread at a time (a concurrent second turn aborts); the lock
 * is free while it blocks, and the wakers are woken with it released. A
 * turn blocked with no deadline still wakes for a timer armed meanwhile. */
int rt_reactor_turn(struct rt_reactor *r, int64_t timeout_ns);

/* Makes a blocked or the next rt_reactor_turn return promptly. Safe from any
 * thread; cheap when a notify is already pending (no syscall). Returns 0 or a
 * negative errno from the eventfd write. */
int rt_reactor_notify(struct rt_reactor *r);

/* Prepares a remote node: `run` is what the reactor thread will call. */
void rt_remote_init(struct rt_remote *node, void (*run)(struct rt_remote *));

/* Queues `node` to run on the reactor's thread during its next turn and
 * notifies the reactor. Safe from any thread, lock-free, no allocation.
 * Returns 1 when queued, 0 when it was already queued (it will run once), or
 * -EINVAL for a NULL argument or a node without run. */
int rt_reactor_remote(struct rt_reactor *r, struct rt_remote *node);

/* Adds `add` to the node's word, ORs `set` into it, and queues the node,
 * as one atomic step. Both must be multiples of RT_REMOTE_UNIT; unsigned
 * arithmetic wraps, so 0u - n subtracts. Safe from any thread, lock-free.
 * Returns 1 when this call queued the node, 0 when it was queued already
 * (the change is seen by the same run), or -EINVAL for a NULL argument, a
 * node without run, or a value that is not a multiple of RT_REMOTE_UNIT. */
int rt_reactor_post(struct rt_reactor *r, struct rt_remote *node, unsigned add,
                    unsigned set);

/* Adds `add` to the node's word without queuing it: the next run sees it.
 * Any thread. `add` must be a multiple of RT_REMOTE_UNIT. */
void rt_remote_add(struct rt_remote *node, unsigned add);

/* Remote nodes (rt_reactor_remote/post) run on whichever thread turns;
 * on a shared reactor that may be any worker, one turn at a time. */

/* Counts an outstanding wake source that the reactor cannot see, such as a
 * job on a blocking pool that will wake a task when it ends. While holds are
 * outstanding a scheduler must not declare a deadlock. Any thread. */
void rt_reactor_hold(struct rt_reactor *r);

/* Ends one rt_reactor_hold. Any thread. */
void rt_reactor_release(struct rt_reactor *r);

/* Arms (or re-arms) timer `t` on this reactor: at `deadline` (rt_now_ns
 * scale) a clone of `w` is woken. See rt_timers_arm for errors. Shared: any
 * worker; a blocked turn that sleeps past `deadline` is notified. */
int rt_reactor_timer_arm(struct rt_reactor *r, struct rt_timer *t,
                         uint64_t deadline, const struct rt_waker *w);

/* Cancels `t`, dropping its waker; a no-op when it is not armed. Shared:
 * any worker; a timer that a turn is firing at the same moment either
 * fires (its wake is under way) or is cancelled, never both. */
void rt_reactor_timer_cancel(struct rt_reactor *r, struct rt_timer *t);

/* Fills *st. Returns 0 or -EINVAL. Shared: any worker; one consistent
 * snapshot of the counters (holds read just after it). */
int rt_reactor_stats(const struct rt_reactor *r, struct rt_reactor_stats *st);

/* The `turns` counter of rt_reactor_stats alone, without the rest of the
 * snapshot: cheap enough to ask once per request (a task that was woken
 * has seen a turn since it last asked). 0 for r NULL. Shared: any worker,
 * under the reactor's lock like the snapshot. */
uint64_t rt_reactor_turns(const struct rt_reactor *r);

/* True when the reactor could still wake someone: an armed timer, a stored
 * IO waker, a queued remote node or an outstanding hold, or (shared) a
 * turn still waking what it found due. A scheduler with parked tasks and
 * nothing runnable is deadlocked when this is false. Shared: any worker. */
int rt_reactor_has_waiters(const struct rt_reactor *r);

#endif

/* Timers: a 4-ary min-heap of caller-owned timer nodes.
 *
 * Invariants:
 * - A timer is armed exactly when its idx is a valid heap slot; an idle timer
 *   has idx == RT_TIMER_IDLE and holds no waker.
 * - The heap is ordered by (deadline, seq). seq grows with every arm, so
 *   timers with equal deadlines fire in the order they were armed.
 * - An armed timer owns one waker (a clone taken at arm time); firing wakes
 *   and consumes it, cancelling drops it.
 *
 * Costs: arm, re-arm and cancel are O(log4 n) with no allocation except when
 * the heap array grows (amortised, doubling). docs/architecture.md has the
 * measurement (bench_timer_heap) that chose a 4-ary heap.
 *
 * The nodes are embedded by their owners (a future's frame, a green thread's
 * stack); the heap keeps pointers to them (with each deadline alongside,
 * 16 bytes per armed timer), so a node must stay at the same address and be
 * cancelled or fired before its memory goes away.
 *
 * Threads: a heap is not locked; whoever owns it serialises its calls. The
 * reactor's heap is guarded by the reactor's lock once the reactor is
 * shared (rt_reactor_share), and then only a timer's idx is read outside
 * that lock, by rt_timer_armed: the heap writes it with atomic stores, the
 * last write of a firing or a cancel being a release store of
 * RT_TIMER_IDLE, after which the heap never touches the node again.
 */
#ifndef RT_COMMON_TIMER_H
#define RT_COMMON_TIMER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waker.h"

#define RT_TIMER_IDLE SIZE_MAX

struct rt_timer {
    /* private: written only by the functions below, under the heap's
     * owner (the reactor's lock when the reactor is shared) */
    uint64_t deadline; /* monotonic ns (rt_now_ns scale) */
    uint64_t seq;      /* arming order, the tie-break */
    /* Heap slot, RT_TIMER_IDLE when not armed. Atomic (relaxed stores,
     * plain moves on x86) only so that rt_timer_armed may read it from the
     * node's owner while a shared reactor's turn moves or fires the timer;
     * it becomes RT_TIMER_IDLE by a release store, the heap's last touch. */
    atomic_size_t idx;
    struct rt_waker waker; /* woken when the deadline passes */
};

/* A heap entry: the timer and a copy of its deadline, so that ordering
 * the heap reads the array and not the scattered nodes. */
struct rt_timer_slot {
    uint64_t deadline;
    struct rt_timer *t;
};

struct rt_timers {
    /* private */
    struct rt_timer_slot *heap; /* heap[0] is the earliest */
    size_t len;
    size_t cap;
    uint64_t seq; /* next arming sequence number */
};

/* Makes `t` an idle timer. Call once before first use; after that a timer is
 * idle again whenever it has fired or been cancelled. */
void rt_timer_init(struct rt_timer *t);

/* True when `t` is armed (its deadline has not yet fired). On a shared
 * reactor, read by the timer's owner without the reactor's lock, true may
 * be stale (a turn on another thread may be firing it now), but false is
 * final until the owner arms it again: the heap, and the turn that fired
 * the timer, no longer touch the node, so its memory may be reused. */
static inline bool rt_timer_armed(const struct rt_timer *t)
{
    return atomic_load_explicit(&t->idx, memory_order_acquire) != RT_TIMER_IDLE;
}

/* When `t` is armed for exactly `deadline`, makes it wake the target of `w`
 * instead (rt_waker_store: the stored waker is kept when it already wakes
 * the same target) and returns true; otherwise changes nothing and returns
 * false. The heap is not touched, as the order does not depend on the
 * waker: a poll that finds its timer already armed as it wants uses this
 * and skips the re-arm. Only for a heap no other thread touches: a shared
 * reactor's timers are re-woken under its lock (rt_poll_sleep_until does
 * that itself). */
static inline bool rt_timer_rewake(struct rt_timer *t, uint64_t deadline,
                                   const struct rt_waker *w)
{
    if (!rt_timer_armed(t) || t->deadline != deadline)
        return false;
    rt_waker_store(&t->waker, w);
    return true;
}

/* Initialises an empty heap. Allocates nothing. */
void rt_timers_init(struct rt_timers *h);

/* Drops the waker of every armed timer (they become idle without firing) and
 * frees the heap array. The heap may be initialised again afterwards. */
void rt_timers_fini(struct rt_timers *h);

/* Arms `t` to wake a clone of `w` at `deadline` (ns, rt_now_ns scale). An
 * armed timer is re-armed: its old waker is dropped and it moves to its new
 * place, after every timer already armed for the same deadline.
 * Returns 0, -EINVAL when h, t or w is NULL or w holds no waker, or -ENOMEM
 * when the heap could not grow (then `t` is left as it was). */
int rt_timers_arm(struct rt_timers *h, struct rt_timer *t, uint64_t deadline,
                  const struct rt_waker *w);

/* Disarms `t` and drops its waker. A no-op for an idle timer (one that
 * already fired, was cancelled, or was never armed). */
void rt_timers_cancel(struct rt_timers *h, struct rt_timer *t);

/* The earliest armed deadline, or UINT64_MAX when no timer is armed. */
uint64_t rt_timers_next(const struct rt_timers *h);

/* Number of armed timers. */
static inline size_t rt_timers_len(const struct rt_timers *h)
{
    return h->len;
}

/* Fires, in (deadline, seq) order, the timers whose deadline is <= now and
 * that were armed before this call: each becomes idle, then its waker is
 * woken (consumed). A waker may re-arm or cancel any timer; a timer re-armed
 * during the call fires no earlier than the next call. When such a timer is
 * re-armed for a deadline that has already passed, it is now the earliest,
 * and the call stops there: the due timers behind it fire at the next call
 * (a reactor turn does not block while a deadline has passed, so that is
 * one turn later, and no wake is lost). Returns how many fired. */
size_t rt_timers_expire(struct rt_timers *h, uint64_t now);

#endif

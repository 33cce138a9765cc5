/* What the reactor needs of the timer heap beyond timer.h: the calls that
 * hand a waker back instead of dropping or waking it, so that a shared
 * reactor can drop and wake after releasing its lock. Not for use outside
 * common/.
 */
#ifndef RT_COMMON_TIMER_INTERNAL_H
#define RT_COMMON_TIMER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <greenfut/timer.h>
#include <greenfut/waker.h>

/* Makes `*slot` hold a waker for the target of `w`, as rt_waker_store, but
 * hands back the waker it replaces (RT_WAKER_NONE when it kept the stored
 * one or the slot was empty) for the caller to drop after unlocking. */
static inline struct rt_waker rt__waker_swap(struct rt_waker *slot,
                                             const struct rt_waker *w)
{
    if (rt_waker_will_wake(slot, w))
        return RT_WAKER_NONE;
    struct rt_waker old = *slot;
    *slot = rt_waker_clone(w);
    return old;
}

/* rt_timers_arm, handing the waker it replaces to *old (RT_WAKER_NONE when
 * none) instead of dropping it. */
int rt__timers_arm_swap(struct rt_timers *h, struct rt_timer *t,
                        uint64_t deadline, const struct rt_waker *w,
                        struct rt_waker *old);

/* rt_timers_cancel without the drop: disarms `t` and returns its waker
 * (RT_WAKER_NONE for an idle timer). */
struct rt_waker rt__timers_remove(struct rt_timers *h, struct rt_timer *t);

/* Takes, in (deadline, seq) order, at most `max` of the timers due at
 * `now` and armed with a seq below `limit` (rt_timers.seq when the caller
 * began expiring: later arms wait a turn, as in rt_timers_expire): each
 * becomes idle and its waker moves to out[]. Returns how many. */
size_t rt__timers_take(struct rt_timers *h, uint64_t now, uint64_t limit,
                       struct rt_waker *out, size_t max);

#endif

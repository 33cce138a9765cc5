/* The leaf sleep: a poll function over a caller-owned timer armed on the
 * reactor, written once for both backends and shared by every operation
 * that races a deadline (io.h's *_until, chan.h's rt_chan_poll_recv_until).
 *
 * Invariant: when it returns RT_READY the timer is idle; while it returns
 * RT_PENDING the timer is armed with the latest caller's waker.
 *
 * Defined in io.c, beside the deadline-raced transfers, so that it is
 * inlined into them as it was before it had a header of its own.
 */
#ifndef RT_COMMON_SLEEP_H
#define RT_COMMON_SLEEP_H

#include <stdint.h>

#include <greenfut/rt_poll.h>
#include <greenfut/reactor.h>
#include <greenfut/timer.h>

/* Ready once rt_now_ns() >= deadline. Until then `t` (owned by the caller,
 * initialised with rt_timer_init) is armed with the caller's waker. When the
 * result is RT_READY the timer is idle. A caller that gives up early must
 * rt_reactor_timer_cancel(t) before t's memory goes away. *res: 0, or
 * -EINVAL / -ENOMEM when the timer could not be armed (then READY). */
enum rt_poll rt_poll_sleep_until(struct rt_reactor *r, struct rt_timer *t,
                                 uint64_t deadline, struct rt_cx *cx, int *res);

#endif

/* Poll and Context: the two words every leaf operation speaks.
 *
 * A poll function either finishes (RT_READY, its result in an out-parameter)
 * or arranges for cx->waker to be woken when progress is possible and returns
 * RT_PENDING. It never blocks. After a wake the caller polls again; a wake is
 * a hint, so a poll may return RT_PENDING again (spurious wake-ups are fine).
 *
 * Rust: enum rt_poll is `Poll<T>` without the payload, struct rt_cx is
 * `Context<'_>`.
 */
#ifndef RT_COMMON_POLL_H
#define RT_COMMON_POLL_H

#include "waker.h"

enum rt_poll {
    RT_READY = 0,
    RT_PENDING = 1,
};

struct rt_cx {
    const struct rt_waker *waker; /* the waker of whoever is polling */
};

/* True when cx is usable: non-NULL, with a waker that is set. Every poll
 * function checks this first and answers -EINVAL otherwise. */
static inline bool rt_cx_ok(const struct rt_cx *cx)
{
    return cx && cx->waker && rt_waker_is_set(cx->waker);
}

#endif

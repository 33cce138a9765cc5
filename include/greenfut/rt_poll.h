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

#include <errno.h>
#include <stdatomic.h>

#include "waker.h"

enum rt_poll {
    RT_READY = 0,
    RT_PENDING = 1,
};

struct rt_cx {
    const struct rt_waker *waker; /* the waker of whoever is polling */
};

/* True when cx is usable: non-NULL, with a waker that is set. Every poll
 * function checks this first and answers rt__cx_refusal(cx) otherwise:
 * -EINVAL, or -ECANCELED for a cancelled task's context. */
static inline bool rt_cx_ok(const struct rt_cx *cx)
{
    return cx && cx->waker && rt_waker_is_set(cx->waker);
}

/* Cancellation (the portable API's rt_cancel) rides on that check, so that
 * it costs the polls nothing: a cancelled task's awaits are polled with a
 * context whose waker is empty, which rt_cx_ok refuses, and the refusal
 * path asks the portable layer what to answer.
 *
 * rt__cancel_check is that question, set by the backend's portable layer
 * before its first task runs (NULL until then): for the task being polled
 * on the calling thread, when it is cancelled it withdraws the wait the
 * task is suspended in (the operation being refused) and returns
 * -ECANCELED, or 0 when that wait turned out to have completed (a send
 * whose message a receiver had already taken); otherwise it returns 1. It
 * runs in the task's own poll, with no lock held. */
typedef int (*rt_cancel_fn)(void);
extern _Atomic(rt_cancel_fn) rt__cancel_check;

/* What a poll function answers when rt_cx_ok(cx) is false (or its other
 * arguments are bad): what rt__cancel_check says for a cancelled task,
 * else -EINVAL. Out of line, cold and without arguments, so that a poll's
 * common path is laid out as it was with the plain -EINVAL store it
 * replaces (bench_handoff counts it). common/check.c. Never runs user
 * code. */
__attribute__((cold)) int rt__cx_refusal(void);

#endif

#include "sleep.h"

#include <errno.h>

#include "check.h"
#include "clock.h"

enum rt_poll rt_poll_sleep_until(struct rt_reactor *r, struct rt_timer *t,
                                 uint64_t deadline, struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !t || !rt_cx_ok(cx)) {
        *res = -EINVAL;
        return RT_READY;
    }
    if (rt_now_ns() >= deadline) {
        rt_reactor_timer_cancel(r, t);
        RT_DEBUG_ASSERT(!rt_timer_armed(t)); /* READY leaves it idle */
        *res = 0;
        return RT_READY;
    }
    /* Already armed for this deadline: only the waker may have changed. */
    if (rt_timer_rewake(t, deadline, cx->waker))
        return RT_PENDING;
    int rc = rt_reactor_timer_arm(r, t, deadline, cx->waker);
    if (rc < 0) {
        *res = rc;
        return RT_READY;
    }
    return RT_PENDING;
}

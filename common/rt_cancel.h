/* Taking a portable frame's wait off whatever it waits on: the one
 * protocol both backends follow when a portable task ends without
 * finishing (a dropped future on stackless, a green thread torn down
 * after -EDEADLK on stackful). Internal to the two portable.c files; it
 * needs the frame layout of rt.h, so it is included after it.
 *
 * Invariant: after rt__frame_cancel no timer, channel, sync object or
 * blocking job refers to the frame or to the child frames it awaits. */
#ifndef RT_COMMON_RT_CANCEL_H
#define RT_COMMON_RT_CANCEL_H

#include <stdbool.h>

#include <greenfut/rt.h>

/* Withdraws an IO wait's waker `w` from its fd (in h->obj once the await
 * parked), on reactor r: rt__frame_cancel leaves it, as a dropped IO
 * future does, but a cancelled task that goes on must not leave a waiter
 * that the reactor counts. Nothing for other waits. */
static inline void rt__frame_withdraw_io(struct rt_reactor *r,
                                         const struct rt_frame *h,
                                         const struct rt_waker *w)
{
    unsigned bits = 0;
    switch (h->op) {
    case RT__OP_READ:
    case RT__OP_READ_UNTIL:
    case RT__OP_ACCEPT:
        bits = RT_IO_READABLE;
        break;
    case RT__OP_WRITE:
    case RT__OP_WRITE_UNTIL:
    case RT__OP_CONNECT:
        bits = RT_IO_WRITABLE;
        break;
    default:
        return;
    }
    rt_reactor_io_cancel(r, (int)(intptr_t)h->obj, bits, w);
}

/* Cancels the wait h is suspended in, the child chain first, on reactor r.
 * A join is the backend's own state: cancel_join (may be NULL when a
 * join needs nothing) takes it off. Leaves h->op at RT__OP_NONE. Returns
 * true when the wait had in fact completed: a send whose message a
 * receiver had taken (rt_chan_op_cancel), a select one of whose sends had
 * been taken. Never runs user code. */
static inline bool rt__frame_cancel(struct rt_reactor *r, struct rt_frame *h,
                                    void (*cancel_join)(struct rt_frame *h))
{
    bool done = false;
    switch (h->op) {
    case RT__OP_SLEEP:
    case RT__OP_READ_UNTIL:
    case RT__OP_WRITE_UNTIL:
        rt_reactor_timer_cancel(r, &h->u.sleep.t);
        break;
    case RT__OP_SEND:
    case RT__OP_RECV:
        done = rt_chan_op_cancel(h->obj, &h->u.chan);
        break;
    case RT__OP_RECV_UNTIL:
        rt_reactor_timer_cancel(r, (struct rt_timer *)(uintptr_t)h->u.chan.msg);
        (void)rt_chan_op_cancel(h->obj, &h->u.chan);
        break;
    case RT__OP_LOCK:
        rt_mutex_cancel(h->obj, &h->u.w);
        break;
    case RT__OP_SEM:
        rt_sem_cancel(h->obj, &h->u.w);
        break;
    case RT__OP_NOTIFY:
        rt_notify_cancel(h->obj, &h->u.w);
        break;
    case RT__OP_COND:
        rt_cond_cancel(h->obj, &h->u.cw);
        break;
    case RT__OP_WG:
        rt_wg_cancel(h->obj, &h->u.w);
        break;
    case RT__OP_BLOCKING:
        rt_blocking_cancel(h->u.job);
        break;
    case RT__OP_JOIN:
        if (cancel_join)
            cancel_join(h);
        break;
    case RT__OP_SELECT:
        done = rt_select_cancel(&h->u.sel, r) >= 0;
        break;
    case RT__OP_CHILD:
        done = rt__frame_cancel(r, h->u.child, cancel_join);
        break;
    default:
        break;
    }
    h->op = RT__OP_NONE;
    return done;
}

#endif

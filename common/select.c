/* Select over leaf operations (include/greenfut/rt_select.h): the choice
 * word, the random poll order, and withdrawing the losers.
 *
 * Invariant: a case's operation completes only in the owner's poll while
 * the word is RT__SELECT_BUSY (moved from 0 by the owner), or, for a send
 * case, by a receiver that moved the word from 0 to RT__SELECT_TAKEN; so
 * at most one case ever completes.
 */
#include <greenfut/rt_select.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <greenfut/check.h>
#include <greenfut/clock.h>
#include <greenfut/coop.h>
#include <greenfut/io.h>

static void set_case(struct rt_sel_case *c, unsigned kind, int fd, void *obj,
                     void *buf, size_t len, uint64_t deadline)
{
    c->kind = kind;
    c->fd = fd;
    c->obj = obj;
    c->buf = buf;
    c->len = len;
    c->deadline = deadline;
    c->res = 0;
}

void rt_sel_recv(struct rt_sel_case *c, struct rt_chan *ch, void *out)
{
    set_case(c, RT_SEL_RECV, -1, ch, out, 0, 0);
}

void rt_sel_send(struct rt_sel_case *c, struct rt_chan *ch, const void *msg)
{
    /* Only read: the one buffer field serves both directions. */
    set_case(c, RT_SEL_SEND, -1, ch, (void *)(uintptr_t)msg, 0, 0);
}

void rt_sel_read(struct rt_sel_case *c, int fd, void *buf, size_t len)
{
    set_case(c, RT_SEL_READ, fd, NULL, buf, len, 0);
}

void rt_sel_write(struct rt_sel_case *c, int fd, const void *buf, size_t len)
{
    set_case(c, RT_SEL_WRITE, fd, NULL, (void *)(uintptr_t)buf, len, 0);
}

void rt_sel_deadline(struct rt_sel_case *c, uint64_t deadline)
{
    set_case(c, RT_SEL_DEADLINE, -1, NULL, NULL, 0, deadline);
}

void rt_sel_notify(struct rt_sel_case *c, struct rt_notify *n)
{
    set_case(c, RT_SEL_NOTIFY, -1, n, NULL, 0, 0);
}

int rt_select_init(struct rt_select *s, struct rt_sel_case *cases, size_t n,
                   unsigned flags)
{
    if (!s || !cases || n == 0 || n > RT_SELECT_MAX ||
        (flags & ~(unsigned)RT_SELECT_BIASED))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        struct rt_sel_case *c = &cases[i];
        switch (c->kind) {
        case RT_SEL_RECV:
        case RT_SEL_SEND:
            if (!c->obj || !c->buf)
                return -EINVAL;
            break;
        case RT_SEL_READ:
        case RT_SEL_WRITE:
            if (!c->buf && c->len)
                return -EINVAL;
            break;
        case RT_SEL_DEADLINE:
            break;
        case RT_SEL_NOTIFY:
            if (!c->obj)
                return -EINVAL;
            break;
        default:
            return -EINVAL;
        }
    }
    s->cases = cases;
    s->n = (unsigned)n;
    s->flags = flags;
    atomic_init(&s->claim, 0);
    s->won = -1;
    s->waker = RT_WAKER_NONE;
    for (size_t i = 0; i < n; i++) {
        struct rt_sel_case *c = &cases[i];
        c->sel = s;
        switch (c->kind) {
        case RT_SEL_RECV:
        case RT_SEL_SEND:
            rt_chan_op_init(&c->u.chan);
            break;
        case RT_SEL_DEADLINE:
            rt_timer_init(&c->u.t);
            break;
        case RT_SEL_NOTIFY:
            rt_waiter_init(&c->u.w);
            break;
        default: /* an fd case keeps its wait in the reactor */
            break;
        }
    }
    return 0;
}

/* The poll order's random numbers: xorshift64*, one state per OS thread
 * (read and written within one call: a green thread that moves to another
 * worker simply draws from that worker's state). Seeded from the state's
 * own address and the clock, so that threads differ. */
static _Thread_local uint64_t rng;

static uint32_t rand_below(uint32_t bound)
{
    if (!rng)
        rng = (rt_now_ns() ^ (uint64_t)(uintptr_t)&rng) | 1;
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    uint64_t x = rng * 0x2545F4914F6CDD1Dull;
    /* Lemire's multiply-shift: bias below 2^-32 * bound, far under what
     * any test or program could see. */
    return (uint32_t)(((x >> 32) * (uint64_t)bound) >> 32);
}

/* Polls case c once. RT_READY when it completed, its result in c->res. */
static enum rt_poll poll_case(struct rt_sel_case *c, struct rt_reactor *r,
                              struct rt_cx *cx)
{
    enum rt_poll p = RT_PENDING;
    int i = 0;
    switch (c->kind) {
    case RT_SEL_RECV:
        p = rt__chan_poll_recv_sel(c->obj, &c->u.chan, c->buf, &c->sel->claim,
                                   cx, &i);
        c->res = i;
        break;
    case RT_SEL_SEND:
        p = rt__chan_poll_send_sel(c->obj, &c->u.chan, c->buf, cx, &i);
        c->res = i;
        break;
    case RT_SEL_READ:
        p = rt_poll_read(r, c->fd, c->buf, c->len, cx, &c->res);
        break;
    case RT_SEL_WRITE:
        p = rt_poll_write(r, c->fd, c->buf, c->len, cx, &c->res);
        break;
    case RT_SEL_DEADLINE:
        p = rt_poll_sleep_until(r, &c->u.t, c->deadline, cx, &i);
        c->res = i;
        break;
    case RT_SEL_NOTIFY:
        p = rt_notify_poll_wait(c->obj, &c->u.w, cx, &i);
        c->res = i;
        break;
    default:
        RT_UNREACHABLE();
    }
    return p;
}

/* Withdraws case c, which did not win (it may never have been polled).
 * Returns true when it had completed after all: a send whose message a
 * receiver took (only possible before the word was won by the owner). */
static bool cancel_case(struct rt_select *s, struct rt_sel_case *c,
                        struct rt_reactor *r)
{
    switch (c->kind) {
    case RT_SEL_RECV:
    case RT_SEL_SEND:
        return rt_chan_op_cancel(c->obj, &c->u.chan);
    case RT_SEL_READ:
    case RT_SEL_WRITE:
        if (rt_waker_is_set(&s->waker))
            rt_reactor_io_cancel(r, c->fd,
                                 c->kind == RT_SEL_READ ? RT_IO_READABLE
                                                        : RT_IO_WRITABLE,
                                 &s->waker);
        return false;
    case RT_SEL_DEADLINE:
        rt_reactor_timer_cancel(r, &c->u.t);
        return false;
    case RT_SEL_NOTIFY:
        rt_notify_cancel(c->obj, &c->u.w);
        return false;
    default:
        return false;
    }
}

/* Case `won` completed: every other one is withdrawn. */
static void finish(struct rt_select *s, struct rt_reactor *r, int won)
{
    s->won = won;
    for (unsigned i = 0; i < s->n; i++)
        if ((int)i != won)
            RT_ASSERT(!cancel_case(s, &s->cases[i], r));
}

/* The word says a receiver completed a send case: withdraw every case;
 * the one whose withdrawal says it had completed (a DONE send, reset by
 * rt_chan_op_cancel) is the winner. Returns its index. */
static int taken(struct rt_select *s, struct rt_reactor *r)
{
    int won = -1;
    for (unsigned i = 0; i < s->n; i++)
        if (cancel_case(s, &s->cases[i], r)) {
            RT_ASSERT(won < 0); /* one case completes */
            won = (int)i;
        }
    RT_ASSERT(won >= 0); /* TAKEN is set only with a send case's DONE */
    s->cases[won].res = 0;
    s->won = won;
    return won;
}

enum rt_poll rt_select_poll(struct rt_select *s, struct rt_reactor *r,
                            struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!s || !s->cases || !r || !rt_cx_ok(cx)) {
        /* A cancelled task's select: a send a receiver already took is
         * the select's result (the message went); else every case is
         * withdrawn and the answer is the refusal's. */
        int won = s && s->cases && r ? rt_select_cancel(s, r) : -1;
        *res = won >= 0 ? won : rt__cx_refusal();
        return RT_READY;
    }
    if (s->won != -1) { /* chosen, or cancelled (-2) */
        *res = s->won >= 0 ? s->won : -ECANCELED;
        return RT_READY;
    }
    /* The select is one operation of the cooperative budget: it takes one
     * unit, and its case polls take none (the budget is off while they
     * run), so that no case is refused midway and a biased order holds. */
    if (!rt_coop_take(cx))
        return RT_PENDING;
    s->waker = *cx->waker; /* a copy for cancel_case, no reference */
    unsigned open = 0;
    if (!atomic_compare_exchange_strong_explicit(
            &s->claim, &open, RT__SELECT_BUSY, memory_order_acq_rel,
            memory_order_acquire)) {
        RT_ASSERT(open == RT__SELECT_TAKEN);
        *res = taken(s, r);
        return RT_READY;
    }
    /* A fresh random order (Fisher-Yates), or index order when biased. */
    unsigned char order[RT_SELECT_MAX];
    for (unsigned i = 0; i < s->n; i++) {
        unsigned j = i;
        if (!(s->flags & RT_SELECT_BIASED)) {
            j = rand_below(i + 1);
            order[i] = order[j];
        }
        order[j] = (unsigned char)i;
    }
    unsigned left = rt__coop_left;
    rt__coop_left = UINT_MAX;
    for (unsigned k = 0; k < s->n; k++) {
        struct rt_sel_case *c = &s->cases[order[k]];
        if (poll_case(c, r, cx) == RT_READY) {
            rt__coop_left = left;
            atomic_store_explicit(&s->claim, RT__SELECT_CHOSEN,
                                  memory_order_release);
            finish(s, r, order[k]);
            *res = order[k];
            return RT_READY;
        }
    }
    rt__coop_left = left;
    /* Nothing completed: open the word again. Only the owner writes it
     * while it is BUSY, so a store does; a receiver that skipped a sender
     * meanwhile woke us, and the park after this returns at once. */
    atomic_store_explicit(&s->claim, 0, memory_order_release);
    return RT_PENDING;
}

int rt_select_cancel(struct rt_select *s, struct rt_reactor *r)
{
    if (!s || !s->cases)
        return -1;
    if (s->won != -1)
        return s->won >= 0 ? s->won : -1;
    unsigned open = 0;
    if (!atomic_compare_exchange_strong_explicit(
            &s->claim, &open, RT__SELECT_CHOSEN, memory_order_acq_rel,
            memory_order_acquire)) {
        /* Only TAKEN: the owner is the caller, so never BUSY here. */
        RT_ASSERT(open == RT__SELECT_TAKEN);
        return taken(s, r);
    }
    for (unsigned i = 0; i < s->n; i++)
        RT_ASSERT(!cancel_case(s, &s->cases[i], r));
    s->won = -2; /* cancelled: a later poll says -ECANCELED */
    return -1;
}

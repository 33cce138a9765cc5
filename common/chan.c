#include <greenfut/chan.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include <greenfut/coop.h>
#include <greenfut/rt_select.h>
#include <greenfut/sleep.h>
#include "sys.h"

/* A sender goes IDLE -> QUEUED -> DONE (a receiver copied its message), or
 * WOKEN by close. A receiver goes IDLE -> QUEUED -> WOKEN (a sender or close
 * asked it to look again).
 *
 * While a multi-worker scheduler runs, every operation runs under ch->lock
 * from its first read of the channel or of its op to its last write, and
 * takes the wakers of the waiters it completes out under it
 * (rt_waitq_take_one), waking them after the unlock: at most two per call
 * (a receive completes a sender and hands the next receiver its turn), so
 * the critical section is a few copies and list links, never a
 * scheduler's wake path. With one worker, send and receive take the
 * unlocked path (rt_mt() false: one relaxed load) and wake at once. */

int rt_chan_init(struct rt_chan *ch, size_t elem, size_t cap)
{
    if (!ch || elem == 0 || (cap && elem > SIZE_MAX / cap))
        return -EINVAL;
    ch->ring = NULL;
    if (cap) {
        ch->ring = rt_sys_malloc(cap * elem);
        if (!ch->ring)
            return -ENOMEM;
    }
    rt_spin_init(&ch->lock);
    ch->elem = elem;
    ch->cap = cap;
    ch->head = 0;
    ch->count = 0;
    rt_list_init(&ch->senders);
    rt_list_init(&ch->receivers);
    ch->closed = false;
    return 0;
}

void rt_chan_fini(struct rt_chan *ch)
{
    if (!ch)
        return;
    RT_ASSERT(rt_list_empty(&ch->senders) && rt_list_empty(&ch->receivers));
    free(ch->ring);
    ch->ring = NULL;
}

void rt_chan_op_init(struct rt_chan_op *op)
{
    rt_waiter_init(&op->w);
    op->msg = NULL;
}

#if defined(RT_DEBUG) && RT_DEBUG
/* The ring never overfills, and a sender waits only while the ring is
 * full (or is a rendezvous): a sender that finds room never queues behind
 * one that waits, and a receive that frees a slot moves the first waiting
 * sender's message in at once. */
static bool consistent(const struct rt_chan *ch)
{
    if (ch->count > ch->cap)
        return false;
    if (rt_list_empty(&ch->senders) || ch->count == ch->cap)
        return true;
    /* A receive of a select may leave its own select's sender (msg NULL)
     * queued beside a free slot, until that select withdraws it. */
    const struct rt_chan_op *s =
        RT_CONTAINER_OF(ch->senders.next, struct rt_chan_op, w.link);
    return s->msg == NULL;
}
#endif

static unsigned char *slot(struct rt_chan *ch, size_t i)
{
    return ch->ring + ((ch->head + i) % ch->cap) * ch->elem;
}

/* Completes the first waiter of `q` with `state`. With `later` NULL (one
 * worker: nothing is locked) it is woken at once, as a channel of one
 * thread does; otherwise its waker goes to *later, to be woken after the
 * unlock. Returns false when `q` is empty. */
static inline bool complete_one(struct rt_list *q, int state,
                                struct rt_waker *later)
{
    return later ? rt_waitq_take_one(q, state, later)
                 : rt_waitq_wake_one(q, state);
}

/* A poll's refusal (rt__cx_refusal into *res), out of line so that the
 * poll functions keep the layout they had with a plain -EINVAL. */
static __attribute__((noinline, cold)) enum rt_poll refuse(int *res)
{
    *res = rt__cx_refusal();
    return RT_READY;
}

/* The locked paths of send and receive, for multi-worker runs. External
 * only so that the compiler keeps them out of line: the one-worker path
 * then needs no stack frame of its own. Not for callers. */
enum rt_poll rt__chan_send_locked(struct rt_chan *ch, struct rt_chan_op *op,
                                  const void *msg, struct rt_cx *cx, int *res);
enum rt_poll rt__chan_recv_locked(struct rt_chan *ch, struct rt_chan_op *op,
                                  void *out, struct rt_cx *cx, int *res);

/* The send itself, lock held when `later` is set (see complete_one). A
 * select's send (`sel`, a constant at every call) queues with msg NULL:
 * receivers find its message through its case (take_from_sender). */
static inline enum rt_poll do_send(struct rt_chan *ch, struct rt_chan_op *op,
                                   const void *msg, struct rt_cx *cx, int *res,
                                   struct rt_waker *later, bool sel)
{
    if (op->w.state == RT_WAIT_DONE) { /* a receiver took it meanwhile */
        rt_waiter_reset(&op->w);
        *res = 0;
        return RT_READY;
    }
    if (ch->closed) {
        rt_waiter_reset(&op->w);
        op->msg = NULL;
        *res = -EPIPE;
        return RT_READY;
    }
    if (op->w.state == RT_WAIT_QUEUED) /* still waiting: maybe a new waker */
        return rt_waitq_park(&ch->senders, &op->w, cx);
    /* Only a sender with no one queued ahead of it may use the ring. */
    if (ch->count < ch->cap && rt_list_empty(&ch->senders)) {
        memcpy(slot(ch, ch->count), msg, ch->elem);
        ch->count++;
        complete_one(&ch->receivers, RT_WAIT_WOKEN, later);
        RT_DEBUG_ASSERT(consistent(ch));
        *res = 0;
        return RT_READY;
    }
    op->msg = sel ? NULL : msg;
    complete_one(&ch->receivers, RT_WAIT_WOKEN, later); /* come and take it */
    /* The result is passed on as is, so release builds keep the tail call. */
    enum rt_poll p = rt_waitq_park(&ch->senders, &op->w, cx);
    RT_DEBUG_ASSERT(consistent(ch));
    return p;
}

enum rt_poll rt__chan_send_locked(struct rt_chan *ch, struct rt_chan_op *op,
                                  const void *msg, struct rt_cx *cx, int *res)
{
    struct rt_waker later = RT_WAKER_NONE; /* a receiver's */
    rt_spin_lock_always(&ch->lock);
    enum rt_poll p = do_send(ch, op, msg, cx, res, &later, false);
    rt_spin_unlock(&ch->lock, true);
    rt_waker_wake(&later);
    return p;
}

enum rt_poll rt_chan_poll_send(struct rt_chan *ch, struct rt_chan_op *op,
                               const void *msg, struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!ch || !op || !msg || !rt_cx_ok(cx)) {
        return refuse(res);
    }
    if (!rt_coop_take(cx)) /* include/greenfut/coop.h */
        return RT_PENDING;
    /* One worker: no lock, wakes at once; the code of a one-thread
     * channel (the two paths are the one body above, inlined twice). */
    if (rt_mt())
        return rt__chan_send_locked(ch, op, msg, cx, res);
    return do_send(ch, op, msg, cx, res, NULL, false);
}

enum rt_poll rt__chan_poll_send_sel(struct rt_chan *ch, struct rt_chan_op *op,
                                    const void *msg, struct rt_cx *cx, int *res)
{
    if (!ch || !op || !msg || !rt_cx_ok(cx)) {
        return refuse(res);
    }
    /* No budget taken: the select took it for all its cases. */
    struct rt_waker later = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&ch->lock);
    enum rt_poll p =
        do_send(ch, op, msg, cx, res, locked ? &later : NULL, true);
    rt_spin_unlock(&ch->lock, locked);
    rt_waker_wake(&later);
    return p;
}

/* A waiting sender with msg NULL is a select's send case (a plain one
 * always has its message there): whether a receiver whose own select's
 * word is `own` (NULL for a plain receive) may take it. Not when it is a
 * case of the receiver's own select (a select never meets itself; the
 * sender stays queued); otherwise only by winning the sender's select
 * word, 0 -> RT__SELECT_TAKEN (include/greenfut/rt_select.h). A word that
 * is not 0 belongs to a select that is choosing now or has chosen: that
 * sender is unlinked and woken (under the lock, as waitq.h allows), so
 * that its select looks again (it queues the send again when it is still
 * choosing), and the receiver goes on to the next sender. Returns 1 (take
 * it: *msg is its message), 0 (skip it, still queued) or -1 (it was
 * unlinked). */
static int select_sender(struct rt_chan_op *s, const atomic_uint *own,
                         const void **msg)
{
    struct rt_sel_case *c = RT_CONTAINER_OF(s, struct rt_sel_case, u.chan);
    atomic_uint *word = &c->sel->claim;
    if (word == own)
        return 0;
    unsigned open = 0;
    if (atomic_compare_exchange_strong_explicit(word, &open, RT__SELECT_TAKEN,
                                                memory_order_acq_rel,
                                                memory_order_acquire)) {
        *msg = c->buf;
        return 1;
    }
    rt_list_remove(&s->w.link);
    s->w.state = RT_WAIT_WOKEN;
    struct rt_waker w = s->w.waker;
    s->w.waker = RT_WAKER_NONE;
    rt_waker_wake(&w);
    return -1;
}

/* take_from_sender past a first waiting sender that is a select's: the
 * sender select_sender lets the receiver take, wherever it is in the
 * queue. Out of line, off the plain channel's path. */
static __attribute__((noinline)) bool take_from_selects(struct rt_chan *ch,
                                                        void *dst,
                                                        const atomic_uint *own,
                                                        struct rt_waker *later)
{
    struct rt_list *at = ch->senders.next;
    while (at != &ch->senders) {
        struct rt_chan_op *s = RT_CONTAINER_OF(at, struct rt_chan_op, w.link);
        RT_DEBUG_ASSERT(s->w.state == RT_WAIT_QUEUED);
        struct rt_list *next = at->next;
        const void *msg = s->msg;
        if (!msg && select_sender(s, own, &msg) <= 0) {
            at = next;
            continue;
        }
        memcpy(dst, msg, ch->elem);
        s->msg = NULL;
        rt_list_remove(&s->w.link);
        s->w.state = RT_WAIT_DONE;
        struct rt_waker w = s->w.waker;
        s->w.waker = RT_WAKER_NONE;
        if (later)
            *later = w;
        else
            rt_waker_wake(&w);
        return true;
    }
    return false;
}

/* Copies the message of the first waiting sender that may be taken to
 * `dst` and completes its send (complete_one): a plain sender, or a
 * select's that select_sender gives. `own` is the receiver's select word
 * (NULL for a plain receive). Returns false when no sender may be taken.
 * A plain sender first in the queue takes the path a channel without
 * select had, but for the test of its msg. */
static inline bool take_from_sender(struct rt_chan *ch, void *dst,
                                    const atomic_uint *own,
                                    struct rt_waker *later)
{
    if (rt_list_empty(&ch->senders))
        return false;
    struct rt_chan_op *s =
        RT_CONTAINER_OF(ch->senders.next, struct rt_chan_op, w.link);
    RT_DEBUG_ASSERT(s->w.state == RT_WAIT_QUEUED);
    if (!s->msg) /* a select's */
        return take_from_selects(ch, dst, own, later);
    memcpy(dst, s->msg, ch->elem);
    s->msg = NULL;
    return complete_one(&ch->senders, RT_WAIT_DONE, later);
}

/* The receive itself, lock held when `later` is set: later[0] gets the
 * completed sender's waker, later[1] the next receiver's. `own` is the
 * word of the select it is a case of, NULL for a plain receive. */
static inline enum rt_poll do_recv(struct rt_chan *ch, struct rt_chan_op *op,
                                   void *out, struct rt_cx *cx, int *res,
                                   struct rt_waker *later,
                                   const atomic_uint *own)
{
    if (ch->count) {
        memcpy(out, slot(ch, 0), ch->elem);
        ch->head = (ch->head + 1) % ch->cap;
        ch->count--;
        /* A slot opened: the first waiting sender moves into the ring. */
        if (take_from_sender(ch, slot(ch, ch->count), own, later))
            ch->count++;
        *res = 1;
    } else if (take_from_sender(ch, out, own, later)) {
        *res = 1;
    } else if (ch->closed) {
        *res = 0;
    } else {
        return rt_waitq_park(&ch->receivers, &op->w, cx);
    }
    RT_DEBUG_ASSERT(consistent(ch));
    rt_waiter_reset(&op->w);
    /* More left and more receivers waiting: let the next one look. */
    if (*res == 1 && (ch->count || !rt_list_empty(&ch->senders)))
        complete_one(&ch->receivers, RT_WAIT_WOKEN, later ? later + 1 : NULL);
    return RT_READY;
}

enum rt_poll rt__chan_recv_locked(struct rt_chan *ch, struct rt_chan_op *op,
                                  void *out, struct rt_cx *cx, int *res)
{
    struct rt_waker later[2] = {RT_WAKER_NONE, RT_WAKER_NONE};
    rt_spin_lock_always(&ch->lock);
    enum rt_poll p = do_recv(ch, op, out, cx, res, later, NULL);
    rt_spin_unlock(&ch->lock, true);
    rt_waker_wake(&later[0]);
    rt_waker_wake(&later[1]);
    return p;
}

enum rt_poll rt_chan_poll_recv(struct rt_chan *ch, struct rt_chan_op *op,
                               void *out, struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!ch || !op || !out || !rt_cx_ok(cx)) {
        return refuse(res);
    }
    if (!rt_coop_take(cx))
        return RT_PENDING;
    if (rt_mt()) /* as rt_chan_poll_send */
        return rt__chan_recv_locked(ch, op, out, cx, res);
    return do_recv(ch, op, out, cx, res, NULL, NULL);
}

enum rt_poll rt__chan_poll_recv_sel(struct rt_chan *ch, struct rt_chan_op *op,
                                    void *out, const atomic_uint *own,
                                    struct rt_cx *cx, int *res)
{
    if (!ch || !op || !out || !rt_cx_ok(cx)) {
        return refuse(res);
    }
    struct rt_waker later[2] = {RT_WAKER_NONE, RT_WAKER_NONE};
    bool locked = rt_spin_lock(&ch->lock);
    enum rt_poll p = do_recv(ch, op, out, cx, res, locked ? later : NULL, own);
    rt_spin_unlock(&ch->lock, locked);
    rt_waker_wake(&later[0]);
    rt_waker_wake(&later[1]);
    return p;
}

enum rt_poll rt_chan_poll_recv_until(struct rt_chan *ch, struct rt_chan_op *op,
                                     void *out, struct rt_reactor *r,
                                     struct rt_timer *t, uint64_t deadline,
                                     struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !t) {
        *res = -EINVAL;
        return RT_READY;
    }
    /* Each channel call takes the channel's lock in turn; none is held
     * across the timer's calls. A message that lands in between is seen by
     * the next poll: its sender woke this op's waker. */
    if (rt_chan_poll_recv(ch, op, out, cx, res) == RT_READY) {
        rt_reactor_timer_cancel(r, t);
        RT_DEBUG_ASSERT(!rt_timer_armed(t)); /* READY leaves it idle */
        return RT_READY;
    }
    /* Queued for a message: the timer is the other way out. */
    int trc = 0;
    if (rt_poll_sleep_until(r, t, deadline, cx, &trc) == RT_PENDING)
        return RT_PENDING;
    (void)rt_chan_op_cancel(ch, op); /* the deadline won: withdraw */
    *res = trc < 0 ? trc : -ETIMEDOUT;
    return RT_READY;
}

bool rt_chan_op_cancel(struct rt_chan *ch, struct rt_chan_op *op)
{
    if (!ch || !op)
        return false;
    struct rt_waker next = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&ch->lock);
    int old = rt_waiter_reset(&op->w);
    op->msg = NULL;
    /* A receiver asked to take a message that never will: pass it on. */
    if (old == RT_WAIT_WOKEN && (ch->count || !rt_list_empty(&ch->senders)))
        rt_waitq_take_one(&ch->receivers, RT_WAIT_WOKEN, &next);
    rt_spin_unlock(&ch->lock, locked);
    rt_waker_wake(&next);
    return old == RT_WAIT_DONE;
}

void rt_chan_close(struct rt_chan *ch)
{
    if (!ch)
        return;
    /* Woken under the lock: once `closed` is set no waiter may still be
     * queued where a later poll could find it (a receiver must not take a
     * refused sender's message), and the queues may be long. */
    bool locked = rt_spin_lock(&ch->lock);
    if (!ch->closed) {
        ch->closed = true;
        rt_waitq_wake_all(&ch->senders, RT_WAIT_WOKEN);
        rt_waitq_wake_all(&ch->receivers, RT_WAIT_WOKEN);
    }
    RT_DEBUG_ASSERT(rt_list_empty(&ch->senders) &&
                    rt_list_empty(&ch->receivers));
    rt_spin_unlock(&ch->lock, locked);
}

size_t rt_chan_len(const struct rt_chan *ch)
{
    if (!ch)
        return 0;
    /* The lock is the one field a reader writes, and not the channel's
     * state (C++ would call it mutable): const is cast off it alone. */
    struct rt_spin *l = (struct rt_spin *)(uintptr_t)&ch->lock;
    bool locked = rt_spin_lock(l);
    size_t n = ch->count;
    rt_spin_unlock(l, locked);
    return n;
}

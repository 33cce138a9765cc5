/* Select: wait for the first of several operations, written once as a poll
 * function that both backends drive (Go's select, tokio's select!,
 * libdill's choose).
 *
 * A select is an array of cases, each one leaf operation: a channel
 * receive or send, a read or a write on a registered fd, a deadline, a
 * notification. rt_select_poll polls the cases; the first that completes
 * wins, and every other case is cancelled before the poll returns RT_READY
 * with the winner's index. Exactly one case completes: a receive that lost
 * took no message, a send that lost sent nothing, a read or write that
 * lost made no transfer, a notification that lost is left as the permit
 * it was (rt_notify_cancel).
 *
 * Choice: when several cases are ready at one poll, each is chosen with
 * the same probability (the cases are polled in a fresh random order at
 * every poll, Go's rule, so no ready case starves); with RT_SELECT_BIASED
 * they are polled in index order and the first ready one wins (tokio's
 * `biased;`).
 *
 * The choice word. Of all the cases, only a waiting send can be completed
 * by another task (a receiver copies a waiting sender's message out; every
 * other wait is only woken and completes in its owner's poll). So the
 * select keeps one word, `claim`, that says who may complete it:
 *   0                  open: a receiver may take a send case's message,
 *                      after winning the word by a compare-and-swap to
 *                      RT__SELECT_TAKEN;
 *   RT__SELECT_BUSY    its owner is polling its cases, and a case it polls
 *                      may complete: a receiver skips (and wakes) its
 *                      senders; the owner stores 0 again when nothing
 *                      completed, then parks;
 *   RT__SELECT_TAKEN   a receiver took a send case: that case won, and the
 *                      owner's next poll finds it and cancels the others;
 *   RT__SELECT_CHOSEN  the owner's own poll completed a case, or the
 *                      select was cancelled.
 * A receiver reads and swaps the word under the channel's lock; only the
 * owner moves it out of BUSY, and only from 0 does anyone move it to BUSY
 * or TAKEN, so one case completes whatever the workers do. A receiver
 * never takes a send case of its own select (a select with a send and a
 * receive on one channel does not meet itself).
 *
 * Memory: the cases and the struct rt_select are the caller's (in a
 * frame, or on a green thread's stack) and must not move or be reused
 * while the select is pending; the buffers and messages the cases name
 * stay valid until it returns or is cancelled. Nothing here allocates.
 * One task polls a select at a time (its owner), on any worker.
 */
#ifndef RT_COMMON_RT_SELECT_H
#define RT_COMMON_RT_SELECT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "chan.h"
#include "rt_poll.h"
#include "reactor.h"
#include "sync.h"
#include "timer.h"
#include "waitq.h"
#include "waker.h"

/* The kinds of case. */
enum rt_sel_kind {
    RT_SEL_NONE = 0, /* an unset case: rt_select_init refuses it */
    RT_SEL_RECV,     /* receive from a channel into buf; res 1 or 0 */
    RT_SEL_SEND,     /* send the message at buf; res 0 or -EPIPE */
    RT_SEL_READ,     /* the fd is readable: read up to len bytes into buf */
    RT_SEL_WRITE,    /* the fd is writable: write up to len bytes of buf */
    RT_SEL_DEADLINE, /* rt_now_ns() reached the deadline; res 0 */
    RT_SEL_NOTIFY,   /* rt_notify_one on the notify; res 0 or -EBUSY */
};

/* Flags of rt_select_init. */
enum {
    RT_SELECT_BIASED = 1u << 0, /* poll in index order, not at random */
};

/* The most cases one select takes. */
#define RT_SELECT_MAX 64u

/* Values of rt_select.claim (see the file comment). */
#define RT__SELECT_BUSY   1u
#define RT__SELECT_TAKEN  2u
#define RT__SELECT_CHOSEN 3u

/* One case. Fill it with rt_sel_recv, rt_sel_send, ... (which set the
 * public fields); the rest is the select's. */
struct rt_sel_case {
    unsigned kind;     /* enum rt_sel_kind */
    int fd;            /* READ, WRITE: a registered fd */
    void *obj;         /* RECV, SEND: the channel; NOTIFY: the notify */
    void *buf;         /* RECV: out; SEND: the message; READ, WRITE */
    size_t len;        /* READ, WRITE: the buffer's length */
    uint64_t deadline; /* DEADLINE: rt_now_ns scale */
    /* The case's own result, set when it won: RECV 1 (a message) or 0
     * (the channel is closed and empty); SEND 0 or -EPIPE; READ and WRITE
     * the bytes moved or -errno (0 at EOF); DEADLINE 0; NOTIFY 0 or
     * -EBUSY (another task waits on the notify). Other cases' res is
     * left as it was. */
    ssize_t res;
    /* private. The select it is a case of, set by rt_select_init (a
     * receiver that meets a queued send case reads it, under the
     * channel's lock, to find the choice word). */
    struct rt_select *sel;
    /* private: the pending operation, the channel's or the reactor's
     * while it is queued or armed (their locks), else its owner's */
    union {
        struct rt_chan_op chan;
        struct rt_waiter w;
        struct rt_timer t;
    } u;
};

/* A select in progress: the cases, the choice word and what the owner
 * needs to withdraw them. Written by its owner alone, except `claim` (see
 * the file comment). */
struct rt_select {
    /* private */
    struct rt_sel_case *cases;
    unsigned n;
    unsigned flags;
    atomic_uint claim;
    int won; /* the winner's index once chosen, -1 before, -2 cancelled */
    /* The waker of the owner's last poll, kept without a reference (the
     * owner is alive while it polls or cancels): what an fd case's wait
     * is withdrawn by (rt_reactor_io_cancel compares, never wakes). */
    struct rt_waker waker;
};

/* Case makers: each sets every public field of *c (res to 0). The
 * pointers must stay valid while the select runs. */
void rt_sel_recv(struct rt_sel_case *c, struct rt_chan *ch, void *out);
void rt_sel_send(struct rt_sel_case *c, struct rt_chan *ch, const void *msg);
void rt_sel_read(struct rt_sel_case *c, int fd, void *buf, size_t len);
void rt_sel_write(struct rt_sel_case *c, int fd, const void *buf, size_t len);
void rt_sel_deadline(struct rt_sel_case *c, uint64_t deadline);
void rt_sel_notify(struct rt_sel_case *c, struct rt_notify *n);

/* Prepares `s` to choose among cases[0..n) with `flags` (RT_SELECT_*),
 * making every case's operation idle. Returns 0, or -EINVAL (s or cases
 * NULL, n 0 or above RT_SELECT_MAX, a case of unknown kind or with a NULL
 * channel, notify or buffer, unknown flags). Nothing is queued or armed
 * until the first poll; a select that was never polled needs no cancel. */
int rt_select_init(struct rt_select *s, struct rt_sel_case *cases, size_t n,
                   unsigned flags);

/* Polls the cases (in random order, or index order when biased) on
 * reactor r with cx's waker. RT_READY with *res = the index of the case
 * that completed (its result in that case's res), every other case
 * cancelled; or *res = -EINVAL for NULL arguments, -ECANCELED after
 * rt_select_cancel. RT_PENDING while none can complete: each case is
 * queued or armed with cx's waker. A poll after RT_READY returns the same
 * index again. Never runs user code. */
enum rt_poll rt_select_poll(struct rt_select *s, struct rt_reactor *r,
                            struct rt_cx *cx, int *res);

/* Gives a pending select up: every case is withdrawn (an fd case's waker
 * by the waker of the last poll) and later polls say -ECANCELED. Returns
 * -1; or the index of a send case that a receiver had already completed
 * (its message was taken: no cancel can undo that, so that case is the
 * select's winner as if the poll had seen it, and later polls return it);
 * or, on a select that had chosen already, its winner. On a select that
 * was initialised but never polled it withdraws nothing that was queued.
 * Owner only. Never runs user code. */
int rt_select_cancel(struct rt_select *s, struct rt_reactor *r);

#endif

/* Bounded MPMC channel as poll functions, shared by both backends.
 *
 * A channel carries fixed-size messages (elem bytes each) through a ring of
 * `cap` slots allocated once at init: sending and receiving never allocate.
 * cap == 0 makes a rendezvous channel: a send completes only when a receiver
 * has taken the message.
 *
 * Waiting: each pending operation has a struct rt_chan_op, owned by the
 * caller (in a future's frame or on a green thread's stack), that links it
 * into the channel's queue of senders or of receivers. A waiting sender's
 * message stays in the caller's memory until a receiver copies it out, so
 * the message pointer must stay valid while the op is pending. Queues are
 * FIFO.
 *
 * Select: a waiting sender whose op's msg is NULL is a send case of a
 * select (include/greenfut/rt_select.h); a receiver takes its message
 * (from the case) only after winning that select's choice word, so that
 * one case of a select completes, whatever the workers do.
 *
 * Cancellation: an op that will not be polled again (a dropped future, a
 * select loser) must be given to rt_chan_op_cancel, which unlinks it and, if
 * it had been woken to receive, passes that wake on to the next receiver so
 * that no message is stranded.
 *
 * Close: after rt_chan_close, sends fail with -EPIPE (including senders that
 * were waiting: their messages were not sent, and they are told so);
 * receivers first drain what is buffered, then get "closed".
 *
 * Threads: the workers of a multi-worker scheduler may use one channel at
 * once. Every function below takes the channel's lock (a struct rt_spin,
 * mt.h: nothing is locked while no multi-worker scheduler runs) for the
 * whole operation, the poll that reads an op's state included, and wakes
 * the waiter it completes only after releasing it, except close, which
 * wakes every waiter under the lock (waitq.h states the protocol). One op
 * is polled or cancelled by one task at a time (its owner).
 */
#ifndef RT_COMMON_CHAN_H
#define RT_COMMON_CHAN_H

#include <stdbool.h>
#include <stddef.h>

#include "list.h"
#include "mt.h"
#include "rt_poll.h"
#include "reactor.h"
#include "timer.h"
#include "waitq.h"

struct rt_chan {
    /* private. ring, elem and cap are fixed by init; every other field, the
     * ring's bytes and the ops linked on the two queues are `lock`'s. */
    struct rt_spin lock;
    unsigned char *ring; /* cap * elem bytes, NULL when cap == 0 */
    size_t elem;
    size_t cap;
    size_t head;              /* index of the oldest message */
    size_t count;             /* messages in the ring */
    struct rt_list senders;   /* rt_chan_op waiting to send */
    struct rt_list receivers; /* rt_chan_op waiting to receive */
    bool closed;
};

struct rt_chan_op {
    /* private: written by the channel functions, under the channel's lock
     * while the op is queued or completed */
    struct rt_waiter w; /* on senders or receivers while queued */
    const void *msg;    /* a waiting sender's message */
};

/* Prepares `ch` for messages of `elem` bytes with room for `cap` of them.
 * Returns 0, -EINVAL (ch NULL, elem 0, or cap * elem overflowing) or
 * -ENOMEM. The caller owns `ch` and ends it with rt_chan_fini. */
int rt_chan_init(struct rt_chan *ch, size_t elem, size_t cap);

/* Frees the ring. Every op must have completed or been cancelled, and no
 * other thread may still use the channel. */
void rt_chan_fini(struct rt_chan *ch);

/* Makes `op` idle; call before its first use in a send or receive. */
void rt_chan_op_init(struct rt_chan_op *op);

/* Sends the `elem` bytes at `msg`. RT_READY with *res = 0 once the message
 * is in the ring or in a receiver's hands; *res = -EPIPE when the channel is
 * closed (the message was not sent); -EINVAL for NULL arguments. RT_PENDING
 * while the ring is full (or, for cap 0, until a receiver takes it): `msg`
 * must stay valid and unchanged until the op completes or is cancelled. */
enum rt_poll rt_chan_poll_send(struct rt_chan *ch, struct rt_chan_op *op,
                               const void *msg, struct rt_cx *cx, int *res);

/* Receives one message into `out` (elem bytes). RT_READY with *res = 1 when
 * a message was copied, *res = 0 when the channel is closed and empty,
 * -EINVAL for NULL arguments. RT_PENDING while empty and open. */
enum rt_poll rt_chan_poll_recv(struct rt_chan *ch, struct rt_chan_op *op,
                               void *out, struct rt_cx *cx, int *res);

/* A receive racing a deadline, the loser cancelled (a select of two): as
 * rt_chan_poll_recv while a message can come, with `t` (caller-owned,
 * initialised with rt_timer_init) armed on reactor `r` for `deadline` with
 * the same waker, so whichever comes first wakes the caller. When the
 * deadline wins: RT_READY with *res = -ETIMEDOUT, and the receive is
 * withdrawn as by rt_chan_op_cancel, so no message is taken and a wake it
 * had been handed goes on to the next receiver. When a message wins, the
 * timer is cancelled. Either way `t` is idle when the result is RT_READY. A
 * caller that gives up early cancels both (rt_chan_op_cancel,
 * rt_reactor_timer_cancel). *res = -EINVAL for NULL r or t. */
enum rt_poll rt_chan_poll_recv_until(struct rt_chan *ch, struct rt_chan_op *op,
                                     void *out, struct rt_reactor *r,
                                     struct rt_timer *t, uint64_t deadline,
                                     struct rt_cx *cx, int *res);

/* The sends and receives of a select's cases (include/greenfut/
 * rt_select.h; for common/select.c only): as rt_chan_poll_send and
 * rt_chan_poll_recv, but a queued send keeps its message in its case (its
 * op's msg is NULL, which marks it a select's), and a receive never takes
 * the message of a send of its own select, whose word is `own`. They take
 * no unit of the cooperative budget (the select takes one for all). */
enum rt_poll rt__chan_poll_send_sel(struct rt_chan *ch, struct rt_chan_op *op,
                                    const void *msg, struct rt_cx *cx,
                                    int *res);
enum rt_poll rt__chan_poll_recv_sel(struct rt_chan *ch, struct rt_chan_op *op,
                                    void *out, const atomic_uint *own,
                                    struct rt_cx *cx, int *res);

/* Gives up a pending op (a no-op for an idle one). Returns true when the
 * operation had in fact completed: a send whose message a receiver already
 * took. */
bool rt_chan_op_cancel(struct rt_chan *ch, struct rt_chan_op *op);

/* Closes the channel and wakes every waiting sender and receiver. Closing
 * twice is a no-op. */
void rt_chan_close(struct rt_chan *ch);

/* Messages in the ring now (not counting waiting senders). */
size_t rt_chan_len(const struct rt_chan *ch);

#endif

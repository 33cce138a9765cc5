/* RT_AWAIT_SELECT on either backend: each kind of case winning (ready at
 * once, or after the select parked), with the losers withdrawn; a send and
 * a receive on one channel in one select; the random choice between two
 * ready cases (each wins a fair share, a loose bound) and the biased one;
 * every case of a parked select ended by a close; and a 1e5-message stress
 * of producers and consumers selecting over several channels, every message
 * received exactly once. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/rt.h>

#define FAR (rt_now_ns() + 3600ull * 1000000000ull) /* an hour: never */

/* ---- helpers run as tasks ---------------------------------------------- */

/* Sends one int on ch. */
struct sender {
    RT_FRAME;
    struct rt_chan *ch;
    int msg;
    int rc;
};

static enum rt_poll sender(void *self)
{
    struct sender *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SEND(f, f->rc, f->ch, &f->msg);
    RT_RETURN(f, f->rc);
    RT_END(f);
}

/* Receives one int from ch; returns it (or -1 when closed). */
struct receiver {
    RT_FRAME;
    struct rt_chan *ch;
    int msg;
    int rc;
};

static enum rt_poll receiver(void *self)
{
    struct receiver *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, f->ch, &f->msg);
    RT_RETURN(f, f->rc == 1 ? f->msg : -1);
    RT_END(f);
}

/* Notifies n. */
struct notifier {
    RT_FRAME;
    struct rt_notify *n;
};

static enum rt_poll notifier(void *self)
{
    struct notifier *f = self;
    RT_BEGIN(f);
    rt_notify_one(f->n);
    RT_END(f);
}

/* Writes two bytes to fd. */
struct writer {
    RT_FRAME;
    int fd;
    ssize_t rc;
};

static enum rt_poll writer(void *self)
{
    struct writer *f = self;
    RT_BEGIN(f);
    RT_AWAIT_WRITE(f, f->rc, f->fd, "ok", 2);
    RT_RETURN(f, f->rc);
    RT_END(f);
}

/* Closes up to three channels. */
struct closer {
    RT_FRAME;
    struct rt_chan *ch[3];
};

static enum rt_poll closer(void *self)
{
    struct closer *f = self;
    RT_BEGIN(f);
    for (int i = 0; i < 3; i++)
        rt_chan_close(f->ch[i]);
    RT_END(f);
}

/* ---- each case winning -------------------------------------------------- */

struct kinds {
    RT_FRAME;
    struct rt_chan full, empty, spare;
    struct rt_notify note;
    int sv[2];
    struct rt_sel_case c[4];
    int in, out, res, rc;
    char buf[8];
    struct rt_join j;
    intptr_t got;
};

/* The losers of every round left nothing behind: `empty` has no receiver
 * queued (a message sent now stays in its ring), `full` still holds its one
 * message and no sender waits, `note` has no waiter (a notify leaves a
 * permit that a fresh wait takes). */
#define CHECK_CLEAN(f)                         \
    do {                                       \
        CHECK_EQ(rt_chan_len(&(f)->full), 1);  \
        CHECK_EQ(rt_chan_len(&(f)->empty), 0); \
    } while (0)

static enum rt_poll kinds(void *self)
{
    struct kinds *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->full, sizeof(int), 1));
    CHECK_OK(rt_chan_init(&f->empty, sizeof(int), 4));
    CHECK_OK(rt_chan_init(&f->spare, sizeof(int), 1));
    rt_notify_init(&f->note);
    f->out = 7;
    RT_AWAIT_SEND(f, f->rc, &f->full, &f->out);
    CHECK_EQ(f->rc, 0);

    /* recv, ready at once: `full` gives its message, the others stay. */
    f->out = 8;
    RT_AWAIT_SEND(f, f->rc, &f->spare, &f->out);
    rt_sel_recv(&f->c[0], &f->empty, &f->in);
    rt_sel_recv(&f->c[1], &f->spare, &f->in);
    rt_sel_deadline(&f->c[2], FAR);
    rt_sel_notify(&f->c[3], &f->note);
    RT_AWAIT_SELECT(f, f->res, f->c, 4);
    CHECK_EQ(f->res, 1);
    CHECK_EQ(f->c[1].res, 1);
    CHECK_EQ(f->in, 8);
    CHECK_CLEAN(f);

    /* recv after parking: a task sends on `empty` later. */
    {
        struct sender s = {.ch = &f->empty, .msg = 9};
        CHECK_OK(rt_spawn(sender, &s, sizeof s, &f->j));
    }
    rt_sel_recv(&f->c[0], &f->empty, &f->in);
    rt_sel_send(&f->c[1], &f->full, &f->out); /* full: cannot go */
    rt_sel_deadline(&f->c[2], FAR);
    rt_sel_notify(&f->c[3], &f->note);
    RT_AWAIT_SELECT(f, f->res, f->c, 4);
    CHECK_EQ(f->res, 0);
    CHECK_EQ(f->c[0].res, 1);
    CHECK_EQ(f->in, 9);
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->j.ret, 0);
    CHECK_CLEAN(f);

    /* send, ready at once into `spare`'s free slot. */
    f->out = 10;
    rt_sel_send(&f->c[0], &f->full, &f->out);
    rt_sel_send(&f->c[1], &f->spare, &f->out);
    rt_sel_recv(&f->c[2], &f->empty, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 3);
    CHECK_EQ(f->res, 1);
    CHECK_EQ(f->c[1].res, 0);
    CHECK_EQ(rt_chan_len(&f->spare), 1);
    CHECK_CLEAN(f);

    /* send after parking: a receiver takes from `full`, whose slot then
     * takes the select's message (the send completes into the ring). */
    {
        struct receiver r = {.ch = &f->full};
        CHECK_OK(rt_spawn(receiver, &r, sizeof r, &f->j));
    }
    f->out = 11;
    rt_sel_send(&f->c[0], &f->full, &f->out);
    rt_sel_recv(&f->c[1], &f->empty, &f->in);
    rt_sel_notify(&f->c[2], &f->note);
    RT_AWAIT_SELECT(f, f->res, f->c, 3);
    CHECK_EQ(f->res, 0);
    CHECK_EQ(f->c[0].res, 0);
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->j.ret, 7); /* the message that was there first */
    CHECK_EQ(rt_chan_len(&f->full), 1);
    RT_AWAIT_RECV(f, f->rc, &f->full, &f->in);
    CHECK_EQ(f->in, 11);
    f->out = 7;
    RT_AWAIT_SEND(f, f->rc, &f->full, &f->out);
    CHECK_CLEAN(f);

    /* read and write on a socket pair. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv));
    CHECK_OK(rt_register(f->sv[0]));
    CHECK_OK(rt_register(f->sv[1]));
    rt_sel_read(&f->c[0], f->sv[0], f->buf, sizeof f->buf);
    rt_sel_recv(&f->c[1], &f->empty, &f->in);
    rt_sel_write(&f->c[2], f->sv[1], "hi", 2);
    RT_AWAIT_SELECT(f, f->res, f->c, 3);
    CHECK_EQ(f->res, 2); /* nothing to read yet: only the write can go */
    CHECK_EQ(f->c[2].res, 2);
    rt_sel_read(&f->c[0], f->sv[0], f->buf, sizeof f->buf);
    rt_sel_recv(&f->c[1], &f->empty, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    CHECK_EQ(f->c[0].res, 2);
    CHECK(f->buf[0] == 'h' && f->buf[1] == 'i');
    /* A read not chosen leaves the bytes for the next read. */
    CHECK_EQ(write(f->sv[1], "yo", 2), 2);
    f->out = 12;
    rt_sel_send(&f->c[0], &f->empty, &f->out);
    rt_sel_read(&f->c[1], f->sv[0], f->buf, sizeof f->buf);
    RT_AWAIT_SELECT_BIASED(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    RT_AWAIT_RECV(f, f->rc, &f->empty, &f->in);
    CHECK_EQ(f->in, 12);
    RT_AWAIT_READ(f, f->rc, f->sv[0], f->buf, sizeof f->buf);
    CHECK_EQ(f->rc, 2);
    CHECK(f->buf[0] == 'y' && f->buf[1] == 'o');
    /* Nobody writes: the deadline wins, the read's wait is withdrawn. */
    rt_sel_read(&f->c[0], f->sv[0], f->buf, sizeof f->buf);
    rt_sel_deadline(&f->c[1], rt_now_ns() + 1000000); /* 1 ms */
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 1);
    CHECK_EQ(f->c[1].res, 0);
    /* A read after parking: a task writes later. */
    {
        struct writer w = {.fd = f->sv[1]};
        CHECK_OK(rt_spawn(writer, &w, sizeof w, &f->j));
    }
    rt_sel_read(&f->c[0], f->sv[0], f->buf, sizeof f->buf);
    rt_sel_recv(&f->c[1], &f->empty, &f->in);
    rt_sel_deadline(&f->c[2], FAR);
    RT_AWAIT_SELECT(f, f->res, f->c, 3);
    CHECK_EQ(f->res, 0);
    CHECK_EQ(f->c[0].res, 2);
    CHECK(f->buf[0] == 'o' && f->buf[1] == 'k');
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->j.ret, 2);
    CHECK_OK(rt_close(f->sv[0]));
    CHECK_OK(rt_close(f->sv[1]));

    /* deadline, already passed, biased behind a ready recv: the recv. */
    f->out = 13;
    RT_AWAIT_SEND(f, f->rc, &f->empty, &f->out);
    rt_sel_recv(&f->c[0], &f->empty, &f->in);
    rt_sel_deadline(&f->c[1], 0);
    RT_AWAIT_SELECT_BIASED(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    CHECK_EQ(f->in, 13);
    rt_sel_deadline(&f->c[0], 0);
    rt_sel_recv(&f->c[1], &f->empty, &f->in);
    RT_AWAIT_SELECT_BIASED(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    CHECK_CLEAN(f);

    /* notify, after parking: a task notifies. */
    {
        struct notifier n = {.n = &f->note};
        CHECK_OK(rt_spawn(notifier, &n, sizeof n, NULL));
    }
    rt_sel_recv(&f->c[0], &f->empty, &f->in);
    rt_sel_notify(&f->c[1], &f->note);
    rt_sel_deadline(&f->c[2], FAR);
    RT_AWAIT_SELECT(f, f->res, f->c, 3);
    CHECK_EQ(f->res, 1);
    CHECK_EQ(f->c[1].res, 0);
    CHECK_CLEAN(f);
    /* A notify that loses stays a permit: the next wait takes it. */
    rt_notify_one(&f->note);
    f->out = 14;
    RT_AWAIT_SEND(f, f->rc, &f->empty, &f->out);
    rt_sel_recv(&f->c[0], &f->empty, &f->in);
    rt_sel_notify(&f->c[1], &f->note);
    RT_AWAIT_SELECT_BIASED(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    RT_AWAIT_NOTIFIED(f, f->rc, &f->note);
    CHECK_EQ(f->rc, 0);

    /* A bad case array. */
    f->c[0].kind = RT_SEL_NONE;
    RT_AWAIT_SELECT(f, f->res, f->c, 1);
    CHECK_EQ(f->res, -EINVAL);
    rt_sel_recv(&f->c[0], &f->empty, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 0);
    CHECK_EQ(f->res, -EINVAL);

    rt_chan_fini(&f->full);
    rt_chan_fini(&f->empty);
    rt_chan_fini(&f->spare);
    RT_RETURN(f, 1);
    RT_END(f);
}

/* ---- a send and a receive on one channel -------------------------------- */

/* Selects {send msg on ch, receive from ch}; returns 100 + the received
 * message when the receive won, or the index 0 when the send did. */
struct both {
    RT_FRAME;
    struct rt_chan *ch;
    struct rt_sel_case c[2];
    int msg, in, res;
};

static enum rt_poll both(void *self)
{
    struct both *f = self;
    RT_BEGIN(f);
    rt_sel_send(&f->c[0], f->ch, &f->msg);
    rt_sel_recv(&f->c[1], f->ch, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK(f->res == 0 || f->res == 1);
    RT_RETURN(f, f->res == 1 ? 100 + f->in : 0);
    RT_END(f);
}

struct same {
    RT_FRAME;
    struct rt_chan rv, one;
    struct rt_join a, b;
    struct rt_sel_case c[2];
    int msg, in, res, rc, round;
};

static enum rt_poll same(void *self)
{
    struct same *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->rv, sizeof(int), 0));
    CHECK_OK(rt_chan_init(&f->one, sizeof(int), 1));
    /* Buffered, empty: the send goes in at once. */
    f->msg = 1;
    rt_sel_send(&f->c[0], &f->one, &f->msg);
    rt_sel_recv(&f->c[1], &f->one, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    /* Full: the receive takes it, the send cannot go. */
    f->msg = 2;
    rt_sel_send(&f->c[0], &f->one, &f->msg);
    rt_sel_recv(&f->c[1], &f->one, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 1);
    CHECK_EQ(f->in, 1);
    CHECK_EQ(rt_chan_len(&f->one), 0);
    /* Rendezvous, another task receives: the select never meets its own
     * send, so its send is what the receiver gets. */
    {
        struct receiver r = {.ch = &f->rv};
        CHECK_OK(rt_spawn(receiver, &r, sizeof r, &f->a));
    }
    f->msg = 3;
    rt_sel_send(&f->c[0], &f->rv, &f->msg);
    rt_sel_recv(&f->c[1], &f->rv, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    RT_AWAIT_JOIN(f, f->rc, &f->a);
    CHECK_EQ(f->a.ret, 3);
    /* Rendezvous, another task sends: the receive wins. */
    {
        struct sender s = {.ch = &f->rv, .msg = 4};
        CHECK_OK(rt_spawn(sender, &s, sizeof s, &f->a));
    }
    f->msg = 5;
    rt_sel_send(&f->c[0], &f->rv, &f->msg);
    rt_sel_recv(&f->c[1], &f->rv, &f->in);
    RT_AWAIT_SELECT(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 1);
    CHECK_EQ(f->in, 4);
    RT_AWAIT_JOIN(f, f->rc, &f->a);
    CHECK_EQ(f->a.ret, 0);
    /* Two such selects on one rendezvous channel pair up: one's send is
     * the other's receive, the message crosses exactly once. */
    for (f->round = 0; f->round < 200; f->round++) {
        {
            struct both x = {.ch = &f->rv, .msg = 2 * f->round};
            struct both y = {.ch = &f->rv, .msg = 2 * f->round + 1};
            CHECK_OK(rt_spawn(both, &x, sizeof x, &f->a));
            CHECK_OK(rt_spawn(both, &y, sizeof y, &f->b));
        }
        RT_AWAIT_JOIN(f, f->rc, &f->a);
        CHECK_EQ(f->rc, 0);
        RT_AWAIT_JOIN(f, f->rc, &f->b);
        CHECK_EQ(f->rc, 0);
        /* x got y's message and y's send won, or the other way round. */
        CHECK((f->a.ret == 0 && f->b.ret == 100 + 2 * f->round) ||
              (f->b.ret == 0 && f->a.ret == 100 + 2 * f->round + 1));
    }
    rt_chan_fini(&f->rv);
    rt_chan_fini(&f->one);
    RT_RETURN(f, 1);
    RT_END(f);
}

/* ---- the choice among ready cases --------------------------------------- */

#define FAIR_ROUNDS 4000

struct fair {
    RT_FRAME;
    struct rt_chan a, b;
    struct rt_sel_case c[2];
    int msg, in, res, rc, i;
    int wins[2];
};

static enum rt_poll fair(void *self)
{
    struct fair *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->a, sizeof(int), 1));
    CHECK_OK(rt_chan_init(&f->b, sizeof(int), 1));
    f->msg = 0;
    RT_AWAIT_SEND(f, f->rc, &f->a, &f->msg);
    RT_AWAIT_SEND(f, f->rc, &f->b, &f->msg);
    for (f->i = 0; f->i < FAIR_ROUNDS; f->i++) {
        rt_sel_recv(&f->c[0], &f->a, &f->in);
        rt_sel_recv(&f->c[1], &f->b, &f->in);
        RT_AWAIT_SELECT(f, f->res, f->c, 2);
        CHECK(f->res == 0 || f->res == 1);
        f->wins[f->res]++;
        /* Both ready again: refill the one that gave its message. */
        CHECK_EQ(rt_chan_len(f->res ? &f->a : &f->b), 1);
        RT_AWAIT_SEND(f, f->rc, f->res ? &f->b : &f->a, &f->msg);
    }
    /* Each should win about half; a quarter is far outside chance (the
     * binomial's standard deviation here is under 1%). */
    CHECK_GT(f->wins[0], FAIR_ROUNDS / 4);
    CHECK_GT(f->wins[1], FAIR_ROUNDS / 4);
    /* Biased: the first ready case, every time. */
    for (f->i = 0; f->i < 100; f->i++) {
        rt_sel_recv(&f->c[0], &f->a, &f->in);
        rt_sel_recv(&f->c[1], &f->b, &f->in);
        RT_AWAIT_SELECT_BIASED(f, f->res, f->c, 2);
        CHECK_EQ(f->res, 0);
        RT_AWAIT_SEND(f, f->rc, &f->a, &f->msg);
    }
    rt_chan_fini(&f->a);
    rt_chan_fini(&f->b);
    RT_RETURN(f, 1);
    RT_END(f);
}

/* ---- every case ended by a close ---------------------------------------- */

struct closing {
    RT_FRAME;
    struct rt_chan a, b, full;
    struct rt_sel_case c[3];
    int in, msg, res, rc;
    struct rt_join j;
};

static enum rt_poll closing(void *self)
{
    struct closing *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->a, sizeof(int), 0));
    CHECK_OK(rt_chan_init(&f->b, sizeof(int), 2));
    CHECK_OK(rt_chan_init(&f->full, sizeof(int), 1));
    f->msg = 21;
    RT_AWAIT_SEND(f, f->rc, &f->full, &f->msg);
    {
        struct closer c = {.ch = {&f->a, &f->b, &f->full}};
        CHECK_OK(rt_spawn(closer, &c, sizeof c, &f->j));
    }
    f->msg = 22;
    rt_sel_recv(&f->c[0], &f->a, &f->in);
    rt_sel_recv(&f->c[1], &f->b, &f->in);
    rt_sel_send(&f->c[2], &f->full, &f->msg);
    RT_AWAIT_SELECT(f, f->res, f->c, 3);
    CHECK(f->res >= 0 && f->res < 3);
    CHECK_EQ(f->c[f->res].res, f->res == 2 ? -EPIPE : 0);
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->rc, 0);
    /* Nothing went in or out: `full` still holds its message only. */
    CHECK_EQ(rt_chan_len(&f->full), 1);
    RT_AWAIT_RECV(f, f->rc, &f->full, &f->in);
    CHECK_EQ(f->rc, 1);
    CHECK_EQ(f->in, 21);
    RT_AWAIT_RECV(f, f->rc, &f->full, &f->in);
    CHECK_EQ(f->rc, 0);
    /* A select over closed channels completes at once, biased in order. */
    rt_sel_send(&f->c[0], &f->a, &f->msg);
    rt_sel_recv(&f->c[1], &f->b, &f->in);
    RT_AWAIT_SELECT_BIASED(f, f->res, f->c, 2);
    CHECK_EQ(f->res, 0);
    CHECK_EQ(f->c[0].res, -EPIPE);
    rt_chan_fini(&f->a);
    rt_chan_fini(&f->b);
    rt_chan_fini(&f->full);
    RT_RETURN(f, 1);
    RT_END(f);
}

/* ---- stress: producers and consumers over several channels ------------- */

#define NCHAN     4
#define NPROD     4
#define NCONS     4
#define TOTAL_MSG 100000
#define PER_PROD  (TOTAL_MSG / NPROD)

static atomic_uchar seen[TOTAL_MSG];
static atomic_int received;

/* Sends its messages, each through a select over every channel (one of
 * them wins; a send that lost sent nothing), or every eighth with a plain
 * send on one channel, so that select and plain ops meet. */
struct prod {
    RT_FRAME;
    struct rt_chan *ch;
    int base, i, msg, res, rc;
    struct rt_sel_case c[NCHAN];
};

static enum rt_poll prod(void *self)
{
    struct prod *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < PER_PROD; f->i++) {
        f->msg = f->base + f->i;
        if (f->i % 8 == 7) {
            RT_AWAIT_SEND(f, f->rc, &f->ch[f->i % NCHAN], &f->msg);
            CHECK_EQ(f->rc, 0);
            continue;
        }
        for (int k = 0; k < NCHAN; k++)
            rt_sel_send(&f->c[k], &f->ch[k], &f->msg);
        RT_AWAIT_SELECT(f, f->res, f->c, NCHAN);
        CHECK(f->res >= 0 && f->res < NCHAN);
        CHECK_EQ(f->c[f->res].res, 0);
    }
    RT_END(f);
}

/* Receives until every channel is closed and drained: a channel whose
 * case says "closed" leaves the case array. Consumer 0 receives with
 * plain receives on one channel at a time instead. */
struct cons {
    RT_FRAME;
    struct rt_chan *ch;
    int id, n, in, res, k, rc;
    int live[NCHAN];
    struct rt_sel_case c[NCHAN];
};

static void take(int m)
{
    CHECK(m >= 0 && m < TOTAL_MSG);
    CHECK_EQ(atomic_fetch_add(&seen[m], 1), 0); /* never twice */
    atomic_fetch_add(&received, 1);
}

static enum rt_poll cons(void *self)
{
    struct cons *f = self;
    RT_BEGIN(f);
    f->n = NCHAN;
    for (int k = 0; k < NCHAN; k++)
        f->live[k] = k;
    while (f->n > 0) {
        if (f->id == 0) {
            f->k = f->live[f->n - 1];
            RT_AWAIT_RECV(f, f->rc, &f->ch[f->k], &f->in);
            if (f->rc == 1)
                take(f->in);
            else
                f->n--;
            continue;
        }
        for (int k = 0; k < f->n; k++)
            rt_sel_recv(&f->c[k], &f->ch[f->live[k]], &f->in);
        RT_AWAIT_SELECT(f, f->res, f->c, (size_t)f->n);
        CHECK(f->res >= 0 && f->res < f->n);
        if (f->c[f->res].res == 1) {
            take(f->in);
        } else {
            CHECK_EQ(f->c[f->res].res, 0); /* closed and drained */
            f->live[f->res] = f->live[--f->n];
        }
    }
    RT_END(f);
}

struct stress {
    RT_FRAME;
    struct rt_chan ch[NCHAN];
    struct rt_join p[NPROD], c[NCONS];
    int i, rc;
};

static enum rt_poll stress(void *self)
{
    static const size_t caps[NCHAN] = {0, 1, 4, 16};
    struct stress *f = self;
    RT_BEGIN(f);
    for (int k = 0; k < NCHAN; k++)
        CHECK_OK(rt_chan_init(&f->ch[k], sizeof(int), caps[k]));
    for (int i = 0; i < NCONS; i++) {
        struct cons c = {.ch = f->ch, .id = i};
        CHECK_OK(rt_spawn(cons, &c, sizeof c, &f->c[i]));
    }
    for (int i = 0; i < NPROD; i++) {
        struct prod p = {.ch = f->ch, .base = i * PER_PROD};
        CHECK_OK(rt_spawn(prod, &p, sizeof p, &f->p[i]));
    }
    for (f->i = 0; f->i < NPROD; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->p[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    for (int k = 0; k < NCHAN; k++)
        rt_chan_close(&f->ch[k]);
    for (f->i = 0; f->i < NCONS; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->c[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    CHECK_EQ(atomic_load(&received), TOTAL_MSG);
    for (int m = 0; m < TOTAL_MSG; m++)
        CHECK_EQ(atomic_load(&seen[m]), 1);
    for (int k = 0; k < NCHAN; k++)
        rt_chan_fini(&f->ch[k]);
    RT_RETURN(f, 1);
    RT_END(f);
}

/* ---- main --------------------------------------------------------------- */

static void run(rt_task_fn fn, const void *frame, size_t size)
{
    intptr_t v = 0;
    CHECK_OK(rt_run(fn, frame, size, &v));
    CHECK_EQ(v, 1);
}

int main(void)
{
    struct kinds k = {0};
    run(kinds, &k, sizeof k);
    struct same s = {0};
    run(same, &s, sizeof s);
    struct fair fa = {0};
    run(fair, &fa, sizeof fa);
    struct closing c = {0};
    run(closing, &c, sizeof c);
    struct stress st = {0};
    run(stress, &st, sizeof st);
    return 0;
}

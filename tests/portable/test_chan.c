/* Channels on either backend: 8 producers x 8 consumers, every message
 * received exactly once, for a rendezvous, a small and a large channel;
 * then close semantics: receivers drain, then see "closed"; senders get
 * -EPIPE. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include <greenfut/rt.h>

#define PRODUCERS    8
#define CONSUMERS    8
#define PER_PRODUCER 2000
#define TOTAL        (PRODUCERS * PER_PRODUCER)

static unsigned char seen[TOTAL];

struct producer {
    RT_FRAME;
    struct rt_chan *ch;
    int base;
    int i;
    int msg;
    int rc;
};

static enum rt_poll producer(void *self)
{
    struct producer *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < PER_PRODUCER; f->i++) {
        f->msg = f->base + f->i;
        RT_AWAIT_SEND(f, f->rc, f->ch, &f->msg);
        CHECK_EQ(f->rc, 0);
    }
    RT_END(f);
}

struct consumer {
    RT_FRAME;
    struct rt_chan *ch;
    int msg;
    int rc;
    int got;
};

static enum rt_poll consumer(void *self)
{
    struct consumer *f = self;
    RT_BEGIN(f);
    for (;;) {
        RT_AWAIT_RECV(f, f->rc, f->ch, &f->msg);
        if (f->rc == 0)
            break; /* closed and drained */
        CHECK_EQ(f->rc, 1);
        CHECK(f->msg >= 0 && f->msg < TOTAL);
        CHECK_EQ(seen[f->msg], 0); /* never twice */
        seen[f->msg] = 1;
        f->got++;
    }
    RT_RETURN(f, f->got);
    RT_END(f);
}

struct mpmc {
    RT_FRAME;
    struct rt_chan ch;
    size_t cap;
    struct rt_join prod[PRODUCERS];
    struct rt_join cons[CONSUMERS];
    int i;
    int rc;
    intptr_t total;
};

static enum rt_poll mpmc(void *self)
{
    struct mpmc *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->ch, sizeof(int), f->cap));
    for (f->i = 0; f->i < CONSUMERS; f->i++) {
        struct consumer c = {.ch = &f->ch};
        CHECK_OK(rt_spawn(consumer, &c, sizeof c, &f->cons[f->i]));
    }
    for (f->i = 0; f->i < PRODUCERS; f->i++) {
        struct producer p = {.ch = &f->ch, .base = f->i * PER_PRODUCER};
        CHECK_OK(rt_spawn(producer, &p, sizeof p, &f->prod[f->i]));
    }
    for (f->i = 0; f->i < PRODUCERS; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->prod[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    rt_chan_close(&f->ch);
    for (f->i = 0; f->i < CONSUMERS; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->cons[f->i]);
        CHECK_EQ(f->rc, 0);
        f->total += f->cons[f->i].ret;
    }
    CHECK_EQ(f->total, TOTAL);
    rt_chan_fini(&f->ch);
    RT_END(f);
}

struct closing {
    RT_FRAME;
    struct rt_chan ch;
    int msg;
    int want; /* a loop counter across an await lives in the frame */
    int rc;
};

static enum rt_poll closing(void *self)
{
    struct closing *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->ch, sizeof(int), 4));
    for (f->msg = 0; f->msg < 3; f->msg++) {
        RT_AWAIT_SEND(f, f->rc, &f->ch, &f->msg);
        CHECK_EQ(f->rc, 0);
    }
    rt_chan_close(&f->ch);
    RT_AWAIT_SEND(f, f->rc, &f->ch, &f->msg);
    CHECK_EQ(f->rc, -EPIPE);
    for (f->want = 0; f->want < 3; f->want++) {
        RT_AWAIT_RECV(f, f->rc, &f->ch, &f->msg);
        CHECK_EQ(f->rc, 1);
        CHECK_EQ(f->msg, f->want);
    }
    RT_AWAIT_RECV(f, f->rc, &f->ch, &f->msg);
    CHECK_EQ(f->rc, 0);
    rt_chan_fini(&f->ch);
    RT_END(f);
}

/* A receive racing a deadline: the deadline wins on an empty channel and
 * the receive is withdrawn (a later message waits in the ring for the next
 * receiver); a message wins when it is there first, and the timer is
 * cancelled. Nothing stays armed. */
struct racing {
    RT_FRAME;
    struct rt_chan ch;
    struct rt_timer t;
    uint64_t deadline;
    int msg, got, rc;
};

static enum rt_poll racing(void *self)
{
    struct racing *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->ch, sizeof(int), 1));
    f->deadline = rt_now_ns() + 1000000;
    RT_AWAIT_RECV_UNTIL(f, f->rc, &f->ch, &f->got, &f->t, f->deadline);
    CHECK_EQ(f->rc, -ETIMEDOUT);
    CHECK(!rt_timer_armed(&f->t));
    f->msg = 7;
    RT_AWAIT_SEND(f, f->rc, &f->ch, &f->msg); /* into the ring */
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(rt_chan_len(&f->ch), 1);
    f->deadline = rt_now_ns() + 60000000000ull;
    RT_AWAIT_RECV_UNTIL(f, f->rc, &f->ch, &f->got, &f->t, f->deadline);
    CHECK_EQ(f->rc, 1);
    CHECK_EQ(f->got, 7);
    CHECK(!rt_timer_armed(&f->t));
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &st));
    CHECK_EQ(st.timers, 0);
    rt_chan_fini(&f->ch);
    RT_END(f);
}

int main(void)
{
    static const size_t caps[] = {0, 1, 1024};
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
        for (int i = 0; i < TOTAL; i++)
            seen[i] = 0;
        struct mpmc m = {.cap = caps[k]};
        CHECK_OK(rt_run(mpmc, &m, sizeof m, NULL));
        for (int i = 0; i < TOTAL; i++)
            CHECK_EQ(seen[i], 1); /* and every one at least once */
    }
    struct closing c = {0};
    CHECK_OK(rt_run(closing, &c, sizeof c, NULL));
    struct racing r = {0};
    CHECK_OK(rt_run(racing, &r, sizeof r, NULL));
    return 0;
}

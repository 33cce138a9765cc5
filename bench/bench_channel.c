/* channel: one producer sends M messages to one consumer through a bounded
 * channel of the given capacity. Metric ns_per_message = time from the
 * first send to the last receive / M. Params: capacity (0 = rendezvous).
 * With --coop-off each repetition runs again with the cooperative budget
 * off, for rows of its own (bench/coop_flag.h). Checks that every message
 * arrived in order. */
#include <stdio.h>

#include "harness.h"
#include "coop_flag.h"
#include <greenfut/rt.h>

#define MESSAGES 2000000L

struct consumer {
    RT_FRAME;
    struct rt_chan *ch;
    long i, msg;
    int rc;
};

static enum rt_poll consumer(void *self)
{
    struct consumer *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < MESSAGES; f->i++) {
        RT_AWAIT_RECV(f, f->rc, f->ch, &f->msg);
        if (f->rc != 1 || f->msg != f->i)
            bh_fail("channel: message lost or out of order");
    }
    RT_END(f);
}

struct producer {
    RT_FRAME;
    struct rt_chan ch;
    size_t cap;
    struct rt_join j;
    long i;
    int rc;
    uint64_t t0;
};

static enum rt_poll producer(void *self)
{
    struct producer *f = self;
    RT_BEGIN(f);
    if (rt_chan_init(&f->ch, sizeof(long), f->cap) < 0)
        bh_fail("channel: init");
    {
        struct consumer c = {.ch = &f->ch};
        if (rt_spawn(consumer, &c, sizeof c, &f->j) < 0)
            bh_fail("channel: spawn");
    }
    f->t0 = bh_now_ns();
    for (f->i = 0; f->i < MESSAGES; f->i++)
        RT_AWAIT_SEND(f, f->rc, &f->ch, &f->i);
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    f->t0 = bh_now_ns() - f->t0;
    rt_chan_fini(&f->ch);
    RT_RETURN(f, f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {0, 1, 1024, -1};
    struct bh_args a;
    int variants = bench_coop_flag(&argc, argv);
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        double s[BENCH_COOP_VARIANTS][BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            for (int v = 0; v < variants; v++) {
                struct producer f = {.cap = (size_t)a.params[p]};
                intptr_t ns = 0;
                bench_coop_use(v);
                if (rt_run(producer, &f, sizeof f, &ns) < 0)
                    bh_fail("channel: run failed");
                s[v][r] = (double)ns / (double)MESSAGES;
            }
        }
        bench_coop_use(0);
        for (int v = 0; v < variants; v++) {
            char metric[64];
            snprintf(metric, sizeof(metric), "ns_per_message%s",
                     bench_coop_suffix(v));
            bh_row("channel", rt_backend_name(), a.params[p], metric, "ns",
                   s[v], a.runs);
        }
    }
    return 0;
}

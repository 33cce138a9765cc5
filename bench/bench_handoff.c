/* handoff: two tasks pass control back and forth through two notifications
 * (rt_notify): ping notifies pong and waits to be notified back. Every
 * notification is one handoff: control moves from one task to the other.
 * (A rendezvous channel does the same with a message: workload `channel`,
 * capacity 0.) Metric ns_per_handoff = time of the exchange / handoffs.
 * Params: the number of handoffs (even). With --coop-off each repetition
 * runs again with the cooperative budget off, for rows of its own
 * (bench/coop_flag.h). Checks that the two strictly alternated and that
 * every round happened. */
#include <stdio.h>

#include "harness.h"
#include "coop_flag.h"
#include <greenfut/rt.h>

static long token; /* the round ping is in; pong answers with -token */

struct pong {
    RT_FRAME;
    struct rt_notify *in, *out;
    long n, i;
    int rc;
};

static enum rt_poll pong(void *self)
{
    struct pong *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_NOTIFIED(f, f->rc, f->in);
        if (f->rc != 0 || token != f->i)
            bh_fail("handoff: pong woke out of turn");
        token = -f->i - 1;
        rt_notify_one(f->out);
    }
    RT_RETURN(f, f->i);
    RT_END(f);
}

struct ping {
    RT_FRAME;
    struct rt_notify a, b;
    struct rt_join j;
    long n, i;
    int rc;
    uint64_t t0;
};

static enum rt_poll ping(void *self)
{
    struct ping *f = self;
    RT_BEGIN(f);
    rt_notify_init(&f->a);
    rt_notify_init(&f->b);
    {
        struct pong p = {.in = &f->a, .out = &f->b, .n = f->n};
        if (rt_spawn(pong, &p, sizeof p, &f->j) < 0)
            bh_fail("handoff: spawn");
    }
    f->t0 = bh_now_ns();
    for (f->i = 0; f->i < f->n; f->i++) {
        token = f->i;
        rt_notify_one(&f->a);
        RT_AWAIT_NOTIFIED(f, f->rc, &f->b);
        if (f->rc != 0 || token != -f->i - 1)
            bh_fail("handoff: ping woke out of turn");
    }
    f->t0 = bh_now_ns() - f->t0;
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    if (f->rc != 0 || f->j.ret != f->n)
        bh_fail("handoff: pong did not answer every round");
    RT_RETURN(f, f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {10000000, -1};
    struct bh_args a;
    int variants = bench_coop_flag(&argc, argv);
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        double s[BENCH_COOP_VARIANTS][BH_MAX_RUNS];
        long rounds = (long)(a.params[p] / 2);
        for (int r = 0; r < a.runs; r++) {
            for (int v = 0; v < variants; v++) {
                struct ping f = {.n = rounds};
                intptr_t ns = 0;
                bench_coop_use(v);
                if (rt_run(ping, &f, sizeof f, &ns) < 0)
                    bh_fail("handoff: run failed");
                s[v][r] = (double)ns / (double)(2 * rounds);
            }
        }
        bench_coop_use(0);
        for (int v = 0; v < variants; v++) {
            char metric[64];
            snprintf(metric, sizeof(metric), "ns_per_handoff%s",
                     bench_coop_suffix(v));
            bh_row("handoff", rt_backend_name(), 2 * rounds, metric, "ns", s[v],
                   a.runs);
        }
    }
    return 0;
}

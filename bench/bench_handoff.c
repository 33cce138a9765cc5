/* handoff: two tasks pass control back and forth through two rendezvous
 * channels (capacity 0): ping sends i and waits for it to come back. Every
 * message delivered is one handoff: control moves from one task to the
 * other. Metric ns_per_handoff = time of the exchange / handoffs.
 * Params: the number of handoffs (even). Checks that every message came
 * back in order. */
#include "harness.h"
#include "rt.h"

struct pong {
    RT_FRAME;
    struct rt_chan *in, *out;
    long n, i, msg;
    int rc;
};

static enum rt_poll pong(void *self)
{
    struct pong *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_RECV(f, f->rc, f->in, &f->msg);
        RT_AWAIT_SEND(f, f->rc, f->out, &f->msg);
    }
    RT_END(f);
}

struct ping {
    RT_FRAME;
    struct rt_chan a, b;
    struct rt_join j;
    long n, i, msg;
    int rc;
    uint64_t t0;
};

static enum rt_poll ping(void *self)
{
    struct ping *f = self;
    RT_BEGIN(f);
    if (rt_chan_init(&f->a, sizeof(long), 0) < 0 ||
        rt_chan_init(&f->b, sizeof(long), 0) < 0)
        bh_fail("handoff: channel init");
    {
        struct pong p = {.in = &f->a, .out = &f->b, .n = f->n};
        if (rt_spawn(pong, &p, sizeof p, &f->j) < 0)
            bh_fail("handoff: spawn");
    }
    f->t0 = bh_now_ns();
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_SEND(f, f->rc, &f->a, &f->i);
        RT_AWAIT_RECV(f, f->rc, &f->b, &f->msg);
        if (f->rc != 1 || f->msg != f->i)
            bh_fail("handoff: a message did not come back");
    }
    f->t0 = bh_now_ns() - f->t0;
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    rt_chan_fini(&f->a);
    rt_chan_fini(&f->b);
    RT_RETURN(f, f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {10000000, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        double s[BH_MAX_RUNS];
        long rounds = (long)(a.params[p] / 2);
        for (int r = 0; r < a.runs; r++) {
            struct ping f = {.n = rounds};
            intptr_t ns = 0;
            if (rt_run(ping, &f, sizeof f, &ns) < 0)
                bh_fail("handoff: run failed");
            s[r] = (double)ns / (double)(2 * rounds);
        }
        bh_row("handoff", rt_backend_name(), 2 * rounds, "ns_per_handoff", "ns",
               s, a.runs);
    }
    return 0;
}

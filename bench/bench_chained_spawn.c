/* chained_spawn (tokio's rt_multi_threaded chained_spawn): each task
 * spawns the next, S deep (default 1,000), and the last one notifies the
 * root. One sample is ROUNDS such chains, one after the other, inside one
 * run. Metric ns_per_hop = time / (S * ROUNDS). Checks that every chain
 * reached its end. Command line: bench/mc.h. */
#include <stdatomic.h>

#include <greenfut/rt.h>
#include "mc.h"

#define ROUNDS 100

struct shared {
    atomic_long hops; /* links that ran, over all rounds */
    struct rt_notify done;
};

struct hop {
    RT_FRAME;
    struct shared *sh;
    long left; /* links after this one */
};

static enum rt_poll hop(void *self)
{
    struct hop *f = self;
    RT_BEGIN(f);
    atomic_fetch_add_explicit(&f->sh->hops, 1, memory_order_relaxed);
    if (f->left == 0) {
        rt_notify_one(&f->sh->done);
    } else {
        struct hop next = {.sh = f->sh, .left = f->left - 1};
        if (rt_spawn(hop, &next, sizeof next, NULL) < 0)
            mc_fail("chained_spawn", "rt_spawn failed");
    }
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct shared *sh;
    long n;
    int round, rc;
    uint64_t t0;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->t0 = bh_now_ns();
    for (f->round = 0; f->round < ROUNDS; f->round++) {
        {
            struct hop first = {.sh = f->sh, .left = f->n - 1};
            if (rt_spawn(hop, &first, sizeof first, NULL) < 0)
                mc_fail("chained_spawn", "rt_spawn failed");
        }
        RT_AWAIT_NOTIFIED(f, f->rc, &f->sh->done);
        if (f->rc != 0 || atomic_load(&f->sh->hops) != f->n * (f->round + 1))
            mc_fail("chained_spawn", "woken before the chain's end");
    }
    RT_RETURN(f, bh_now_ns() - f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    struct mc_args a;
    mc_parse(argc, argv, 1000, &a);
    for (int w = 0; w < a.nworkers; w++) {
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct shared sh;
            atomic_init(&sh.hops, 0);
            rt_notify_init(&sh.done);
            struct root f = {.sh = &sh, .n = (long)a.size};
            intptr_t ns =
                mc_run("chained_spawn", a.workers[w], root, &f, sizeof f);
            if (atomic_load(&sh.hops) != (long)a.size * ROUNDS)
                mc_fail("chained_spawn", "a hop did not run");
            s[r] = (double)ns / ((double)a.size * ROUNDS);
        }
        mc_row("chained_spawn", a.workers[w], "ns_per_hop", "ns", s, a.runs);
    }
    return 0;
}

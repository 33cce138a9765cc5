/* ping_pong (tokio's rt_multi_threaded ping_pong): S pairs of tasks
 * (default 1,000), all at once; in each pair the pinger notifies the
 * ponger and waits for its notify back, then counts a shared counter down;
 * the last pinger notifies the root. Both tasks of a pair are spawned by
 * the root, so a pair's two ends may run on two workers. One sample is
 * ROUNDS such rounds inside one run. Metric ns_per_ping = time / (S *
 * ROUNDS): one round trip, its two spawns included. Checks that every
 * pong came back in every round: a pinger counts down only after its
 * pong, and the root is woken only when the count reaches zero. Command line:
 * bench/mc.h. */
#include <stdatomic.h>

#include <greenfut/rt.h>
#include "mc.h"

#define ROUNDS 20

struct pair {
    struct rt_notify ping, pong;
};

struct shared {
    atomic_long left; /* pingers of this round still waiting */
    long rounds;      /* rounds whose every pong came back (the root's) */
    struct rt_notify done;
    struct pair *pairs; /* S of them */
};

struct ponger {
    RT_FRAME;
    struct pair *p;
    int rc;
};

static enum rt_poll ponger(void *self)
{
    struct ponger *f = self;
    RT_BEGIN(f);
    RT_AWAIT_NOTIFIED(f, f->rc, &f->p->ping);
    if (f->rc != 0)
        mc_fail("ping_pong", "a ping wait failed");
    rt_notify_one(&f->p->pong);
    RT_END(f);
}

struct pinger {
    RT_FRAME;
    struct shared *sh;
    struct pair *p;
    int rc;
};

static enum rt_poll pinger(void *self)
{
    struct pinger *f = self;
    RT_BEGIN(f);
    rt_notify_one(&f->p->ping);
    RT_AWAIT_NOTIFIED(f, f->rc, &f->p->pong);
    if (f->rc != 0)
        mc_fail("ping_pong", "a pong wait failed");
    if (atomic_fetch_sub_explicit(&f->sh->left, 1, memory_order_acq_rel) == 1)
        rt_notify_one(&f->sh->done);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct shared *sh;
    long n, i;
    int round, rc;
    uint64_t t0;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->t0 = bh_now_ns();
    for (f->round = 0; f->round < ROUNDS; f->round++) {
        atomic_store(&f->sh->left, f->n);
        for (f->i = 0; f->i < f->n; f->i++) {
            struct pair *p = &f->sh->pairs[f->i];
            rt_notify_init(&p->ping);
            rt_notify_init(&p->pong);
            struct ponger b = {.p = p};
            struct pinger a = {.sh = f->sh, .p = p};
            if (rt_spawn(ponger, &b, sizeof b, NULL) < 0 ||
                rt_spawn(pinger, &a, sizeof a, NULL) < 0)
                mc_fail("ping_pong", "rt_spawn failed");
        }
        RT_AWAIT_NOTIFIED(f, f->rc, &f->sh->done);
        if (f->rc != 0 || atomic_load(&f->sh->left) != 0)
            mc_fail("ping_pong", "woken before every pair finished");
        f->sh->rounds++;
    }
    RT_RETURN(f, bh_now_ns() - f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    struct mc_args a;
    mc_parse(argc, argv, 1000, &a);
    struct pair *pairs = calloc((size_t)a.size, sizeof(*pairs));
    if (!pairs)
        mc_fail("ping_pong", "out of memory");
    for (int w = 0; w < a.nworkers; w++) {
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct shared sh = {.pairs = pairs};
            atomic_init(&sh.left, 0);
            sh.rounds = 0;
            rt_notify_init(&sh.done);
            struct root f = {.sh = &sh, .n = (long)a.size};
            intptr_t ns = mc_run("ping_pong", a.workers[w], root, &f, sizeof f);
            if (sh.rounds != ROUNDS)
                mc_fail("ping_pong", "a round did not finish");
            s[r] = (double)ns / ((double)a.size * ROUNDS);
        }
        mc_row("ping_pong", a.workers[w], "ns_per_ping", "ns", s, a.runs);
    }
    free(pairs);
    return 0;
}

/* spawn_many (tokio's rt_multi_threaded spawn_many_local): the root spawns
 * S empty detached tasks (default 10,000); each counts a shared counter
 * down and the last one notifies the root. One sample is ROUNDS such
 * rounds inside one run, timed from the root's first spawn to its last
 * wake-up. Metric ns_per_task = time / (S * ROUNDS). Checks that every
 * task ran in every round: the counter reaches zero after exactly S
 * count-downs, and only then is the root woken (one shared counter, as in
 * tokio's benchmark: no second one to bounce between the cores). Command line:
 * bench/mc.h. */
#include <stdatomic.h>

#include <greenfut/rt.h>
#include "mc.h"

#define ROUNDS 20

struct shared {
    atomic_long left; /* tasks of this round still to run */
    long rounds;      /* rounds whose every task ran (the root's) */
    struct rt_notify done;
};

struct empty {
    RT_FRAME;
    struct shared *sh;
};

static enum rt_poll empty(void *self)
{
    struct empty *f = self;
    RT_BEGIN(f);
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
            struct empty e = {.sh = f->sh};
            if (rt_spawn(empty, &e, sizeof e, NULL) < 0)
                mc_fail("spawn_many", "rt_spawn failed");
        }
        RT_AWAIT_NOTIFIED(f, f->rc, &f->sh->done);
        if (f->rc != 0 || atomic_load(&f->sh->left) != 0)
            mc_fail("spawn_many", "woken before every task ran");
        f->sh->rounds++;
    }
    RT_RETURN(f, bh_now_ns() - f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    struct mc_args a;
    mc_parse(argc, argv, 10000, &a);
    for (int w = 0; w < a.nworkers; w++) {
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct shared sh;
            atomic_init(&sh.left, 0);
            sh.rounds = 0;
            rt_notify_init(&sh.done);
            struct root f = {.sh = &sh, .n = (long)a.size};
            intptr_t ns =
                mc_run("spawn_many", a.workers[w], root, &f, sizeof f);
            if (sh.rounds != ROUNDS)
                mc_fail("spawn_many", "not every round ran");
            s[r] = (double)ns / ((double)a.size * ROUNDS);
        }
        mc_row("spawn_many", a.workers[w], "ns_per_task", "ns", s, a.runs);
    }
    return 0;
}

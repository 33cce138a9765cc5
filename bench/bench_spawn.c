/* spawn: spawn and join empty tasks, in batches of 32 (spawn 32, join 32),
 * so the stackful backend reuses pooled stacks as a steady program would.
 * Metric ns_per_spawn_join = time / tasks. Params: the number of tasks.
 * Checks every join's result. */
#include "harness.h"
#include <greenfut/rt.h>

#define BATCH 32

struct empty {
    RT_FRAME;
};

static enum rt_poll empty(void *self)
{
    struct empty *f = self;
    RT_BEGIN(f);
    RT_RETURN(f, 1);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long n, done;
    int i, rc;
    struct rt_join j[BATCH];
    uint64_t t0;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->t0 = bh_now_ns();
    for (f->done = 0; f->done < f->n; f->done += BATCH) {
        for (f->i = 0; f->i < BATCH; f->i++) {
            struct empty e = {0};
            if (rt_spawn(empty, &e, sizeof e, &f->j[f->i]) < 0)
                bh_fail("spawn: spawn failed");
        }
        for (f->i = 0; f->i < BATCH; f->i++) {
            RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
            if (f->rc != 0 || f->j[f->i].ret != 1)
                bh_fail("spawn: a join failed");
        }
    }
    RT_RETURN(f, bh_now_ns() - f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {1000000, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        long n = (long)((a.params[p] + BATCH - 1) / BATCH * BATCH);
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct root f = {.n = n};
            intptr_t ns = 0;
            if (rt_run(root, &f, sizeof f, &ns) < 0)
                bh_fail("spawn: run failed");
            s[r] = (double)ns / (double)n;
        }
        bh_row("spawn", rt_backend_name(), n, "ns_per_spawn_join", "ns", s,
               a.runs);
    }
    return 0;
}

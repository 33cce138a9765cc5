/* yield_many (tokio's rt_multi_threaded yield_many): S tasks (default 200)
 * each yield 1,000 times; the root joins them all. Metric ns_per_yield =
 * time from the first spawn to the last join / (S * 1,000). Checks that
 * every task yielded 1,000 times. Command line: bench/mc.h. */
#include <greenfut/rt.h>
#include "mc.h"

#define YIELDS 1000

struct yielder {
    RT_FRAME;
    long i;
};

static enum rt_poll yielder(void *self)
{
    struct yielder *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < YIELDS; f->i++)
        RT_AWAIT_YIELD(f);
    RT_RETURN(f, f->i);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long n, i;
    struct rt_join *j;
    int rc;
    uint64_t t0;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->t0 = bh_now_ns();
    for (f->i = 0; f->i < f->n; f->i++) {
        struct yielder y = {0};
        if (rt_spawn(yielder, &y, sizeof y, &f->j[f->i]) < 0)
            mc_fail("yield_many", "rt_spawn failed");
    }
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != YIELDS)
            mc_fail("yield_many", "a task did not yield 1,000 times");
    }
    RT_RETURN(f, bh_now_ns() - f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    struct mc_args a;
    mc_parse(argc, argv, 200, &a);
    struct rt_join *j = calloc((size_t)a.size, sizeof(*j));
    if (!j)
        mc_fail("yield_many", "out of memory");
    for (int w = 0; w < a.nworkers; w++) {
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct root f = {.n = (long)a.size, .j = j};
            intptr_t ns =
                mc_run("yield_many", a.workers[w], root, &f, sizeof f);
            s[r] = (double)ns / ((double)a.size * YIELDS);
        }
        mc_row("yield_many", a.workers[w], "ns_per_yield", "ns", s, a.runs);
    }
    free(j);
    return 0;
}

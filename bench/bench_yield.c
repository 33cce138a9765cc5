/* yield: N tasks each yield M times, M = 4,000,000 / N (at least 20), so
 * every N does about the same work. Metric ns_per_yield = time from the
 * last spawn to the last join / (N * M); each yield hands the thread to
 * the next ready task. Params: N. Checks that every task yielded M times.
 */
#include <stdlib.h>

#include "harness.h"
#include <greenfut/rt.h>

#define TOTAL_YIELDS 4000000L

struct yielder {
    RT_FRAME;
    long m, i;
};

static enum rt_poll yielder(void *self)
{
    struct yielder *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->m; f->i++)
        RT_AWAIT_YIELD(f);
    RT_RETURN(f, f->i);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long n, m, i;
    struct rt_join *j;
    int rc;
    uint64_t t0;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->n; f->i++) {
        struct yielder y = {.m = f->m};
        if (rt_spawn(yielder, &y, sizeof y, &f->j[f->i]) < 0)
            bh_fail("yield: spawn");
    }
    f->t0 = bh_now_ns();
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != f->m)
            bh_fail("yield: a task did not yield M times");
    }
    RT_RETURN(f, bh_now_ns() - f->t0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {2, 1000, 100000, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        long n = (long)a.params[p];
        long m = TOTAL_YIELDS / n < 20 ? 20 : TOTAL_YIELDS / n;
        struct rt_join *j = calloc((size_t)n, sizeof(*j));
        if (!j)
            bh_fail("yield: out of memory");
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct root f = {.n = n, .m = m, .j = j};
            intptr_t ns = 0;
            if (rt_run(root, &f, sizeof f, &ns) < 0)
                bh_fail("yield: run failed");
            s[r] = (double)ns / ((double)n * (double)m);
        }
        free(j);
        bh_row("yield", rt_backend_name(), n, "ns_per_yield", "ns", s, a.runs);
    }
    return 0;
}

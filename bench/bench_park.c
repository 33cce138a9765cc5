/* park: N tasks parked at once on a channel that nobody sends on. Metric
 * bytes_per_task = (RSS with all N parked - RSS before spawning) / N, each
 * run in a fresh child process; the join handles are allocated and touched
 * before the first reading so they are not counted. Then the channel is
 * closed, and every task must wake with "closed" and be joined. Params: N.
 * Metric kernel_bytes_per_task: what RSS does not show, the growth of the
 * page tables (and kernel stacks) over the same window (bh_kernel_bytes).
 * On the stackful backend a "#" note line says which stack modes served,
 * how slab stacks are protected and how many stacks fault on overflow. */
#include <string.h>

#include <stdlib.h>

#include "harness.h"
#include <greenfut/rt.h>

#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
#include <stdio.h>
#endif

/* The backend column: "stackful-copy" for the copy-stack rows (the
 * stackful build run with RT_STACK_MODE=copy: every task on its worker's
 * shared run stack, docs/stackful.md), else the backend's name. */
static const char *backend_label(void)
{
#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
    const char *mode = getenv("RT_STACK_MODE");
    if (mode && strcmp(mode, "copy") == 0)
        return "stackful-copy";
#endif
    return rt_backend_name();
}

struct parked {
    RT_FRAME;
    struct rt_chan *ch;
    int msg, rc;
};

static enum rt_poll parked(void *self)
{
    struct parked *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, f->ch, &f->msg);
    RT_RETURN(f, f->rc == 0); /* woken by close, as expected */
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_chan ch;
    long n, i;
    struct rt_join *j;
    size_t rss0, grown;
    double k0;      /* bh_kernel_bytes before the spawns */
    double *kgrown; /* the caller's: its growth (the frame is a copy) */
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (rt_chan_init(&f->ch, sizeof(int), 0) < 0)
        bh_fail("park: channel");
    f->rss0 = bh_rss_bytes();
    f->k0 = (double)bh_kernel_bytes();
    for (f->i = 0; f->i < f->n; f->i++) {
        struct parked p = {.ch = &f->ch};
        if (rt_spawn(parked, &p, sizeof p, &f->j[f->i]) < 0)
            bh_fail("park: spawn failed (out of memory or mappings?)");
    }
    RT_AWAIT_YIELD(f); /* every task runs once and parks */
    f->grown = bh_rss_bytes() - f->rss0;
    *f->kgrown = (double)bh_kernel_bytes() - f->k0;
#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
    {
        struct gt_stats st;
        if (gt_stats(&st) == 0 && st.threads_parked < (size_t)f->n)
            bh_fail("park: not every task parked");
        if (gt_stats(&st) == 0) {
            size_t live = st.stacks_guarded + st.stacks_slab;
            printf("# park stackful %ld: %zu guarded stacks, %zu slab "
                   "stacks in %zu slabs (slab protection: %s); %zu of %zu "
                   "stacks fault on overflow\n",
                   f->n, st.stacks_guarded, st.stacks_slab, st.slabs,
                   st.slab_mode, st.stacks_guarded + st.stacks_slab_guarded,
                   live);
        }
    }
#endif
    rt_chan_close(&f->ch);
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != 1)
            bh_fail("park: a task was not woken by close");
    }
    rt_chan_fini(&f->ch);
    RT_RETURN(f, f->grown);
    RT_END(f);
}

/* out[0]: RSS delta / n; out[1]: kernel bytes delta / n. */
static void measure(long long n, double *out)
{
    struct rt_join *j = malloc((size_t)n * sizeof(*j));
    if (!j)
        bh_fail("park: out of memory");
    memset(j, 0, (size_t)n * sizeof(*j));
    double kgrown = 0;
    struct root f = {.n = (long)n, .j = j, .kgrown = &kgrown};
    intptr_t grown = 0;
    if (rt_run(root, &f, sizeof f, &grown) < 0)
        bh_fail("park: run failed");
    free(j);
    out[0] = (double)grown / (double)n;
    out[1] = kgrown / (double)n;
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {1000, 10000, 100000, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        double s[BH_MAX_RUNS], k[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            double v[2];
            bh_in_child_n(measure, a.params[p], v, 2);
            s[r] = v[0];
            k[r] = v[1];
        }
        bh_row("park", backend_label(), a.params[p], "bytes_per_task", "bytes",
               s, a.runs);
        bh_row("park", backend_label(), a.params[p], "kernel_bytes_per_task",
               "bytes", k, a.runs);
    }
    return 0;
}

/* park: N tasks parked at once on a channel that nobody sends on. Metric
 * bytes_per_task = (RSS with all N parked - RSS before spawning) / N, each
 * run in a fresh child process; the join handles are allocated and touched
 * before the first reading so they are not counted. Then the channel is
 * closed, and every task must wake with "closed" and be joined. Params: N.
 * On the stackful backend a "#" note line says which stack modes served,
 * how slab stacks are protected, how many stacks fault on overflow, and the
 * page tables' size. */
#include <string.h>

#include <stdlib.h>

#include "harness.h"
#include "rt.h"

#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
#include <stdio.h>
#endif

#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
/* VmPTE of /proc/self/status: what the stacks' page tables (and the guard
 * regions' markers in them) cost, which RSS does not show. 0 if unread. */
static size_t page_tables_kib(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[128];
    size_t kib = 0;
    while (fp && fgets(line, sizeof(line), fp))
        if (sscanf(line, "VmPTE: %zu kB", &kib) == 1)
            break;
    if (fp)
        fclose(fp);
    return kib;
}
#endif

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
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (rt_chan_init(&f->ch, sizeof(int), 0) < 0)
        bh_fail("park: channel");
    f->rss0 = bh_rss_bytes();
    for (f->i = 0; f->i < f->n; f->i++) {
        struct parked p = {.ch = &f->ch};
        if (rt_spawn(parked, &p, sizeof p, &f->j[f->i]) < 0)
            bh_fail("park: spawn failed (out of memory or mappings?)");
    }
    RT_AWAIT_YIELD(f); /* every task runs once and parks */
    f->grown = bh_rss_bytes() - f->rss0;
#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
    {
        struct gt_stats st;
        if (gt_stats(&st) == 0 && st.threads_parked < (size_t)f->n)
            bh_fail("park: not every task parked");
        if (gt_stats(&st) == 0) {
            size_t live = st.stacks_guarded + st.stacks_slab;
            printf("# park stackful %ld: %zu guarded stacks, %zu slab "
                   "stacks in %zu slabs (slab protection: %s); %zu of %zu "
                   "stacks fault on overflow; page tables %zu KiB\n",
                   f->n, st.stacks_guarded, st.stacks_slab, st.slabs,
                   st.slab_mode, st.stacks_guarded + st.stacks_slab_guarded,
                   live, page_tables_kib());
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

static double measure(long long n)
{
    struct rt_join *j = malloc((size_t)n * sizeof(*j));
    if (!j)
        bh_fail("park: out of memory");
    memset(j, 0, (size_t)n * sizeof(*j));
    struct root f = {.n = (long)n, .j = j};
    intptr_t grown = 0;
    if (rt_run(root, &f, sizeof f, &grown) < 0)
        bh_fail("park: run failed");
    free(j);
    return (double)grown / (double)n;
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {1000, 10000, 100000, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++)
            s[r] = bh_in_child(measure, a.params[p]);
        bh_row("park", rt_backend_name(), a.params[p], "bytes_per_task",
               "bytes", s, a.runs);
    }
    return 0;
}

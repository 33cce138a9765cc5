/* skynet (github.com/atemerev/skynet, as Go, Boost.Fiber and others
 * publish it): a 10-ary tree of tasks over S leaves (default 1,000,000, a
 * power of ten); each leaf returns its number, each inner task spawns its
 * ten children with join handles and returns the sum of their results.
 * The root checks the sum, S * (S - 1) / 2, exactly. Every run is a fresh
 * child process (bh_in_child_n), so that its peak RSS is its own.
 * Metrics, over every task of the tree (S leaves and the inner ones,
 * 1,111,111 for the default S): ns_per_task = time from the root's start
 * to its end / tasks; bytes_per_task = (peak RSS (getrusage) - RSS before
 * the run) / tasks. Both schedulers run the tree breadth first (a spawned
 * task waits behind the ones already ready), so nearly every task is
 * alive at the peak. Command line: bench/mc.h. */
#include <sys/resource.h>

#include <greenfut/rt.h>
#include "mc.h"

#define FAN 10

struct node {
    RT_FRAME;
    long num, size; /* first leaf number below, leaves below */
    long sum;
    int i, rc;
    struct rt_join j[FAN];
};

static enum rt_poll node(void *self)
{
    struct node *f = self;
    RT_BEGIN(f);
    if (f->size == 1)
        RT_RETURN(f, f->num);
    for (f->i = 0; f->i < FAN; f->i++) {
        struct node c = {.num = f->num + f->i * (f->size / FAN),
                         .size = f->size / FAN};
        if (rt_spawn(node, &c, sizeof c, &f->j[f->i]) < 0)
            mc_fail("skynet", "rt_spawn failed");
    }
    f->sum = 0;
    for (f->i = 0; f->i < FAN; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0)
            mc_fail("skynet", "a join failed");
        f->sum += (long)f->j[f->i].ret;
    }
    RT_RETURN(f, f->sum);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long size;
    struct node top;
    uint64_t ns;
    long sum;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->ns = bh_now_ns();
    f->top = (struct node){.num = 0, .size = f->size};
    RT_AWAIT_CALL(f, node, &f->top);
    f->sum = (long)f->top.rt.ret;
    f->ns = bh_now_ns() - f->ns;
    if (f->sum != f->size * (f->size - 1) / 2)
        mc_fail("skynet", "the sum is wrong");
    RT_RETURN(f, f->ns);
    RT_END(f);
}

static unsigned cur_workers;

static long tasks_of(long leaves)
{
    long t = 0;
    for (long n = leaves; n >= 1; n /= FAN)
        t += n;
    return t;
}

/* One run, in a fresh child: out[0] ns per task, out[1] bytes per task. */
static void one_run(long long leaves, double *out)
{
    size_t base = bh_rss_bytes();
    struct root f = {.size = (long)leaves};
    intptr_t ns = mc_run("skynet", cur_workers, root, &f, sizeof f);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        mc_fail("skynet", "getrusage");
    double peak = (double)ru.ru_maxrss * 1024.0;
    double tasks = (double)tasks_of((long)leaves);
    out[0] = (double)ns / tasks;
    out[1] = peak > (double)base ? (peak - (double)base) / tasks : 0;
}

int main(int argc, char **argv)
{
    struct mc_args a;
    mc_parse(argc, argv, 1000000, &a);
    long long p = 1;
    while (p < a.size)
        p *= FAN;
    if (p != a.size)
        mc_fail("skynet", "--size must be a power of ten");
    for (int w = 0; w < a.nworkers; w++) {
        double ns[BH_MAX_RUNS], bytes[BH_MAX_RUNS];
        cur_workers = a.workers[w];
        for (int r = 0; r < a.runs; r++) {
            double v[2];
            bh_in_child_n(one_run, a.size, v, 2);
            ns[r] = v[0];
            bytes[r] = v[1];
        }
        mc_row("skynet", a.workers[w], "ns_per_task", "ns", ns, a.runs);
        mc_row("skynet", a.workers[w], "bytes_per_task", "bytes", bytes,
               a.runs);
    }
    return 0;
}

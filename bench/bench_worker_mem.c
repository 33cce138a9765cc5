/* worker_mem: what a worker costs in memory. Every run is a fresh child
 * process (bh_in_child_n): it reads its RSS and the kernel's share
 * (bh_kernel_bytes: page tables, kernel stacks) before rt_run_opts, and
 * again inside the root task once S tasks (default 64) have each yielded
 * 100 times on the N workers, so every worker has started and run tasks.
 * Rows per worker count N: run_bytes, the RSS growth from before the run
 * to inside it; with N > 1 also bytes_per_worker and
 * kernel_bytes_per_worker, (the figure at N - the figure at one worker,
 * measured by the same program) / (N - 1). The kernel share reads the
 * machine-wide KernelStack, so other processes' threads starting or
 * ending meanwhile move it. Command line: bench/mc.h. */
#include <greenfut/rt.h>
#include "mc.h"

#define YIELDS 100

struct yielder {
    RT_FRAME;
    int i;
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

/* The readings inside the run (the root's frame is a copy). */
struct reading {
    size_t rss, kernel;
};

struct root {
    RT_FRAME;
    long n, i;
    struct rt_join *j;
    struct reading *in_run;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->n; f->i++) {
        struct yielder y = {0};
        if (rt_spawn(yielder, &y, sizeof y, &f->j[f->i]) < 0)
            mc_fail("worker_mem", "rt_spawn failed");
    }
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != YIELDS)
            mc_fail("worker_mem", "a task did not yield 100 times");
    }
    f->in_run->rss = bh_rss_bytes();
    f->in_run->kernel = bh_kernel_bytes();
    RT_END(f);
}

static unsigned cur_workers;

/* One run in a fresh child: out[0] RSS growth, out[1] kernel growth. */
static void one_run(long long tasks, double *out)
{
    struct rt_join *j = calloc((size_t)tasks, sizeof(*j));
    if (!j)
        mc_fail("worker_mem", "out of memory");
    struct reading in_run = {0};
    size_t rss0 = bh_rss_bytes(), k0 = bh_kernel_bytes();
    struct root f = {.n = (long)tasks, .j = j, .in_run = &in_run};
    (void)mc_run("worker_mem", cur_workers, root, &f, sizeof f);
    out[0] = (double)in_run.rss - (double)rss0;
    out[1] = (double)in_run.kernel - (double)k0;
    free(j);
}

/* The median of n samples (sorts them). */
static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && v[k - 1] > v[k]; k--) {
            double t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* runs samples of (RSS growth, kernel growth) at `workers` workers. */
static void sample(unsigned workers, const struct mc_args *a, double *rss,
                   double *kernel)
{
    cur_workers = workers;
    for (int r = 0; r < a->runs; r++) {
        double v[2];
        bh_in_child_n(one_run, a->size, v, 2);
        rss[r] = v[0];
        kernel[r] = v[1];
    }
}

int main(int argc, char **argv)
{
    struct mc_args a;
    mc_parse(argc, argv, 64, &a);
    double rss1[BH_MAX_RUNS], kernel1[BH_MAX_RUNS];
    sample(1, &a, rss1, kernel1);
    double base_rss = median(rss1, a.runs),
           base_kernel = median(kernel1, a.runs);
    for (int w = 0; w < a.nworkers; w++) {
        unsigned n = a.workers[w];
        double rss[BH_MAX_RUNS], kernel[BH_MAX_RUNS];
        if (n == 1) {
            memcpy(rss, rss1, sizeof rss);
            memcpy(kernel, kernel1, sizeof kernel);
        } else {
            sample(n, &a, rss, kernel);
        }
        double per[BH_MAX_RUNS], kper[BH_MAX_RUNS];
        for (int r = 0; r < a.runs && n > 1; r++) {
            per[r] = (rss[r] - base_rss) / (double)(n - 1);
            kper[r] = (kernel[r] - base_kernel) / (double)(n - 1);
        }
        mc_row("worker_mem", n, "run_bytes", "bytes", rss, a.runs);
        if (n > 1) {
            mc_row("worker_mem", n, "bytes_per_worker", "bytes", per, a.runs);
            mc_row("worker_mem", n, "kernel_bytes_per_worker", "bytes", kper,
                   a.runs);
        }
    }
    return 0;
}

/* Bytes per parked green thread: N threads spawned and all parked at once;
 * RSS (/proc/self/statm) delta / N, the kernel's page tables and stacks
 * for them (bh_kernel_bytes) delta / N, the stack bytes the runtime
 * accounts as touched / N and how the stacks were made. Each N runs in a
 * fresh child process so earlier runs leave nothing behind. Prints the
 * comparison runner's CSV rows (bench/harness.h), backend design:auto (or
 * design:slab_only), one set per N.
 *
 * Usage: bench_sf_park [N ...]   (default 10000 100000 1000000)
 *        GT_SLAB_ONLY=1 bench_sf_park ...   every stack from slabs
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include <greenfut/gt.h>
#include "harness.h"

static size_t n_threads;
static struct rt_waker *wakers;
static int open_gate;

static const char *mode;

/* One CSV row of this N (a single run: min = max = value). */
static void row(const char *metric, const char *unit, double v)
{
    printf("sf_park,design:%s,%zu,%s,%.6g,%s,1,%.6g,%.6g\n", mode, n_threads,
           metric, v, unit, v, v);
}

static void *parker(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    wakers[i] = rt_waker_clone(gt_waker());
    while (!open_gate)
        gt_park("gate");
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    int64_t *ids = malloc(n_threads * sizeof(*ids));
    if (!ids)
        abort();
    for (size_t i = 0; i < n_threads; i++) /* touch outside the window */
        wakers[i] = RT_WAKER_NONE, ids[i] = 0;
    size_t before = bh_rss_bytes(), kbefore = bh_kernel_bytes();
    for (size_t i = 0; i < n_threads; i++)
        if ((ids[i] = gt_spawn(parker, (void *)(uintptr_t)i, NULL)) < 0)
            abort();
    gt_yield();
    size_t after = bh_rss_bytes(), kafter = bh_kernel_bytes();
    struct gt_stats st;
    gt_stats(&st);
    double n = (double)n_threads;
    row("bytes_per_thread", "bytes", (double)(after - before) / n);
    row("kernel_bytes_per_thread", "bytes",
        ((double)kafter - (double)kbefore) / n);
    row("touched_bytes_per_thread", "bytes",
        (double)st.stack_bytes_touched / n);
    row("stacks_guarded", "count", (double)st.stacks_guarded);
    row("stacks_slab", "count", (double)st.stacks_slab);
    row("slabs", "count", (double)st.slabs);
    row("stacks_slab_guarded", "count", (double)st.stacks_slab_guarded);
    printf("# sf_park %zu: slab protection: %s; %zu of %zu stacks fault on "
           "overflow\n",
           n_threads, st.slab_mode, st.stacks_guarded + st.stacks_slab_guarded,
           st.stacks_guarded + st.stacks_slab);
    fflush(stdout);
    open_gate = 1;
    for (size_t i = 0; i < n_threads; i++)
        rt_waker_wake(&wakers[i]);
    for (size_t i = 0; i < n_threads; i++)
        gt_join(ids[i], NULL);
    free(ids);
    return NULL;
}

static int one(size_t n)
{
    n_threads = n;
    wakers = calloc(n, sizeof(*wakers));
    if (!wakers)
        return 1;
    const char *slab = getenv("GT_SLAB_ONLY");
    struct gt_config cfg = {.pool_max = 64,
                            .slab_only = slab && slab[0] == '1'};
    mode = cfg.slab_only ? "slab_only" : "auto";
    int rc = gt_run(&cfg, root, NULL, NULL);
    free(wakers);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    size_t def[] = {10000, 100000, 1000000};
    int nargs = argc > 1 ? argc - 1 : 3;
    for (int i = 0; i < nargs; i++) {
        size_t n = argc > 1 ? (size_t)atol(argv[i + 1]) : def[i];
        pid_t pid = fork();
        if (pid == 0)
            _exit(one(n));
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            return 1;
    }
    return 0;
}

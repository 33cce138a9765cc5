/* Bytes per parked green thread: N threads spawned and all parked at once;
 * RSS (/proc/self/statm) delta / N. Each N runs in a fresh child process so
 * earlier runs leave nothing behind. Prints one row per N.
 *
 * Usage: bench_sf_park [N ...]   (default 10000 100000 1000000)
 *        GT_SLAB_ONLY=1 bench_sf_park ...   every stack from slabs
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include "gt.h"

static size_t n_threads;
static struct rt_waker *wakers;
static int open_gate;

static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (!f || fscanf(f, "%lu %lu", &size, &res) != 2)
        abort();
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
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
    size_t before = rss();
    for (size_t i = 0; i < n_threads; i++)
        if ((ids[i] = gt_spawn(parker, (void *)(uintptr_t)i, NULL)) < 0)
            abort();
    gt_yield();
    size_t after = rss();
    struct gt_stats st;
    gt_stats(&st);
    printf("%10zu %12.0f %12.0f %10zu %10zu %8zu\n", n_threads,
           (double)(after - before) / (double)n_threads,
           (double)st.stack_bytes_touched / (double)n_threads,
           st.stacks_guarded, st.stacks_slab, st.slabs);
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
    int rc = gt_run(&cfg, root, NULL, NULL);
    free(wakers);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    size_t def[] = {10000, 100000, 1000000};
    printf("%10s %12s %12s %10s %10s %8s\n", "threads", "RSS B/thr",
           "touched B/thr", "guarded", "slab", "slabs");
    fflush(stdout);
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

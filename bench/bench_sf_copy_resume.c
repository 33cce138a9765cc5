/* copy_resume: what a resume costs against the bytes a copy-stack switch
 * moves. Two green threads hand off to each other with gt_yield, each with
 * B bytes of locals live in the frame that yields (param B). Rows, per B:
 *   stackful-copy ns_per_resume: both threads on the worker's shared run
 *     stack (GT_STACK_MODE_COPY): every handoff saves one thread's used
 *     bytes and restores the other's, through the copier;
 *   stackful-copy saved_bytes: the bytes one save copies (gt_stack_used of
 *     the parked thread: B plus the frames below the yield, exact);
 *   stackful ns_per_resume: the same two threads with stacks of their own
 *     (guarded), the resume a copy-stack one is compared with;
 *   baseline:fcontext ns_per_resume: a raw jump_fcontext between two
 *     contexts (measured once, repeated at every B).
 * Time per handoff = elapsed / switches made (gt_stats), median of --runs
 * runs interleaved. Params: B (default 8 128 512 2048 8192). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"
#include "fcontext.h"
#include <greenfut/gt.h>

static long iters = 1000000;

/* A raw one-way jump_fcontext, as bench_sf_switch's baseline. */
static void raw_entry(transfer_t t)
{
    for (;;)
        t = jump_fcontext(t.fctx, NULL);
}

static double raw_run(void)
{
    size_t size = 64 * 1024;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        bh_fail("copy_resume: mmap");
    fcontext_t c = make_fcontext(stack + size, size, raw_entry);
    transfer_t t = jump_fcontext(c, NULL);
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < iters; i++)
        t = jump_fcontext(t.fctx, NULL);
    uint64_t t1 = bh_now_ns();
    munmap(stack, size);
    return (double)(t1 - t0) / (2.0 * (double)iters);
}

/* The yielding frame: `bytes` of locals in use across every yield (a VLA
 * the compiler must keep, touched before and checked after). */
#pragma GCC diagnostic ignored "-Wvla"
__attribute__((noinline)) static void yield_with(size_t bytes)
{
    volatile unsigned char buf[bytes ? bytes : 1];
    buf[0] = 1;
    buf[sizeof(buf) - 1] = 2;
    for (long i = 0; i < iters; i++)
        gt_yield();
    if (buf[0] != 1 || buf[sizeof(buf) - 1] != 2)
        bh_fail("copy_resume: a local changed across a yield");
}

static void *yielder(void *arg)
{
    yield_with((size_t)(uintptr_t)arg);
    return NULL;
}

struct trial {
    size_t bytes;
    enum gt_stack_mode mode;
    double ns;     /* per handoff */
    int64_t saved; /* gt_stack_used of the first thread, once parked */
};

static void *root(void *arg)
{
    struct trial *t = arg;
    struct gt_opts o = {.stack_mode = t->mode};
    void *b = (void *)(uintptr_t)t->bytes;
    int64_t x = gt_spawn(yielder, b, &o);
    int64_t y = gt_spawn(yielder, b, &o);
    if (x < 0 || y < 0)
        bh_fail("copy_resume: spawn");
    gt_yield(); /* both start; x is saved when y first runs */
    t->saved = gt_stack_used(x);
    struct gt_stats s0, s1;
    gt_stats(&s0);
    uint64_t t0 = bh_now_ns();
    gt_join(x, NULL);
    gt_join(y, NULL);
    uint64_t t1 = bh_now_ns();
    gt_stats(&s1);
    t->ns = (double)(t1 - t0) / (double)(s1.switches - s0.switches);
    return NULL;
}

static struct trial trial(size_t bytes, enum gt_stack_mode mode)
{
    struct trial t = {.bytes = bytes, .mode = mode};
    struct gt_config cfg = {.pool_max = 64, .stack_mode = GT_STACK_MODE_OWN};
    if (gt_run(&cfg, root, &t, NULL) != 0)
        bh_fail("copy_resume: run");
    return t;
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {8, 128, 512, 2048, 8192, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    const char *env = getenv("BENCH_COPY_ITERS");
    if (env)
        iters = atol(env);
    raw_run(); /* warm-up */
    trial(8, GT_STACK_MODE_COPY);
    for (int p = 0; p < a.nparams; p++) {
        size_t bytes = (size_t)a.params[p];
        if (bytes > GT_COPY_STACK_SIZE / 2)
            bh_fail("copy_resume: B too large for the run stack");
        double cp[BH_MAX_RUNS], own[BH_MAX_RUNS], raw[BH_MAX_RUNS],
            saved[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) { /* interleaved */
            struct trial c = trial(bytes, GT_STACK_MODE_COPY);
            cp[r] = c.ns;
            saved[r] = (double)c.saved;
            own[r] = trial(bytes, GT_STACK_MODE_OWN).ns;
            raw[r] = raw_run();
        }
        bh_row("copy_resume", "stackful-copy", a.params[p], "ns_per_resume",
               "ns", cp, a.runs);
        bh_row("copy_resume", "stackful-copy", a.params[p], "saved_bytes",
               "bytes", saved, a.runs);
        bh_row("copy_resume", "stackful", a.params[p], "ns_per_resume", "ns",
               own, a.runs);
        bh_row("copy_resume", "baseline:fcontext", a.params[p], "ns_per_resume",
               "ns", raw, a.runs);
    }
    return 0;
}

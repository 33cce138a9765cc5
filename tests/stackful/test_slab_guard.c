/* Slab stacks are guarded too: in slab mode, a frame that jumps 24 KiB (or
 * 8 KiB) past the end of a 16 KiB stack, written at its low end, faults
 * at once in the guard region below the stack and is reported by name,
 * instead of landing in the neighbouring slot (a parked thread's stack)
 * unseen. The jumping function is built without stack-clash probes, as a
 * user's code may be. Each overflow runs in a child that must die by
 * SIGABRT after the report. And with 2,000 slab stacks live, gt_stats
 * counts every one as guarded. Skipped (77) on a kernel without guard
 * regions, where slab mode falls back to gap pages. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <greenfut/chan.h>
#include "check.h"
#include "child.h"
#include <greenfut/gt.h>

void *jumper(void *arg);

#if defined(__GNUC__) && !defined(__clang__)
#define UNPROBED \
    __attribute__((noinline, optimize("no-stack-clash-protection")))
#else
#define UNPROBED __attribute__((noinline))
#endif

/* A local of stack size + `jump` bytes: its low end lies about `jump`
 * bytes below the stack, and that is the byte written first. */
#define JUMP(kib)                                               \
    UNPROBED static unsigned jump##kib(void)                    \
    {                                                           \
        volatile unsigned char buf[GT_STACK_MIN + (kib)*1024u]; \
        buf[0] = 1;                                             \
        buf[sizeof(buf) - 1] = 2;                               \
        return buf[0] + buf[sizeof(buf) - 1];                   \
    }
JUMP(8)
JUMP(24)

void *jumper(void *arg)
{
    int kib = (int)(intptr_t)arg;
    return (void *)(uintptr_t)(kib == 8 ? jump8() : jump24());
}

static void *parked(void *arg)
{
    (void)arg;
    gt_park("the neighbour's overflow"); /* never woken: the child aborts */
    return NULL;
}

static int jump_kib;

static void *root(void *arg)
{
    (void)arg;
    struct gt_opts small = {.stack_size = GT_STACK_MIN};
    /* Neighbours below and above the jumping thread's slot, parked. */
    CHECK_GT(gt_spawn(parked, NULL, &small), 0);
    CHECK_GT(gt_spawn(parked, NULL, &small), 0);
    struct gt_opts j = {.stack_size = GT_STACK_MIN, .name = "jumper"};
    CHECK_GT(gt_spawn(jumper, (void *)(intptr_t)jump_kib, &j), 0);
    CHECK_GT(gt_spawn(parked, NULL, &small), 0);
    gt_yield();
    return NULL;
}

static int jump_child(void)
{
    struct gt_config cfg = {.pool_max = 0, .slab_only = 1};
    gt_run(&cfg, root, NULL, NULL);
    return 3; /* not reached: the overflow aborts */
}

/* Many slab stacks at once, all parked: every one of them is guarded. */
#define MANY 2000

static struct rt_chan gate; /* closed to let them all go */

static void *gated(void *arg)
{
    (void)arg;
    struct rt_cx cx = gt_cx();
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int msg, res;
    while (rt_chan_poll_recv(&gate, &op, &msg, &cx, &res) == RT_PENDING)
        gt_park("gate");
    return NULL;
}

static int64_t ids[MANY];

static void *count_root(void *arg)
{
    struct gt_stats *out = arg;
    struct gt_opts small = {.stack_size = GT_STACK_MIN};
    CHECK_OK(rt_chan_init(&gate, sizeof(int), 0));
    for (int i = 0; i < MANY; i++)
        CHECK_GT(ids[i] = gt_spawn(gated, NULL, &small), 0);
    gt_yield(); /* each runs and parks */
    CHECK_OK(gt_stats(out));
    rt_chan_close(&gate);
    for (int i = 0; i < MANY; i++)
        CHECK_OK(gt_join(ids[i], NULL));
    rt_chan_fini(&gate);
    return NULL;
}

int main(void)
{
    struct gt_stats gs;
    struct gt_config cfg = {.pool_max = 0, .slab_only = 1};
    CHECK_OK(gt_run(&cfg, count_root, &gs, NULL));
    fprintf(stderr, "slab mode: %s; %zu of %zu slab stacks guarded\n",
            gs.slab_mode, gs.stacks_slab_guarded, gs.stacks_slab);
    CHECK_EQ(gs.threads_parked, MANY);
    CHECK_EQ(gs.stacks_slab, MANY + 1); /* and the root's */
    if (strcmp(gs.slab_mode, "gap pages") == 0)
        SKIP("this kernel has no guard regions (MADV_GUARD_INSTALL, Linux "
             "6.13): slab stacks have gap pages, checked after the fact");
    CHECK(strcmp(gs.slab_mode, "guard regions") == 0);
    CHECK_EQ(gs.stacks_slab_guarded, gs.stacks_slab);

    static const int jumps[] = {24, 8};
    for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
        char err[4096];
        jump_kib = jumps[i];
        int st = run_child(jump_child, err, sizeof(err));
        fprintf(stderr, "%d KiB jump: status %#x, said: %s", jumps[i], st, err);
        CHECK(WIFSIGNALED(st));
        CHECK_EQ(WTERMSIG(st), SIGABRT);
        CHECK(strstr(err, "stack overflow in green thread 4 \"jumper\" "
                          "(jumper)") != NULL);
    }
    return 0;
}

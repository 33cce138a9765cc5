/* Deep recursion: a 16 KiB local array at depth 100 works on a large stack
 * and hits the guard on a small one. The overflow runs in a child process;
 * it must die by SIGABRT after one line naming the thread and its stack
 * size. In slab mode the overrun faults in the slot's guard region, or,
 * on a kernel without guard regions, is reported when the thread ends. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "child.h"
#include <greenfut/gt.h>

/* noinline and the use of buf after the call keep one real frame per
 * level; the array is written from its low end, the way a large frame
 * could jump a small guard. */
__attribute__((noinline)) static unsigned deep(int depth)
{
    volatile unsigned char buf[16 * 1024];
    for (size_t i = 0; i < sizeof(buf); i += 512)
        buf[i] = (unsigned char)(depth + (int)i);
    unsigned sum = depth > 0 ? deep(depth - 1) : 0;
    return sum + buf[0] + buf[sizeof(buf) - 512];
}

static void *run_deep(void *arg)
{
    return (void *)(uintptr_t)deep((int)(intptr_t)arg);
}

static void *spawn_deep(void *arg)
{
    size_t size = (size_t)(uintptr_t)arg;
    int64_t id =
        gt_spawn(run_deep, (void *)(intptr_t)100,
                 &(struct gt_opts){.stack_size = size, .name = "deep"});
    CHECK_GT(id, 0);
    void *res = NULL;
    CHECK_OK(gt_join(id, &res));
    return res;
}

static int overflow_child(void)
{
    gt_run(NULL, spawn_deep, (void *)(uintptr_t)(64u * 1024u), NULL);
    return 3; /* not reached: the overflow aborts */
}

/* A frame of about 1 KiB per level: enough levels to run a few KiB past
 * the bottom of a 16 KiB stack, into the gap page below it. */
__attribute__((noinline)) static unsigned shallow(int depth)
{
    volatile unsigned char buf[1000];
    buf[0] = (unsigned char)depth;
    buf[sizeof(buf) - 1] = 1;
    unsigned sum = depth > 0 ? shallow(depth - 1) : 0;
    return sum + buf[0] + buf[sizeof(buf) - 1];
}

static void *run_shallow(void *arg)
{
    return (void *)(uintptr_t)shallow((int)(intptr_t)arg);
}

static void *nothing(void *arg)
{
    return arg;
}

static void *slab_overrun(void *arg)
{
    (void)arg;
    struct gt_opts small = {.stack_size = GT_STACK_MIN, .name = "overrun"};
    /* The first 16 KiB stack takes slot 0 of a new slab (a real guard);
     * the second takes slot 1, whose gap is only checked. */
    int64_t first = gt_spawn(nothing, NULL, &small);
    int64_t second = gt_spawn(run_shallow, (void *)(intptr_t)17, &small);
    CHECK_OK(gt_join(second, NULL));
    CHECK_OK(gt_join(first, NULL));
    return NULL;
}

static int slab_child(void)
{
    struct gt_config cfg = {.pool_max = 0, .slab_only = 1};
    gt_run(&cfg, slab_overrun, NULL, NULL);
    return 3;
}

static int segv_child(void)
{
    /* A fault outside any guard goes to the default action. The address
     * goes through a volatile so that no optimiser sees the constant (GCC
     * at -O2 warns of a read out of bounds). */
    volatile uintptr_t bad = 16;
    return (int)(uintptr_t)gt_run(NULL, nothing, NULL, NULL) +
           *(volatile int *)bad;
}

int main(void)
{
    /* 100 levels of 16 KiB need about 1.6 MiB: fine on 4 MiB. */
    void *res = NULL;
    CHECK_OK(gt_run(NULL, spawn_deep, (void *)(uintptr_t)(4u << 20), &res));
    CHECK_NE((uintptr_t)res, 0);

    char err[4096];
    int st = run_child(overflow_child, err, sizeof(err));
    fprintf(stderr, "guarded child said: %s", err);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGABRT);
    CHECK(strstr(err, "stack overflow in green thread 2 \"deep\"") != NULL);
    CHECK(strstr(err, "stack size 65536 bytes") != NULL);

    st = run_child(slab_child, err, sizeof(err));
    fprintf(stderr, "slab child said: %s", err);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGABRT);
    CHECK(strstr(err, "green thread 3 \"overrun\" (") != NULL);
    /* With guard regions the overrun faults where it happens; with gap
     * pages it is found when the thread ends. */
    if (strstr(err, "stack overflow in green thread 3") == NULL)
        CHECK(strstr(err, ") overran its 16384-byte stack") != NULL);

    st = run_child(segv_child, err, sizeof(err));
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's handler was there first: it gets the fault back and exits. */
    CHECK(strstr(err, "SEGV") != NULL);
    CHECK(!WIFEXITED(st) || WEXITSTATUS(st) != 0);
#else
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGSEGV);
#endif
    CHECK(strstr(err, "stack overflow") == NULL);
    return 0;
}

/* Stats and the stack high-water mark: a thread that used ~40 KiB of its
 * stack reports at least that; the counters match what the test did. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include <greenfut/gt.h>

static int open_gate;
static struct rt_waker wakers[2];

__attribute__((noinline)) static unsigned use_stack(size_t bytes)
{
    volatile unsigned char buf[40 * 1024];
    size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf);
    for (size_t i = 0; i < n; i += 256)
        buf[sizeof(buf) - 1 - i] = (unsigned char)i;
    return buf[sizeof(buf) - 1];
}

static void *deep_then_park(void *arg)
{
    (void)arg;
    use_stack(40 * 1024);
    wakers[0] = rt_waker_clone(gt_waker());
    while (!open_gate)
        gt_park("gate");
    return NULL;
}

static void *shallow_then_park(void *arg)
{
    (void)arg;
    wakers[1] = rt_waker_clone(gt_waker());
    while (!open_gate)
        gt_park("gate");
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.threads_live, 1);
    CHECK_EQ(st.stacks_guarded, 1);
    int64_t deep = gt_spawn(deep_then_park, NULL, NULL);
    int64_t flat = gt_spawn(shallow_then_park, NULL, NULL);
    gt_yield();
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.threads_live, 3);
    CHECK_EQ(st.threads_parked, 2);
    CHECK_EQ(st.threads_runnable, 0);
    CHECK_GT(st.switches, 2);
    CHECK_EQ(st.spawned, 3);
    CHECK_GE(st.stack_bytes_reserved, 3 * GT_STACK_DEFAULT);
    CHECK_GT(st.stack_bytes_touched, 40 * 1024);
    CHECK_GE(st.stack_high_water, 40 * 1024);
    CHECK_GE(gt_stack_used(deep), 40 * 1024);
    CHECK_GT(gt_stack_used(flat), 0);
    CHECK_LT(gt_stack_used(flat), 40 * 1024);
    CHECK_LE(gt_stack_used(deep), GT_STACK_DEFAULT);
    open_gate = 1;
    rt_waker_wake(&wakers[0]);
    rt_waker_wake(&wakers[1]);
    CHECK_OK(gt_join(deep, NULL));
    CHECK_OK(gt_join(flat, NULL));
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.threads_live, 1);
    CHECK_EQ(st.stacks_pooled, 2);
    /* A pooled stack is reused by the next spawn of its size. */
    int64_t again = gt_spawn(shallow_then_park, NULL, NULL);
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.stacks_pooled, 1);
    CHECK_OK(gt_join(again, NULL));
    CHECK_EQ(gt_stats(NULL), -EINVAL);
    return NULL;
}

int main(void)
{
    struct gt_stats st;
    CHECK_EQ(gt_stats(&st), -EPERM);
    CHECK_OK(gt_run(NULL, root, NULL, NULL));
    return 0;
}

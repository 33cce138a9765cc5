/* gt_select, the native stackful select over the common case type: a
 * receive that wins after the thread parked, a deadline that wins with the
 * receive withdrawn (the channel is left without a waiter), a biased choice
 * between two ready sends, and the errors. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include <greenfut/chan.h>
#include <greenfut/clock.h>
#include <greenfut/gt.h>

static struct rt_chan ch, other;

static void *send_later(void *arg)
{
    int m = (int)(intptr_t)arg;
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    struct rt_cx cx = gt_cx();
    int rc;
    while (rt_chan_poll_send(&ch, &op, &m, &cx, &rc) == RT_PENDING)
        gt_park("send");
    return (void *)(intptr_t)rc;
}

static void *root(void *arg)
{
    (void)arg;
    CHECK_OK(rt_chan_init(&ch, sizeof(int), 0));
    CHECK_OK(rt_chan_init(&other, sizeof(int), 1));
    int in = 0, out = 5;
    struct rt_sel_case c[3];

    /* A receive after parking: the sender runs once this thread parks. */
    int64_t t = gt_spawn(send_later, (void *)(intptr_t)42, NULL);
    CHECK_GT(t, 0);
    rt_sel_recv(&c[0], &ch, &in);
    rt_sel_deadline(&c[1], rt_now_ns() + 3600ull * 1000000000ull);
    rt_sel_recv(&c[2], &other, &in);
    CHECK_EQ(gt_select(c, 3, 0), 0);
    CHECK_EQ(c[0].res, 1);
    CHECK_EQ(in, 42);
    void *v;
    CHECK_OK(gt_join(t, &v));
    CHECK_EQ((intptr_t)v, 0);

    /* The deadline: the receives are withdrawn (rt_chan_fini asserts that
     * no waiter is left on either channel). */
    rt_sel_recv(&c[0], &ch, &in);
    rt_sel_deadline(&c[1], rt_now_ns() + 1000000);
    CHECK_EQ(gt_select(c, 2, 0), 1);
    CHECK_EQ(c[1].res, 0);

    /* Biased: of two ready sends the first goes, the second sends nothing. */
    rt_sel_send(&c[0], &other, &out);
    rt_sel_deadline(&c[1], 0);
    CHECK_EQ(gt_select(c, 2, RT_SELECT_BIASED), 0);
    CHECK_EQ(rt_chan_len(&other), 1);
    rt_sel_deadline(&c[0], 0);
    rt_sel_recv(&c[1], &other, &in);
    CHECK_EQ(gt_select(c, 2, RT_SELECT_BIASED), 0);
    CHECK_EQ(rt_chan_len(&other), 1);

    /* Errors. */
    CHECK_EQ(gt_select(c, 0, 0), -EINVAL);
    CHECK_EQ(gt_select(NULL, 1, 0), -EINVAL);
    CHECK_EQ(gt_select(c, 1, 0x80), -EINVAL);
    rt_chan_fini(&ch);
    rt_chan_fini(&other);
    return (void *)1;
}

int main(void)
{
    struct rt_sel_case c;
    rt_sel_deadline(&c, 0);
    CHECK_EQ(gt_select(&c, 1, 0), -EPERM); /* outside gt_run */
    void *v = NULL;
    CHECK_OK(gt_run(NULL, root, NULL, &v));
    CHECK_EQ((intptr_t)v, 1);
    return 0;
}

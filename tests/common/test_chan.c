/* Channel poll functions driven by hand: ring order, rendezvous, FIFO of
 * waiting senders, close semantics, cancellation passing a wake on, and
 * waker balance. */
#include <errno.h>

#include <greenfut/chan.h>
#include "check.h"
#include "testwaker.h"

static struct tw tw;
static struct rt_waker w;
static struct rt_cx cx;

static void test_buffered(void)
{
    struct rt_chan ch;
    CHECK_OK(rt_chan_init(&ch, sizeof(int), 3));
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int res;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(rt_chan_poll_send(&ch, &op, &i, &cx, &res), RT_READY);
    CHECK_EQ(rt_chan_len(&ch), 3);
    /* Full: a fourth sender waits with its message in its own memory. */
    int four = 3;
    struct rt_chan_op blocked;
    rt_chan_op_init(&blocked);
    CHECK_EQ(rt_chan_poll_send(&ch, &blocked, &four, &cx, &res), RT_PENDING);
    int v;
    struct rt_chan_op rop;
    rt_chan_op_init(&rop);
    int wakes = atomic_load(&tw.wakes);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(rt_chan_poll_recv(&ch, &rop, &v, &cx, &res), RT_READY);
        CHECK_EQ(res, 1);
        CHECK_EQ(v, i); /* FIFO, the waiting sender's message last */
        if (i == 0)     /* the first receive moved the sender into the ring */
            CHECK_EQ(atomic_load(&tw.wakes), wakes + 1);
    }
    CHECK_EQ(rt_chan_poll_send(&ch, &blocked, &four, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    /* Empty: a receiver waits; a send wakes it. */
    CHECK_EQ(rt_chan_poll_recv(&ch, &rop, &v, &cx, &res), RT_PENDING);
    int seven = 7;
    wakes = atomic_load(&tw.wakes);
    CHECK_EQ(rt_chan_poll_send(&ch, &op, &seven, &cx, &res), RT_READY);
    CHECK_EQ(atomic_load(&tw.wakes), wakes + 1);
    CHECK_EQ(rt_chan_poll_recv(&ch, &rop, &v, &cx, &res), RT_READY);
    CHECK_EQ(v, 7);
    rt_chan_fini(&ch);
}

static void test_rendezvous_and_close(void)
{
    struct rt_chan ch;
    CHECK_OK(rt_chan_init(&ch, sizeof(int), 0));
    struct rt_chan_op s1, s2, r1;
    rt_chan_op_init(&s1);
    rt_chan_op_init(&s2);
    rt_chan_op_init(&r1);
    int a = 1, b = 2, v = 0, res;
    /* No receiver: both senders wait, in order. */
    CHECK_EQ(rt_chan_poll_send(&ch, &s1, &a, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_chan_poll_send(&ch, &s2, &b, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_chan_poll_send(&ch, &s1, &a, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r1, &v, &cx, &res), RT_READY);
    CHECK_EQ(v, 1);
    CHECK_EQ(rt_chan_poll_send(&ch, &s1, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    /* Close: the waiting sender fails, receivers drain then see closed. */
    rt_chan_close(&ch);
    rt_chan_close(&ch);
    CHECK_EQ(rt_chan_poll_send(&ch, &s2, &b, &cx, &res), RT_READY);
    CHECK_EQ(res, -EPIPE);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r1, &v, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    CHECK_EQ(rt_chan_poll_send(&ch, &s1, &a, &cx, &res), RT_READY);
    CHECK_EQ(res, -EPIPE);
    rt_chan_fini(&ch);

    /* Buffered close: drain first. */
    CHECK_OK(rt_chan_init(&ch, sizeof(int), 2));
    CHECK_EQ(rt_chan_poll_send(&ch, &s1, &a, &cx, &res), RT_READY);
    rt_chan_close(&ch);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r1, &v, &cx, &res), RT_READY);
    CHECK_EQ(res, 1);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r1, &v, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    rt_chan_fini(&ch);
}

static void test_cancel_passes_wake(void)
{
    struct rt_chan ch;
    CHECK_OK(rt_chan_init(&ch, sizeof(int), 1));
    struct tw tw2;
    struct rt_waker w2 = tw_init(&tw2);
    struct rt_cx cx2 = {&w2};
    struct rt_chan_op r1, r2, s;
    rt_chan_op_init(&r1);
    rt_chan_op_init(&r2);
    rt_chan_op_init(&s);
    int v, res, x = 42;
    CHECK_EQ(rt_chan_poll_recv(&ch, &r1, &v, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r2, &v, &cx2, &res), RT_PENDING);
    CHECK_EQ(rt_chan_poll_send(&ch, &s, &x, &cx, &res), RT_READY);
    /* r1 was woken to take the message but is dropped: r2 gets the wake. */
    CHECK_EQ(atomic_load(&tw2.wakes), 0);
    CHECK(!rt_chan_op_cancel(&ch, &r1));
    CHECK_EQ(atomic_load(&tw2.wakes), 1);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r2, &v, &cx2, &res), RT_READY);
    CHECK_EQ(v, 42);
    /* A rendezvous sender whose message was taken reports completion. */
    rt_chan_fini(&ch);
    CHECK_OK(rt_chan_init(&ch, sizeof(int), 0));
    CHECK_EQ(rt_chan_poll_send(&ch, &s, &x, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_chan_poll_recv(&ch, &r1, &v, &cx, &res), RT_READY);
    CHECK(rt_chan_op_cancel(&ch, &s));
    CHECK_EQ(rt_chan_poll_send(&ch, &s, &x, &cx, &res), RT_PENDING);
    CHECK(!rt_chan_op_cancel(&ch, &s)); /* not taken: the send did not happen */
    rt_chan_fini(&ch);
    CHECK_EQ(atomic_load(&tw2.live), 0);
}

static void test_bad_input(void)
{
    struct rt_chan ch;
    CHECK_EQ(rt_chan_init(NULL, 4, 1), -EINVAL);
    CHECK_EQ(rt_chan_init(&ch, 0, 1), -EINVAL);
    CHECK_EQ(rt_chan_init(&ch, (size_t)1 << 40, (size_t)1 << 40), -EINVAL);
    CHECK_OK(rt_chan_init(&ch, 4, 1));
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int res;
    CHECK_EQ(rt_chan_poll_send(&ch, &op, NULL, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    CHECK_EQ(rt_chan_poll_recv(&ch, NULL, &res, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    CHECK_EQ(rt_chan_poll_recv(&ch, &op, &res, NULL, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    rt_chan_fini(&ch);
}

int main(void)
{
    w = tw_init(&tw);
    cx.waker = &w;
    test_buffered();
    test_rendezvous_and_close();
    test_cancel_passes_wake();
    test_bad_input();
    CHECK_EQ(atomic_load(&tw.live), 0);
    return 0;
}

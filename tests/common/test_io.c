/* Leaf poll functions over real sockets: the EAGAIN path stores the waker,
 * readiness brings it back, data arrives byte-exact, accept and connect
 * work over loopback, sleep_until parks and returns, bad input is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include <greenfut/clock.h>
#include <greenfut/io.h>
#include <greenfut/reactor.h>
#include "testwaker.h"

/* Turns the reactor until the test waker has been woken `target` times. */
static void turn_until(struct rt_reactor *r, struct tw *tw, int target)
{
    while (atomic_load(&tw->wakes) < target)
        CHECK_OK(rt_reactor_turn(r, -1));
}

static void test_write_read_backpressure(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(rt_reactor_register(r, sv[0]));
    CHECK_OK(rt_reactor_register(r, sv[1]));
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_cx cx = {&w};

    /* Fill the writer until EAGAIN: the waker is stored, PENDING. */
    static char out[1 << 16];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (char)(i * 31 + 7);
    size_t sent = 0;
    ssize_t res;
    for (;;) {
        enum rt_poll p =
            rt_poll_write(r, sv[0], out + sent % sizeof out,
                          sizeof out - sent % sizeof out, &cx, &res);
        if (p == RT_PENDING)
            break;
        CHECK_GT(res, 0);
        sent += (size_t)res;
    }
    CHECK_EQ(atomic_load(&tw.live), 1);
    CHECK_EQ(rt_reactor_readiness(r, sv[0]) & RT_IO_WRITABLE, 0);

    /* Drain the reader; the writer's edge comes back and wakes it. */
    size_t got = 0;
    static char in[1 << 16];
    int wakes = atomic_load(&tw.wakes);
    while (got < sent) {
        enum rt_poll p = rt_poll_read(r, sv[1], in, sizeof in, &cx, &res);
        if (p == RT_PENDING) {
            CHECK_OK(rt_reactor_turn(r, -1));
            continue;
        }
        CHECK_GT(res, 0);
        for (ssize_t i = 0; i < res; i++)
            CHECK_EQ(in[i], out[(got + (size_t)i) % sizeof out]);
        got += (size_t)res;
    }
    turn_until(r, &tw, wakes + 1);
    CHECK(rt_reactor_readiness(r, sv[0]) & RT_IO_WRITABLE);

    /* EOF reads as 0 once the peer is gone. */
    CHECK_OK(rt_reactor_close(r, sv[0]));
    int target = atomic_load(&tw.wakes);
    while (rt_poll_read(r, sv[1], in, sizeof in, &cx, &res) == RT_PENDING)
        turn_until(r, &tw, ++target);
    CHECK_EQ(res, 0);
    /* And a write to a closed peer is an error, not a SIGPIPE. */
    CHECK_EQ(rt_poll_write(r, sv[1], "x", 1, &cx, &res), RT_READY);
    CHECK_EQ(res, -EPIPE);
    CHECK_OK(rt_reactor_close(r, sv[1]));
    rt_reactor_free(r);
    CHECK_EQ(atomic_load(&tw.live), 0);
}

static void test_accept_connect(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_cx cx = {&w};

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(lfd);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof sa;
    CHECK_OK(bind(lfd, (struct sockaddr *)&sa, sizeof sa));
    CHECK_OK(listen(lfd, 16));
    CHECK_OK(getsockname(lfd, (struct sockaddr *)&sa, &slen));
    CHECK_OK(rt_reactor_register(r, lfd));

    int afd = -1;
    CHECK_EQ(rt_poll_accept(r, lfd, NULL, NULL, &cx, &afd), RT_PENDING);

    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(cfd);
    CHECK_OK(rt_reactor_register(r, cfd));
    int crc = 1;
    enum rt_poll cp =
        rt_poll_connect(r, cfd, (struct sockaddr *)&sa, sizeof sa, &cx, &crc);
    int target = 0;
    while (cp == RT_PENDING) {
        turn_until(r, &tw, ++target);
        cp = rt_poll_connect(r, cfd, NULL, 0, &cx, &crc);
    }
    CHECK_EQ(crc, 0);
    target = atomic_load(&tw.wakes);
    while (rt_poll_accept(r, lfd, NULL, NULL, &cx, &afd) == RT_PENDING)
        turn_until(r, &tw, ++target);
    CHECK_OK(afd);
    CHECK(fcntl(afd, F_GETFL) & O_NONBLOCK);
    CHECK(fcntl(afd, F_GETFD) & FD_CLOEXEC);
    CHECK(rt_reactor_readiness(r, afd) >= 0); /* registered by accept */

    ssize_t res;
    CHECK_EQ(rt_poll_write(r, cfd, "ping", 4, &cx, &res), RT_READY);
    CHECK_EQ(res, 4);
    char buf[8] = {0};
    target = atomic_load(&tw.wakes);
    while (rt_poll_read(r, afd, buf, sizeof buf, &cx, &res) == RT_PENDING)
        turn_until(r, &tw, ++target);
    CHECK_EQ(res, 4);
    CHECK(memcmp(buf, "ping", 4) == 0);

    /* Connection refused surfaces as -ECONNREFUSED: the listener is gone. */
    CHECK_OK(rt_reactor_close(r, lfd));
    int c2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(rt_reactor_register(r, c2));
    target = atomic_load(&tw.wakes);
    cp = rt_poll_connect(r, c2, (struct sockaddr *)&sa, sizeof sa, &cx, &crc);
    while (cp == RT_PENDING) {
        turn_until(r, &tw, ++target);
        cp = rt_poll_connect(r, c2, NULL, 0, &cx, &crc);
    }
    CHECK_EQ(crc, -ECONNREFUSED);

    CHECK_OK(rt_reactor_close(r, c2));
    CHECK_OK(rt_reactor_close(r, cfd));
    CHECK_OK(rt_reactor_close(r, afd));
    rt_reactor_free(r);
    CHECK_EQ(atomic_load(&tw.live), 0);
}

static void test_sleep_until(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_cx cx = {&w};
    struct rt_timer t;
    rt_timer_init(&t);
    int res = -1;
    /* Far in the future: pending, and a re-poll keeps the one waker. */
    uint64_t far = rt_now_ns() + 3600000000000ull;
    CHECK_EQ(rt_poll_sleep_until(r, &t, far, &cx, &res), RT_PENDING);
    CHECK_EQ(rt_poll_sleep_until(r, &t, far, &cx, &res), RT_PENDING);
    CHECK_EQ(atomic_load(&tw.live), 1);
    CHECK(rt_timer_armed(&t));
    /* Moved to a near deadline: the turn fires it, then it is ready. No
     * assumption about how long a step takes: only the order of events. */
    uint64_t near = rt_now_ns() + 1000000;
    if (rt_poll_sleep_until(r, &t, near, &cx, &res) == RT_PENDING)
        turn_until(r, &tw, 1);
    CHECK_EQ(rt_poll_sleep_until(r, &t, near, &cx, &res), RT_READY);
    CHECK_EQ(res, 0);
    CHECK_GE(rt_now_ns(), near);
    CHECK(!rt_timer_armed(&t));
    /* A deadline in the past is ready at once, arming nothing. */
    CHECK_EQ(rt_poll_sleep_until(r, &t, 0, &cx, &res), RT_READY);
    CHECK(!rt_timer_armed(&t));
    rt_reactor_free(r);
    CHECK_EQ(atomic_load(&tw.live), 0);
}

static void test_bad_input(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_cx cx = {&w};
    struct rt_waker none = RT_WAKER_NONE;
    struct rt_cx nocx = {&none};
    char buf[4];
    ssize_t res = 0;
    int ires = 0;
    CHECK_EQ(rt_poll_read(r, 99999, buf, 4, &cx, &res), RT_READY);
    CHECK_EQ(res, -EBADF);
    CHECK_EQ(rt_poll_read(r, -1, buf, 4, &cx, &res), RT_READY);
    CHECK_EQ(res, -EBADF);
    CHECK_EQ(rt_poll_read(NULL, 0, buf, 4, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    CHECK_EQ(rt_poll_read(r, 0, NULL, 4, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    CHECK_EQ(rt_poll_read(r, 0, buf, (size_t)-1, &cx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL); /* a "negative" length */
    CHECK_EQ(rt_poll_write(r, 0, buf, 4, NULL, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    CHECK_EQ(rt_poll_write(r, 0, buf, 4, &nocx, &res), RT_READY);
    CHECK_EQ(res, -EINVAL);
    CHECK_EQ(rt_poll_read(r, 0, buf, 4, &cx, NULL), RT_READY);
    CHECK_EQ(rt_poll_accept(r, 12345, NULL, NULL, &cx, &ires), RT_READY);
    CHECK_EQ(ires, -EBADF);
    CHECK_EQ(rt_poll_connect(r, 12345, NULL, 0, &cx, &ires), RT_READY);
    CHECK_EQ(ires, -EBADF);
    CHECK_EQ(rt_poll_sleep_until(r, NULL, 0, &cx, &ires), RT_READY);
    CHECK_EQ(ires, -EINVAL);
    rt_reactor_free(r);
    CHECK_EQ(atomic_load(&tw.live), 0);
}

int main(void)
{
    test_write_read_backpressure();
    test_accept_connect();
    test_sleep_until();
    test_bad_input();
    return 0;
}

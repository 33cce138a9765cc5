/* An IO future that loses a race against a deadline (fut_timeout, or a
 * fut_select against a sleep) is dropped, and its drop takes its waker out
 * of the fd's slot. Otherwise the reactor goes on counting an IO waiter
 * nobody will wake, and a later deadlock is never reported: the executor
 * blocks in epoll instead of returning -EDEADLK (a hang fails this test
 * through its CTest TIMEOUT). Read, write, accept and connect each lose
 * once; the last step is the deadlock that must be reported. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "check.h"
#include <greenfut/combinators.h>
#include <greenfut/leaf.h>
#include <greenfut/task.h>

#define MS 1000000ull

static size_t io_waiters(void)
{
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(fut_reactor(), &st));
    return st.io_waiters;
}

/* Runs `inner` under a 10 ms timeout that must win. */
static void must_time_out(struct fut_future *inner, void *inner_out)
{
    struct fut_timeout t;
    CHECK_OK(fut_timeout_init(&t, inner, inner_out, 10 * MS));
    int rc = 0;
    CHECK_OK(fut_block_on(&t.base, &rc));
    CHECK_EQ(rc, -ETIMEDOUT);
    fut_drop(&t.base);
    CHECK_EQ(io_waiters(), 0);
}

/* Pending forever without keeping a waker: a deadlock by itself. */
static enum rt_poll never_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    return RT_PENDING;
}

static const struct fut_vtable never_vt = {never_poll, NULL, "never"};

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));

    int p[2];
    CHECK_OK(pipe(p));
    CHECK_OK(fut_register(p[0]));
    CHECK_OK(fut_register(p[1]));
    char buf[4096];
    ssize_t n = 0;

    /* A read with nothing to read. */
    struct fut_read rd;
    fut_read_init(&rd, p[0], buf, sizeof buf);
    must_time_out(&rd.base, &n);

    /* The same through a select against a sleep. */
    struct fut_sleep nap;
    fut_read_init(&rd, p[0], buf, sizeof buf);
    fut_sleep_for_init(&nap, 10 * MS);
    struct fut_future *futs[2] = {&rd.base, &nap.base};
    struct fut_select sel;
    CHECK_OK(fut_select_init(&sel, futs, NULL, 2));
    size_t won = 0;
    CHECK_OK(fut_block_on(&sel.base, &won));
    CHECK_EQ(won, 1);
    fut_drop(&sel.base);
    CHECK_EQ(io_waiters(), 0);

    /* A write into a full pipe. */
    memset(buf, 'x', sizeof buf);
    while (write(p[1], buf, sizeof buf) > 0)
        continue;
    struct fut_write wr;
    fut_write_init(&wr, p[1], buf, sizeof buf);
    must_time_out(&wr.base, &n);
    struct fut_write_all wa;
    fut_write_all_init(&wa, p[1], buf, sizeof buf);
    must_time_out(&wa.base, &n);

    /* An accept with nobody connecting. */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_GE(lfd, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    CHECK_OK(bind(lfd, (struct sockaddr *)&addr, alen));
    CHECK_OK(listen(lfd, 0));
    CHECK_OK(getsockname(lfd, (struct sockaddr *)&addr, &alen));
    CHECK_OK(fut_register(lfd));
    int afd = 0;
    struct fut_accept ac;
    fut_accept_init(&ac, lfd, NULL, NULL);
    must_time_out(&ac.base, &afd);

    /* A connect that cannot finish in time: the accept queue is full (the
     * connections below are never accepted), so the kernel drops our SYN
     * and retries it later. */
    int fill[2];
    for (int i = 0; i < 2; i++) {
        fill[i] =
            socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        CHECK_GE(fill[i], 0);
        if (connect(fill[i], (struct sockaddr *)&addr, alen) < 0)
            CHECK_EQ(errno, EINPROGRESS);
    }
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_GE(cfd, 0);
    CHECK_OK(fut_register(cfd));
    int crc = 0;
    struct fut_connect co;
    fut_connect_init(&co, cfd, (struct sockaddr *)&addr, alen);
    struct fut_timeout t;
    CHECK_OK(fut_timeout_init(&t, &co.base, &crc, 10 * MS));
    int rc = 0;
    CHECK_OK(fut_block_on(&t.base, &rc));
    /* Should the kernel let the connect end in time after all, it did
     * not lose the race: nothing to check but its result. */
    if (rc == 0)
        CHECK(crc < 0);
    else
        CHECK_EQ(rc, -ETIMEDOUT);
    fut_drop(&t.base);
    CHECK_EQ(io_waiters(), 0);

    /* Nothing can wake anyone now: a deadlock, reported, not a hang. */
    struct fut_future never = {&never_vt};
    CHECK_EQ(fut_block_on(&never, NULL), -EDEADLK);

    for (int i = 0; i < 2; i++)
        close(fill[i]);
    CHECK_OK(fut_close(cfd));
    CHECK_OK(fut_close(lfd));
    CHECK_OK(fut_close(p[0]));
    CHECK_OK(fut_close(p[1]));
    fut_executor_free(ex);
    return 0;
}

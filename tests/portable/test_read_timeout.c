/* A read that loses its race against the deadline takes its waker out of
 * the fd's read slot (a write out of the write slot, a channel receive out
 * of the channel's queue). Otherwise the reactor goes on counting an IO
 * waiter that nothing will ever wake, and a deadlock that follows is never
 * reported: the scheduler blocks in epoll instead of returning -EDEADLK.
 * (A hang fails this test through its CTest TIMEOUT.) */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/socket.h>

#include "check.h"
#include <greenfut/rt.h>

static int rfd = -1; /* read end of a pipe whose write end stays open */
static int reached;  /* how far the root came */
static struct rt_reactor_stats after;      /* right after the timed-out read */
static struct rt_reactor_stats after_recv; /* ... and the timed-out recv */
static int wfd = -1;                       /* a socket whose peer never reads */
static struct rt_reactor_stats after_write; /* ... and the timed-out write */

struct root {
    RT_FRAME;
    struct rt_chan ch;
    struct rt_timer t;
    uint64_t deadline;
    char buf[16];
    ssize_t n;
    int msg;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_register(rfd));
    /* Unbuffered: no ring to free after the run was abandoned. */
    CHECK_OK(rt_chan_init(&f->ch, sizeof(int), 0));
    RT_AWAIT_READ_UNTIL(f, f->n, rfd, f->buf, sizeof(f->buf),
                        rt_now_ns() + 10000000u);
    CHECK_EQ(f->n, -ETIMEDOUT);
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &after));
    f->deadline = rt_now_ns() + 10000000u;
    RT_AWAIT_RECV_UNTIL(f, f->rc, &f->ch, &f->msg, &f->t, f->deadline);
    CHECK_EQ(f->rc, -ETIMEDOUT);
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &after_recv));
    /* Fill the socket until the kernel takes no more, then race a write
     * against a deadline: the write must lose. */
    CHECK_OK(rt_register(wfd));
    while (write(wfd, f->buf, sizeof(f->buf)) > 0)
        ;
    CHECK_EQ(errno, EAGAIN);
    RT_AWAIT_WRITE_UNTIL(f, f->n, wfd, f->buf, sizeof(f->buf),
                         rt_now_ns() + 10000000u);
    CHECK_EQ(f->n, -ETIMEDOUT);
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &after_write));
    reached = 1;
    /* Nobody sends: the run must end in a deadlock report. */
    RT_AWAIT_RECV(f, f->rc, &f->ch, &f->msg);
    reached = 2;
    RT_RETURN(f, 0);
    RT_END(f);
}

int main(void)
{
    int p[2];
    CHECK_OK(pipe(p));
    rfd = p[0];
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    wfd = sv[0];
    struct root r = {0};
    CHECK_EQ(rt_run(root, &r, sizeof r, NULL), -EDEADLK);
    CHECK_EQ(reached, 1);
    CHECK_EQ(after.io_waiters, 0);
    CHECK_EQ(after.timers, 0);
    CHECK_EQ(after_recv.io_waiters, 0);
    CHECK_EQ(after_recv.timers, 0);
    CHECK_EQ(after_write.io_waiters, 0);
    CHECK_EQ(after_write.timers, 0);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
    return 0;
}

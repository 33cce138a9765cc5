/* Socketpair IO on either backend: 1 MiB each way at once between two
 * pairs of tasks, byte-exact, with partial reads and writes; reads and
 * writes with a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "check.h"
#include <greenfut/rt.h>

#define BYTES (1 << 20)

static unsigned char pattern(size_t i, int salt)
{
    return (unsigned char)((i * 131u + (size_t)salt * 7u) >> 3);
}

struct writer {
    RT_FRAME;
    int fd;
    int salt;
    unsigned char *buf;
    size_t off;
    size_t len;
    ssize_t n;
};

static enum rt_poll writer(void *self)
{
    struct writer *f = self;
    RT_BEGIN(f);
    f->buf = malloc(BYTES);
    CHECK(f->buf != NULL);
    for (size_t i = 0; i < BYTES; i++)
        f->buf[i] = pattern(i, f->salt);
    while (f->off < BYTES) {
        /* Odd chunk sizes, so writes split and straddle reads. The length
         * is a frame field: an await's arguments are evaluated again at
         * every resume (rule 3 of rt.h). */
        f->len = BYTES - f->off < 7777 ? BYTES - f->off : 7777;
        RT_AWAIT_WRITE(f, f->n, f->fd, f->buf + f->off, f->len);
        CHECK_GT(f->n, 0);
        f->off += (size_t)f->n;
    }
    free(f->buf);
    CHECK_OK(shutdown(f->fd, SHUT_WR));
    RT_END(f);
}

struct reader {
    RT_FRAME;
    int fd;
    int salt;
    unsigned char buf[4096];
    size_t off;
    ssize_t n;
};

static enum rt_poll reader(void *self)
{
    struct reader *f = self;
    RT_BEGIN(f);
    for (;;) {
        RT_AWAIT_READ(f, f->n, f->fd, f->buf, sizeof f->buf);
        CHECK_GE(f->n, 0);
        if (f->n == 0)
            break;
        for (ssize_t i = 0; i < f->n; i++)
            CHECK_EQ(f->buf[i], pattern(f->off + (size_t)i, f->salt));
        f->off += (size_t)f->n;
    }
    RT_RETURN(f, f->off);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int sv[2];
    struct rt_join j[4];
    int i;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv));
    CHECK_OK(rt_register(f->sv[0]));
    CHECK_OK(rt_register(f->sv[1]));
    /* One writer and one reader on each end: both directions at once. */
    for (f->i = 0; f->i < 2; f->i++) {
        struct writer w = {.fd = f->sv[f->i], .salt = f->i};
        struct reader r = {.fd = f->sv[1 - f->i], .salt = f->i};
        CHECK_OK(rt_spawn(writer, &w, sizeof w, &f->j[2 * f->i]));
        CHECK_OK(rt_spawn(reader, &r, sizeof r, &f->j[2 * f->i + 1]));
    }
    for (f->i = 0; f->i < 4; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
        if (f->i % 2)
            CHECK_EQ(f->j[f->i].ret, BYTES);
    }
    CHECK_OK(rt_close(f->sv[0]));
    CHECK_OK(rt_close(f->sv[1]));
    RT_END(f);
}

/* A read with a deadline: times out with no data, returns data that comes
 * in time, and leaves no armed timer behind either way. */
struct timed {
    RT_FRAME;
    int sv[2];
    char c;
    ssize_t n;
};

static enum rt_poll timed(void *self)
{
    struct timed *f = self;
    RT_BEGIN(f);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv));
    CHECK_OK(rt_register(f->sv[0]));
    RT_AWAIT_READ_UNTIL(f, f->n, f->sv[0], &f->c, 1, rt_now_ns() + 2000000);
    CHECK_EQ(f->n, -ETIMEDOUT);
    CHECK_EQ(write(f->sv[1], "z", 1), 1);
    RT_AWAIT_READ_UNTIL(f, f->n, f->sv[0], &f->c, 1,
                        rt_now_ns() + 60000000000ull);
    CHECK_EQ(f->n, 1);
    CHECK_EQ(f->c, 'z');
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &st));
    CHECK_EQ(st.timers, 0);
    CHECK_OK(rt_close(f->sv[0]));
    close(f->sv[1]);
    RT_END(f);
}

/* RT_AWAIT_WRITE_UNTIL: writes go through while the peer has room, give
 * -ETIMEDOUT once it has none until the deadline, succeed again once the
 * peer has read, and leave no armed timer behind. */
struct timed_write {
    RT_FRAME;
    int sv[2];
    int i;
    ssize_t n;
    char buf[4096];
};

static enum rt_poll timed_write(void *self)
{
    struct timed_write *f = self;
    RT_BEGIN(f);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv));
    CHECK_OK(rt_register(f->sv[0]));
    /* A socket buffer holds a few hundred KiB at most: bounded. */
    for (f->i = 0; f->i < 100000; f->i++) {
        RT_AWAIT_WRITE_UNTIL(f, f->n, f->sv[0], f->buf, sizeof f->buf,
                             rt_now_ns() + 2000000);
        if (f->n < 0)
            break;
        CHECK_GT(f->n, 0);
    }
    CHECK_EQ(f->n, -ETIMEDOUT);
    CHECK_GT(f->i, 0);
    /* Empty the peer (a bounded loop: what was written above), so the
     * socket is writable again by any measure the kernel uses. */
    CHECK_OK(fcntl(f->sv[1], F_SETFL, O_NONBLOCK));
    for (int k = 0; k <= f->i; k++)
        if (read(f->sv[1], f->buf, sizeof f->buf) <= 0)
            break;
    CHECK_EQ(read(f->sv[1], f->buf, sizeof f->buf), -1);
    CHECK_EQ(errno, EAGAIN);
    RT_AWAIT_WRITE_UNTIL(f, f->n, f->sv[0], f->buf, 1,
                         rt_now_ns() + 60000000000ull);
    CHECK_EQ(f->n, 1);
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &st));
    CHECK_EQ(st.timers, 0);
    CHECK_OK(rt_close(f->sv[0]));
    close(f->sv[1]);
    RT_END(f);
}

int main(void)
{
    struct root r = {0};
    CHECK_OK(rt_run(root, &r, sizeof r, NULL));
    struct timed t = {0};
    CHECK_OK(rt_run(timed, &t, sizeof t, NULL));
    struct timed_write tw = {0};
    CHECK_OK(rt_run(timed_write, &tw, sizeof tw, NULL));
    return 0;
}

/* The leaf poll functions both backends share: read, write, accept,
 * connect, sleep-until, and the transfers raced against a deadline.
 * Invariant: a readiness bit is cleared only when the kernel has said the
 * edge is used up (EAGAIN, or a short transfer on a stream socket); an
 * operation that finds its bit clear parks without a syscall.
 */
#include <greenfut/io.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include <greenfut/check.h>
#include <greenfut/clock.h>
#include "reactor_internal.h"
#include "sys.h"

/* EAGAIN: the edge is used up. Clear the bit, leave the waker, park. */
static enum rt_poll park(struct rt_reactor *r, struct rt__io *io, unsigned bit,
                         const struct rt_cx *cx)
{
    RT_DEBUG_ASSERT(bit == RT_IO_READABLE || bit == RT_IO_WRITABLE);
    io->ready &= (uint8_t)~bit;
    rt__reactor_io_wait(r, bit == RT_IO_READABLE ? &io->rd : &io->wr,
                        cx->waker);
    return RT_PENDING;
}

/* read(2) or write(2) (send with MSG_NOSIGNAL on a socket), whichever
 * readiness bit `bit` names: the one loop both leaf operations share. */
static enum rt_poll transfer(struct rt_reactor *r, int fd, void *buf,
                             size_t len, unsigned bit, struct rt_cx *cx,
                             ssize_t *res)
{
    if (!res)
        return RT_READY;
    if (!r || !rt_cx_ok(cx) || (!buf && len) || len > SSIZE_MAX) {
        *res = -EINVAL;
        return RT_READY;
    }
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        *res = -EBADF;
        return RT_READY;
    }
    if (!(io->ready & bit))
        return park(r, io, bit, cx);
    for (;;) {
        ssize_t n = bit == RT_IO_READABLE ? rt_sys_read(fd, buf, len)
                    : io->socket ? rt_sys_send(fd, buf, len, MSG_NOSIGNAL)
                                 : rt_sys_write(fd, buf, len);
        if (n >= 0) {
            RT_DEBUG_ASSERT((size_t)n <= len); /* the kernel's contract */
            /* A short transfer on a stream socket used up the edge, as an
             * EAGAIN would: a short read emptied the receive queue, a short
             * send filled the send buffer. Under edge-triggered epoll any
             * later data (or space) raises a new edge, which the next turn
             * turns back into readiness, so the next transfer parks on it
             * instead of making a syscall known to fail with EAGAIN (one
             * read per request instead of two: bench/net.py's
             * reads_per_request). Not after a hang-up or an error, whose
             * edge is already spent and would not come again; not on pipes
             * or datagram sockets (see is_stream in reactor.c); never for
             * 0 bytes, since EOF must stay readable. */
            if (io->stream && !io->hup && n > 0 && (size_t)n < len)
                io->ready &= (uint8_t)~bit;
            *res = n;
            return RT_READY;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return park(r, io, bit, cx);
        if (errno != EINTR) {
            *res = -errno;
            return RT_READY;
        }
    }
}

enum rt_poll rt_poll_read(struct rt_reactor *r, int fd, void *buf, size_t len,
                          struct rt_cx *cx, ssize_t *res)
{
    return transfer(r, fd, buf, len, RT_IO_READABLE, cx, res);
}

enum rt_poll rt_poll_write(struct rt_reactor *r, int fd, const void *buf,
                           size_t len, struct rt_cx *cx, ssize_t *res)
{
    /* The buffer is only read: transfer casts const away for the one
     * signature that serves both directions. */
    return transfer(r, fd, (void *)(uintptr_t)buf, len, RT_IO_WRITABLE, cx,
                    res);
}

enum rt_poll rt_poll_accept(struct rt_reactor *r, int fd, struct sockaddr *addr,
                            socklen_t *alen, struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !rt_cx_ok(cx) || (addr && !alen)) {
        *res = -EINVAL;
        return RT_READY;
    }
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        *res = -EBADF;
        return RT_READY;
    }
    if (!(io->ready & RT_IO_READABLE))
        return park(r, io, RT_IO_READABLE, cx);
    for (;;) {
        int c = rt_sys_accept4(fd, addr, alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) {
            int rc = rt_reactor_register(r, c);
            if (rc < 0) {
                close(c);
                *res = rc;
            } else {
                *res = c;
            }
            return RT_READY;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return park(r, io, RT_IO_READABLE, cx);
        /* ECONNABORTED and friends: the next connection may be fine, but the
         * caller decides; only EINTR is ours to retry. */
        if (errno != EINTR) {
            *res = -errno;
            return RT_READY;
        }
    }
}

enum rt_poll rt_poll_connect(struct rt_reactor *r, int fd,
                             const struct sockaddr *addr, socklen_t alen,
                             struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !rt_cx_ok(cx)) {
        *res = -EINVAL;
        return RT_READY;
    }
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        *res = -EBADF;
        return RT_READY;
    }
    if (!io->connecting) {
        if (!addr) {
            *res = -EINVAL;
            return RT_READY;
        }
        if (rt_sys_connect(fd, addr, alen) == 0) {
            *res = 0;
            return RT_READY;
        }
        /* An interrupted connect goes on in the background, exactly like
         * one in progress; calling connect again would say EALREADY. */
        if (errno != EINPROGRESS && errno != EINTR) {
            *res = -errno;
            return RT_READY;
        }
        /* In flight: the writable edge says it ended, SO_ERROR how. */
        io->connecting = 1;
        return park(r, io, RT_IO_WRITABLE, cx);
    }
    if (!(io->ready & RT_IO_WRITABLE))
        return park(r, io, RT_IO_WRITABLE, cx);
    int err = 0;
    socklen_t elen = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    io->connecting = 0;
    *res = -err;
    return RT_READY;
}

/* Declared in sleep.h (chan.c needs it without the rest of io.h), defined
 * here: the deadline-raced transfers below call it on every pending poll,
 * and in this translation unit the compiler inlines it into them. */
enum rt_poll rt_poll_sleep_until(struct rt_reactor *r, struct rt_timer *t,
                                 uint64_t deadline, struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !t || !rt_cx_ok(cx)) {
        *res = -EINVAL;
        return RT_READY;
    }
    if (rt_now_ns() >= deadline) {
        rt_reactor_timer_cancel(r, t);
        RT_DEBUG_ASSERT(!rt_timer_armed(t)); /* READY leaves it idle */
        *res = 0;
        return RT_READY;
    }
    /* Already armed for this deadline: only the waker may have changed. */
    if (rt_timer_rewake(t, deadline, cx->waker))
        return RT_PENDING;
    int rc = rt_reactor_timer_arm(r, t, deadline, cx->waker);
    if (rc < 0) {
        *res = rc;
        return RT_READY;
    }
    return RT_PENDING;
}

/* A transfer raced against a deadline on timer t: whichever is first
 * ends the await; the loser is taken off (the timer cancelled, or the
 * waker out of the fd's slot). */
static enum rt_poll transfer_until(struct rt_reactor *r, int fd, void *buf,
                                   size_t len, unsigned bit, struct rt_timer *t,
                                   uint64_t deadline, struct rt_cx *cx,
                                   ssize_t *res)
{
    if (!res)
        return RT_READY;
    if (!t) {
        *res = -EINVAL;
        return RT_READY;
    }
    if (transfer(r, fd, buf, len, bit, cx, res) == RT_READY) {
        rt_reactor_timer_cancel(r, t);
        RT_DEBUG_ASSERT(!rt_timer_armed(t)); /* READY leaves it idle */
        return RT_READY;
    }
    /* Pending on the fd: the timer is the other way out. */
    int trc = 0;
    if (rt_poll_sleep_until(r, t, deadline, cx, &trc) == RT_PENDING)
        return RT_PENDING;
    /* The deadline won (or the timer could not be armed): the transfer is
     * over, so its waker leaves the fd's slot, or the reactor would count
     * a waiter that nothing wakes and hide a later deadlock. */
    rt_reactor_io_cancel(r, fd, bit, cx->waker);
    *res = trc < 0 ? trc : -ETIMEDOUT;
    return RT_READY;
}

enum rt_poll rt_poll_read_until(struct rt_reactor *r, int fd, void *buf,
                                size_t len, struct rt_timer *t,
                                uint64_t deadline, struct rt_cx *cx,
                                ssize_t *res)
{
    return transfer_until(r, fd, buf, len, RT_IO_READABLE, t, deadline, cx,
                          res);
}

enum rt_poll rt_poll_write_until(struct rt_reactor *r, int fd, const void *buf,
                                 size_t len, struct rt_timer *t,
                                 uint64_t deadline, struct rt_cx *cx,
                                 ssize_t *res)
{
    /* Only read, as in rt_poll_write. */
    return transfer_until(r, fd, (void *)(uintptr_t)buf, len, RT_IO_WRITABLE, t,
                          deadline, cx, res);
}

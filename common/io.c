/* The leaf poll functions both backends share: read, write, accept,
 * connect, sleep-until, and the transfers raced against a deadline.
 * Invariant: a readiness bit is cleared only when the kernel has said the
 * edge is used up (EAGAIN, or a short transfer on a stream socket); an
 * operation that finds its bit clear parks without a syscall.
 *
 * On a shared reactor (rt_reactor_share) each operation has a second path:
 * it reads its registration under the reactor's lock, makes the syscall
 * without it, and takes it again to clear readiness and park. A turn on
 * another thread may apply a new edge in between; the clear would erase
 * it, and as the edge's wake found no waker stored, nothing would ever
 * wake the op: a lost edge. So every applied edge bumps the registration's
 * tick, and the op clears readiness (and parks) only when the tick is
 * still the one it read before the syscall: then no edge came since the
 * kernel said "used up", and any later one finds the op's waker stored
 * (it is stored in the same locked section as the clear). When the tick
 * moved, the op tries its syscall again instead. A registration whose gen
 * moved was deregistered meanwhile: the op ends with -EBADF, as it would
 * on its next poll.
 */
#include <greenfut/io.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>

#include <greenfut/check.h>
#include <greenfut/coop.h>
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

/* Shared mode: what an op read of its registration under the lock. */
struct seen {
    uint32_t gen;
    uint32_t tick;
    uint8_t socket;
    uint8_t stream;
};

static struct seen see(const struct rt__io *io)
{
    return (struct seen){io->gen, io->tick, io->socket, io->stream};
}

static struct rt_waker *slot_of(struct rt__io *io, unsigned bit)
{
    return bit == RT_IO_READABLE ? &io->rd : &io->wr;
}

/* Shared mode, under the lock: parks on a registration (clears `bit`,
 * stores the waker) and unlocks; the replaced waker is dropped unlocked. */
static enum rt_poll park_locked(struct rt_reactor *r, struct rt__io *io,
                                unsigned bit, const struct rt_cx *cx)
{
    io->ready &= (uint8_t)~bit;
    struct rt_waker old = rt__reactor_io_swap(r, slot_of(io, bit), cx->waker);
    rt_spin_unlock(&r->lock, true);
    rt_waker_drop(&old);
    return RT_PENDING;
}

/* What park_shared found. */
enum { PARKED, RETRY, GONE };

/* Shared mode: the syscall said EAGAIN. Takes the lock and parks if no
 * edge came since `*sn` was read (the file comment says why that is
 * safe); else refreshes *sn and says RETRY, or GONE when the fd was
 * deregistered meanwhile. */
static int park_shared(struct rt_reactor *r, int fd, struct seen *sn,
                       unsigned bit, const struct rt_cx *cx)
{
    rt_spin_lock_always(&r->lock);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io || io->gen != sn->gen) {
        rt_spin_unlock(&r->lock, true);
        return GONE;
    }
    if (io->tick != sn->tick) {
        *sn = see(io);
        rt_spin_unlock(&r->lock, true);
        return RETRY;
    }
    (void)park_locked(r, io, bit, cx);
    return PARKED;
}

/* Shared mode: the start of every op. Looks `fd` up under the lock; when
 * it is not registered gives -EBADF (returns false, unlocked); when `bit`
 * is clear parks (returns false with *parked set, unlocked); else fills
 * *sn and returns true, unlocked. */
static bool start_shared(struct rt_reactor *r, int fd, unsigned bit,
                         const struct rt_cx *cx, struct seen *sn, bool *parked)
{
    *parked = false;
    rt_spin_lock_always(&r->lock);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        rt_spin_unlock(&r->lock, true);
        return false;
    }
    if (!(io->ready & bit)) {
        *parked = true;
        (void)park_locked(r, io, bit, cx);
        return false;
    }
    *sn = see(io);
    rt_spin_unlock(&r->lock, true);
    return true;
}

/* The one syscall of a transfer: recv(2) and send(2) on a socket (they
 * skip the file layer that read(2) and write(2) pass through on their way
 * to the socket, a few per cent of a small request's CPU; send also gets
 * MSG_NOSIGNAL, so a peer's reset is -EPIPE, not SIGPIPE), read(2) and
 * write(2) on anything else. */
static ssize_t rw(int fd, void *buf, size_t len, unsigned bit, bool socket)
{
    if (bit == RT_IO_READABLE)
        return socket ? rt_sys_recv(fd, buf, len, 0)
                      : rt_sys_read(fd, buf, len);
    return socket ? rt_sys_send(fd, buf, len, MSG_NOSIGNAL)
                  : rt_sys_write(fd, buf, len);
}

/* transfer on a shared reactor (arguments already checked). */
static enum rt_poll transfer_shared(struct rt_reactor *r, int fd, void *buf,
                                    size_t len, unsigned bit, struct rt_cx *cx,
                                    ssize_t *res)
{
    struct seen sn;
    bool parked;
    if (!start_shared(r, fd, bit, cx, &sn, &parked)) {
        if (parked)
            return RT_PENDING;
        *res = -EBADF;
        return RT_READY;
    }
    for (;;) {
        ssize_t n = rw(fd, buf, len, bit, sn.socket);
        if (n >= 0) {
            RT_DEBUG_ASSERT((size_t)n <= len); /* the kernel's contract */
            /* The short-transfer clear of transfer() below, under the same
             * tick rule as an EAGAIN: a clear after a newer edge is
             * skipped (one extra syscall at worst, never a lost edge). */
            if (sn.stream && n > 0 && (size_t)n < len) {
                rt_spin_lock_always(&r->lock);
                struct rt__io *io = rt__reactor_io(r, fd);
                if (io && io->gen == sn.gen && io->tick == sn.tick && !io->hup)
                    io->ready &= (uint8_t)~bit;
                rt_spin_unlock(&r->lock, true);
            }
            *res = n;
            return RT_READY;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int p = park_shared(r, fd, &sn, bit, cx);
            if (p == PARKED)
                return RT_PENDING;
            if (p == GONE) {
                *res = -EBADF;
                return RT_READY;
            }
            continue; /* RETRY: a new edge came during the syscall */
        }
        if (errno != EINTR) {
            *res = -errno;
            return RT_READY;
        }
    }
}

/* A read or a write (rw above), whichever readiness bit `bit` names: the
 * one loop both leaf operations share. */
static enum rt_poll transfer(struct rt_reactor *r, int fd, void *buf,
                             size_t len, unsigned bit, struct rt_cx *cx,
                             ssize_t *res)
{
    if (!res)
        return RT_READY;
    if (!r || !rt_cx_ok(cx) || (!buf && len) || len > SSIZE_MAX) {
        *res = rt__cx_refusal();
        return RT_READY;
    }
    if (!rt_coop_take(cx)) /* include/greenfut/coop.h */
        return RT_PENDING;
    if (r->shared)
        return transfer_shared(r, fd, buf, len, bit, cx, res);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        *res = -EBADF;
        return RT_READY;
    }
    if (!(io->ready & bit))
        return park(r, io, bit, cx);
    for (;;) {
        ssize_t n = rw(fd, buf, len, bit, io->socket);
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

/* accept4(2), registering the new fd (unlocked: register locks). */
static int accept_one(struct rt_reactor *r, int fd, struct sockaddr *addr,
                      socklen_t *alen)
{
    int c = rt_sys_accept4(fd, addr, alen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return -errno;
    int rc = rt_reactor_register(r, c);
    if (rc < 0) {
        close(c);
        return rc;
    }
    return c;
}

/* rt_poll_accept on a shared reactor (arguments already checked). */
static enum rt_poll accept_shared(struct rt_reactor *r, int fd,
                                  struct sockaddr *addr, socklen_t *alen,
                                  struct rt_cx *cx, int *res)
{
    struct seen sn;
    bool parked;
    if (!start_shared(r, fd, RT_IO_READABLE, cx, &sn, &parked)) {
        if (parked)
            return RT_PENDING;
        *res = -EBADF;
        return RT_READY;
    }
    for (;;) {
        int c = accept_one(r, fd, addr, alen);
        if (c == -EAGAIN || c == -EWOULDBLOCK) {
            int p = park_shared(r, fd, &sn, RT_IO_READABLE, cx);
            if (p == PARKED)
                return RT_PENDING;
            if (p == GONE) {
                *res = -EBADF;
                return RT_READY;
            }
            continue;
        }
        if (c != -EINTR) {
            *res = c;
            return RT_READY;
        }
    }
}

enum rt_poll rt_poll_accept(struct rt_reactor *r, int fd, struct sockaddr *addr,
                            socklen_t *alen, struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !rt_cx_ok(cx) || (addr && !alen)) {
        *res = rt__cx_refusal();
        return RT_READY;
    }
    if (!rt_coop_take(cx))
        return RT_PENDING;
    if (r->shared)
        return accept_shared(r, fd, addr, alen, cx, res);
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

/* SO_ERROR of a socket whose connect ended: 0 or -errno. */
static int connect_result(int fd)
{
    int err = 0;
    socklen_t elen = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        err = errno;
    return -err;
}

/* rt_poll_connect on a shared reactor (arguments already checked). The
 * connect's end is the writable edge. The first poll starts it and parks
 * as transfer parks after an EAGAIN: only if no edge came since the tick
 * it read before connect(2). If one came, that edge may be the end, or an
 * event the socket had before the connect began (a fresh TCP socket
 * reports writable and hang-up) that a turn applied meanwhile: poll(2)
 * says which, from the socket's present state, with the same tick rule
 * for parking. Later polls find the bit cleared by that park and set again
 * only by an edge that came after it: the end. */
/* The connect(2) call of both paths: false with *res set when it ended at
 * once (0, or -EINVAL for a NULL addr, or its error), true when it is in
 * flight. An interrupted connect goes on in the background, exactly like
 * one in progress; calling connect again would say EALREADY. */
static bool connect_start(int fd, const struct sockaddr *addr, socklen_t alen,
                          int *res)
{
    if (!addr) {
        *res = -EINVAL;
        return false;
    }
    if (rt_sys_connect(fd, addr, alen) == 0) {
        *res = 0;
        return false;
    }
    if (errno != EINPROGRESS && errno != EINTR) {
        *res = -errno;
        return false;
    }
    return true;
}

static enum rt_poll connect_shared(struct rt_reactor *r, int fd,
                                   const struct sockaddr *addr, socklen_t alen,
                                   struct rt_cx *cx, int *res)
{
    rt_spin_lock_always(&r->lock);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        rt_spin_unlock(&r->lock, true);
        *res = -EBADF;
        return RT_READY;
    }
    if (io->connecting) {
        if (!(io->ready & RT_IO_WRITABLE))
            return park_locked(r, io, RT_IO_WRITABLE, cx);
        io->connecting = 0;
        rt_spin_unlock(&r->lock, true);
        *res = connect_result(fd);
        return RT_READY;
    }
    struct seen sn = see(io);
    rt_spin_unlock(&r->lock, true);
    if (!connect_start(fd, addr, alen, res))
        return RT_READY;
    for (;;) {
        rt_spin_lock_always(&r->lock);
        io = rt__reactor_io(r, fd);
        if (!io || io->gen != sn.gen) {
            rt_spin_unlock(&r->lock, true);
            *res = -EBADF;
            return RT_READY;
        }
        io->connecting = 1;
        if (io->tick == sn.tick)
            return park_locked(r, io, RT_IO_WRITABLE, cx);
        sn = see(io);
        rt_spin_unlock(&r->lock, true);
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int n;
        while ((n = poll(&pfd, 1, 0)) < 0 && errno == EINTR)
            ;
        if (n > 0) { /* writable, or an error or hang-up: it ended */
            rt_spin_lock_always(&r->lock);
            io = rt__reactor_io(r, fd);
            if (io && io->gen == sn.gen)
                io->connecting = 0;
            rt_spin_unlock(&r->lock, true);
            *res = connect_result(fd);
            return RT_READY;
        }
        if (n < 0) {
            *res = -errno;
            return RT_READY;
        }
        /* Still in flight: park, unless yet another edge came. */
    }
}

enum rt_poll rt_poll_connect(struct rt_reactor *r, int fd,
                             const struct sockaddr *addr, socklen_t alen,
                             struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!r || !rt_cx_ok(cx)) {
        *res = rt__cx_refusal();
        return RT_READY;
    }
    if (r->shared)
        return connect_shared(r, fd, addr, alen, cx, res);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        *res = -EBADF;
        return RT_READY;
    }
    if (!io->connecting) {
        if (!connect_start(fd, addr, alen, res))
            return RT_READY;
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
        *res = rt__cx_refusal();
        return RT_READY;
    }
    if (rt_now_ns() >= deadline) {
        rt_reactor_timer_cancel(r, t);
        RT_DEBUG_ASSERT(!rt_timer_armed(t)); /* READY leaves it idle */
        *res = 0;
        return RT_READY;
    }
    int rc;
    if (r->shared) {
        /* The re-wake and the arm below, in one locked section. */
        rc = rt__reactor_sleep_arm(r, t, deadline, cx->waker);
        if (rc < 0) {
            *res = rc;
            return RT_READY;
        }
        return RT_PENDING;
    }
    /* Already armed for this deadline: only the waker may have changed. */
    if (rt_timer_rewake(t, deadline, cx->waker))
        return RT_PENDING;
    rc = rt_reactor_timer_arm(r, t, deadline, cx->waker);
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

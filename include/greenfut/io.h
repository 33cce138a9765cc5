/* Leaf operations as poll functions, written once for both backends.
 *
 * Each tries its syscall. When the kernel says EAGAIN it clears the matching
 * readiness bit, stores the caller's waker (cx->waker) with the reactor and
 * returns RT_PENDING; the reactor wakes that waker on the next edge. When the
 * readiness bit is already clear it skips the syscall and parks at once.
 * Otherwise it returns RT_READY with the result in *res: a count, an fd or 0
 * on success, a negative errno on failure. EINTR is retried.
 *
 * The stackless backend calls these from a future's poll and returns
 * RT_PENDING upward; the stackful backend calls them in a loop and parks the
 * green thread on RT_PENDING. That is the only difference between them.
 *
 * fds must be registered with the reactor (rt_reactor_register); an
 * unregistered fd gives RT_READY with *res = -EBADF. Bad arguments (NULL r
 * or cx, a NULL cx->waker, NULL buf with a nonzero length, a length above
 * SSIZE_MAX) give RT_READY with *res = -EINVAL. `res` itself must not be
 * NULL: with res NULL a function returns RT_READY and does nothing.
 *
 * On a shared reactor (rt_reactor_share) any worker thread may call these,
 * for any fd, while another turns the reactor: each takes the reactor's
 * lock around its look at the registration and its park, never around
 * the syscall, and an edge that arrives during the syscall is never lost
 * (the op tries again instead of parking; common/io.c says how). An op
 * whose fd is deregistered while its syscall runs ends with -EBADF. As on
 * one thread, one fd takes one reader and one writer at a time (a second
 * waiter's waker replaces the first's), and the polls of one op (the
 * calls of one connect, one sleep) come from one task, on any worker.
 */
#ifndef RT_COMMON_IO_H
#define RT_COMMON_IO_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rt_poll.h"
#include "reactor.h"
#include "sleep.h" /* rt_poll_sleep_until, which the *_until ops race */
#include "timer.h"

/* read(2) on `fd` into buf[0..len). *res: bytes read (0 at EOF) or -errno. */
enum rt_poll rt_poll_read(struct rt_reactor *r, int fd, void *buf, size_t len,
                          struct rt_cx *cx, ssize_t *res);

/* write(2) of buf[0..len) to `fd`. *res: bytes written (may be short) or
 * -errno (-EPIPE for a closed peer; SIGPIPE is not raised for sockets). */
enum rt_poll rt_poll_write(struct rt_reactor *r, int fd, const void *buf,
                           size_t len, struct rt_cx *cx, ssize_t *res);

/* accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC on listening socket `fd`.
 * The new fd is registered with the reactor before it is returned; the
 * caller owns it and ends it with rt_reactor_close. addr/alen may be NULL.
 * *res: the new fd or -errno. */
enum rt_poll rt_poll_accept(struct rt_reactor *r, int fd, struct sockaddr *addr,
                            socklen_t *alen, struct rt_cx *cx, int *res);

/* connect(2) of registered socket `fd` to addr. The first poll starts the
 * connection; polls after an RT_PENDING must pass the same fd and wait for
 * it to finish (addr is then ignored). *res: 0 when connected, or -errno
 * (e.g. -ECONNREFUSED). */
enum rt_poll rt_poll_connect(struct rt_reactor *r, int fd,
                             const struct sockaddr *addr, socklen_t alen,
                             struct rt_cx *cx, int *res);

/* rt_poll_read with a deadline: while no data comes, `t` (caller-owned,
 * initialised with rt_timer_init) is armed for `deadline` with the same
 * waker, so whichever comes first wakes the caller. RT_READY with *res =
 * -ETIMEDOUT once the deadline has passed without data; otherwise as
 * rt_poll_read. When the result is RT_READY the timer is idle and the
 * caller's waker is no longer stored for fd (the losing side is withdrawn,
 * rt_reactor_io_cancel). A caller that gives up early must cancel `t`
 * (rt_reactor_timer_cancel) and withdraw its waker from fd. */
enum rt_poll rt_poll_read_until(struct rt_reactor *r, int fd, void *buf,
                                size_t len, struct rt_timer *t,
                                uint64_t deadline, struct rt_cx *cx,
                                ssize_t *res);

/* rt_poll_write with a deadline, as rt_poll_read_until is to rt_poll_read:
 * while the fd cannot take any byte, `t` is armed for `deadline` with the
 * same waker. RT_READY with *res = -ETIMEDOUT once the deadline has passed
 * without a byte written; otherwise as rt_poll_write. When the result is
 * RT_READY the timer is idle; a caller that gives up early must cancel
 * `t` (rt_reactor_timer_cancel). */
enum rt_poll rt_poll_write_until(struct rt_reactor *r, int fd, const void *buf,
                                 size_t len, struct rt_timer *t,
                                 uint64_t deadline, struct rt_cx *cx,
                                 ssize_t *res);

#endif

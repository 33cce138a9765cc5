/* Leaf futures: the futures at the bottom of every await chain.
 *
 * Each is a thin frame over one poll function of include/greenfut/io.h, polled
 * on the current executor's reactor (fut_reactor()). They are lazy: *_init only
 * fills the frame; the syscall, the timer arming and the waker registration
 * happen in poll. Their outputs (the `out` of fut_poll) are listed per type.
 *
 * fds must be registered first (fut_register; an accepted fd is registered
 * by accept itself) and ended with fut_close.
 *
 * Dropping a pending IO future (read, write, accept, connect) takes its
 * waker back out of the fd's slot (rt_reactor_io_cancel), so the loser of
 * a select or a timeout leaves no waiter the reactor would count. Dropping
 * a pending sleep cancels its timer at once.
 */
#ifndef RT_STACKLESS_LEAF_H
#define RT_STACKLESS_LEAF_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "future.h"
#include "timer.h"

/* Sleep. Output: int, 0 (or -ENOMEM/-EINVAL when the timer could not be
 * armed). 56 bytes. */
struct fut_sleep {
    struct fut_future base;
    /* private */
    struct rt_timer timer; /* armed while pending; the reactor points here */
    uint64_t deadline;     /* monotonic ns; for sleep_for: the duration
                            * until the first poll turns it into a deadline */
};

/* Ready once rt_now_ns() >= deadline. */
void fut_sleep_until_init(struct fut_sleep *f, uint64_t deadline);

/* Ready `ns` nanoseconds after its FIRST poll (not after init: lazy). A
 * duration too big for the clock saturates (rt_deadline_after): forever. */
void fut_sleep_for_init(struct fut_sleep *f, uint64_t ns);

/* Yield. Output: none. Wakes its own waker and returns RT_PENDING on the
 * first poll, RT_READY on the second: lets the other ready tasks run. */
struct fut_yield {
    struct fut_future base;
    /* private */
    int polled; /* set by the first poll */
};

/* Makes `f` a yield that has not been polled. Never fails. */
void fut_yield_init(struct fut_yield *f);

/* The poll of every yield (fut_yield's, and the portable API's RT_YIELD):
 * the first poll sets *polled, wakes the task by reference (so it is queued
 * behind the tasks that are ready now) and is RT_PENDING; the next is
 * RT_READY. Inline: it is the whole of a yield (bench_yield). */
static inline enum rt_poll fut_poll_yield(int *polled, const struct rt_cx *cx)
{
    if (*polled)
        return RT_READY;
    *polled = 1;
    rt_waker_wake_by_ref(cx->waker);
    return RT_PENDING;
}

/* read(2). Output: ssize_t, bytes read (0 at EOF) or -errno. */
struct fut_read {
    struct fut_future base;
    /* private */
    int fd;
    void *buf;
    size_t len;
    struct rt_waker parked; /* while pending: a borrowed copy (no
                               reference) of the waker stored for fd,
                               which drop withdraws from the reactor */
};

/* Makes `f` read at most `len` bytes of registered `fd` into `buf` (which
 * must stay valid while `f` is pending). Never fails; bad arguments come
 * out as the output (-EINVAL, -EBADF for an unregistered fd). */
void fut_read_init(struct fut_read *f, int fd, void *buf, size_t len);

/* write(2), possibly short. Output: ssize_t, bytes written or -errno. */
struct fut_write {
    struct fut_future base;
    /* private */
    int fd;
    const void *buf;
    size_t len;
    struct rt_waker parked; /* as in struct fut_read */
};

/* Makes `f` write at most `len` bytes of `buf` to registered `fd`. Never
 * fails; errors come out as the output. */
void fut_write_init(struct fut_write *f, int fd, const void *buf, size_t len);

/* Reads until `len` bytes arrived or EOF. Output: ssize_t, bytes read
 * (< len only at EOF) or -errno (bytes read before the error are lost). */
struct fut_read_exact {
    struct fut_future base;
    /* private */
    int fd;
    char *buf;
    size_t len;
    size_t done;            /* bytes read so far, kept across polls */
    struct rt_waker parked; /* as in struct fut_read */
};

/* Makes `f` read exactly `len` bytes (fewer only at EOF) into `buf`. */
void fut_read_exact_init(struct fut_read_exact *f, int fd, void *buf,
                         size_t len);

/* Writes all `len` bytes. Output: ssize_t, len or -errno. */
struct fut_write_all {
    struct fut_future base;
    /* private */
    int fd;
    const char *buf;
    size_t len;
    size_t done;            /* bytes written so far */
    struct rt_waker parked; /* as in struct fut_read */
};

/* Makes `f` write all `len` bytes of `buf` to `fd`. */
void fut_write_all_init(struct fut_write_all *f, int fd, const void *buf,
                        size_t len);

/* accept4(2) on listening socket `fd`; the new fd is registered. Output:
 * int, the new fd (the caller ends it with fut_close) or -errno. addr/alen
 * may be NULL. */
struct fut_accept {
    struct fut_future base;
    /* private */
    int fd;
    struct sockaddr *addr;
    socklen_t *alen;
    struct rt_waker parked; /* as in struct fut_read */
};

/* Makes `f` accept one connection on listening `fd`; the peer address goes
 * to addr/alen when they are not NULL. Never fails; errors come out as the
 * output. An accepted fd whose output is discarded (out NULL) is closed. */
void fut_accept_init(struct fut_accept *f, int fd, struct sockaddr *addr,
                     socklen_t *alen);

/* connect(2) of registered socket `fd` to `addr` (copied into the frame,
 * at most sizeof(struct sockaddr_storage)). Output: int, 0 or -errno
 * (-EINVAL for an address that is too long). Dropping it while pending
 * leaves the connection attempt to the fd: close it. */
struct fut_connect {
    struct fut_future base;
    /* private */
    int fd;
    socklen_t alen;
    struct sockaddr_storage addr;
    struct rt_waker parked; /* as in struct fut_read */
};

/* Makes `f` connect `fd`; the address is copied now, the connect happens
 * at the first poll. Never fails; errors come out as the output. */
void fut_connect_init(struct fut_connect *f, int fd,
                      const struct sockaddr *addr, socklen_t alen);

#endif

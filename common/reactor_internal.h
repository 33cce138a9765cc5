/* What common/io.c needs of a registration. Not for use outside common/. */
#ifndef RT_COMMON_REACTOR_INTERNAL_H
#define RT_COMMON_REACTOR_INTERNAL_H

#include <stdint.h>

#include <greenfut/reactor.h>

struct rt__io {
    uint32_t gen;       /* bumped at every register: stale epoll events miss */
    uint8_t registered; /* written by register/deregister */
    uint8_t ready;      /* RT_IO_* bits: set by turn, cleared by io.c */
    uint8_t connecting; /* a non-blocking connect is in flight (io.c) */
    uint8_t socket;     /* fd is a socket: writes use MSG_NOSIGNAL */
    uint8_t stream;     /* a SOCK_STREAM socket: set by register (io.c
                         * may clear readiness on a short transfer) */
    uint8_t hup;        /* turn saw a hang-up or an error: sticky until the
                         * next register, so io.c never clears readiness
                         * whose edge will not come again */
    struct rt_waker rd; /* who waits to read: stored by io.c, woken by turn */
    struct rt_waker wr; /* who waits to write */
};

/* The registration of `fd`, or NULL when it is not registered. */
struct rt__io *rt__reactor_io(struct rt_reactor *r, int fd);

/* Stores `w` in `slot` (rd or wr of a registration), keeping the waiter
 * count right. */
void rt__reactor_io_wait(struct rt_reactor *r, struct rt_waker *slot,
                         const struct rt_waker *w);

#endif

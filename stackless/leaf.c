/* Leaf futures: frames over the poll functions of common/io.c.
 *
 * Each poll is one call of the shared poll function on fut_reactor(); the
 * only stackless part is that RT_PENDING is returned upward instead of
 * parking a stack. The invariant: a pending sleep owns an armed timer that
 * points into its frame, so the frame must not move (it is pinned) and its
 * drop must cancel the timer; a pending IO future has its task's waker in
 * the fd's slot, and its drop withdraws it (rt_reactor_io_cancel).
 */
#include <greenfut/leaf.h>

#include <errno.h>
#include <string.h>

#include <greenfut/clock.h>
#include <greenfut/io.h>
#include <greenfut/task.h>
#include "wait_note.h"

/* ---- sleep ---- */

static enum rt_poll sleep_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    struct fut_sleep *f = (struct fut_sleep *)self;
    int res = 0;
    if (rt_poll_sleep_until(fut_reactor(), &f->timer, f->deadline, cx, &res) ==
        RT_PENDING) {
        fut__note_wait("sleep");
        return RT_PENDING;
    }
    if (out)
        *(int *)out = res;
    return RT_READY;
}

static void sleep_drop(struct fut_future *self)
{
    struct fut_sleep *f = (struct fut_sleep *)self;
    /* Rust: tokio's Sleep removes its timer entry in Drop, the same. */
    if (rt_timer_armed(&f->timer))
        rt_reactor_timer_cancel(fut_reactor(), &f->timer);
}

static const struct fut_vtable sleep_until_vt = {sleep_poll, sleep_drop,
                                                 "sleep"};

/* The first poll of a sleep_for fixes its deadline, then it is a plain
 * sleep_until: the frame switches its own vtable. */
static enum rt_poll sleep_for_poll(struct fut_future *self, struct rt_cx *cx,
                                   void *out)
{
    struct fut_sleep *f = (struct fut_sleep *)self;
    f->deadline = rt_deadline_after(f->deadline);
    self->vt = &sleep_until_vt;
    return sleep_poll(self, cx, out);
}

static const struct fut_vtable sleep_for_vt = {sleep_for_poll, NULL, "sleep"};

void fut_sleep_until_init(struct fut_sleep *f, uint64_t deadline)
{
    f->base.vt = &sleep_until_vt;
    rt_timer_init(&f->timer);
    f->deadline = deadline;
}

void fut_sleep_for_init(struct fut_sleep *f, uint64_t ns)
{
    f->base.vt = &sleep_for_vt;
    rt_timer_init(&f->timer);
    f->deadline = ns;
}

/* ---- yield ---- */

static enum rt_poll yield_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    struct fut_yield *f = (struct fut_yield *)self;
    (void)out;
    if (fut_poll_yield(&f->polled, cx) == RT_READY)
        return RT_READY;
    fut__note_wait("yield");
    return RT_PENDING;
}

static const struct fut_vtable yield_vt = {yield_poll, NULL, "yield"};

void fut_yield_init(struct fut_yield *f)
{
    f->base.vt = &yield_vt;
    f->polled = 0;
}

/* ---- read / write ---- */

/* Pending on fd: remember whose waker the reactor stores, for drop. */
static enum rt_poll parked(struct rt_waker *slot, const struct rt_cx *cx,
                           const char *what)
{
    *slot = *cx->waker; /* borrowed: no reference is taken */
    fut__note_wait(what);
    return RT_PENDING;
}

/* Drop of a pending IO future (the loser of a select or a timeout): its
 * waker leaves the fd's slot, so the reactor counts no waiter that nothing
 * would wake. */
static void withdraw(int fd, unsigned bit, struct rt_waker *slot)
{
    if (rt_waker_is_set(slot))
        rt_reactor_io_cancel(fut_reactor(), fd, bit, slot);
    *slot = RT_WAKER_NONE;
}

static enum rt_poll read_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct fut_read *f = (struct fut_read *)self;
    ssize_t res = 0;
    if (rt_poll_read(fut_reactor(), f->fd, f->buf, f->len, cx, &res) ==
        RT_PENDING)
        return parked(&f->parked, cx, "read");
    f->parked = RT_WAKER_NONE;
    if (out)
        *(ssize_t *)out = res;
    return RT_READY;
}

static void read_drop(struct fut_future *self)
{
    struct fut_read *f = (struct fut_read *)self;
    withdraw(f->fd, RT_IO_READABLE, &f->parked);
}

static const struct fut_vtable read_vt = {read_poll, read_drop, "read"};

void fut_read_init(struct fut_read *f, int fd, void *buf, size_t len)
{
    f->base.vt = &read_vt;
    f->fd = fd;
    f->buf = buf;
    f->len = len;
    f->parked = RT_WAKER_NONE;
}

static enum rt_poll write_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    struct fut_write *f = (struct fut_write *)self;
    ssize_t res = 0;
    if (rt_poll_write(fut_reactor(), f->fd, f->buf, f->len, cx, &res) ==
        RT_PENDING)
        return parked(&f->parked, cx, "write");
    f->parked = RT_WAKER_NONE;
    if (out)
        *(ssize_t *)out = res;
    return RT_READY;
}

static void write_drop(struct fut_future *self)
{
    struct fut_write *f = (struct fut_write *)self;
    withdraw(f->fd, RT_IO_WRITABLE, &f->parked);
}

static const struct fut_vtable write_vt = {write_poll, write_drop, "write"};

void fut_write_init(struct fut_write *f, int fd, const void *buf, size_t len)
{
    f->base.vt = &write_vt;
    f->fd = fd;
    f->buf = buf;
    f->len = len;
    f->parked = RT_WAKER_NONE;
}

static enum rt_poll read_exact_poll(struct fut_future *self, struct rt_cx *cx,
                                    void *out)
{
    struct fut_read_exact *f = (struct fut_read_exact *)self;
    struct rt_reactor *r = fut_reactor();
    ssize_t res = 0;
    while (f->done < f->len) {
        if (rt_poll_read(r, f->fd, f->buf + f->done, f->len - f->done, cx,
                         &res) == RT_PENDING)
            return parked(&f->parked, cx, "read");
        if (res <= 0)
            break;
        f->done += (size_t)res;
    }
    f->parked = RT_WAKER_NONE;
    if (out)
        *(ssize_t *)out = res < 0 ? res : (ssize_t)f->done;
    return RT_READY;
}

static void read_exact_drop(struct fut_future *self)
{
    struct fut_read_exact *f = (struct fut_read_exact *)self;
    withdraw(f->fd, RT_IO_READABLE, &f->parked);
}

static const struct fut_vtable read_exact_vt = {read_exact_poll,
                                                read_exact_drop, "read_exact"};

void fut_read_exact_init(struct fut_read_exact *f, int fd, void *buf,
                         size_t len)
{
    f->base.vt = &read_exact_vt;
    f->fd = fd;
    f->buf = buf;
    f->len = len;
    f->done = 0;
    f->parked = RT_WAKER_NONE;
}

static enum rt_poll write_all_poll(struct fut_future *self, struct rt_cx *cx,
                                   void *out)
{
    struct fut_write_all *f = (struct fut_write_all *)self;
    struct rt_reactor *r = fut_reactor();
    ssize_t res = 0;
    while (f->done < f->len) {
        if (rt_poll_write(r, f->fd, f->buf + f->done, f->len - f->done, cx,
                          &res) == RT_PENDING)
            return parked(&f->parked, cx, "write");
        if (res < 0)
            break;
        f->done += (size_t)res;
    }
    f->parked = RT_WAKER_NONE;
    if (out)
        *(ssize_t *)out = res < 0 ? res : (ssize_t)f->done;
    return RT_READY;
}

static void write_all_drop(struct fut_future *self)
{
    struct fut_write_all *f = (struct fut_write_all *)self;
    withdraw(f->fd, RT_IO_WRITABLE, &f->parked);
}

static const struct fut_vtable write_all_vt = {write_all_poll, write_all_drop,
                                               "write_all"};

void fut_write_all_init(struct fut_write_all *f, int fd, const void *buf,
                        size_t len)
{
    f->base.vt = &write_all_vt;
    f->fd = fd;
    f->buf = buf;
    f->len = len;
    f->done = 0;
    f->parked = RT_WAKER_NONE;
}

/* ---- accept / connect ---- */

static enum rt_poll accept_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct fut_accept *f = (struct fut_accept *)self;
    int res = 0;
    if (rt_poll_accept(fut_reactor(), f->fd, f->addr, f->alen, cx, &res) ==
        RT_PENDING)
        return parked(&f->parked, cx, "accept");
    f->parked = RT_WAKER_NONE;
    if (out)
        *(int *)out = res;
    else if (res >= 0)
        (void)fut_close(res); /* nobody takes the connection */
    return RT_READY;
}

static void accept_drop(struct fut_future *self)
{
    struct fut_accept *f = (struct fut_accept *)self;
    withdraw(f->fd, RT_IO_READABLE, &f->parked);
}

static const struct fut_vtable accept_vt = {accept_poll, accept_drop, "accept"};

void fut_accept_init(struct fut_accept *f, int fd, struct sockaddr *addr,
                     socklen_t *alen)
{
    f->base.vt = &accept_vt;
    f->fd = fd;
    f->addr = addr;
    f->alen = alen;
    f->parked = RT_WAKER_NONE;
}

static enum rt_poll connect_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct fut_connect *f = (struct fut_connect *)self;
    int res = 0;
    if (f->alen > sizeof(f->addr)) {
        res = -EINVAL;
    } else if (rt_poll_connect(fut_reactor(), f->fd,
                               (const struct sockaddr *)&f->addr, f->alen, cx,
                               &res) == RT_PENDING) {
        return parked(&f->parked, cx, "connect");
    }
    f->parked = RT_WAKER_NONE;
    if (out)
        *(int *)out = res;
    return RT_READY;
}

static void connect_drop(struct fut_future *self)
{
    struct fut_connect *f = (struct fut_connect *)self;
    withdraw(f->fd, RT_IO_WRITABLE, &f->parked);
}

static const struct fut_vtable connect_vt = {connect_poll, connect_drop,
                                             "connect"};

void fut_connect_init(struct fut_connect *f, int fd,
                      const struct sockaddr *addr, socklen_t alen)
{
    f->base.vt = &connect_vt;
    f->fd = fd;
    f->alen = alen;
    f->parked = RT_WAKER_NONE;
    memset(&f->addr, 0, sizeof(f->addr));
    if (addr && alen <= sizeof(f->addr))
        memcpy(&f->addr, addr, alen);
}

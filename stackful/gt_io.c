/* Blocking IO for green threads: each call loops over a common/io.c poll
 * function and parks on RT_PENDING until the reactor wakes the thread's
 * waker. This loop is the whole stackful side of an await.
 */
#include <greenfut/gt.h>

#include <errno.h>

#include "gt_internal.h"
#include <greenfut/io.h>

/* Parks on an IO wait, recording it for deadlock reports. */
static void park_io(struct gt__thread *self, const char *what, int fd)
{
    self->waiting_fd = fd;
    gt_park(what);
    self->waiting_fd = -1;
}

int gt_register(int fd)
{
    struct rt_reactor *r = gt_reactor();
    return r ? rt_reactor_register(r, fd) : -EPERM;
}

int gt_close(int fd)
{
    struct rt_reactor *r = gt_reactor();
    return r ? rt_reactor_close(r, fd) : -EPERM;
}

ssize_t gt_read(int fd, void *buf, size_t len)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    struct rt_cx cx = {&self->waker};
    ssize_t res = 0;
    while (rt_poll_read(self->s->reactor, fd, buf, len, &cx, &res) ==
           RT_PENDING)
        park_io(self, "read", fd);
    return res;
}

ssize_t gt_write(int fd, const void *buf, size_t len)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    struct rt_cx cx = {&self->waker};
    ssize_t res = 0;
    while (rt_poll_write(self->s->reactor, fd, buf, len, &cx, &res) ==
           RT_PENDING)
        park_io(self, "write", fd);
    return res;
}

int gt_accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    struct rt_cx cx = {&self->waker};
    int res = 0;
    while (rt_poll_accept(self->s->reactor, fd, addr, alen, &cx, &res) ==
           RT_PENDING)
        park_io(self, "accept", fd);
    return res;
}

int gt_connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    struct rt_cx cx = {&self->waker};
    int res = 0;
    while (rt_poll_connect(self->s->reactor, fd, addr, alen, &cx, &res) ==
           RT_PENDING)
        park_io(self, "connect", fd);
    return res;
}

/* The reactor: one epoll instance, the timer heap and an eventfd, turned
 * by one thread at a time. Unshared (the default), every table is the
 * turning thread's and no lock is taken. Shared (rt_reactor_share), the
 * tables and the timers are guarded by the reactor's spinlock, which a
 * turn never holds while blocked in epoll_wait; wakers are woken after it
 * is released. reactor_internal.h marks which fields the lock guards.
 */
#include <greenfut/reactor.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <greenfut/check.h>
#include <greenfut/clock.h>
#include "reactor_internal.h"
#include "sys.h"

/* epoll's data word: the fd in the low half, its registration's generation
 * in the high half. The eventfd uses a value no fd can have. */
#define NOTIFY_TOKEN UINT64_MAX
#define MAX_EVENTS   RT_REACTOR_EVENTS

/* Timer wakers a shared turn takes per locked section. */
#define TIMER_BATCH (2 * RT_REACTOR_EVENTS)

int rt_reactor_new(struct rt_reactor **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    struct rt_reactor *r = rt_sys_calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->epfd = rt_sys_epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0) {
        int err = errno;
        free(r);
        return -err;
    }
    r->evfd = rt_sys_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = NOTIFY_TOKEN};
    if (r->evfd < 0 ||
        rt_sys_epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->evfd, &ev) < 0) {
        int err = errno;
        if (r->evfd >= 0)
            close(r->evfd);
        close(r->epfd);
        free(r);
        return -err;
    }
    atomic_init(&r->notified, 0);
    atomic_init(&r->remote, NULL);
    atomic_init(&r->holds, 0);
    atomic_init(&r->delivering, false);
    rt_spin_init(&r->lock);
    rt_timers_init(&r->timers);
    *out = r;
    return 0;
}

int rt_reactor_share(struct rt_reactor *r)
{
    if (!r)
        return -EINVAL;
    r->shared = true;
    return 0;
}

void rt_reactor_free(struct rt_reactor *r)
{
    if (!r)
        return;
    for (size_t fd = 0; fd < r->io_cap; fd++) {
        rt_waker_drop(&r->io[fd].rd);
        rt_waker_drop(&r->io[fd].wr);
    }
    rt_timers_fini(&r->timers);
    free(r->io);
    close(r->evfd);
    close(r->epfd);
    free(r);
}

/* Grows the table so that `fd` has an entry. */
static int reserve_fd(struct rt_reactor *r, int fd)
{
    size_t need = (size_t)fd + 1;
    if (need <= r->io_cap)
        return 0;
    size_t cap = r->io_cap ? r->io_cap : 64;
    while (cap < need)
        cap *= 2;
    struct rt__io *io = rt_sys_realloc(r->io, cap * sizeof(*io));
    if (!io)
        return -ENOMEM;
    for (size_t i = r->io_cap; i < cap; i++)
        io[i] =
            (struct rt__io){.gen = 0, .rd = RT_WAKER_NONE, .wr = RT_WAKER_NONE};
    r->io = io;
    r->io_cap = cap;
    return 0;
}

struct rt__io *rt__reactor_io(struct rt_reactor *r, int fd)
{
    if (fd < 0 || (size_t)fd >= r->io_cap || !r->io[fd].registered)
        return NULL;
    return &r->io[fd];
}

void rt__reactor_io_wait(struct rt_reactor *r, struct rt_waker *slot,
                         const struct rt_waker *w)
{
    if (!rt_waker_is_set(slot))
        r->io_waiters++;
    rt_waker_store(slot, w);
    if (!rt_waker_is_set(slot))
        r->io_waiters--;
}

struct rt_waker rt__reactor_io_swap(struct rt_reactor *r, struct rt_waker *slot,
                                    const struct rt_waker *w)
{
    if (!rt_waker_is_set(slot))
        r->io_waiters++;
    struct rt_waker old = rt__waker_swap(slot, w);
    if (!rt_waker_is_set(slot))
        r->io_waiters--;
    return old;
}

/* Wakes (consumes) a stored IO waker; returns 1 if there was one. */
static int wake_slot(struct rt_reactor *r, struct rt_waker *slot)
{
    if (!rt_waker_is_set(slot))
        return 0;
    r->io_waiters--;
    rt_waker_wake(slot);
    return 1;
}

/* Moves a stored IO waker out of its slot (to wake after unlocking). */
static struct rt_waker take_slot(struct rt_reactor *r, struct rt_waker *slot)
{
    struct rt_waker w = *slot;
    if (rt_waker_is_set(&w))
        r->io_waiters--;
    *slot = RT_WAKER_NONE;
    return w;
}

/* Clears a registration; its waiters' wakers go to out[0..1], for the
 * caller to wake (after unlocking a shared reactor). */
static void unregister(struct rt_reactor *r, struct rt__io *io,
                       struct rt_waker out[2])
{
    io->registered = 0;
    io->ready = 0;
    io->connecting = 0;
    r->fds--;
    out[0] = take_slot(r, &io->rd);
    out[1] = take_slot(r, &io->wr);
}

static void wake_both(struct rt_waker w[2])
{
    rt_waker_wake(&w[0]); /* no-ops on RT_WAKER_NONE */
    rt_waker_wake(&w[1]);
}

/* 1 when the socket fd is SOCK_STREAM. Datagram and seqpacket sockets
 * are not: there a short read means a short message, not an empty queue. */
static int is_stream(int fd)
{
    int type = 0;
    socklen_t len = sizeof(type);
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
           type == SOCK_STREAM;
}

/* Shared mode: the epoll_ctl calls of register and deregister run under
 * the lock. The generation an ADD carries must be the one the table keeps,
 * and an fd's registration must not change between its DEL and its table
 * entry's reset; both are rare next to the reads and writes, which take
 * the lock only around table updates, never around their syscall. */
int rt_reactor_register(struct rt_reactor *r, int fd)
{
    if (!r)
        return -EINVAL;
    if (fd < 0)
        return -EBADF;
    int fl = fcntl(fd, F_GETFL);
    struct stat sb;
    if (fl < 0 || fstat(fd, &sb) < 0)
        return -errno;
    uint8_t socket = S_ISSOCK(sb.st_mode) ? 1 : 0;
    uint8_t stream = socket && is_stream(fd);
    struct rt_waker old[2] = {RT_WAKER_NONE, RT_WAKER_NONE};
    bool locked = rt__reactor_lock(r);
    int rc = reserve_fd(r, fd);
    if (rc < 0)
        goto out;
    struct rt__io *io = &r->io[fd];
    uint32_t gen = io->gen + 1;
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd,
    };
    if (rt_sys_epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        rc = -errno; /* EEXIST when genuinely registered, EPERM, ... */
        goto out;
    }
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        rc = -errno;
        rt_sys_epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
        goto out;
    }
    /* The add succeeded although our table says "registered": the old fd was
     * closed behind our back and epoll forgot it. Its waiters must not sleep
     * forever. */
    if (io->registered)
        unregister(r, io, old);
    io->gen = gen;
    io->registered = 1;
    io->ready = RT_IO_READABLE | RT_IO_WRITABLE;
    io->connecting = 0;
    io->socket = socket;
    io->stream = stream;
    io->hup = 0;
    r->fds++;
out:
    rt__reactor_unlock(r, locked);
    wake_both(old);
    return rc;
}

int rt_reactor_deregister(struct rt_reactor *r, int fd)
{
    if (!r)
        return -EINVAL;
    struct rt_waker old[2];
    bool locked = rt__reactor_lock(r);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (!io) {
        rt__reactor_unlock(r, locked);
        return -EBADF;
    }
    /* EBADF/ENOENT here mean the fd was closed first: nothing to remove. */
    (void)rt_sys_epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
    unregister(r, io, old);
    rt__reactor_unlock(r, locked);
    wake_both(old);
    return 0;
}

int rt_reactor_close(struct rt_reactor *r, int fd)
{
    if (!r)
        return -EINVAL;
    int rc = rt_reactor_deregister(r, fd);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

/* The lock is not part of what a const reactor promises to keep: the
 * read-only calls below take it through a non-const pointer. */
static struct rt_reactor *unconst(const struct rt_reactor *r)
{
    return (struct rt_reactor *)(uintptr_t)r;
}

int rt_reactor_readiness(const struct rt_reactor *r, int fd)
{
    if (!r)
        return -EINVAL;
    struct rt_reactor *m = unconst(r);
    bool locked = rt__reactor_lock(m);
    struct rt__io *io = rt__reactor_io(m, fd);
    int rc = io ? io->ready : -EBADF;
    rt__reactor_unlock(m, locked);
    return rc;
}

int rt_reactor_notify(struct rt_reactor *r)
{
    if (!r)
        return -EINVAL;
    if (atomic_exchange_explicit(&r->notified, 1, memory_order_seq_cst))
        return 0; /* a write is already pending; the turn will see it */
    uint64_t one = 1;
    while (rt_sys_eventfd_write(r->evfd, one) < 0) {
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN) /* counter full: certainly readable */
            break;
        /* Nothing was written: let the next notify try again instead of
         * taking the flag for a pending wake-up that never comes. */
        int err = errno;
        atomic_store_explicit(&r->notified, 0, memory_order_release);
        return -err;
    }
    return 0;
}

void rt_remote_init(struct rt_remote *node, void (*run)(struct rt_remote *))
{
    node->run = run;
    node->next = NULL;
    node->taken = 0;
    atomic_init(&node->queued, 0);
}

/* Pushes a node this thread has just marked queued onto the LIFO. */
static void remote_push(struct rt_reactor *r, struct rt_remote *node)
{
    struct rt_remote *head =
        atomic_load_explicit(&r->remote, memory_order_relaxed);
    do {
        node->next = head;
    } while (!atomic_compare_exchange_weak_explicit(
        &r->remote, &head, node, memory_order_seq_cst, memory_order_relaxed));
    (void)rt_reactor_notify(r);
}

int rt_reactor_post(struct rt_reactor *r, struct rt_remote *node, unsigned add,
                    unsigned set)
{
    if (!r || !node || !node->run || add % RT_REMOTE_UNIT ||
        set % RT_REMOTE_UNIT)
        return -EINVAL;
    unsigned old = atomic_load_explicit(&node->queued, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        &node->queued, &old, ((old + add) | set) | RT_REMOTE_QUEUED,
        memory_order_acq_rel, memory_order_relaxed))
        continue;
    if (old & RT_REMOTE_QUEUED)
        return 0;
    remote_push(r, node);
    return 1;
}

int rt_reactor_remote(struct rt_reactor *r, struct rt_remote *node)
{
    return rt_reactor_post(r, node, 0, 0);
}

void rt_remote_add(struct rt_remote *node, unsigned add)
{
    RT_ASSERT(add % RT_REMOTE_UNIT == 0);
    atomic_fetch_add_explicit(&node->queued, add, memory_order_release);
}

void rt_reactor_hold(struct rt_reactor *r)
{
    atomic_fetch_add_explicit(&r->holds, 1, memory_order_relaxed);
}

void rt_reactor_release(struct rt_reactor *r)
{
    size_t old = atomic_fetch_sub_explicit(&r->holds, 1, memory_order_release);
    RT_ASSERT(old > 0);
    (void)rt_reactor_notify(r); /* a scheduler may be waiting on this */
}

/* Shared mode, under the lock: a timer is now armed for `deadline`. When
 * that is earlier than what the blocked turn sleeps until, lowers the mark
 * (so later arms between the two do not notify again) and returns true:
 * the caller notifies after unlocking, and the turn wakes and recomputes
 * its wait. A turn not yet blocked computes its wait under the lock and
 * sees the timer; one past its wait has sleep_until 0 and its next turn
 * sees it. */
static bool earlier_than_sleep(struct rt_reactor *r, uint64_t deadline)
{
    if (deadline >= r->sleep_until)
        return false;
    r->sleep_until = deadline;
    return true;
}

/* The shared paths of the timer calls are functions of their own, kept out
 * of line, so that the unshared path stays a test and a tail call
 * (bench_timers under callgrind). */
static __attribute__((noinline)) int timer_arm_shared(struct rt_reactor *r,
                                                      struct rt_timer *t,
                                                      uint64_t deadline,
                                                      const struct rt_waker *w)
{
    struct rt_waker old;
    rt_spin_lock_always(&r->lock);
    int rc = rt__timers_arm_swap(&r->timers, t, deadline, w, &old);
    bool kick = rc == 0 && earlier_than_sleep(r, deadline);
    rt_spin_unlock(&r->lock, true);
    rt_waker_drop(&old);
    if (kick)
        (void)rt_reactor_notify(r);
    return rc;
}

int rt_reactor_timer_arm(struct rt_reactor *r, struct rt_timer *t,
                         uint64_t deadline, const struct rt_waker *w)
{
    if (!r)
        return -EINVAL;
    if (r->shared)
        return timer_arm_shared(r, t, deadline, w);
    return rt_timers_arm(&r->timers, t, deadline, w);
}

int rt__reactor_sleep_arm(struct rt_reactor *r, struct rt_timer *t,
                          uint64_t deadline, const struct rt_waker *w)
{
    struct rt_waker old = RT_WAKER_NONE;
    int rc = 0;
    bool kick = false;
    rt_spin_lock_always(&r->lock);
    if (rt_timer_armed(t) && t->deadline == deadline) {
        old = rt__waker_swap(&t->waker, w); /* rt_timer_rewake, locked */
    } else {
        rc = rt__timers_arm_swap(&r->timers, t, deadline, w, &old);
        kick = rc == 0 && earlier_than_sleep(r, deadline);
    }
    rt_spin_unlock(&r->lock, true);
    rt_waker_drop(&old);
    if (kick)
        (void)rt_reactor_notify(r);
    return rc;
}

uint64_t rt__reactor_sleep_until(struct rt_reactor *r)
{
    bool locked = rt__reactor_lock(r);
    uint64_t v = r->sleep_until;
    rt__reactor_unlock(r, locked);
    return v;
}

static __attribute__((noinline)) void timer_cancel_shared(struct rt_reactor *r,
                                                          struct rt_timer *t)
{
    /* An idle timer stays idle without the lock: only its owner, the
     * caller, arms it. */
    if (!t || !rt_timer_armed(t))
        return;
    rt_spin_lock_always(&r->lock);
    struct rt_waker w = rt__timers_remove(&r->timers, t);
    rt_spin_unlock(&r->lock, true);
    rt_waker_drop(&w);
}

void rt_reactor_timer_cancel(struct rt_reactor *r, struct rt_timer *t)
{
    if (!r)
        return;
    if (r->shared)
        timer_cancel_shared(r, t);
    else
        rt_timers_cancel(&r->timers, t);
}

int rt_reactor_stats(const struct rt_reactor *r, struct rt_reactor_stats *st)
{
    if (!r || !st)
        return -EINVAL;
    struct rt_reactor *m = unconst(r);
    bool locked = rt__reactor_lock(m);
    st->fds = r->fds;
    st->io_waiters = r->io_waiters;
    st->timers = rt_timers_len(&r->timers);
    st->turns = r->turns;
    st->woken = r->woken;
    rt__reactor_unlock(m, locked);
    st->holds = atomic_load_explicit(&r->holds, memory_order_acquire);
    return 0;
}

uint64_t rt_reactor_turns(const struct rt_reactor *r)
{
    if (!r)
        return 0;
    struct rt_reactor *m = unconst(r);
    bool locked = rt__reactor_lock(m);
    uint64_t turns = r->turns;
    rt__reactor_unlock(m, locked);
    return turns;
}

int rt_reactor_has_waiters(const struct rt_reactor *r)
{
    struct rt_reactor *m = unconst(r);
    bool locked = rt__reactor_lock(m);
    bool any = r->io_waiters > 0 || rt_timers_len(&r->timers) > 0;
    rt__reactor_unlock(m, locked);
    return any || atomic_load_explicit(&r->holds, memory_order_acquire) > 0 ||
           atomic_load_explicit(&r->remote, memory_order_acquire) != NULL ||
           atomic_load_explicit(&r->delivering, memory_order_acquire);
}

/* Phase: how long epoll may block, in ns (-1: forever). */
static int64_t wait_budget(struct rt_reactor *r, int64_t timeout_ns,
                           uint64_t now)
{
    if (atomic_load_explicit(&r->remote, memory_order_acquire) != NULL)
        return 0;
    uint64_t next = rt_timers_next(&r->timers);
    if (next == UINT64_MAX)
        return timeout_ns;
    /* A far deadline (a huge sleep saturates at RT_DEADLINE_MAX) is more
     * than INT64_MAX ns away: clamp before the conversion, or it turns
     * negative and reads as "block forever" even when timeout_ns is 0. */
    uint64_t gap = next <= now ? 0 : next - now;
    int64_t until =
        gap > (uint64_t)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)gap;
    return timeout_ns < 0 || until < timeout_ns ? until : timeout_ns;
}

/* Phase: one epoll wait, EINTR retried against the original budget. */
static int wait_events(struct rt_reactor *r, int64_t budget_ns)
{
    uint64_t start = rt_now_ns();
    for (;;) {
        struct timespec ts, *tsp = NULL;
        if (budget_ns >= 0) {
            uint64_t spent = rt_now_ns() - start;
            int64_t left =
                (uint64_t)budget_ns > spent ? budget_ns - (int64_t)spent : 0;
            ts.tv_sec = left / 1000000000;
            ts.tv_nsec = left % 1000000000;
            tsp = &ts;
        }
        int n = rt_sys_epoll_pwait2(r->epfd, r->events, MAX_EVENTS, tsp);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno == ENOSYS) {
            /* Kernels before 5.11: millisecond timeout, rounded up so a
             * timer is never woken early. */
            int ms = -1;
            if (tsp) {
                int64_t left = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
                int64_t msl = (left + 999999) / 1000000;
                ms = msl > 1000000000 ? 1000000000 : (int)msl;
            }
            n = rt_sys_epoll_wait(r->epfd, r->events, MAX_EVENTS, ms);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
        }
        return -errno;
    }
}

/* The eventfd fired: consume it. */
static void take_notify(struct rt_reactor *r)
{
    uint64_t v;
    /* Read first, then clear. Cleared first, a poster could set
     * `notified` and write between the two, and this read would
     * eat that write: `notified` would stay 1 with nothing left to
     * wake the next epoll_wait, so every later notify would be
     * skipped (a lost wake-up, seen as a hang). Read first, a write
     * that lands after the read leaves the eventfd readable (one
     * spurious wake at worst). The clear is an exchange, ordered
     * before this turn's look at r->remote: a poster pushes, then
     * tests `notified`, and that store-buffer pattern needs both
     * sides sequenced. */
    while (rt_sys_eventfd_read(r->evfd, &v) < 0 && errno == EINTR)
        ;
    (void)atomic_exchange_explicit(&r->notified, 0, memory_order_seq_cst);
}

/* Phase: translate epoll bits into ours and wake the waiters. This is the
 * only place that knows epoll's bits, with collect_io below, its shared
 * twin (keep the two in step). */
static int dispatch_io(struct rt_reactor *r, int n)
{
    int woken = 0;
    for (int i = 0; i < n; i++) {
        uint64_t token = r->events[i].data.u64;
        uint32_t ev = r->events[i].events;
        if (token == NOTIFY_TOKEN) {
            take_notify(r);
            continue;
        }
        int fd = (int)(uint32_t)token;
        struct rt__io *io = rt__reactor_io(r, fd);
        if (!io || io->gen != (uint32_t)(token >> 32))
            continue; /* deregistered since: a stale event */
        if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            io->hup = 1;
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            io->ready |= RT_IO_READABLE;
            woken += wake_slot(r, &io->rd);
        }
        if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            io->ready |= RT_IO_WRITABLE;
            woken += wake_slot(r, &io->wr);
        }
    }
    return woken;
}

/* Phase: run the nodes other threads queued, in the order they came. */
static int run_remote(struct rt_reactor *r)
{
    struct rt_remote *n =
        atomic_exchange_explicit(&r->remote, NULL, memory_order_seq_cst);
    struct rt_remote *fifo = NULL;
    while (n) { /* reverse the LIFO */
        struct rt_remote *next = n->next;
        n->next = fifo;
        fifo = n;
        n = next;
    }
    int ran = 0;
    while (fifo) {
        struct rt_remote *next = fifo->next;
        /* Take the word and clear first: a post that races with run
         * queues the node again. */
        fifo->taken =
            atomic_exchange_explicit(&fifo->queued, 0, memory_order_acq_rel) &
            ~RT_REMOTE_QUEUED;
        fifo->run(fifo);
        fifo = next;
        ran++;
    }
    return ran;
}

/* Shared mode, phase: dispatch_io under the lock, except that the
 * wakers move to r->due (returns how many) instead of being woken, and
 * every applied event bumps its registration's tick (reactor_internal.h).
 * The notify events were consumed before the lock was taken. */
static size_t collect_io(struct rt_reactor *r, int n)
{
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        uint64_t token = r->events[i].data.u64;
        uint32_t ev = r->events[i].events;
        if (token == NOTIFY_TOKEN)
            continue;
        int fd = (int)(uint32_t)token;
        struct rt__io *io = rt__reactor_io(r, fd);
        if (!io || io->gen != (uint32_t)(token >> 32))
            continue; /* deregistered since: a stale event */
        io->tick++;
        if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            io->hup = 1;
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            io->ready |= RT_IO_READABLE;
            if (rt_waker_is_set(&io->rd))
                r->due[k++] = take_slot(r, &io->rd);
        }
        if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            io->ready |= RT_IO_WRITABLE;
            if (rt_waker_is_set(&io->wr))
                r->due[k++] = take_slot(r, &io->wr);
        }
    }
    return k;
}

static void wake_due(struct rt_reactor *r, size_t k)
{
    for (size_t i = 0; i < k; i++)
        rt_waker_wake(&r->due[i]);
}

/* rt_reactor_turn on a shared reactor. Its locked sections: the wait
 * budget (which records sleep_until, so that an earlier arm notifies),
 * the IO dispatch, then one per batch of due timers, the last of which
 * also counts the turn. Between them the lock is free, and epoll_wait and
 * every wake run without it. `delivering` covers the time the collected
 * wakers are in no table, so has_waiters never sees an empty reactor with
 * a wake still to come. */
static int turn_shared(struct rt_reactor *r, int64_t timeout_ns)
{
    rt_spin_lock_always(&r->lock);
    RT_ASSERT(!r->turning); /* the caller must serialise turns */
    r->turning = true;
    uint64_t now = rt_now_ns();
    int64_t budget = wait_budget(r, timeout_ns, now);
    r->sleep_until = budget < 0    ? UINT64_MAX
                     : budget == 0 ? 0
                                   : now + (uint64_t)budget;
    rt_spin_unlock(&r->lock, true);

    int n = wait_events(r, budget);
    for (int i = 0; i < n; i++)
        if (r->events[i].data.u64 == NOTIFY_TOKEN)
            take_notify(r);

    rt_spin_lock_always(&r->lock);
    r->sleep_until = 0;
    if (n < 0) {
        r->turning = false;
        rt_spin_unlock(&r->lock, true);
        return n;
    }
    atomic_store_explicit(&r->delivering, true, memory_order_relaxed);
    size_t k = collect_io(r, n);
    rt_spin_unlock(&r->lock, true);
    wake_due(r, k);
    size_t woken = k + (size_t)run_remote(r);

    now = rt_now_ns();
    uint64_t limit = 0;
    for (bool first = true;; first = false) {
        rt_spin_lock_always(&r->lock);
        if (first)
            limit = r->timers.seq; /* later arms wait a turn */
        k = rt__timers_take(&r->timers, now, limit, r->due, TIMER_BATCH);
        woken += k;
        bool last = k < TIMER_BATCH;
        if (last) {
            r->turns++;
            r->woken += (uint64_t)woken;
            r->turning = false;
        }
        rt_spin_unlock(&r->lock, true);
        wake_due(r, k);
        if (last)
            break;
    }
    atomic_store_explicit(&r->delivering, false, memory_order_release);
    return (int)woken;
}

int rt_reactor_turn(struct rt_reactor *r, int64_t timeout_ns)
{
    if (!r)
        return -EINVAL;
    if (r->shared)
        return turn_shared(r, timeout_ns);
    int64_t budget = wait_budget(r, timeout_ns, rt_now_ns());
    int n = wait_events(r, budget);
    if (n < 0)
        return n;
    int woken = dispatch_io(r, n);
    woken += run_remote(r);
    woken += (int)rt_timers_expire(&r->timers, rt_now_ns());
    r->turns++;
    r->woken += (uint64_t)woken;
    return woken;
}

void rt_reactor_io_cancel(struct rt_reactor *r, int fd, unsigned bits,
                          const struct rt_waker *w)
{
    if (!r || !w)
        return;
    struct rt_waker old[2] = {RT_WAKER_NONE, RT_WAKER_NONE};
    bool locked = rt__reactor_lock(r);
    struct rt__io *io = rt__reactor_io(r, fd);
    if (io) {
        struct rt_waker *slots[2] = {
            bits & RT_IO_READABLE ? &io->rd : NULL,
            bits & RT_IO_WRITABLE ? &io->wr : NULL,
        };
        for (int i = 0; i < 2; i++)
            if (slots[i] && rt_waker_is_set(slots[i]) &&
                rt_waker_will_wake(slots[i], w))
                old[i] = take_slot(r, slots[i]);
    }
    rt__reactor_unlock(r, locked);
    rt_waker_drop(&old[0]); /* no-ops on RT_WAKER_NONE */
    rt_waker_drop(&old[1]);
}

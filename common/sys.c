/* The wrappers of common/sys.h and the fault injector behind them.
 * Invariant: while rt__sys_active is 0 no wrapper touches any other state
 * here, so an inert injector costs one relaxed load per call.
 */
#include "sys.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

atomic_int rt__sys_active;

/* The injector's state: written by arm/disarm (test setup), read and
 * counted by wrappers on any thread. */
static atomic_uint_fast64_t calls[RT_SYS_NSITES];
static atomic_uint_fast64_t calls_any;
static atomic_uint_fast64_t eagains[RT_SYS_NSITES];
static int fault_site = RT_SYS_ANY; /* written by arm only */
static uint64_t fault_nth;          /* 0: count only */
static int fault_err;
static atomic_int fired;

static const char *const names[RT_SYS_NSITES] = {
    [RT_SYS_MALLOC] = "malloc",
    [RT_SYS_CALLOC] = "calloc",
    [RT_SYS_REALLOC] = "realloc",
    [RT_SYS_MMAP] = "mmap",
    [RT_SYS_MPROTECT] = "mprotect",
    [RT_SYS_EPOLL_CREATE] = "epoll_create1",
    [RT_SYS_EPOLL_CTL] = "epoll_ctl",
    [RT_SYS_EPOLL_WAIT] = "epoll_wait",
    [RT_SYS_EVENTFD] = "eventfd",
    [RT_SYS_EVENTFD_READ] = "eventfd_read",
    [RT_SYS_EVENTFD_WRITE] = "eventfd_write",
    [RT_SYS_READ] = "read",
    [RT_SYS_WRITE] = "write",
    [RT_SYS_SEND] = "send",
    [RT_SYS_ACCEPT] = "accept4",
    [RT_SYS_CONNECT] = "connect",
    [RT_SYS_THREAD] = "pthread_create",
    [RT_SYS_SIGALTSTACK] = "sigaltstack",
    [RT_SYS_MEMBARRIER] = "membarrier",
};

const char *rt_sys_site_name(enum rt_sys_site site)
{
    if (site < 0 || site >= RT_SYS_NSITES)
        return "?";
    return names[site];
}

static void reset_counts(void)
{
    for (int i = 0; i < RT_SYS_NSITES; i++)
        atomic_store(&calls[i], 0);
    atomic_store(&calls_any, 0);
    for (int i = 0; i < RT_SYS_NSITES; i++)
        atomic_store(&eagains[i], 0);
    atomic_store(&fired, 0);
}

void rt_sys_count_start(void)
{
    atomic_store(&rt__sys_active, 0);
    reset_counts();
    fault_nth = 0;
    atomic_store(&rt__sys_active, 1);
}

int rt_sys_fault_arm(enum rt_sys_site site, uint64_t nth, int err)
{
    if (site < RT_SYS_ANY || site >= RT_SYS_NSITES || nth == 0 || err <= 0)
        return -EINVAL;
    atomic_store(&rt__sys_active, 0);
    reset_counts();
    fault_site = site;
    fault_nth = nth;
    fault_err = err;
    atomic_store(&rt__sys_active, 1);
    return 0;
}

void rt_sys_fault_disarm(void)
{
    atomic_store(&rt__sys_active, 0);
}

uint64_t rt_sys_calls(enum rt_sys_site site)
{
    if (site == RT_SYS_ANY)
        return atomic_load(&calls_any);
    if (site < 0 || site >= RT_SYS_NSITES)
        return 0;
    return atomic_load(&calls[site]);
}

uint64_t rt_sys_eagains(enum rt_sys_site site)
{
    if (site < 0 || site >= RT_SYS_NSITES)
        return 0;
    return atomic_load(&eagains[site]);
}

int rt_sys_fault_fired(void)
{
    return atomic_load(&fired);
}

int rt__sys_hit(enum rt_sys_site site)
{
    uint64_t n = atomic_fetch_add(&calls[site], 1) + 1;
    uint64_t any = atomic_fetch_add(&calls_any, 1) + 1;
    if (fault_nth == 0)
        return 0;
    uint64_t which = fault_site == RT_SYS_ANY ? any : n;
    if ((fault_site != RT_SYS_ANY && fault_site != (int)site) ||
        which != fault_nth)
        return 0;
    atomic_store(&fired, 1);
    return fault_err;
}

/* The wrappers' common prologue: an armed fault fails the call with
 * `fail_ret` and errno set, before it is made. */
#define HIT(site, fail_ret)                                                \
    do {                                                                   \
        if (atomic_load_explicit(&rt__sys_active, memory_order_relaxed)) { \
            int err_ = rt__sys_hit(site);                                  \
            if (err_) {                                                    \
                errno = err_;                                              \
                return fail_ret;                                           \
            }                                                              \
        }                                                                  \
    } while (0)

void *rt_sys_malloc(size_t len)
{
    HIT(RT_SYS_MALLOC, NULL);
    return malloc(len);
}

void *rt_sys_calloc(size_t n, size_t len)
{
    HIT(RT_SYS_CALLOC, NULL);
    return calloc(n, len);
}

void *rt_sys_realloc(void *p, size_t len)
{
    HIT(RT_SYS_REALLOC, NULL);
    return realloc(p, len);
}

void *rt_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off)
{
    HIT(RT_SYS_MMAP, MAP_FAILED);
    return mmap(addr, len, prot, flags, fd, off);
}

int rt_sys_mprotect(void *addr, size_t len, int prot)
{
    HIT(RT_SYS_MPROTECT, -1);
    return mprotect(addr, len, prot);
}

int rt_sys_epoll_create1(int flags)
{
    HIT(RT_SYS_EPOLL_CREATE, -1);
    return epoll_create1(flags);
}

int rt_sys_epoll_ctl(int epfd, int op, int fd, void *ev)
{
    HIT(RT_SYS_EPOLL_CTL, -1);
    return epoll_ctl(epfd, op, fd, ev);
}

int rt_sys_epoll_pwait2(int epfd, void *events, int max,
                        const struct timespec *ts)
{
    HIT(RT_SYS_EPOLL_WAIT, -1);
    return epoll_pwait2(epfd, events, max, ts, NULL);
}

int rt_sys_epoll_wait(int epfd, void *events, int max, int ms)
{
    HIT(RT_SYS_EPOLL_WAIT, -1);
    return epoll_wait(epfd, events, max, ms);
}

int rt_sys_eventfd(unsigned init, int flags)
{
    HIT(RT_SYS_EVENTFD, -1);
    return eventfd(init, flags);
}

ssize_t rt_sys_eventfd_read(int fd, uint64_t *v)
{
    HIT(RT_SYS_EVENTFD_READ, -1);
    return read(fd, v, sizeof(*v));
}

ssize_t rt_sys_eventfd_write(int fd, uint64_t v)
{
    HIT(RT_SYS_EVENTFD_WRITE, -1);
    return write(fd, &v, sizeof(v));
}

/* The transfer wrappers' epilogue: while counting, a real call that the
 * kernel failed with EAGAIN is counted too. Only the failure path pays for
 * the check, so an inert injector costs nothing more on a success. */
static ssize_t note_eagain(enum rt_sys_site site, ssize_t n)
{
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
        atomic_load_explicit(&rt__sys_active, memory_order_relaxed))
        atomic_fetch_add(&eagains[site], 1);
    return n;
}

ssize_t rt_sys_read(int fd, void *buf, size_t len)
{
    HIT(RT_SYS_READ, -1);
    return note_eagain(RT_SYS_READ, read(fd, buf, len));
}

ssize_t rt_sys_recv(int fd, void *buf, size_t len, int flags)
{
    HIT(RT_SYS_READ, -1);
    return note_eagain(RT_SYS_READ, recv(fd, buf, len, flags));
}

ssize_t rt_sys_write(int fd, const void *buf, size_t len)
{
    HIT(RT_SYS_WRITE, -1);
    return note_eagain(RT_SYS_WRITE, write(fd, buf, len));
}

ssize_t rt_sys_send(int fd, const void *buf, size_t len, int flags)
{
    HIT(RT_SYS_SEND, -1);
    return note_eagain(RT_SYS_SEND, send(fd, buf, len, flags));
}

int rt_sys_accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
    HIT(RT_SYS_ACCEPT, -1);
    return accept4(fd, addr, alen, flags);
}

int rt_sys_connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
    int err = 0;
    if (atomic_load_explicit(&rt__sys_active, memory_order_relaxed))
        err = rt__sys_hit(RT_SYS_CONNECT);
    if (err && err != EINTR) {
        errno = err;
        return -1;
    }
    int rc = connect(fd, addr, alen);
    if (err == EINTR && rc < 0 && errno == EINPROGRESS)
        errno = EINTR;
    return rc;
}

int rt_sys_thread_start(void *(*fn)(void *), void *arg)
{
    if (atomic_load_explicit(&rt__sys_active, memory_order_relaxed)) {
        int err = rt__sys_hit(RT_SYS_THREAD);
        if (err)
            return err;
    }
    pthread_attr_t attr;
    pthread_t th;
    int rc = pthread_attr_init(&attr);
    if (rc != 0)
        return rc;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&th, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

int rt_sys_thread_create(pthread_t *th, void *(*fn)(void *), void *arg)
{
    if (atomic_load_explicit(&rt__sys_active, memory_order_relaxed)) {
        int err = rt__sys_hit(RT_SYS_THREAD);
        if (err)
            return err;
    }
    return pthread_create(th, NULL, fn, arg);
}

int rt_sys_sigaltstack(const void *ss, void *old)
{
    HIT(RT_SYS_SIGALTSTACK, -1);
    return sigaltstack(ss, old);
}

int rt_sys_membarrier(int cmd)
{
    HIT(RT_SYS_MEMBARRIER, -1);
    return (int)syscall(SYS_membarrier, cmd, 0u);
}

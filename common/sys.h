/* The runtime's syscalls and allocations, in one place, with fault
 * injection for tests.
 *
 * The runtime's calls to the kernel and the allocator whose failure it must
 * handle go through the rt_sys_* wrappers below (from common/, stackful/
 * and stackless/slab.c and executor.c). A few are left unwrapped on
 * purpose: fcntl, fstat, getsockopt, close, madvise, the portable layer's
 * frame copies and the teardown's sigaltstack; docs/faults-and-fuzzing.md
 * lists the sites and says why for each exception. Each wrapper has a site
 * number. While fault injection is inert (the default) a wrapper is one
 * branch on a global and the real call. A test arms it:
 * the nth call at one site (or at any site) then fails with a chosen errno
 * instead of being made, and calls are counted per site so a test can walk
 * every call a workload reaches.
 *
 * Invariant: an injected failure looks exactly like the kernel's (-1 or
 * NULL with errno set); the runtime's error handling cannot tell them
 * apart. The one exception is RT_SYS_CONNECT with EINTR, see rt_sys_connect.
 */
#ifndef RT_COMMON_SYS_H
#define RT_COMMON_SYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The wrapped call sites, one per kind of call. */
enum rt_sys_site {
    RT_SYS_ANY = -1,      /* rt_sys_fault_arm: whichever site comes next */
    RT_SYS_MALLOC = 0,    /* malloc */
    RT_SYS_CALLOC,        /* calloc */
    RT_SYS_REALLOC,       /* realloc */
    RT_SYS_MMAP,          /* mmap (stacks) */
    RT_SYS_MPROTECT,      /* mprotect (guard pages) */
    RT_SYS_EPOLL_CREATE,  /* epoll_create1 */
    RT_SYS_EPOLL_CTL,     /* epoll_ctl */
    RT_SYS_EPOLL_WAIT,    /* epoll_pwait2, or epoll_wait before 5.11 */
    RT_SYS_EVENTFD,       /* eventfd */
    RT_SYS_EVENTFD_READ,  /* draining the reactor's eventfd */
    RT_SYS_EVENTFD_WRITE, /* rt_reactor_notify's write */
    RT_SYS_READ,          /* read on a user fd (recv on a socket) */
    RT_SYS_WRITE,         /* write on a user fd that is not a socket */
    RT_SYS_SEND,          /* send on a user socket */
    RT_SYS_ACCEPT,        /* accept4 */
    RT_SYS_CONNECT,       /* connect */
    RT_SYS_THREAD,        /* pthread_create (pool workers, watchdog) */
    RT_SYS_SIGALTSTACK,   /* sigaltstack (the stackful overflow reporter) */
    RT_SYS_MEMBARRIER,    /* membarrier's registration (the yield queues) */
    RT_SYS_NSITES
};

/* 0 while fault injection is inert: the wrappers test only this. Written by
 * rt_sys_fault_arm/rt_sys_count_start/rt_sys_fault_disarm. Private. */
extern atomic_int rt__sys_active;

/* The slow path of every wrapper while injection is active: counts the call
 * and returns the errno to fail it with, or 0 to make the real call.
 * Private; any thread. */
int rt__sys_hit(enum rt_sys_site site);

/* The name of a site ("malloc", "epoll_ctl", ...), or "?" when out of
 * range. */
const char *rt_sys_site_name(enum rt_sys_site site);

/* Starts counting calls per site (resetting the counts) without failing
 * any. Any thread; meant for a test's single-threaded setup. */
void rt_sys_count_start(void);

/* Arms injection: counts are reset, and the nth (1-based) call at `site`
 * (RT_SYS_ANY: at any site) from now on fails with `err` (a positive
 * errno). Allocation sites return NULL whatever `err` is (errno = err). Only
 * one failure is injected per arming. Returns 0, or -EINVAL for a bad site,
 * nth == 0 or err <= 0. */
int rt_sys_fault_arm(enum rt_sys_site site, uint64_t nth, int err);

/* Makes injection inert again (no counting, no failures). Counts and the
 * fired flag stay readable. */
void rt_sys_fault_disarm(void);

/* Calls counted at `site` since the last arm or count start (RT_SYS_ANY:
 * at all sites). 0 for an unknown site. */
uint64_t rt_sys_calls(enum rt_sys_site site);

/* Calls at `site` since the last arm or count start that the kernel
 * itself failed with EAGAIN (counted for RT_SYS_READ, RT_SYS_WRITE and
 * RT_SYS_SEND only; 0 elsewhere). Lets a test assert that no transfer was
 * tried when it was known to fail. */
uint64_t rt_sys_eagains(enum rt_sys_site site);

/* 1 when the armed failure has been injected since the last arm, else 0. */
int rt_sys_fault_fired(void);

/* Each wrapper below behaves exactly as the call it names (same arguments,
 * same results, errno set on failure), except that an armed fault may fail
 * it before the call is made. */

/* malloc(3). */
void *rt_sys_malloc(size_t len);
/* calloc(3). */
void *rt_sys_calloc(size_t n, size_t len);
/* realloc(3); an injected failure leaves `p` allocated, like a real one. */
void *rt_sys_realloc(void *p, size_t len);
/* mmap(2); fails with MAP_FAILED. */
void *rt_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off);
/* mprotect(2). */
int rt_sys_mprotect(void *addr, size_t len, int prot);
/* epoll_create1(2). */
int rt_sys_epoll_create1(int flags);
/* epoll_ctl(2); `ev` is struct epoll_event * (void * keeps <sys/epoll.h>
 * out of this header). */
int rt_sys_epoll_ctl(int epfd, int op, int fd, void *ev);
/* epoll_pwait2(2) with no signal mask; `events` is struct epoll_event *. */
int rt_sys_epoll_pwait2(int epfd, void *events, int max,
                        const struct timespec *ts);
/* epoll_wait(2), the fallback on kernels without epoll_pwait2. Counted as
 * RT_SYS_EPOLL_WAIT. */
int rt_sys_epoll_wait(int epfd, void *events, int max, int ms);
/* eventfd(2). */
int rt_sys_eventfd(unsigned init, int flags);
/* read(2) of the 8-byte counter of an eventfd. */
ssize_t rt_sys_eventfd_read(int fd, uint64_t *v);
/* write(2) of an 8-byte value to an eventfd. */
ssize_t rt_sys_eventfd_write(int fd, uint64_t v);
/* read(2). */
ssize_t rt_sys_read(int fd, void *buf, size_t len);
/* recv(2), counted and injected as RT_SYS_READ: the read of a socket (it
 * skips the file layer that read(2) goes through to reach the socket). */
ssize_t rt_sys_recv(int fd, void *buf, size_t len, int flags);
/* write(2). */
ssize_t rt_sys_write(int fd, const void *buf, size_t len);
/* send(2). */
ssize_t rt_sys_send(int fd, const void *buf, size_t len, int flags);
/* accept4(2). */
int rt_sys_accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags);
/* connect(2). An injected EINTR is reported after the real call, and only
 * when that call started a connect (EINPROGRESS): on Linux an interrupted
 * connect goes on in the background, and this models exactly that. Other
 * injected errors replace the call. */
int rt_sys_connect(int fd, const struct sockaddr *addr, socklen_t alen);
/* pthread_create(3) of a detached thread running fn(arg). Returns 0 or a
 * positive error number (pthread's convention), like the call it wraps. */
int rt_sys_thread_start(void *(*fn)(void *), void *arg);
/* pthread_create(3) of a joinable thread with default attributes, for a
 * caller that joins it (the watchdog). Counted as RT_SYS_THREAD. Returns 0
 * or a positive error number, like pthread_create. */
int rt_sys_thread_create(pthread_t *th, void *(*fn)(void *), void *arg);
/* sigaltstack(2); `ss` and `old` are stack_t * (void * keeps <signal.h> out
 * of this header). */
int rt_sys_sigaltstack(const void *ss, void *old);
/* membarrier(2) with `cmd` and no flags: the registration of the
 * process for MEMBARRIER_CMD_PRIVATE_EXPEDITED (common/workers.c's yield
 * queues). Returns what the syscall returns, -1 with errno on failure. */
int rt_sys_membarrier(int cmd);

#endif

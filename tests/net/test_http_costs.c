/* The user-space cost of a keep-alive request on the HTTP server
 * (examples/http_server.c, on its own thread): in the steady state a
 * request allocates nothing, and reads the clock at most once per reactor
 * turn in the server's own code. Counted by interposing malloc and
 * clock_gettime in this executable (the server and the runtime are linked
 * into it, so each of their calls lands here first), over requests on one
 * connection (one turn per request, the worst case) and on many in
 * lockstep (several requests per turn). Every wait is a poll() on a
 * socket. */
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "netutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif

#define REQUESTS 2000
#define CONNS    32
#define ROUNDS   100

#ifndef SANITIZED
static char resp[4096];

/* ---- The interposers ----------------------------------------------------
 * Counting is on between count_start and count_stop; any thread may call
 * in, so the counters are atomics. glibc's __libc_* entry points are the
 * real allocator. */
void *__libc_malloc(size_t len);
void *__libc_calloc(size_t n, size_t len);
void *__libc_realloc(void *p, size_t len);
void *__libc_memalign(size_t align, size_t len);
void __libc_free(void *p);

static atomic_int counting;
static atomic_ulong allocs; /* malloc, calloc, realloc, memalign calls */
static atomic_ulong clocks; /* clock_gettime calls */
static int (*real_clock_gettime)(clockid_t, struct timespec *);

static void count_alloc(void)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
}

void *malloc(size_t len)
{
    count_alloc();
    return __libc_malloc(len);
}

void *calloc(size_t n, size_t len)
{
    count_alloc();
    return __libc_calloc(n, len);
}

void *realloc(void *p, size_t len)
{
    count_alloc();
    return __libc_realloc(p, len);
}

void *aligned_alloc(size_t align, size_t len)
{
    count_alloc();
    return __libc_memalign(align, len);
}

int posix_memalign(void **out, size_t align, size_t len)
{
    count_alloc();
    void *p = __libc_memalign(align, len);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p)
{
    __libc_free(p);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&clocks, 1, memory_order_relaxed);
    return real_clock_gettime(id, ts);
}

static void count_start(void)
{
    atomic_store(&allocs, 0);
    atomic_store(&clocks, 0);
    atomic_store(&counting, 1);
}

static void count_stop(void)
{
    atomic_store(&counting, 0);
}

/* REQUESTS requests one after another on one connection of a server of
 * its own, after a warm-up: each costs one reactor turn. */
static void one_connection(void)
{
    struct http_server_config cfg = {0};
    struct server_thread t;
    server_thread_start(&t, &cfg);
    int fd = net_connect(t.s.port);
    for (int i = 0; i < 10; i++) {
        net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
        net_recv_response(fd, resp, sizeof resp);
    }
    count_start();
    for (int i = 0; i < REQUESTS; i++) {
        net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
        net_recv_response(fd, resp, sizeof resp);
    }
    count_stop();
    CHECK_EQ(strcmp(resp, net_hello_response), 0);
    close(fd);
    server_thread_stop(&t);
    /* The server's own readings over its whole life (its counter, read
     * once its thread has been joined): the warm-up, the counted
     * requests, the close and the stop. */
    uint64_t own = t.s.stats.clock_reads;
    fprintf(stderr,
            "one connection: %lu allocations, %lu clock reads (%.2f per "
            "request), the server's own %llu over %d requests\n",
            atomic_load(&allocs), atomic_load(&clocks),
            (double)atomic_load(&clocks) / REQUESTS, (unsigned long long)own,
            REQUESTS + 10);
    CHECK_EQ(atomic_load(&allocs), 0);
    /* One reading per request at most in the server's code (one turn per
     * request here); before, it read the clock four times per request. */
    CHECK_LE(own, REQUESTS + 10 + 16);
    CHECK_GE(own, 1);
}

/* CONNS connections in lockstep: each round sends one request on every
 * connection, then reads the answers, so one turn wakes several. */
static void many_connections(void)
{
    struct http_server_config cfg = {0};
    struct server_thread t;
    server_thread_start(&t, &cfg);
    int fds[CONNS];
    for (int c = 0; c < CONNS; c++)
        fds[c] = net_connect(t.s.port);
    for (int r = 0; r < ROUNDS + 5; r++) {
        if (r == 5)
            count_start();
        for (int c = 0; c < CONNS; c++)
            net_send(fds[c], NET_GET_HELLO, NET_GET_HELLO_LEN);
        for (int c = 0; c < CONNS; c++) {
            net_recv_response(fds[c], resp, sizeof resp);
            CHECK_EQ(strcmp(resp, net_hello_response), 0);
        }
    }
    count_stop();
    fprintf(stderr,
            "%d connections: %lu allocations, %lu clock reads (%.2f per "
            "request)\n",
            CONNS, atomic_load(&allocs), atomic_load(&clocks),
            (double)atomic_load(&clocks) / (CONNS * ROUNDS));
    CHECK_EQ(atomic_load(&allocs), 0);
    for (int c = 0; c < CONNS; c++)
        close(fds[c]);
    server_thread_stop(&t);
    fprintf(stderr,
            "%d connections: the server's own clock reads %llu over "
            "%d requests\n",
            CONNS, (unsigned long long)t.s.stats.clock_reads,
            CONNS * (ROUNDS + 5));
    CHECK_LE(t.s.stats.clock_reads, (uint64_t)CONNS * (ROUNDS + 5) + 64);
}
#endif

int main(void)
{
#ifdef SANITIZED
    fprintf(stderr, "skipped: the malloc interposer cannot run beside a "
                    "sanitizer's allocator\n");
    return 77;
#else
    void *sym = dlsym(RTLD_NEXT, "clock_gettime");
    CHECK(sym != NULL);
    /* (a copy: C11 has no cast from an object to a function pointer) */
    memcpy(&real_clock_gettime, &sym, sizeof sym);
    one_connection();
    many_connections();
    return 0;
#endif
}

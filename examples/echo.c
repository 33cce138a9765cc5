/* The echo example: a TCP echo server and its load client, one source on
 * the portable API (include/greenfut/rt.h), one task per connection either way.
 *
 *   echo_stackful server [PORT]              serve until SIGINT/SIGTERM
 *   echo_stackful client PORT C M [BYTES]    C connections, M round trips
 *
 * Both print "echo backend=<name> port=<port>" first. The client then
 * prints round trips per second and the p50/p99 latency of one round trip
 * (write BYTES, read them back) over all connections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <greenfut/check.h>
#include "example_util.h"
#include <greenfut/list.h>
#include <greenfut/rt.h>

#define BUF_MAX 4096

/* ---- Server --------------------------------------------------------------
 * Invariant: every connection task is in `conns` while it runs, so that a
 * stop can shut down the read side of each (its read then sees EOF). */

struct echo_server {
    int listen_fd;
    int stop_fd;
    int stopping;
    struct rt_list conns;
    unsigned long long accepted;
};

struct echo_conn {
    RT_FRAME;
    struct echo_server *s;
    int fd;
    struct rt_list link;
    ssize_t n, w;
    size_t off, want;
    char buf[BUF_MAX];
};

static enum rt_poll echo_conn(void *self)
{
    struct echo_conn *f = self;
    RT_BEGIN(f);
    rt_list_push_back(&f->s->conns, &f->link);
    for (;;) {
        RT_AWAIT_READ(f, f->n, f->fd, f->buf, sizeof f->buf);
        if (f->n <= 0)
            break;
        for (f->off = 0; f->off < (size_t)f->n; f->off += (size_t)f->w) {
            f->want = (size_t)f->n - f->off;
            RT_AWAIT_WRITE(f, f->w, f->fd, f->buf + f->off, f->want);
            if (f->w <= 0)
                break;
        }
        if (f->off < (size_t)f->n)
            break;
    }
    rt_list_remove(&f->link);
    (void)rt_close(f->fd);
    RT_END(f);
}

/* Waits for SIGINT/SIGTERM, then stops accepting and ends the connections
 * by shutting their read sides (each echoes what it has, then sees EOF). */
struct echo_stop {
    RT_FRAME;
    struct echo_server *s;
    ssize_t n;
    char buf[128];
};

static enum rt_poll echo_stop(void *self)
{
    struct echo_stop *f = self;
    RT_BEGIN(f);
    RT_AWAIT_READ(f, f->n, f->s->stop_fd, f->buf, sizeof f->buf);
    f->s->stopping = 1;
    (void)rt_close(f->s->listen_fd); /* the acceptor wakes with -EBADF */
    for (struct rt_list *n = f->s->conns.next; n != &f->s->conns; n = n->next)
        (void)shutdown(RT_CONTAINER_OF(n, struct echo_conn, link)->fd, SHUT_RD);
    RT_END(f);
}

struct echo_accept {
    RT_FRAME;
    struct echo_server *s;
    int fd;
};

static enum rt_poll echo_accept(void *self)
{
    struct echo_accept *f = self;
    int rc;
    RT_BEGIN(f);
    rc = rt_register(f->s->listen_fd);
    RT_ASSERT(rc == 0);
    rc = rt_register(f->s->stop_fd);
    RT_ASSERT(rc == 0);
    { /* the template's scope ends before the awaits (rt.h, rule 3) */
        struct echo_stop st = {.s = f->s};
        rc = rt_spawn(echo_stop, &st, sizeof st, NULL);
        RT_ASSERT(rc == 0);
    }
    while (!f->s->stopping) {
        RT_AWAIT_ACCEPT(f, f->fd, f->s->listen_fd);
        if (f->fd == -EMFILE || f->fd == -ENFILE) {
            RT_AWAIT_SLEEP(f, 10000000); /* let connections end */
            continue;
        }
        if (f->fd < 0)
            continue; /* -EBADF after a stop ends the loop */
        int one = 1;
        (void)setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct echo_conn c = {.s = f->s, .fd = f->fd};
        if (rt_spawn(echo_conn, &c, sizeof c, NULL) < 0)
            (void)rt_close(f->fd);
        else
            f->s->accepted++;
    }
    RT_END(f);
}

static int listen_on(int port, int *bound)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &alen) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

static int serve(int port)
{
    struct echo_server s = {0};
    rt_list_init(&s.conns);
    s.stop_fd = example_stop_signals();
    if (s.stop_fd < 0) {
        fprintf(stderr, "echo: signalfd: %s\n", strerror(-s.stop_fd));
        return 1;
    }
    int bound = 0;
    s.listen_fd = listen_on(port, &bound);
    if (s.listen_fd < 0) {
        fprintf(stderr, "echo: listen: %s\n", strerror(-s.listen_fd));
        return 1;
    }
    printf("echo backend=%s port=%d\n", rt_backend_name(), bound);
    fflush(stdout);
    struct echo_accept a = {.s = &s};
    int rc = rt_run(echo_accept, &a, sizeof a, NULL);
    close(s.stop_fd);
    fprintf(stderr, "echo: stopped after %llu connections\n", s.accepted);
    if (rc < 0) {
        fprintf(stderr, "echo: rt_run: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

/* ---- Client -------------------------------------------------------------- */

struct load {
    int port;
    int conns;
    long trips;
    size_t bytes;
    uint64_t *lat; /* conns * trips latencies, ns */
    int failed;
};

struct client {
    RT_FRAME;
    struct load *l;
    int id;
    int fd;
    int rc;
    long i;
    uint64_t t0;
    size_t off, want;
    ssize_t n;
    struct sockaddr_in sa;
    char out[BUF_MAX];
    char in[BUF_MAX];
};

static enum rt_poll client(void *self)
{
    struct client *f = self;
    RT_BEGIN(f);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0 || rt_register(f->fd) < 0) {
        f->l->failed = 1;
        RT_RETURN(f, -1);
    }
    f->sa.sin_family = AF_INET;
    f->sa.sin_port = htons((uint16_t)f->l->port);
    f->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RT_AWAIT_CONNECT(f, f->rc, f->fd, (struct sockaddr *)&f->sa, sizeof f->sa);
    if (f->rc < 0) {
        f->l->failed = 1;
        (void)rt_close(f->fd);
        RT_RETURN(f, -1);
    }
    {
        int one = 1;
        (void)setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    for (size_t k = 0; k < f->l->bytes; k++)
        f->out[k] = (char)('a' + (k + (size_t)f->id) % 26);
    for (f->i = 0; f->i < f->l->trips; f->i++) {
        f->t0 = rt_now_ns();
        for (f->off = 0; f->off < f->l->bytes; f->off += (size_t)f->n) {
            f->want = f->l->bytes - f->off;
            RT_AWAIT_WRITE(f, f->n, f->fd, f->out + f->off, f->want);
            if (f->n <= 0)
                break;
        }
        for (f->off = 0; f->n > 0 && f->off < f->l->bytes;
             f->off += (size_t)f->n) {
            f->want = f->l->bytes - f->off;
            RT_AWAIT_READ(f, f->n, f->fd, f->in + f->off, f->want);
        }
        if (f->n <= 0 || memcmp(f->in, f->out, f->l->bytes) != 0) {
            f->l->failed = 1;
            break;
        }
        f->l->lat[(size_t)f->id * (size_t)f->l->trips + (size_t)f->i] =
            rt_now_ns() - f->t0;
    }
    (void)rt_close(f->fd);
    RT_END(f);
}

struct client_root {
    RT_FRAME;
    struct load *l;
    struct rt_join *joins;
    int i, rc;
};

static enum rt_poll client_root(void *self)
{
    struct client_root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->l->conns; f->i++) {
        struct client c = {.l = f->l, .id = f->i};
        if (rt_spawn(client, &c, sizeof c, &f->joins[f->i]) < 0) {
            f->l->failed = 1;
            break;
        }
    }
    f->l->conns = f->i; /* the ones that started */
    for (f->i = 0; f->i < f->l->conns; f->i++)
        RT_AWAIT_JOIN(f, f->rc, &f->joins[f->i]);
    RT_END(f);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int load(int port, int conns, long trips, size_t bytes)
{
    if (conns <= 0 || trips <= 0 || bytes == 0 || bytes > BUF_MAX) {
        fprintf(stderr, "echo: need C > 0, M > 0, 0 < BYTES <= %d\n", BUF_MAX);
        return 2;
    }
    (void)example_raise_nofile();
    struct load l = {
        .port = port, .conns = conns, .trips = trips, .bytes = bytes};
    size_t total = (size_t)conns * (size_t)trips;
    l.lat = calloc(total, sizeof *l.lat);
    struct rt_join *joins = calloc((size_t)conns, sizeof *joins);
    if (!l.lat || !joins) {
        fprintf(stderr, "echo: out of memory\n");
        free(l.lat);
        free(joins);
        return 1;
    }
    printf("echo backend=%s port=%d\n", rt_backend_name(), port);
    fflush(stdout);
    struct client_root r = {.l = &l, .joins = joins};
    uint64_t t0 = rt_now_ns();
    int rc = rt_run(client_root, &r, sizeof r, NULL);
    double secs = (double)(rt_now_ns() - t0) / 1e9;
    if (rc < 0 || l.failed) {
        fprintf(stderr, "echo: client failed (%s)\n",
                rc < 0 ? strerror(-rc) : "a connection broke");
        return 1;
    }
    qsort(l.lat, total, sizeof *l.lat, cmp_u64);
    printf("round_trips=%zu conns=%d bytes=%zu seconds=%.3f "
           "round_trips_per_s=%.0f p50_us=%.1f p99_us=%.1f\n",
           total, conns, bytes, secs, (double)total / secs,
           (double)l.lat[total / 2] / 1e3,
           (double)l.lat[total * 99 / 100] / 1e3);
    free(l.lat);
    free(joins);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "server") == 0 && argc <= 3)
        return serve(argc == 3 ? atoi(argv[2]) : 0);
    if (argc >= 5 && strcmp(argv[1], "client") == 0 && argc <= 6)
        return load(atoi(argv[2]), atoi(argv[3]), atol(argv[4]),
                    argc == 6 ? (size_t)atol(argv[5]) : 64);
    fprintf(stderr, "usage: echo server [PORT]\n"
                    "       echo client PORT C M [BYTES]\n");
    return 2;
}

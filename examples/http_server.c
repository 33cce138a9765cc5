/* The HTTP server's tasks: one acceptor, one task per connection, and an
 * optional watcher of the stop fd. Written once on common/rt.h.
 *
 * Invariant: a connection task is linked in s->conns from its first step to
 * its last, and `idle` is 1 exactly while it waits for the first byte of a
 * next request with nothing buffered; http_server_stop relies on both.
 * Frames never move once a task has started (rt_spawn, rule 7), so the
 * list may point into them.
 *
 * Several workers: the tasks of one server may run on several OS threads
 * at once (struct http_server says what is whose). The sweeper and
 * http_server_stop read another task's `idle`, `swept` and `idle_until`,
 * and hold s->lock while they walk the list, so a connection cannot end
 * (and its fd be closed and reused) under them. `idle` and `stopping` are
 * sequentially consistent: a connection that goes idle stores `idle`, then
 * loads `stopping`; a stop stores `stopping`, then loads each `idle`; one
 * of the two sees the other, so an idle connection is never missed.
 *
 * Buffers: a connection holds a request buffer (head, then output) only
 * while a request is in flight. Waiting for the first byte of a next
 * request it reads into a few bytes of its own frame, and takes a buffer
 * from the server's LIFO list when they arrive. An idle keep-alive
 * connection is then its frame alone (and, on stackful, its stack), and
 * under load the same few buffers go round, warm in the caches, instead
 * of one per connection (nginx frees an idle connection's buffers the
 * same way).
 */
#include "http_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <greenfut/check.h>
#include "http_parse.h"

#define SEC_NS     1000000000ull
#define MS_NS      1000000ull
#define OUT_MAX    8192
#define RESP_ROOM  512 /* what one non-file response needs at most */
#define DRAIN_POLL (2 * MS_NS)
#define BUF_SIZE   (HTTP_MAX_HEAD + OUT_MAX)
#define BUFS_KEPT  64  /* free buffers the server keeps for reuse */
#define FIRST_MAX  128 /* what an idle connection reads into its frame */

/* One connection's task frame. */
struct http_conn {
    RT_FRAME;
    struct http_server *s;
    int fd;
    atomic_int idle;             /* see the file comment */
    atomic_int swept;            /* the sweep ended its idle wait (a timeout) */
    _Atomic uint64_t idle_until; /* while idle: when the sweep may end it */
    int close_after;             /* end once the queued output is written */
    int linger;                  /* an error answer: drain input before close */
    int reset;                   /* a write timed out: close with a reset */
    int file_fd;                 /* a static file being sent, or -1 */
    struct rt_list link;         /* in s->conns */
    struct http_parser p;        /* the head being parsed */
    struct http_request req;
    int rc;             /* the last enum http_parse_result */
    size_t in_len;      /* bytes in `in` */
    size_t out_len;     /* bytes queued in `out` */
    size_t out_off;     /* bytes of `out` already written */
    size_t want;        /* the length of the read or write in flight */
    uint64_t body_left; /* body bytes still to discard */
    uint64_t file_left; /* file bytes still to send */
    off_t file_off;
    uint64_t deadline;     /* of the read in flight */
    ssize_t n;             /* result of the last read or write */
    ssize_t w;             /* result of the last file-chunk write */
    char *in;              /* HTTP_MAX_HEAD bytes, then `out` (one buffer of
                              BUF_SIZE from buf_get), or NULL when idle */
    char *out;             /* OUT_MAX bytes */
    char first[FIRST_MAX]; /* the idle read's bytes */
};

/* The idle sweeper's frame (see sweeper). */
struct sweep {
    RT_FRAME;
    struct http_server *s;
    uint64_t deadline; /* of the wait for the next sweep */
    struct rt_timer t; /* that wait's timer */
    int res;
    char msg; /* never sent: the channel only closes */
};

/* The stop watcher's frame. */
struct stop_watch {
    RT_FRAME;
    struct http_server *s;
    ssize_t n;
    char buf[128]; /* a struct signalfd_siginfo, or an eventfd's 8 bytes */
};

int http_server_init(struct http_server *s,
                     const struct http_server_config *cfg)
{
    if (!s || !cfg || cfg->port < 0 || cfg->port > 65535)
        return -EINVAL;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.addr)
        s->cfg.addr = "127.0.0.1";
    if (!s->cfg.header_timeout_ns)
        s->cfg.header_timeout_ns = 10 * SEC_NS;
    if (!s->cfg.idle_timeout_ns)
        s->cfg.idle_timeout_ns = 60 * SEC_NS;
    if (!s->cfg.write_timeout_ns)
        s->cfg.write_timeout_ns = 10 * SEC_NS;
    if (!s->cfg.drain_timeout_ns)
        s->cfg.drain_timeout_ns = 5 * SEC_NS;
    rt_list_init(&s->conns);
    rt_spin_init(&s->lock);
    atomic_init(&s->stopping, 0);
    s->listen_fd = -1;
    s->root_fd = -1;
    size_t wbytes = RT_WORKERS_MAX * sizeof(struct http_worker);
    _Static_assert(sizeof(struct http_worker) == 64, "one cache line");
    s->workers = aligned_alloc(64, wbytes);
    if (!s->workers)
        return -ENOMEM;
    memset(s->workers, 0, wbytes);
    /* A rendezvous channel allocates nothing; it only ever closes. */
    int crc = rt_chan_init(&s->sweep_stop, 1, 0);
    if (crc < 0) {
        free(s->workers);
        s->workers = NULL;
        return crc;
    }

    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)cfg->port)};
    int fd = -1, one = 1;
    socklen_t alen = sizeof sa;
    errno = EINVAL;
    if (inet_pton(AF_INET, s->cfg.addr, &sa.sin_addr) != 1)
        goto fail;
    if (s->cfg.root) {
        s->root_fd = open(s->cfg.root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
            goto fail;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        (s->cfg.reuseport &&
         setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(fd, SOMAXCONN) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &alen) < 0)
        goto fail;
    s->listen_fd = fd;
    s->port = ntohs(sa.sin_port);
    return 0;
fail:;
    int err = -errno;
    if (fd >= 0)
        close(fd);
    if (s->root_fd >= 0)
        close(s->root_fd);
    s->root_fd = -1;
    rt_chan_fini(&s->sweep_stop);
    free(s->workers);
    s->workers = NULL;
    return err;
}

/* The calling task's worker's own part of the server. */
static struct http_worker *here(struct http_server *s)
{
    int w = rt_mt() ? rt_worker_index() : 0;
    return &s->workers[w > 0 ? w : 0];
}

/* A request buffer: the last one this worker freed, or a new one. NULL
 * when out of memory. */
static char *buf_take(struct http_worker *w)
{
    void *b = w->bufs;
    if (!b)
        return malloc(BUF_SIZE);
    memcpy(&w->bufs, b, sizeof(void *));
    w->nbufs--;
    return b;
}

static char *buf_get(struct http_server *s)
{
    return buf_take(here(s));
}

static void buf_put(struct http_server *s, char *b)
{
    struct http_worker *w = here(s);
    if (w->nbufs >= BUFS_KEPT) {
        free(b);
        return;
    }
    memcpy(b, &w->bufs, sizeof(void *));
    w->bufs = b;
    w->nbufs++;
}

/* Counts a request on the calling task's worker. */
static void count_request(struct http_server *s)
{
    here(s)->requests++;
}

static void count_timeout(struct http_server *s)
{
    here(s)->timeouts++;
}

/* Connections open now (under the lock: they end on any worker). */
static size_t conns_open(struct http_server *s)
{
    bool taken = rt_spin_lock(&s->lock);
    size_t n = s->stats.conns;
    rt_spin_unlock(&s->lock, taken);
    return n;
}

void http_server_fini(struct http_server *s)
{
    rt_chan_fini(&s->sweep_stop);
    for (size_t i = 0; s->workers && i < RT_WORKERS_MAX; i++)
        while (s->workers[i].bufs)
            free(buf_take(&s->workers[i]));
    free(s->workers);
    s->workers = NULL;
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->root_fd >= 0)
        close(s->root_fd);
    s->listen_fd = -1;
    s->root_fd = -1;
}

uint64_t http_server_now(struct http_server *s)
{
    /* The reactor counts its turns; a task that waited has been woken by
     * a turn since its last reading, so the count tells a stale reading
     * from a fresh one without reading the clock. (perf: four readings
     * per request before, most of them in one batch of the same turn.) */
    struct http_worker *w = here(s);
    if (rt_mt()) { /* see the header: no shared turn count */
        w->clock_reads++;
        return rt_now_ns();
    }
    struct rt_reactor *r = rt_reactor_current();
    uint64_t turns = r ? rt_reactor_turns(r) : w->now_turn + 1;
    if (turns != w->now_turn || w->now_ns == 0) { /* no r: always read */
        w->now_ns = rt_now_ns();
        w->now_turn = turns;
        w->clock_reads++;
    }
    return w->now_ns;
}

void http_server_stop(struct http_server *s)
{
    if (atomic_exchange(&s->stopping, 1))
        return;
    rt_chan_close(&s->sweep_stop); /* the sweeper ends */
    /* The acceptor wakes with -EBADF; new connections are refused (a
     * shut-down listener answers with a reset). The fd itself stays open
     * until http_server_fini: closing it here would let its number be
     * reused while the acceptor, on another worker, may still name it. */
    if (s->listen_fd >= 0) {
        (void)rt_reactor_deregister(rt_reactor_current(), s->listen_fd);
        (void)shutdown(s->listen_fd, SHUT_RDWR);
    }
    bool taken = rt_spin_lock(&s->lock);
    for (struct rt_list *n = s->conns.next; n != &s->conns; n = n->next) {
        struct http_conn *c = RT_CONTAINER_OF(n, struct http_conn, link);
        if (atomic_load(&c->idle))
            (void)shutdown(c->fd, SHUT_RD); /* its read sees EOF */
    }
    rt_spin_unlock(&s->lock, taken);
}

/* How often the sweeper looks for connections idle past their deadline:
 * an eighth of the idle timeout, between 10 ms and 1 s. */
static uint64_t sweep_period(const struct http_server *s)
{
    uint64_t p = s->cfg.idle_timeout_ns / 8;
    return p < 10 * MS_NS ? 10 * MS_NS : p > SEC_NS ? SEC_NS : p;
}

/* The idle timeout of every connection, from one task: a connection that
 * waits for a next request does a plain read, with no timer of its own,
 * and this task, every sweep_period, shuts down the read side of each one
 * whose idle deadline has passed (its read then sees EOF, and `swept`
 * says why). A per-read timer was armed and cancelled on every request,
 * an insert into and a removal from the reactor's heap each time (perf:
 * unlink_timer alone 1.5-2.3% of the server's CPU under wrk); the sweep
 * costs one pass over the connections per period instead, and an idle
 * connection may stay open up to one period past its timeout. Ends when
 * the server stops (the channel closes). */
static enum rt_poll sweeper(void *self)
{
    struct sweep *f = self;
    RT_BEGIN(f);
    while (!atomic_load(&f->s->stopping)) {
        f->deadline = http_server_now(f->s) + sweep_period(f->s);
        RT_AWAIT_RECV_UNTIL(f, f->res, &f->s->sweep_stop, &f->msg, &f->t,
                            f->deadline);
        if (f->res != -ETIMEDOUT)
            break; /* closed: the server stops */
        uint64_t now = http_server_now(f->s);
        struct rt_list *head = &f->s->conns;
        bool taken = rt_spin_lock(&f->s->lock);
        for (struct rt_list *n = head->next; n != head; n = n->next) {
            struct http_conn *c = RT_CONTAINER_OF(n, struct http_conn, link);
            if (atomic_load(&c->idle) &&
                !atomic_load_explicit(&c->swept, memory_order_relaxed) &&
                now >= atomic_load_explicit(&c->idle_until,
                                            memory_order_relaxed)) {
                atomic_store_explicit(&c->swept, 1, memory_order_relaxed);
                (void)shutdown(c->fd, SHUT_RD); /* its read sees EOF */
            }
        }
        rt_spin_unlock(&f->s->lock, taken);
    }
    RT_END(f);
}

static enum rt_poll stop_watch(void *self)
{
    struct stop_watch *f = self;
    RT_BEGIN(f);
    RT_AWAIT_READ(f, f->n, f->s->cfg.stop_fd, f->buf, sizeof f->buf);
    if (f->n > 0)
        http_server_stop(f->s);
    RT_END(f);
}

/* ---- Responses ---------------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    default:
        return "Error";
    }
}

/* Appends `len` bytes of `p` to c->out (the caller checked the room). */
static void put(struct http_conn *c, const char *p, size_t len)
{
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
}

static void put_str(struct http_conn *c, const char *p)
{
    put(c, p, strlen(p));
}

/* Appends `v` in decimal. */
static void put_u64(struct http_conn *c, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(c, digits + sizeof(digits) - n, n);
}

/* Queues a status line and headers (and `body` unless HEAD) in c->out.
 * There is always RESP_ROOM free when this is called. Built by hand, not
 * with snprintf: formatting was 2-3% of the server's CPU per request under
 * wrk (perf), on every response. */
static void queue_response(struct http_conn *c, int status, const char *body,
                           uint64_t body_len, int with_body)
{
    size_t start = c->out_len;
    put_str(c, "HTTP/1.1 ");
    put_u64(c, (uint64_t)status);
    put(c, " ", 1);
    put_str(c, reason(status));
    put_str(c, "\r\nServer: greenfut\r\nContent-Length: ");
    put_u64(c, body_len);
    put(c, "\r\n", 2);
    if (status == 405)
        put_str(c, "Allow: GET, HEAD\r\n");
    if (c->close_after || !c->req.keep_alive)
        put_str(c, "Connection: close\r\n");
    else if (c->req.minor == 0)
        put_str(c, "Connection: keep-alive\r\n");
    put(c, "\r\n", 2);
    if (with_body && body)
        put_str(c, body);
    RT_ASSERT(c->out_len - start < RESP_ROOM && c->out_len < OUT_MAX);
    count_request(c->s);
}

static void queue_error(struct http_conn *c, int status)
{
    static const char *const bodies[] = {"bad request\n", "timeout\n",
                                         "header too large\n",
                                         "not implemented\n"};
    const char *body = status == 400   ? bodies[0]
                       : status == 408 ? bodies[1]
                       : status == 431 ? bodies[2]
                                       : bodies[3];
    c->close_after = 1;
    c->linger = 1;
    c->req.keep_alive = 0;
    queue_response(c, status, body, strlen(body), 1);
}

/* Opens root/rel (rel_len bytes, no leading '/') without following any
 * symlink and without leaving the root: each component must be a plain
 * name (not empty, ".", ".."), directories are walked one openat at a
 * time with O_NOFOLLOW. Returns an fd of a regular file or -ENOENT. */
static int open_static(int root_fd, const char *rel, size_t rel_len)
{
    char name[NAME_MAX + 1];
    int dir = root_fd, fd = -ENOENT;
    size_t i = 0;
    if (root_fd < 0 || rel_len == 0)
        return -ENOENT;
    for (;;) {
        size_t j = i;
        while (j < rel_len && rel[j] != '/')
            j++;
        size_t n = j - i;
        if (n == 0 || n > NAME_MAX || (n == 1 && rel[i] == '.') ||
            (n == 2 && rel[i] == '.' && rel[i + 1] == '.')) {
            fd = -ENOENT;
            break;
        }
        memcpy(name, rel + i, n);
        name[n] = '\0';
        int last = j == rel_len;
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                    (last ? O_NONBLOCK : O_DIRECTORY);
        int next = openat(dir, name, flags);
        if (dir != root_fd)
            close(dir);
        dir = root_fd;
        if (next < 0) {
            fd = -ENOENT;
            break;
        }
        if (last) {
            struct stat st;
            if (fstat(next, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(next);
                fd = -ENOENT;
            } else {
                fd = next;
            }
            break;
        }
        dir = next;
        i = j + 1;
    }
    if (dir != root_fd)
        close(dir);
    return fd;
}

/* The whole answer to a keep-alive HTTP/1.1 `GET /`, the route the
 * benchmarks load: built once here rather than field by field for every
 * request. queue_response writes the same bytes for it. */
static const char hello_keep_alive[] = "HTTP/1.1 200 OK\r\nServer: greenfut\r\n"
                                       "Content-Length: 6\r\n\r\n" HTTP_HELLO;
_Static_assert(sizeof HTTP_HELLO - 1 == 6, "hello_keep_alive's length");

/* Queues the answer to c->req; may open a file (c->file_fd). */
static void answer(struct http_conn *c)
{
    static const char prefix[] = "/static/";
    const char *t = c->req.target;
    size_t len = c->req.target_len;
    const char *q = memchr(t, '?', len);
    if (q)
        len = (size_t)(q - t);
    int head = c->req.method == HTTP_METHOD_HEAD;
    if (c->req.method == HTTP_METHOD_OTHER) {
        queue_response(c, 405, "method not allowed\n", 19, 1);
    } else if (len == 0 || (len == 1 && t[0] == '/')) {
        /* Empty: an absolute-form target without a path, which is "/". */
        if (!head && c->req.keep_alive && !c->close_after &&
            c->req.minor != 0) {
            RT_ASSERT(sizeof hello_keep_alive - 1 < RESP_ROOM &&
                      c->out_len + sizeof hello_keep_alive - 1 < OUT_MAX);
            put(c, hello_keep_alive, sizeof hello_keep_alive - 1);
            count_request(c->s);
        } else {
            queue_response(c, 200, HTTP_HELLO, sizeof HTTP_HELLO - 1, !head);
        }
    } else if (len > sizeof prefix - 1 &&
               memcmp(t, prefix, sizeof prefix - 1) == 0) {
        int fd = open_static(c->s->root_fd, t + sizeof prefix - 1,
                             len - (sizeof prefix - 1));
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0) {
            queue_response(c, 200, NULL, (uint64_t)st.st_size, 0);
            if (!head && st.st_size > 0) {
                c->file_fd = fd;
                c->file_off = 0;
                c->file_left = (uint64_t)st.st_size;
                return;
            }
        } else {
            queue_response(c, 404, "not found\n", 10, !head);
        }
        if (fd >= 0)
            close(fd);
    } else {
        queue_response(c, 404, "not found\n", 10, !head);
    }
}

/* Drops the head (and whatever of the body is buffered) from c->in. */
static void consume(struct http_conn *c)
{
    size_t used = c->req.head_len;
    uint64_t body = c->req.content_length;
    size_t buffered = c->in_len - used;
    size_t drop = body < buffered ? (size_t)body : buffered;
    used += drop;
    c->body_left = body - drop;
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

/* Parses what is buffered as the start of a new head. When that is only
 * empty lines, which the parser skips (RFC 9112 2.2; some clients send
 * one after a body), they are dropped, so that the connection waits as an
 * idle one (idle timeout, ended at once by a stop) and not as one inside
 * a request. */
static void parse_next(struct http_conn *c)
{
    http_parser_init(&c->p, HTTP_MAX_HEAD);
    c->rc = c->in_len
                ? (int)http_parse_request(&c->p, c->in, c->in_len, &c->req)
                : HTTP_PARSE_MORE;
    if (c->rc == HTTP_PARSE_MORE && c->in_len > 0 &&
        c->p.req_start == c->in_len) {
        c->in_len = 0;
        http_parser_init(&c->p, HTTP_MAX_HEAD);
    }
}

/* After a write that did not complete (n: its result): a peer that took
 * nothing for the whole write timeout is reset at the end, not closed. A
 * plain close would leave the kernel an orphaned socket still holding up
 * to a send buffer of bytes for a peer that does not read, retried for
 * minutes; a reset frees it at once (nginx's reset_timedout_connection).
 * There is no answer left to protect, so no lingering close either. */
static void write_failed(struct http_conn *c, ssize_t n)
{
    if (n != -ETIMEDOUT)
        return;
    count_timeout(c->s);
    c->reset = 1;
    c->linger = 0;
}

static void conn_end(struct http_conn *c)
{
    if (c->in)
        buf_put(c->s, c->in);
    bool taken = rt_spin_lock(&c->s->lock);
    rt_list_remove(&c->link);
    c->s->stats.conns--;
    rt_spin_unlock(&c->s->lock, taken);
    if (c->file_fd >= 0)
        close(c->file_fd);
    if (c->reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    (void)rt_close(c->fd);
}

static enum rt_poll conn_task(void *self)
{
    struct http_conn *f = self;
    RT_BEGIN(f);
    {
        bool taken = rt_spin_lock(&f->s->lock);
        rt_list_push_back(&f->s->conns, &f->link);
        f->s->stats.conns++;
        rt_spin_unlock(&f->s->lock, taken);
    }
    f->file_fd = -1;
    f->in = f->out = NULL;
    f->in_len = 0;
    parse_next(f);
    while (!f->close_after) {
        /* Read until a head is complete (or wrong). */
        f->deadline = http_server_now(f->s) +
                      (f->in_len == 0 ? f->s->cfg.idle_timeout_ns
                                      : f->s->cfg.header_timeout_ns);
        /* The sweep reads the deadline once it sees idle. */
        atomic_store_explicit(&f->idle_until, f->deadline,
                              memory_order_relaxed);
        atomic_store(&f->idle, f->in_len == 0);
        if (f->idle && f->in) { /* nothing buffered: give the buffer back */
            buf_put(f->s, f->in);
            f->in = f->out = NULL;
        }
        while (f->rc == HTTP_PARSE_MORE &&
               !(f->idle && atomic_load(&f->s->stopping))) {
            if (f->idle) {
                /* No timer: the sweeper ends it after f->deadline. */
                RT_AWAIT_READ(f, f->n, f->fd, f->first, FIRST_MAX);
            } else {
                f->want = HTTP_MAX_HEAD - f->in_len;
                RT_AWAIT_READ_UNTIL(f, f->n, f->fd, f->in + f->in_len, f->want,
                                    f->deadline);
            }
            if (f->n == -ETIMEDOUT && !f->idle) {
                count_timeout(f->s);
                queue_error(f, 408);
                break;
            }
            if (f->n <= 0) {
                if (f->n == -ETIMEDOUT || (f->idle && f->swept))
                    count_timeout(f->s);
                f->close_after = 1; /* EOF, error or idle timeout */
                break;
            }
            if (f->idle) {
                f->in = buf_get(f->s);
                if (!f->in) {
                    f->close_after = 1; /* out of memory: drop it */
                    break;
                }
                f->out = f->in + HTTP_MAX_HEAD;
                memcpy(f->in, f->first, (size_t)f->n);
                atomic_store(&f->idle, 0);
                f->deadline =
                    http_server_now(f->s) + f->s->cfg.header_timeout_ns;
            }
            f->in_len += (size_t)f->n;
            f->rc = (int)http_parse_request(&f->p, f->in, f->in_len, &f->req);
        }
        if (f->out_len == 0 && f->close_after)
            break; /* nothing to answer */
        if (f->idle && atomic_load(&f->s->stopping))
            break;
        /* Answer every complete head that is buffered (pipelining), one
         * write for all of them, or stop at an error or a file. */
        while (f->out_len == 0 ||
               (f->rc == HTTP_PARSE_DONE && f->out_len + RESP_ROOM <= OUT_MAX &&
                !f->close_after)) {
            if (f->rc == HTTP_PARSE_BAD)
                queue_error(f, 400);
            else if (f->rc == HTTP_PARSE_TOO_LARGE)
                queue_error(f, 431);
            else if (f->rc == HTTP_PARSE_UNSUPPORTED)
                queue_error(f, 501);
            if (f->close_after)
                break;
            if (f->rc != HTTP_PARSE_DONE)
                break;
            answer(f);
            consume(f);
            if (!f->req.keep_alive || atomic_load(&f->s->stopping))
                f->close_after = 1;
            if (f->file_fd >= 0 || f->body_left > 0)
                break;
            parse_next(f);
        }
        /* Each write may wait write_timeout_ns for the peer to take a
         * byte: the deadline bounds a stall, not the whole response, so
         * a slow but reading client still gets a large file. */
        for (f->out_off = 0; f->out_off < f->out_len;) {
            f->want = f->out_len - f->out_off;
            RT_AWAIT_WRITE_UNTIL(f, f->n, f->fd, f->out + f->out_off, f->want,
                                 http_server_now(f->s) +
                                     f->s->cfg.write_timeout_ns);
            if (f->n <= 0)
                break;
            f->out_off += (size_t)f->n;
        }
        if (f->out_off < f->out_len) {
            write_failed(f, f->n);
            break; /* the peer is gone (EPIPE, ECONNRESET) or stalled */
        }
        f->out_len = 0;
        /* A static file, in chunks of `out`. A regular file never says
         * EAGAIN, so pread runs inline: the page cache makes it short. */
        while (f->file_fd >= 0 && f->file_left > 0) {
            f->n =
                pread(f->file_fd, f->out,
                      f->file_left < OUT_MAX ? (size_t)f->file_left : OUT_MAX,
                      f->file_off);
            if (f->n <= 0)
                break;
            f->file_off += f->n;
            f->file_left -= (uint64_t)f->n;
            for (f->out_off = 0; f->out_off < (size_t)f->n;) {
                f->want = (size_t)f->n - f->out_off;
                RT_AWAIT_WRITE_UNTIL(
                    f, f->w, f->fd, f->out + f->out_off, f->want,
                    http_server_now(f->s) + f->s->cfg.write_timeout_ns);
                if (f->w <= 0)
                    break;
                f->out_off += (size_t)f->w;
            }
            if (f->out_off < (size_t)f->n) {
                write_failed(f, f->w);
                break;
            }
        }
        if (f->file_fd >= 0) {
            close(f->file_fd);
            f->file_fd = -1;
            if (f->file_left > 0)
                break; /* short file or peer gone: the length is a lie */
        }
        /* Discard a body that was not fully buffered. */
        if (f->body_left > 0)
            f->deadline = http_server_now(f->s) + f->s->cfg.header_timeout_ns;
        while (f->body_left > 0 && !f->close_after) {
            f->want = f->body_left < HTTP_MAX_HEAD ? (size_t)f->body_left
                                                   : HTTP_MAX_HEAD;
            RT_AWAIT_READ_UNTIL(f, f->n, f->fd, f->in, f->want, f->deadline);
            if (f->n <= 0)
                f->close_after = 1;
            else
                f->body_left -= (uint64_t)f->n;
        }
        parse_next(f);
    }
    if (f->linger) {
        /* A lingering close after an error: stop sending, then read what
         * the client still sends (bounded by the header timeout) so that
         * closing with unread data does not turn our answer into a reset
         * before the client has read it. */
        (void)shutdown(f->fd, SHUT_WR);
        f->deadline = http_server_now(f->s) + f->s->cfg.header_timeout_ns;
        do {
            RT_AWAIT_READ_UNTIL(f, f->n, f->fd, f->in, HTTP_MAX_HEAD,
                                f->deadline);
        } while (f->n > 0);
    }
    conn_end(f);
    RT_END(f);
}

/* ---- The acceptor -------------------------------------------------------- */

static int retryable(int err)
{
    return err == -EMFILE || err == -ENFILE || err == -ENOBUFS ||
           err == -ENOMEM;
}

enum rt_poll http_server_task(void *self)
{
    struct http_server_task *f = self;
    struct http_server *s = f->s;
    int rc;
    RT_BEGIN(f);
    if (!atomic_load(&s->stopping)) {
        rc = rt_register(s->listen_fd);
        RT_ASSERT(rc == 0);
    }
    if (s->cfg.stop_fd >= 0 && rt_register(s->cfg.stop_fd) == 0) {
        struct stop_watch w = {.s = s};
        rc = rt_spawn(stop_watch, &w, sizeof w, NULL);
        RT_ASSERT(rc == 0);
    }
    if (!atomic_load(&s->stopping)) {
        struct sweep w = {.s = s};
        rc = rt_spawn(sweeper, &w, sizeof w, NULL);
        RT_ASSERT(rc == 0);
    }
    f->backoff = MS_NS;
    while (!atomic_load(&s->stopping)) {
        RT_AWAIT_ACCEPT(f, f->fd, s->listen_fd);
        if (f->fd >= 0) {
            int one = 1;
            (void)setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            struct http_conn c = {.s = s, .fd = f->fd, .file_fd = -1};
            if (rt_spawn(conn_task, &c, sizeof c, NULL) < 0)
                (void)rt_close(f->fd);
            else
                s->stats.accepted++;
            f->backoff = MS_NS;
            continue;
        }
        if (atomic_load(&s->stopping))
            break;
        s->stats.accept_errors++;
        if (s->cfg.on_accept_error)
            s->cfg.on_accept_error(s->cfg.arg, f->fd);
        if (retryable(f->fd)) {
            /* Out of fds or memory: the pending connection stays in the
             * backlog; serve the open ones and try again later. */
            RT_AWAIT_SLEEP(f, f->backoff);
            if (f->backoff < 100 * MS_NS)
                f->backoff *= 2;
        }
    }
    /* Drain: give in-flight requests drain_timeout_ns, then cut them off. */
    f->deadline = rt_now_ns() + s->cfg.drain_timeout_ns;
    while (conns_open(s) > 0 && rt_now_ns() < f->deadline)
        RT_AWAIT_SLEEP(f, DRAIN_POLL);
    {
        bool taken = rt_spin_lock(&s->lock);
        for (struct rt_list *n = s->conns.next; n != &s->conns; n = n->next) {
            struct http_conn *c = RT_CONTAINER_OF(n, struct http_conn, link);
            (void)shutdown(c->fd, SHUT_RDWR);
        }
        rt_spin_unlock(&s->lock, taken);
    }
    while (conns_open(s) > 0)
        RT_AWAIT_SLEEP(f, DRAIN_POLL);
    if (s->cfg.stop_fd >= 0) /* ends the watcher if it still waits */
        (void)rt_reactor_deregister(rt_reactor_current(), s->cfg.stop_fd);
    /* Every connection task has ended; the sweeper ends with the closed
     * channel and touches no counter. Add up the workers' counters. */
    s->stats.requests = s->stats.timeouts = s->stats.clock_reads = 0;
    for (size_t i = 0; i < RT_WORKERS_MAX; i++) {
        s->stats.requests += s->workers[i].requests;
        s->stats.timeouts += s->workers[i].timeouts;
        s->stats.clock_reads += s->workers[i].clock_reads;
    }
    RT_END(f);
}

/* A small HTTP/1.1 server as a library of portable tasks
 * (include/greenfut/rt.h).
 *
 * One task accepts; each connection is one more task that parses request
 * heads (examples/http_parse.h), answers them in order (keep-alive and
 * pipelining), and ends when the peer closes, a timeout passes, or the
 * server stops. One more task sweeps the connections that wait for a next
 * request and ends those idle past their timeout. Routes: `GET /` answers
 * "hello\n"; `GET /static/<path>` serves a regular file below the configured
 * root; the rest is 404.
 *
 * The same source builds on both backends (http_server_stackful and
 * http_server_stackless). All functions except http_server_init and
 * http_server_fini must be called from tasks of the scheduler that runs
 * http_server_task. That scheduler may have several workers (rt_run_opts):
 * the server's shared state is then locked or per worker, as struct
 * http_server says. For thread-per-core, run one server per thread, each
 * with its own scheduler, all bound to one port with `reuseport`
 * (examples/http.c -s). Tests run it in-process with short timeouts.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <greenfut/list.h>
#include <greenfut/mt.h>
#include <greenfut/rt.h>

/* The body of `GET /`. */
#define HTTP_HELLO "hello\n"
/* The longest request head accepted; longer ones get 431. */
#define HTTP_MAX_HEAD 8192

/* What the caller chooses; zero fields mean the defaults named. */
struct http_server_config {
    const char *addr;           /* IPv4 address to bind; NULL: 127.0.0.1 */
    int port;                   /* 0: let the kernel pick a free port */
    const char *root;           /* directory served under /static/; NULL:
                                   /static/ is always 404 */
    uint64_t header_timeout_ns; /* first byte of a head to its last; 10 s */
    uint64_t idle_timeout_ns;   /* keep-alive wait for a next request; 60 s.
                                   Enforced by a sweep every eighth of it
                                   (10 ms to 1 s), so a connection may stay
                                   up to that much longer. */
    uint64_t write_timeout_ns;  /* longest a write may wait for the peer
                                   to take any byte; then the connection
                                   is reset; 10 s */
    uint64_t drain_timeout_ns;  /* after a stop, how long in-flight
                                   requests may take before their sockets
                                   are shut down; 5 s */
    int stop_fd;                /* readable means "stop" (a signalfd, an
                                   eventfd, a pipe); -1: none. The server
                                   registers it and never closes it. */
    int reuseport;              /* nonzero: bind with SO_REUSEPORT, so that
                                   several servers (one per thread) listen
                                   on one port and the kernel spreads the
                                   connections over them */
    /* Called (from the acceptor task) with a negative errno each time
     * accept fails, e.g. -EMFILE; may be NULL. Must not suspend. */
    void (*on_accept_error)(void *arg, int err);
    void *arg; /* passed to on_accept_error */
};

/* Counters of a server's whole run: complete once http_server_task has
 * returned (requests, timeouts and clock_reads are counted per worker and
 * added up as it returns); read them after the scheduler has ended. */
struct http_server_stats {
    uint64_t accepted;      /* connections accepted */
    uint64_t requests;      /* responses queued, errors included */
    uint64_t accept_errors; /* failed accepts (EMFILE, ENFILE, ...) */
    uint64_t timeouts;      /* connections closed by a timeout */
    uint64_t clock_reads;   /* readings of the clock by the server's own
                               code (see http_server_now) */
    size_t conns;           /* connections open now */
};

/* What one worker of the server's scheduler keeps for itself: only tasks
 * running on that worker touch it, between two awaits (a task does not
 * change workers there), so it needs no lock. One cache line each. */
struct http_worker {
    void *bufs;   /* free request buffers, a LIFO list through their
                     first word (see conn_task) */
    size_t nbufs; /* how many are on it */
    /* The clock as this worker last read it, and the reactor turn it was
     * read in (rt_reactor_turns); see http_server_now. */
    uint64_t now_ns;
    uint64_t now_turn;
    uint64_t requests, timeouts, clock_reads; /* into stats at the end */
    char pad[8];
};

/* A server. Fill it with http_server_init; the fields are the library's.
 * With several workers: `conns` and stats.conns are `lock`'s; `stopping`
 * is atomic; each worker's buffers, clock and counters are its own
 * (`workers`, indexed by rt_worker_index); the rest is written by one
 * task (the acceptor: listen_fd, stats.accepted, stats.accept_errors) or
 * not at all during the run. */
struct http_server {
    struct http_server_config cfg; /* copy, defaults applied */
    int listen_fd;                 /* deregistered by http_server_stop,
                                      closed by the acceptor after it */
    int root_fd;                   /* O_PATH of cfg.root, or -1 */
    int port;                      /* the bound port */
    atomic_int stopping;           /* set once by http_server_stop */
    struct rt_spin lock;           /* see above */
    struct rt_list conns;          /* struct http_conn.link, open ones */
    struct http_server_stats stats;
    struct http_worker *workers; /* RT_WORKERS_MAX of them */
    /* Closed by http_server_stop, which ends the idle sweeper's wait. */
    struct rt_chan sweep_stop;
};

/* The frame of http_server_task. Set `s` and leave the rest zeroed. */
struct http_server_task {
    RT_FRAME;
    struct http_server *s;
    int fd;           /* the last accepted fd or -errno */
    uint64_t backoff; /* sleep after EMFILE/ENFILE, doubling to 100 ms */
    uint64_t deadline;
};

/* Creates the listening socket (SO_REUSEADDR, and SO_REUSEPORT when
 * cfg->reuseport; bound and listening, not yet registered with any
 * reactor) and opens the static root. Needs no scheduler. Returns 0,
 * -EINVAL (bad address or NULL arguments), -ENOMEM, or the negative errno
 * of socket/bind/listen/open. On success s->port is the bound port; end
 * with http_server_fini. */
int http_server_init(struct http_server *s,
                     const struct http_server_config *cfg);

/* Closes what http_server_init opened and http_server_task did not. Call
 * after the scheduler that ran the server returned. */
void http_server_fini(struct http_server *s);

/* The server as a portable task (frame: struct http_server_task): accepts
 * and spawns one task per connection until http_server_stop, then waits
 * for the connections to end, at most drain_timeout_ns before shutting
 * their sockets down, and returns when all have ended. Accept errors
 * EMFILE/ENFILE/ENOBUFS/ENOMEM back off with a sleep and retry, so open
 * connections keep being served. May suspend. */
enum rt_poll http_server_task(void *self);

/* Now (rt_now_ns scale) as the server's deadlines use it: the clock is
 * read once per turn of the current reactor and the reading reused until
 * the next turn, so it may be behind by the time the tasks woken in one
 * turn take to run (microseconds per task), never ahead. Deadlines made
 * from it come that much early, which is nothing beside timeouts of
 * seconds. While a multi-worker scheduler runs it reads the clock every
 * time (a vDSO call): the turn count is behind the reactor's lock, which
 * the workers would then fight over twice a request. Call from a task of
 * the server's scheduler. Never suspends. */
uint64_t http_server_now(struct http_server *s);

/* Stops the server: deregisters the listener (waking the acceptor, which
 * closes it), and shuts down the read side of every connection waiting
 * for a next request, so it ends at once; a connection inside a request
 * finishes it first. Call from a task of the server's scheduler, on any
 * worker. Never suspends; idempotent. */
void http_server_stop(struct http_server *s);

#endif

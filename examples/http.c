/* The HTTP example: the server of http_server.h as a program.
 *
 *   http_stackful [-a ADDR] [-p PORT] [-r DIR] [-t HEADER_TIMEOUT_MS]
 *                 [-W WRITE_TIMEOUT_MS] [-w WORKERS | -s SERVERS]
 *
 * Prints "http backend=<name> port=<port>" first, serves until SIGINT or
 * SIGTERM, lets in-flight requests finish (at most the drain timeout) and
 * exits 0. -p 0 (the default) picks a free port. -W is how long one write
 * may wait for a client that takes no bytes before it is reset.
 *
 * The two ways to use several cores (docs/multicore.md):
 *   -w N  one server, one listening socket, one scheduler with N workers
 *         that steal connections from one another (0: one per CPU);
 *   -s N  thread-per-core: N servers, each on its own thread with its own
 *         one-worker scheduler and reactor, each with its own listening
 *         socket on the same port (SO_REUSEPORT: the kernel spreads the
 *         connections over them; 0: one per CPU). Nothing is shared.
 * Without either, one server on one worker (or RT_WORKERS of them).
 */
#include "http_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "example_util.h"

static void usage(void)
{
    fprintf(stderr, "usage: http [-a ADDR] [-p PORT] [-r DIR] "
                    "[-t HEADER_TIMEOUT_MS] [-W WRITE_TIMEOUT_MS] "
                    "[-w WORKERS | -s SERVERS]\n");
    exit(2);
}

/* A count option: 0 is one per online CPU; at most RT_WORKERS_MAX. */
static unsigned count_arg(const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || end == arg || v < 0 || v > (long)RT_WORKERS_MAX)
        usage();
    if (v == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        v = n < 1 ? 1 : n > (long)RT_WORKERS_MAX ? (long)RT_WORKERS_MAX : n;
    }
    return (unsigned)v;
}

/* One server of -s on its own thread. Written by main before the thread
 * starts (s, stop_fd) and by the thread before it ends (rc); main reads
 * rc after the join. */
struct server_thread {
    struct http_server s;
    int stop_fd; /* an eventfd; main writes it to stop this server */
    int rc;      /* rt_run_opts' result */
    pthread_t th;
};

static void *server_main(void *arg)
{
    struct server_thread *t = arg;
    struct http_server_task task = {.s = &t->s};
    /* One worker whatever RT_WORKERS says: each thread is a scheduler. */
    t->rc = rt_run_opts(&(struct rt_opts){.workers = 1}, http_server_task,
                        &task, sizeof task, NULL);
    return NULL;
}

static void print_stats(const struct http_server_stats *st, const char *what)
{
    fprintf(stderr,
            "http: stopped%s: %llu connections, %llu requests, %llu accept "
            "errors, %llu timeouts\n",
            what, (unsigned long long)st->accepted,
            (unsigned long long)st->requests,
            (unsigned long long)st->accept_errors,
            (unsigned long long)st->timeouts);
}

/* -s: n servers on n threads, one port. Returns the exit status. */
static int run_servers(struct http_server_config *cfg, unsigned n,
                       int signal_fd)
{
    struct server_thread *t = calloc(n, sizeof *t);
    if (!t) {
        fprintf(stderr, "http: out of memory\n");
        return 1;
    }
    unsigned started = 0;
    int status = 0;
    cfg->reuseport = 1;
    for (unsigned i = 0; i < n; i++) {
        t[i].stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (t[i].stop_fd < 0) {
            fprintf(stderr, "http: eventfd: %s\n", strerror(errno));
            status = 1;
            break;
        }
        struct http_server_config c = *cfg;
        c.stop_fd = t[i].stop_fd;
        if (i > 0)
            c.port = t[0].s.port; /* the port the first one was given */
        int rc = http_server_init(&t[i].s, &c);
        if (rc < 0) {
            fprintf(stderr, "http: listen: %s\n", strerror(-rc));
            close(t[i].stop_fd);
            status = 1;
            break;
        }
        rc = pthread_create(&t[i].th, NULL, server_main, &t[i]);
        if (rc != 0) {
            fprintf(stderr, "http: pthread_create: %s\n", strerror(rc));
            http_server_fini(&t[i].s);
            close(t[i].stop_fd);
            status = 1;
            break;
        }
        started++;
    }
    if (status == 0) {
        printf("http backend=%s port=%d\n", rt_backend_name(), t[0].s.port);
        fflush(stdout);
        /* main waits for the signal, then stops every server. */
        struct pollfd p = {.fd = signal_fd, .events = POLLIN};
        while (poll(&p, 1, -1) < 0 && errno == EINTR)
            ;
    }
    uint64_t one = 1;
    for (unsigned i = 0; i < started; i++)
        if (write(t[i].stop_fd, &one, sizeof one) != sizeof one)
            status = 1;
    struct http_server_stats sum = {0};
    char per[256] = " (per server:";
    size_t len = strlen(per);
    for (unsigned i = 0; i < started; i++) {
        pthread_join(t[i].th, NULL);
        if (t[i].rc < 0) {
            fprintf(stderr, "http: server %u: rt_run: %s\n", i,
                    strerror(-t[i].rc));
            status = 1;
        }
        sum.accepted += t[i].s.stats.accepted;
        sum.requests += t[i].s.stats.requests;
        sum.accept_errors += t[i].s.stats.accept_errors;
        sum.timeouts += t[i].s.stats.timeouts;
        if (len + 24 < sizeof per)
            len += (size_t)snprintf(per + len, sizeof per - len, " %llu",
                                    (unsigned long long)t[i].s.stats.accepted);
        http_server_fini(&t[i].s);
        close(t[i].stop_fd);
    }
    if (len + 2 < sizeof per)
        memcpy(per + len, ")", 2);
    if (started > 0)
        print_stats(&sum, per);
    free(t);
    return status;
}

int main(int argc, char **argv)
{
    struct http_server_config cfg = {.stop_fd = -1};
    unsigned workers = 0, servers = 0;
    int opt;
    while ((opt = getopt(argc, argv, "a:p:r:t:W:w:s:")) != -1) {
        if (opt == 'a')
            cfg.addr = optarg;
        else if (opt == 'p')
            cfg.port = atoi(optarg);
        else if (opt == 'r')
            cfg.root = optarg;
        else if (opt == 't')
            cfg.header_timeout_ns = strtoull(optarg, NULL, 10) * 1000000ull;
        else if (opt == 'W')
            cfg.write_timeout_ns = strtoull(optarg, NULL, 10) * 1000000ull;
        else if (opt == 'w')
            workers = count_arg(optarg);
        else if (opt == 's')
            servers = count_arg(optarg);
        else
            usage();
    }
    if (optind != argc || (workers && servers))
        usage();
    (void)example_raise_nofile();
    int signal_fd = example_stop_signals();
    if (signal_fd < 0) {
        fprintf(stderr, "http: signalfd: %s\n", strerror(-signal_fd));
        return 1;
    }
    if (servers) {
        int status = run_servers(&cfg, servers, signal_fd);
        close(signal_fd);
        return status;
    }
    cfg.stop_fd = signal_fd;
    struct http_server s;
    int rc = http_server_init(&s, &cfg);
    if (rc < 0) {
        fprintf(stderr, "http: listen: %s\n", strerror(-rc));
        return 1;
    }
    printf("http backend=%s port=%d\n", rt_backend_name(), s.port);
    fflush(stdout);
    struct http_server_task t = {.s = &s};
    /* No -w: rt_run (one worker, or RT_WORKERS). */
    rc = workers ? rt_run_opts(&(struct rt_opts){.workers = workers},
                               http_server_task, &t, sizeof t, NULL)
                 : rt_run(http_server_task, &t, sizeof t, NULL);
    print_stats(&s.stats, "");
    http_server_fini(&s);
    close(signal_fd);
    if (rc < 0) {
        fprintf(stderr, "http: rt_run: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

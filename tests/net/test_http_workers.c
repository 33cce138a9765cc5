/* The HTTP server on several cores, both designs:
 *  - in process, one server on a scheduler of two workers with its
 *    clients as tasks of the same scheduler: every response byte-exact,
 *    every request and connection counted once;
 *  - the program with -w 2 (one scheduler, two workers, one socket) and
 *    with -s 2 (two schedulers on two threads, two SO_REUSEPORT sockets on
 *    one port): many connections served, a clean stop on SIGTERM, and with
 *    -s both servers took connections (the kernel spreads 32 connections
 *    over the two sockets by a hash of each one's ports: all on one is a
 *    chance of 2^-31).
 * Every wait is on a socket, a pipe or waitpid. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "check.h"
#include "netutil.h"

#define CLIENTS  64
#define REQUESTS 50
#define CONNS    32

static const char request[] = NET_GET_HELLO;
static atomic_int done_clients;

struct client {
    RT_FRAME;
    int port, fd, rc, sent;
    size_t off;
    ssize_t n;
    struct sockaddr_in sa;
    char buf[sizeof NET_HELLO_RESPONSE];
};

static enum rt_poll client(void *self)
{
    struct client *f = self;
    RT_BEGIN(f);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(f->fd >= 0);
    CHECK_OK(rt_register(f->fd));
    f->sa.sin_family = AF_INET;
    f->sa.sin_port = htons((uint16_t)f->port);
    f->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    RT_AWAIT_CONNECT(f, f->rc, f->fd, (struct sockaddr *)&f->sa, sizeof f->sa);
    CHECK_OK(f->rc);
    for (f->sent = 0; f->sent < REQUESTS; f->sent++) {
        for (f->off = 0; f->off < sizeof request - 1; f->off += (size_t)f->n) {
            RT_AWAIT_WRITE(f, f->n, f->fd, request + f->off,
                           sizeof request - 1 - f->off);
            CHECK_GT(f->n, 0);
        }
        for (f->off = 0; f->off < sizeof NET_HELLO_RESPONSE - 1;
             f->off += (size_t)f->n) {
            RT_AWAIT_READ(f, f->n, f->fd, f->buf + f->off,
                          sizeof NET_HELLO_RESPONSE - 1 - f->off);
            CHECK_GT(f->n, 0);
        }
        CHECK(memcmp(f->buf, NET_HELLO_RESPONSE,
                     sizeof NET_HELLO_RESPONSE - 1) == 0);
    }
    CHECK_OK(shutdown(f->fd, SHUT_WR));
    RT_AWAIT_READ(f, f->n, f->fd, f->buf, sizeof f->buf);
    CHECK_EQ(f->n, 0); /* nothing after the last response */
    CHECK_OK(rt_close(f->fd));
    atomic_fetch_add(&done_clients, 1);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct http_server *s;
    struct rt_join server;
    struct rt_join joins[CLIENTS];
    int i, rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    {
        struct http_server_task st = {.s = f->s};
        CHECK_OK(rt_spawn(http_server_task, &st, sizeof st, &f->server));
    }
    for (f->i = 0; f->i < CLIENTS; f->i++) {
        struct client c = {.port = f->s->port};
        CHECK_OK(rt_spawn(client, &c, sizeof c, &f->joins[f->i]));
    }
    for (f->i = 0; f->i < CLIENTS; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->joins[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    http_server_stop(f->s);
    RT_AWAIT_JOIN(f, f->rc, &f->server);
    CHECK_EQ(f->rc, 0);
    RT_END(f);
}

static void in_process(void)
{
    struct http_server s;
    struct http_server_config cfg = {.stop_fd = -1};
    CHECK_OK(http_server_init(&s, &cfg));
    static struct root r; /* big: the joins */
    r = (struct root){.s = &s};
    CHECK_OK(
        rt_run_opts(&(struct rt_opts){.workers = 2}, root, &r, sizeof r, NULL));
    http_server_fini(&s);
    CHECK_EQ(atomic_load(&done_clients), CLIENTS);
    CHECK_EQ(s.stats.accepted, CLIENTS);
    CHECK_EQ(s.stats.requests, (uint64_t)CLIENTS * REQUESTS);
    CHECK_EQ(s.stats.conns, 0);
}

/* Starts argv with stdout and stderr on two pipes. */
static pid_t start(const char *const argv[], int *out, int *err)
{
    int p[2], e[2];
    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(pipe(e), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
        dup2(p[1], 1);
        dup2(e[1], 2);
        close(p[0]);
        close(p[1]);
        close(e[0]);
        close(e[1]);
        char *v[8] = {0};
        for (int i = 0; i < 7 && argv[i]; i++)
            v[i] = strdup(argv[i]);
        execv(v[0], v);
        _exit(127);
    }
    close(p[1]);
    close(e[1]);
    *out = p[0];
    *err = e[0];
    return pid;
}

static void program(const char *mode)
{
    const char *const argv[] = {HTTP_BIN, "-p", "0", mode, "2", NULL};
    int out, err;
    pid_t pid = start(argv, &out, &err);
    char line[256];
    size_t len = 0;
    while (len == 0 || line[len - 1] != '\n') {
        CHECK_LT(len, sizeof line - 1);
        CHECK_EQ(net_recv(out, line + len, 1), 1);
        len++;
    }
    line[len] = '\0';
    const char *at = strstr(line, "port=");
    CHECK(at != NULL);
    int port = atoi(at + 5);
    CHECK_GT(port, 0);

    static char resp[4096];
    int fds[CONNS];
    for (int c = 0; c < CONNS; c++)
        fds[c] = net_connect(port);
    for (int r = 0; r < REQUESTS; r++) {
        for (int c = 0; c < CONNS; c++)
            net_send(fds[c], NET_GET_HELLO, NET_GET_HELLO_LEN);
        for (int c = 0; c < CONNS; c++) {
            net_recv_response(fds[c], resp, sizeof resp);
            CHECK(strcmp(resp, net_hello_response) == 0);
        }
    }
    CHECK_EQ(kill(pid, SIGTERM), 0);
    for (int c = 0; c < CONNS; c++) {
        int eof;
        CHECK_EQ(net_recv_all(fds[c], resp, sizeof resp, &eof), 0);
        CHECK_EQ(eof, 1); /* idle connections are ended by the stop */
        close(fds[c]);
    }
    int eof;
    size_t n = net_recv_all(err, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    fprintf(stderr, "%s 2: %s", mode, resp);
    char want[96];
    snprintf(want, sizeof want, "%d connections, %d requests", CONNS,
             CONNS * REQUESTS);
    CHECK(strstr(resp, want) != NULL);
    if (strcmp(mode, "-s") == 0) {
        unsigned a = 0, b = 0;
        const char *per = strstr(resp, "(per server: ");
        CHECK(per != NULL);
        CHECK_EQ(sscanf(per, "(per server: %u %u)", &a, &b), 2);
        CHECK_EQ(a + b, CONNS);
        CHECK_GT(a, 0);
        CHECK_GT(b, 0);
    }
    close(out);
    close(err);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    in_process();
    program("-w");
    program("-s");
    return 0;
}

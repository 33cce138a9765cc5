/* 1,000 concurrent keep-alive clients, 100 requests each, against the
 * server in the same process and on the same scheduler: every response is
 * byte-exact and nothing follows the last one. Even clients send one
 * request at a time; odd ones pipeline four. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "check.h"
#include "netutil.h"

#define CLIENTS  1000
#define REQUESTS 100
#define PIPELINE 4

static const char request[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
static char requests[PIPELINE * sizeof request];
static char responses[PIPELINE * sizeof NET_HELLO_RESPONSE];
static int done_clients;

struct client {
    RT_FRAME;
    int port, id, fd, rc;
    int batch; /* requests per write: 1 or PIPELINE */
    int sent;  /* requests answered so far */
    size_t off, want;
    ssize_t n;
    struct sockaddr_in sa;
    char buf[PIPELINE * sizeof NET_HELLO_RESPONSE];
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
    f->batch = f->id % 2 ? PIPELINE : 1;
    for (f->sent = 0; f->sent < REQUESTS; f->sent += f->batch) {
        f->want = (sizeof request - 1) * (size_t)f->batch;
        for (f->off = 0; f->off < f->want; f->off += (size_t)f->n) {
            RT_AWAIT_WRITE(f, f->n, f->fd, requests + f->off, f->want - f->off);
            CHECK_GT(f->n, 0);
        }
        f->want = (sizeof NET_HELLO_RESPONSE - 1) * (size_t)f->batch;
        for (f->off = 0; f->off < f->want; f->off += (size_t)f->n) {
            RT_AWAIT_READ(f, f->n, f->fd, f->buf + f->off, f->want - f->off);
            CHECK_GT(f->n, 0);
        }
        CHECK(memcmp(f->buf, responses, f->want) == 0);
    }
    /* Nothing after the last response: our FIN gets the server's. */
    CHECK_OK(shutdown(f->fd, SHUT_WR));
    RT_AWAIT_READ(f, f->n, f->fd, f->buf, sizeof f->buf);
    CHECK_EQ(f->n, 0);
    CHECK_OK(rt_close(f->fd));
    done_clients++;
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct http_server *s;
    struct rt_join server;
    struct rt_join *joins;
    int i, rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    { /* the template's scope ends before the awaits (rt.h, rule 3) */
        struct http_server_task st = {.s = f->s};
        CHECK_OK(rt_spawn(http_server_task, &st, sizeof st, &f->server));
    }
    for (f->i = 0; f->i < CLIENTS; f->i++) {
        struct client c = {.port = f->s->port, .id = f->i};
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

int main(void)
{
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_max < 2 * CLIENTS + 64)
        SKIP("the hard fd limit is below 2,064");
    rl.rlim_cur = rl.rlim_max;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
    for (int i = 0; i < PIPELINE; i++) {
        memcpy(requests + i * (sizeof request - 1), request,
               sizeof request - 1);
        memcpy(responses + i * (sizeof NET_HELLO_RESPONSE - 1),
               NET_HELLO_RESPONSE, sizeof NET_HELLO_RESPONSE - 1);
    }
    struct http_server s;
    struct http_server_config cfg = {.stop_fd = -1};
    CHECK_OK(http_server_init(&s, &cfg));
    struct root r = {.s = &s, .joins = calloc(CLIENTS, sizeof(struct rt_join))};
    CHECK(r.joins != NULL);
    CHECK_OK(rt_run(root, &r, sizeof r, NULL));
    http_server_fini(&s);
    CHECK_EQ(done_clients, CLIENTS);
    CHECK_EQ(s.stats.accepted, CLIENTS);
    CHECK_EQ(s.stats.requests, (uint64_t)CLIENTS * REQUESTS);
    CHECK_EQ(s.stats.conns, 0);
    free(r.joins);
    return 0;
}

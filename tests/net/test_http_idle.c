/* The idle timeout (examples/http_server.c's sweeper): a keep-alive
 * connection that sends no next request is closed once the timeout has
 * passed and counted as a timeout, while the server goes on answering on
 * other connections; a stop still ends idle connections at once. Every
 * wait is a poll() on a socket. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "netutil.h"

#define MS 1000000ull

static char resp[4096];

static void one_request(int fd)
{
    net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
    net_recv_response(fd, resp, sizeof resp);
    CHECK_EQ(strcmp(resp, net_hello_response), 0);
}

int main(void)
{
    struct http_server_config cfg = {.idle_timeout_ns = 100 * MS};
    struct server_thread t;
    server_thread_start(&t, &cfg);

    int idle = net_connect(t.s.port);
    one_request(idle);
    /* Nothing more on it: the server closes it (EOF, not a reset), within
     * the timeout plus one sweep period; net_recv gives up after
     * NET_WAIT_MS, far beyond. */
    char b;
    CHECK_EQ(net_recv(idle, &b, 1), 0);
    close(idle);

    /* A new connection is served as before, and one left idle is still
     * ended at once by a stop, long before its timeout. */
    int busy = net_connect(t.s.port);
    for (int i = 0; i < 100; i++)
        one_request(busy);
    close(busy);
    server_thread_stop(&t);
    fprintf(stderr, "timeouts %llu\n", (unsigned long long)t.s.stats.timeouts);
    CHECK_GE(t.s.stats.timeouts, 1);

    cfg.idle_timeout_ns = 3600 * 1000 * MS;
    server_thread_start(&t, &cfg);
    int parked = net_connect(t.s.port);
    one_request(parked);
    server_thread_stop(&t); /* returns once every connection has ended */
    CHECK_EQ(net_recv(parked, &b, 1), 0);
    close(parked);
    CHECK_EQ(t.s.stats.timeouts, 0);
    return 0;
}

/* Out of fds at accept (EMFILE): the server keeps serving the connections
 * it has and accepts the waiting one once fds are free again. The process
 * fd limit is lowered to exactly the fds in use, so the server's accept4
 * fails while the kernel still completes the TCP handshake into the
 * backlog. The server reports each failed accept through its
 * on_accept_error hook, which the test waits on through an eventfd. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "check.h"
#include "netutil.h"

static int err_fd;
static char resp[4096];

/* Runs on the server's thread; must not suspend. */
static void on_accept_error(void *arg, int err)
{
    (void)arg;
    if (err == -EMFILE) {
        uint64_t one = 1;
        CHECK_EQ(write(err_fd, &one, sizeof one), (ssize_t)sizeof one);
    }
}

static void get_hello(int fd)
{
    net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strcmp(resp, net_hello_response) == 0);
}

int main(void)
{
    err_fd = eventfd(0, EFD_CLOEXEC);
    CHECK(err_fd >= 0);
    struct http_server_config cfg = {.on_accept_error = on_accept_error};
    struct server_thread t;
    server_thread_start(&t, &cfg);

    int a = net_connect(t.s.port);
    get_hello(a);
    int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(b >= 0);

    /* No fd can be created once the limit is the lowest free fd. */
    struct rlimit old, low;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    int lowest = fcntl(0, F_DUPFD_CLOEXEC, 0);
    CHECK(lowest >= 0);
    close(lowest);
    low = old;
    low.rlim_cur = (rlim_t)lowest;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    CHECK_EQ(fcntl(0, F_DUPFD_CLOEXEC, 0), -1);
    CHECK_EQ(errno, EMFILE);

    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)t.s.port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(connect(b, (struct sockaddr *)&sa, sizeof sa), 0);
    struct pollfd pfd = {.fd = err_fd, .events = POLLIN};
    CHECK_EQ(poll(&pfd, 1, NET_WAIT_MS), 1); /* the server hit EMFILE */
    uint64_t n;
    CHECK_EQ(read(err_fd, &n, sizeof n), (ssize_t)sizeof n);
    CHECK_GE(n, 1);

    /* Still serving the open connection, while accepts keep failing. */
    for (int i = 0; i < 10; i++)
        get_hello(a);
    CHECK_EQ(poll(&pfd, 1, NET_WAIT_MS), 1); /* it retried, and failed */

    /* fds free again: the waiting connection is accepted and served. */
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    get_hello(b);
    get_hello(a);
    close(a);
    close(b);
    server_thread_stop(&t);
    CHECK_GE(t.s.stats.accept_errors, 2);
    CHECK_EQ(t.s.stats.accepted, 2);
    close(err_fd);
    return 0;
}

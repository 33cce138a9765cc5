/* Helpers of the network tests (see netutil.h). */
#include "netutil.h"

#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "check.h"

const char net_hello_response[] = NET_HELLO_RESPONSE;

static void *server_main(void *arg)
{
    struct server_thread *t = arg;
    struct http_server_task task = {.s = &t->s};
    t->rc = rt_run(http_server_task, &task, sizeof task, NULL);
    return NULL;
}

void server_thread_start(struct server_thread *t,
                         const struct http_server_config *cfg)
{
    struct http_server_config c = *cfg;
    t->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    CHECK(t->stop_fd >= 0);
    c.stop_fd = t->stop_fd;
    CHECK_OK(http_server_init(&t->s, &c));
    CHECK_GT(t->s.port, 0);
    t->rc = -1;
    CHECK_EQ(pthread_create(&t->th, NULL, server_main, t), 0);
}

void server_thread_stop(struct server_thread *t)
{
    uint64_t one = 1;
    CHECK_EQ(write(t->stop_fd, &one, sizeof one), (ssize_t)sizeof one);
    CHECK_EQ(pthread_join(t->th, NULL), 0);
    CHECK_OK(t->rc);
    CHECK_EQ(t->rc, 0);
    CHECK_EQ(t->s.stats.conns, 0);
    http_server_fini(&t->s);
    close(t->stop_fd);
}

int net_connect(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    int one = 1;
    CHECK_EQ(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
    return fd;
}

void net_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        CHECK_GT(n, 0);
        p += n;
        len -= (size_t)n;
    }
}

ssize_t net_recv(int fd, void *buf, size_t cap)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int rc = poll(&pfd, 1, NET_WAIT_MS);
    if (rc == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    CHECK_EQ(rc, 1);
    return read(fd, buf, cap);
}

size_t net_recv_all(int fd, char *buf, size_t cap, int *eof)
{
    size_t len = 0;
    if (eof)
        *eof = 0;
    while (len < cap) {
        ssize_t n = net_recv(fd, buf + len, cap - len);
        if (n < 0) {
            CHECK(errno != ETIMEDOUT);
            break;
        }
        if (n == 0) {
            if (eof)
                *eof = 1;
            break;
        }
        len += (size_t)n;
    }
    return len;
}

size_t net_recv_response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        CHECK_LT(len, cap - 1);
        ssize_t n = net_recv(fd, buf + len, 1); /* never past the end */
        CHECK_EQ(n, 1);
        len++;
        buf[len] = '\0';
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    const char *cl = strstr(buf, "Content-Length: ");
    CHECK(cl != NULL);
    size_t body = strtoul(cl + 16, NULL, 10);
    CHECK_LT(len + body, cap);
    while (body > 0) {
        ssize_t n = net_recv(fd, buf + len, body);
        CHECK_GT(n, 0);
        len += (size_t)n;
        body -= (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

void net_temp_dir(char *dir, size_t cap, const char *name)
{
    const char *base = getenv("TMPDIR");
    if (!base || !base[0])
        base = "/tmp";
    int n = snprintf(dir, cap, "%s/%s-XXXXXX", base, name);
    CHECK(n > 0 && (size_t)n < cap);
    CHECK(mkdtemp(dir) != NULL);
}

/* Clients that request a large file and never read it, against the HTTP
 * server (examples/http_server.c) on its own thread with a short write
 * timeout: each must be dropped (the client sees a reset) within the
 * timeout plus a margin, the server's fds for them must be gone, and other
 * clients must be served while they stall. Every wait is a poll() with a
 * bounded timeout; nothing waits by sleeping. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "netutil.h"

#define MS_NS    1000000ull
#define SLOW     20
#define FILE_LEN (20u << 20) /* far more than the socket buffers hold */
/* The server's write timeout, and how much later than it a drop may be
 * seen: the slack covers filling the socket buffers first and a loaded,
 * sanitized build on a shared machine, and is still far below what a
 * server without a write timeout would need (never). */
#define WRITE_TIMEOUT_MS 300
#define MARGIN_MS        5000

static char root[64];
static char file_path[96];
static char resp[4096];

static uint64_t now_ms(void)
{
    struct timespec ts;
    CHECK_EQ(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A sparse file of FILE_LEN bytes (zeros): cheap to make, and pread still
 * returns every byte, so the server sends all of it. */
static void make_root(void)
{
    net_temp_dir(root, sizeof root, "rt-slow");
    snprintf(file_path, sizeof file_path, "%s/big.bin", root);
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(ftruncate(fd, FILE_LEN), 0);
    close(fd);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* A connection with a 4 KiB receive buffer (set before connect, so the
 * window it announces is small from the start). */
static int connect_small(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    int rcv = 4096;
    CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv), 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* `GET /` on a fresh connection answers hello, and the server closes it
 * (so its fd is gone when this returns). */
static void get_hello(int port)
{
    int fd = net_connect(port);
    static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n";
    net_send(fd, req, sizeof req - 1);
    int eof;
    size_t n = net_recv_all(fd, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    CHECK_EQ(eof, 1);
    CHECK(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(resp, "\r\n\r\nhello\n") != NULL);
    close(fd);
}

static void slow_readers(struct server_thread *t)
{
    static const char req[] = "GET /static/big.bin HTTP/1.1\r\n"
                              "Host: 127.0.0.1\r\n\r\n";
    int port = t->s.port;
    get_hello(port); /* whatever the server opens once is open now */
    int fds_before = count_fds();
    int fds[SLOW];
    for (int i = 0; i < SLOW; i++) {
        fds[i] = connect_small(port);
        net_send(fds[i], req, sizeof req - 1);
    }
    uint64_t sent = now_ms();
    /* The server is sending to all of them: each has bytes waiting. */
    for (int i = 0; i < SLOW; i++) {
        struct pollfd pfd = {.fd = fds[i], .events = POLLIN};
        CHECK_EQ(poll(&pfd, 1, NET_WAIT_MS), 1);
    }
    /* While they stall, other clients are served. */
    get_hello(port);
    /* Each is dropped: we never read, so the sign is the reset, which
     * poll reports as POLLERR/POLLHUP even with data still unread. */
    uint64_t limit = sent + WRITE_TIMEOUT_MS + MARGIN_MS;
    for (int i = 0; i < SLOW; i++) {
        uint64_t now = now_ms();
        int wait = now < limit ? (int)(limit - now) : 0;
        struct pollfd pfd = {.fd = fds[i], .events = 0};
        int rc = poll(&pfd, 1, wait);
        if (rc != 1)
            fprintf(stderr, "slow reader %d not dropped after %llu ms\n", i,
                    (unsigned long long)(now_ms() - sent));
        CHECK_EQ(rc, 1);
        CHECK(pfd.revents & (POLLERR | POLLHUP));
    }
    fprintf(stderr, "%d slow readers dropped after %llu ms\n", SLOW,
            (unsigned long long)(now_ms() - sent));
    /* The server's side of them (socket and file) is closed: only ours
     * remain. */
    CHECK_EQ(count_fds(), fds_before + SLOW);
    for (int i = 0; i < SLOW; i++) {
        int err = 0;
        socklen_t len = sizeof err;
        CHECK_EQ(getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len), 0);
        CHECK_EQ(err, ECONNRESET);
        close(fds[i]);
    }
    /* And the server still serves. */
    get_hello(port);
}

int main(void)
{
    make_root();
    struct http_server_config cfg = {
        .root = root,
        .write_timeout_ns = WRITE_TIMEOUT_MS * MS_NS,
    };
    struct server_thread t;
    server_thread_start(&t, &cfg);
    slow_readers(&t);
    server_thread_stop(&t);
    CHECK_GE(t.s.stats.timeouts, SLOW);
    CHECK_EQ(unlink(file_path), 0);
    CHECK_EQ(rmdir(root), 0);
    return 0;
}

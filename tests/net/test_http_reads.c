/* The HTTP server (examples/http_server.c, on its own thread) at the
 * syscall floor: a keep-alive request costs one read, with no read tried
 * and failed with EAGAIN (counted through common/sys.h); and clearing
 * readiness on a short transfer never leaves data behind, neither a
 * request sent in many small pieces with pauses nor a large response the
 * client takes slowly. Every wait is a poll() on a socket, never a sleep;
 * the pauses between the client's writes are the scenario itself. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "netutil.h"
#include "sys.h"

#define REQUESTS  2000
#define PIPELINED 50
#define FILE_LEN  (2u << 20)

static char root[64];
static char file_path[96];
static char resp[4096];

/* A pause of `us` microseconds between two writes of the client. */
static void pause_us(long us)
{
    struct timespec ts = {0, us * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The byte at offset i of the served file: not all one value, so a lost
 * or repeated piece shows. */
static unsigned char file_byte(size_t i)
{
    return (unsigned char)(i * 7 + i / 4093);
}

static void make_root(void)
{
    net_temp_dir(root, sizeof root, "rt-reads");
    snprintf(file_path, sizeof file_path, "%s/big.bin", root);
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    static unsigned char chunk[65536];
    for (size_t off = 0; off < FILE_LEN; off += sizeof chunk) {
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = file_byte(off + i);
        CHECK_EQ(write(fd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
    }
    close(fd);
}

/* N keep-alive requests, one at a time, after a warm-up: the server's
 * reads are counted from the first counted request to the last response. */
static void one_read_per_request(int port)
{
    int fd = net_connect(port);
    for (int i = 0; i < 3; i++) {
        net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
        net_recv_response(fd, resp, sizeof resp);
    }
    rt_sys_count_start();
    for (int i = 0; i < REQUESTS; i++) {
        net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
        net_recv_response(fd, resp, sizeof resp);
        CHECK_EQ(strcmp(resp, net_hello_response), 0);
    }
    uint64_t reads = rt_sys_calls(RT_SYS_READ);
    uint64_t failed = rt_sys_eagains(RT_SYS_READ);
    rt_sys_fault_disarm();
    fprintf(stderr, "reads %llu (%.3f per request), EAGAIN reads %llu\n",
            (unsigned long long)reads, (double)reads / REQUESTS,
            (unsigned long long)failed);
    /* Each request arrives whole (one small send, TCP_NODELAY), so it
     * takes one read; before, each also cost a read that failed. */
    CHECK_EQ(failed, 0);
    CHECK_GE(reads, REQUESTS);
    CHECK_LE(reads, REQUESTS + 1);
    close(fd);
}

/* PIPELINED requests as one byte stream, written in pieces of 1 to 7
 * bytes with a pause after each: the server must answer every one. */
static void small_pieces(int port)
{
    static char all[PIPELINED * NET_GET_HELLO_LEN];
    for (int i = 0; i < PIPELINED; i++)
        memcpy(all + (size_t)i * NET_GET_HELLO_LEN, NET_GET_HELLO,
               NET_GET_HELLO_LEN);
    int fd = net_connect(port);
    unsigned seed = 22;
    for (size_t off = 0; off < sizeof all;) {
        size_t n = 1 + (size_t)(rand_r(&seed) % 7);
        if (n > sizeof all - off)
            n = sizeof all - off;
        net_send(fd, all + off, n);
        off += n;
        pause_us(rand_r(&seed) % 4 == 0 ? 2000 : 50);
    }
    for (int i = 0; i < PIPELINED; i++) {
        net_recv_response(fd, resp, sizeof resp);
        CHECK_EQ(strcmp(resp, net_hello_response), 0);
    }
    close(fd);
}

/* Reads at least `len` bytes into buf, waiting with poll. */
static void recv_exact(int fd, char *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = net_recv(fd, buf + got, len - got);
        CHECK_GT(n, 0);
        got += (size_t)n;
    }
}

/* A large file to a client with a small receive buffer that reads in
 * small pieces with pauses: the server's sends come up short again and
 * again, and every byte must still arrive, in order. */
static void slow_large_response(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    int rcv = 8192;
    CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv), 0);
    CHECK_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    static const char req[] =
        "GET /static/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    net_send(fd, req, sizeof req - 1);
    /* The head, a byte at a time so that nothing of the body is taken. */
    size_t hl = 0;
    while (hl < 4 || memcmp(resp + hl - 4, "\r\n\r\n", 4) != 0) {
        CHECK_LT(hl, sizeof resp - 1);
        recv_exact(fd, resp + hl, 1);
        hl++;
    }
    resp[hl] = '\0';
    CHECK(strncmp(resp, "HTTP/1.1 200", 12) == 0);
    const char *cl = strstr(resp, "Content-Length: ");
    CHECK(cl != NULL);
    CHECK_EQ(strtoull(cl + 16, NULL, 10), FILE_LEN);
    static char body[4096];
    unsigned seed = 7;
    for (size_t off = 0; off < FILE_LEN;) {
        size_t n = 1 + (size_t)(rand_r(&seed) % sizeof body);
        if (n > FILE_LEN - off)
            n = FILE_LEN - off;
        recv_exact(fd, body, n);
        for (size_t i = 0; i < n; i++)
            CHECK_EQ((unsigned char)body[i], file_byte(off + i));
        off += n;
        if (rand_r(&seed) % 64 == 0)
            pause_us(1000);
    }
    close(fd);
}

int main(void)
{
    make_root();
    struct http_server_config cfg = {.root = root};
    struct server_thread t;
    server_thread_start(&t, &cfg);
    one_read_per_request(t.s.port);
    small_pieces(t.s.port);
    slow_large_response(t.s.port);
    server_thread_stop(&t);
    CHECK_EQ(unlink(file_path), 0);
    CHECK_EQ(rmdir(root), 0);
    return 0;
}

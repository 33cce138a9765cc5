/* Bad and unusual clients against the HTTP server (examples/http_server.c)
 * running on its own thread: malformed heads, oversized heads, a client
 * that trickles, a client that resets mid-response, escapes from the
 * static root, 1-byte writes of pipelined requests, and a stop with idle
 * keep-alive connections open. The client side is blocking sockets with
 * poll() bounds; nothing waits by sleeping. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "check.h"
#include "netutil.h"

#define BIG_FILE (4u << 20)

static char root[64];
static char outside[96];
static char resp[BIG_FILE + 4096];

static void write_file(const char *path, const char *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void make_root(void)
{
    char path[160];
    net_temp_dir(root, sizeof root, "rt-net");
    snprintf(path, sizeof path, "%s/www", root);
    CHECK_EQ(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/www/sub", root);
    CHECK_EQ(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/www/a.txt", root);
    write_file(path, "file a\n", 7);
    snprintf(path, sizeof path, "%s/www/sub/b.txt", root);
    write_file(path, "file b\n", 7);
    snprintf(outside, sizeof outside, "%s/secret", root);
    write_file(outside, "secret\n", 7);
    snprintf(path, sizeof path, "%s/www/link", root);
    CHECK_EQ(symlink(outside, path), 0);
    snprintf(path, sizeof path, "%s/www/uplink", root);
    CHECK_EQ(symlink("..", path), 0);
    char *big = malloc(BIG_FILE);
    CHECK(big != NULL);
    for (size_t i = 0; i < BIG_FILE; i++)
        big[i] = (char)('A' + i % 23);
    snprintf(path, sizeof path, "%s/www/big.bin", root);
    write_file(path, big, BIG_FILE);
    free(big);
}

static void remove_root(void)
{
    const char *files[] = {"www/a.txt",  "www/sub/b.txt", "www/link",
                           "www/uplink", "www/big.bin",   "secret"};
    char path[160];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", root, files[i]);
        CHECK_EQ(unlink(path), 0);
    }
    snprintf(path, sizeof path, "%s/www/sub", root);
    CHECK_EQ(rmdir(path), 0);
    snprintf(path, sizeof path, "%s/www", root);
    CHECK_EQ(rmdir(path), 0);
    CHECK_EQ(rmdir(root), 0);
}

/* Sends `req` on a new connection and returns the status of the first
 * response; the whole exchange (until EOF) is left in resp. */
static int status_of(int port, const char *req, size_t len, int *eof)
{
    int fd = net_connect(port);
    net_send(fd, req, len);
    CHECK_EQ(shutdown(fd, SHUT_WR), 0);
    size_t n = net_recv_all(fd, resp, sizeof resp - 1, eof);
    resp[n] = '\0';
    close(fd);
    CHECK_GT(n, 12);
    CHECK(memcmp(resp, "HTTP/1.1 ", 9) == 0);
    return atoi(resp + 9);
}

/* A malformed request line or header: 400, then the server closes even
 * though our side stays open. */
static void bad_heads(int port)
{
    const char *bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET noslash HTTP/1.1\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo-Colon\r\n\r\n",
        "GET / HTTP/1.1\r\n x: y\r\n\r\n",
        "GET / HTTP/1.1\r\nA : b\r\n\r\n",
        "\r\n \r\n", /* empty lines are skipped, a blank one is not */
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int fd = net_connect(port);
        net_send(fd, bad[i], strlen(bad[i]));
        int eof;
        size_t n = net_recv_all(fd, resp, sizeof resp - 1, &eof);
        resp[n] = '\0';
        if (strncmp(resp, "HTTP/1.1 400 ", 13) != 0)
            fprintf(stderr, "request %zu got: %s\n", i, resp);
        CHECK(strncmp(resp, "HTTP/1.1 400 ", 13) == 0);
        CHECK(strstr(resp, "Connection: close\r\n") != NULL);
        CHECK_EQ(eof, 1);
        close(fd);
    }
    /* A NUL inside the target. */
    static const char nul[] = "GET /static/a.txt\0x HTTP/1.1\r\n\r\n";
    int eof;
    CHECK_EQ(status_of(port, nul, sizeof nul - 1, &eof), 400);
    CHECK_EQ(eof, 1);
    static const char te[] =
        "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK_EQ(status_of(port, te, sizeof te - 1, &eof), 501);
    static const char v2[] = "GET / HTTP/2.0\r\n\r\n";
    CHECK_EQ(status_of(port, v2, sizeof v2 - 1, &eof), 501);
}

/* A head over 8 KiB: 431 and close, while the client keeps sending. */
static void huge_head(int port)
{
    size_t len = 3 * HTTP_MAX_HEAD;
    char *req = malloc(len);
    CHECK(req != NULL);
    memset(req, 'a', len);
    memcpy(req, "GET / HTTP/1.1\r\nX-Long: ", 24);
    int fd = net_connect(port);
    /* Only the first 9 KiB: the rest would fill the socket buffers of a
     * server that stopped reading. */
    net_send(fd, req, HTTP_MAX_HEAD + 1024);
    int eof;
    size_t n = net_recv_all(fd, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    CHECK(strncmp(resp, "HTTP/1.1 431 ", 13) == 0);
    CHECK_EQ(eof, 1);
    close(fd);
    free(req);
    /* Exactly at the limit is fine; one byte more is not. */
    for (int over = 0; over <= 1; over++) {
        size_t head = HTTP_MAX_HEAD + (size_t)over;
        char *h = malloc(head);
        CHECK(h != NULL);
        memset(h, 'b', head);
        memcpy(h, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 27);
        memcpy(h + head - 4, "\r\n\r\n", 4);
        CHECK_EQ(status_of(port, h, head, &eof), over ? 431 : 200);
        free(h);
    }
}

/* One byte per second: the server answers 408 and closes once the header
 * timeout (200 ms here) has passed, long before the head is complete.
 * The pause between bytes is a poll() on the socket, so the test ends as
 * soon as the server acts. */
static void trickle(int port)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    int fd = net_connect(port);
    size_t sent = 0;
    for (;;) {
        CHECK_LT(sent, sizeof req - 1); /* closed before the head ended */
        net_send(fd, req + sent, 1);
        sent++;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 1000) == 1)
            break;
    }
    int eof;
    size_t n = net_recv_all(fd, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    CHECK(strncmp(resp, "HTTP/1.1 408 ", 13) == 0);
    CHECK_EQ(eof, 1);
    close(fd);
}

/* A client that resets (SO_LINGER 0) in the middle of a 4 MiB response, or
 * with many pipelined answers queued: the server survives and serves the
 * next client. */
static void resets(int port)
{
    for (int i = 0; i < 20; i++) {
        int fd = net_connect(port);
        if (i % 2 == 0) {
            static const char big[] = "GET /static/big.bin HTTP/1.1\r\n"
                                      "Host: a\r\n\r\n";
            net_send(fd, big, sizeof big - 1);
        } else {
            char many[64 * NET_GET_HELLO_LEN];
            for (int k = 0; k < 64; k++)
                memcpy(many + NET_GET_HELLO_LEN * k, NET_GET_HELLO,
                       NET_GET_HELLO_LEN);
            net_send(fd, many, sizeof many);
        }
        char c;
        CHECK_EQ(net_recv(fd, &c, 1), 1);
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        close(fd);
        fd = net_connect(port);
        net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
        size_t n = net_recv_response(fd, resp, sizeof resp);
        CHECK_EQ(n, strlen(net_hello_response));
        CHECK(strcmp(resp, net_hello_response) == 0);
        close(fd);
    }
}

/* Static files: served byte-exact below the root, never above it. */
static void static_files(int port)
{
    int eof;
    static const char a[] = "GET /static/a.txt HTTP/1.1\r\nHost: a\r\n"
                            "Connection: close\r\n\r\n";
    CHECK_EQ(status_of(port, a, sizeof a - 1, &eof), 200);
    CHECK(strstr(resp, "\r\n\r\nfile a\n") != NULL);
    static const char b[] = "GET /static/sub/b.txt?x=1 HTTP/1.0\r\n\r\n";
    CHECK_EQ(status_of(port, b, sizeof b - 1, &eof), 200);
    CHECK(strstr(resp, "\r\n\r\nfile b\n") != NULL);
    const char *refused[] = {
        "/static/../secret",
        "/static/sub/../a.txt",
        "/static/./a.txt",
        "/static//etc/passwd",
        "/static/link",
        "/static/uplink/secret",
        "/static/sub",
        "/static/",
        "/static/nope",
        "/static/..%2fsecret",
        "/nope",
        "/static",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char req[256];
        int n =
            snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", refused[i]);
        CHECK_EQ(status_of(port, req, (size_t)n, &eof), 404);
        CHECK(strstr(resp, "secret") == NULL);
        CHECK_EQ(eof, 1);
    }
    /* The big file arrives whole and exact. */
    static const char big[] = "GET /static/big.bin HTTP/1.1\r\n"
                              "Host: a\r\n\r\n";
    int fd = net_connect(port);
    net_send(fd, big, sizeof big - 1);
    size_t n = net_recv_response(fd, resp, sizeof resp);
    char *body = strstr(resp, "\r\n\r\n") + 4;
    CHECK_EQ(n - (size_t)(body - resp), BIG_FILE);
    for (size_t i = 0; i < BIG_FILE; i++)
        CHECK_EQ(body[i], (char)('A' + i % 23));
    close(fd);
}

/* Methods, versions, Connection, bodies. */
static void semantics(int port)
{
    int eof;
    static const char head[] =
        "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    CHECK_EQ(status_of(port, head, sizeof head - 1, &eof), 200);
    CHECK(strstr(resp, "Content-Length: 6\r\n") != NULL);
    CHECK(strstr(resp, "hello") == NULL);
    static const char post[] = "POST / HTTP/1.0\r\n\r\n";
    CHECK_EQ(status_of(port, post, sizeof post - 1, &eof), 405);
    /* A body is skipped, also when it comes later than its head; the
     * next request on the connection is served. */
    int fd = net_connect(port);
    static const char withbody[] =
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n";
    net_send(fd, withbody, sizeof withbody - 1);
    char *junk = calloc(1, 20000);
    CHECK(junk != NULL);
    net_send(fd, junk, 20000);
    free(junk);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strcmp(resp, net_hello_response) == 0);
    net_send(fd, NET_GET_HELLO, NET_GET_HELLO_LEN);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strcmp(resp, net_hello_response) == 0);
    close(fd);
    /* HTTP/1.0 keep-alive is honoured. */
    fd = net_connect(port);
    for (int i = 0; i < 3; i++) {
        static const char ka[] =
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        net_send(fd, ka, sizeof ka - 1);
        net_recv_response(fd, resp, sizeof resp);
        CHECK(strstr(resp, "Connection: keep-alive\r\n") != NULL);
    }
    close(fd);
}

/* Three pipelined requests written one byte at a time: three responses,
 * byte-exact, in order. */
static void byte_by_byte(int port)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                              "GET /nope HTTP/1.1\nHost: a\n\n"
                              "GET /static/a.txt HTTP/1.1\r\nX: y\r\n"
                              "Host: a\r\n\r\n";
    static const char want[] =
        "HTTP/1.1 200 OK\r\nServer: greenfut\r\nContent-Length: 6\r\n\r\n"
        "hello\n"
        "HTTP/1.1 404 Not Found\r\nServer: greenfut\r\n"
        "Content-Length: 10\r\n\r\nnot found\n"
        "HTTP/1.1 200 OK\r\nServer: greenfut\r\nContent-Length: 7\r\n\r\n"
        "file a\n";
    int fd = net_connect(port);
    for (size_t i = 0; i < sizeof req - 1; i++)
        net_send(fd, req + i, 1);
    size_t got = 0;
    while (got < sizeof want - 1) {
        ssize_t n = net_recv(fd, resp + got, sizeof want - 1 - got);
        CHECK_GT(n, 0);
        got += (size_t)n;
    }
    CHECK(memcmp(resp, want, sizeof want - 1) == 0);
    close(fd);
}

/* A stop while keep-alive connections sit idle: they see EOF, and the
 * server's run returns 0 with no connection left. */
static void stop_with_idle(struct server_thread *t)
{
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = net_connect(t->s.port);
        net_send(fds[i], NET_GET_HELLO, NET_GET_HELLO_LEN);
        net_recv_response(fds[i], resp, sizeof resp);
        CHECK(strcmp(resp, net_hello_response) == 0);
    }
    server_thread_stop(t);
    for (int i = 0; i < 8; i++) {
        int eof;
        CHECK_EQ(net_recv_all(fds[i], resp, sizeof resp, &eof), 0);
        CHECK_EQ(eof, 1);
        close(fds[i]);
    }
}

int main(void)
{
    make_root();
    char www[128];
    snprintf(www, sizeof www, "%s/www", root);
    struct http_server_config cfg = {
        .root = www,
        .header_timeout_ns = 200 * 1000000ull,
    };
    struct server_thread t;
    server_thread_start(&t, &cfg);
    bad_heads(t.s.port);
    huge_head(t.s.port);
    trickle(t.s.port);
    resets(t.s.port);
    static_files(t.s.port);
    semantics(t.s.port);
    byte_by_byte(t.s.port);
    stop_with_idle(&t);
    CHECK_GT(t.s.stats.timeouts, 0);
    CHECK_GT(t.s.stats.requests, 100);
    remove_root();
    return 0;
}

/* RFC 9112 request rules, end to end against the HTTP server
 * (examples/http_server.c) on its own thread: an absolute-form target is
 * served by its path (3.2.2), empty lines before a request line are
 * skipped (2.2), also after a body, and an HTTP/1.1 request without
 * exactly one valid Host is 400 (3.2) while HTTP/1.0 needs none. Blocking
 * client sockets with poll() bounds; nothing waits by sleeping. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "check.h"
#include "netutil.h"

static char root[64];
static char file_path[96];
static char resp[8192];

static void make_root(void)
{
    net_temp_dir(root, sizeof root, "rt-rfc");
    snprintf(file_path, sizeof file_path, "%s/a.txt", root);
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "file a\n", 7), 7);
    close(fd);
}

/* Sends `req` on a new connection, half-closes, reads to EOF (left in
 * resp) and returns the status of the first response. */
static int status_of(int port, const char *req)
{
    int fd = net_connect(port);
    net_send(fd, req, strlen(req));
    CHECK_EQ(shutdown(fd, SHUT_WR), 0);
    int eof;
    size_t n = net_recv_all(fd, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    close(fd);
    CHECK_EQ(eof, 1);
    if (n < 12 || memcmp(resp, "HTTP/1.1 ", 9) != 0) {
        fprintf(stderr, "no response to: %s\n", req);
        CHECK(0);
    }
    return atoi(resp + 9);
}

static void expect(int port, const char *req, int status, const char *body)
{
    int got = status_of(port, req);
    if (got != status)
        fprintf(stderr, "got %d, want %d for: %s\n", got, status, req);
    CHECK_EQ(got, status);
    if (body) {
        char *b = strstr(resp, "\r\n\r\n");
        CHECK(b != NULL);
        CHECK(strncmp(b + 4, body, strlen(body)) == 0);
    }
}

/* 3.2.2: a server MUST accept the absolute form; the path selects the
 * resource, no path means "/". */
static void absolute_form(int port)
{
    expect(port, "GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
           200, HTTP_HELLO);
    expect(port,
           "GET http://localhost:8080/static/a.txt?x=1 HTTP/1.1\r\n"
           "Host: localhost:8080\r\n\r\n",
           200, "file a\n");
    expect(port, "GET HTTP://example.com HTTP/1.1\r\nHost: x\r\n\r\n", 200,
           HTTP_HELLO);
    expect(port, "GET http://h/nope HTTP/1.0\r\n\r\n", 404, NULL);
    expect(port, "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, NULL);
}

/* 2.2: empty lines before a request line are ignored, also between
 * pipelined requests on one connection. */
static void leading_empty_lines(int port)
{
    expect(port, "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, HTTP_HELLO);
    expect(port, "\r\n\n\r\nGET /static/a.txt HTTP/1.0\r\n\r\n", 200,
           "file a\n");
    int fd = net_connect(port);
    static const char two[] = "POST / HTTP/1.1\r\nHost: a\r\n"
                              "Content-Length: 3\r\n\r\nabc\r\n"
                              "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    net_send(fd, two, sizeof two - 1);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strncmp(resp, "HTTP/1.1 405 ", 13) == 0);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strcmp(resp, net_hello_response) == 0);
    close(fd);
}

/* 3.2: HTTP/1.1 without Host, or any request with two, MUST be 400. */
static void host_rules(int port)
{
    expect(port, "GET / HTTP/1.1\r\n\r\n", 400, NULL);
    CHECK(strstr(resp, "Connection: close\r\n") != NULL);
    expect(port, "GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", 400, NULL);
    expect(port, "GET http://a/ HTTP/1.1\r\n\r\n", 400, NULL);
    expect(port, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, NULL);
    expect(port, "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, NULL);
    expect(port, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, NULL);
    expect(port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, HTTP_HELLO);
    expect(port, "GET / HTTP/1.1\r\nhost:\r\n\r\n", 200, HTTP_HELLO);
    expect(port, "GET / HTTP/1.0\r\n\r\n", 200, HTTP_HELLO);
    /* The second of two pipelined requests lacks Host: the first is
     * answered, the second gets 400 and the connection ends. */
    int fd = net_connect(port);
    static const char two[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                              "GET / HTTP/1.1\r\n\r\n";
    net_send(fd, two, sizeof two - 1);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strcmp(resp, net_hello_response) == 0);
    int eof;
    size_t n = net_recv_all(fd, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    CHECK(strncmp(resp, "HTTP/1.1 400 ", 13) == 0);
    CHECK_EQ(eof, 1);
    close(fd);
}

/* The empty line a client sends after a body is dropped with it: the
 * connection is idle again, so a stop ends it at once (it sees EOF) and
 * not by the header timeout, which would count a timeout. Deterministic:
 * the server's one thread reaches the idle read before it can run the
 * stop. */
static void empty_line_then_stop(struct server_thread *t)
{
    int fd = net_connect(t->s.port);
    static const char post[] = "POST / HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 3\r\n\r\nabc\r\n";
    net_send(fd, post, sizeof post - 1);
    net_recv_response(fd, resp, sizeof resp);
    CHECK(strncmp(resp, "HTTP/1.1 405 ", 13) == 0);
    server_thread_stop(t);
    int eof;
    CHECK_EQ(net_recv_all(fd, resp, sizeof resp, &eof), 0);
    CHECK_EQ(eof, 1);
    close(fd);
    CHECK_EQ(t->s.stats.timeouts, 0);
}

int main(void)
{
    make_root();
    struct http_server_config cfg = {
        .root = root,
        .header_timeout_ns = 2000 * 1000000ull,
    };
    struct server_thread t;
    server_thread_start(&t, &cfg);
    absolute_form(t.s.port);
    leading_empty_lines(t.s.port);
    host_rules(t.s.port);
    empty_line_then_stop(&t);
    CHECK_EQ(unlink(file_path), 0);
    CHECK_EQ(rmdir(root), 0);
    return 0;
}

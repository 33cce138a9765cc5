/* Helpers of the network tests: the HTTP server on its own thread (so the
 * test's main thread can be a plain blocking client that waits with
 * poll()), and blocking client calls with generous bounds. Every wait is
 * on a socket or an fd, never a sleep. All traffic goes to 127.0.0.1. */
#ifndef RT_TESTS_NET_NETUTIL_H
#define RT_TESTS_NET_NETUTIL_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "http_server.h"

/* How long a test waits for any one event before failing (ms). */
#define NET_WAIT_MS 20000

struct server_thread {
    struct http_server s;
    pthread_t th;
    int stop_fd; /* an eventfd: writing it stops the server */
    int rc;      /* rt_run's result, once joined */
};

/* Starts http_server_task with cfg (stop_fd is replaced by our eventfd)
 * on a new thread. Fails the test on error. */
void server_thread_start(struct server_thread *t,
                         const struct http_server_config *cfg);

/* Stops the server through its stop fd, joins the thread, checks that
 * rt_run returned 0 and finishes the server. */
void server_thread_stop(struct server_thread *t);

/* Makes a fresh private directory for a test's files, under $TMPDIR (or
 * /tmp), named <name>-XXXXXX, and writes its path to dir (cap bytes).
 * Fails the test when it cannot. */
void net_temp_dir(char *dir, size_t cap, const char *name);

/* A blocking TCP connection to 127.0.0.1:port with TCP_NODELAY. */
int net_connect(int port);

/* Writes all of buf or fails the test. */
void net_send(int fd, const void *buf, size_t len);

/* Waits (poll, NET_WAIT_MS) and reads once. Returns read's result, or -1
 * with errno set (ETIMEDOUT when nothing came in time). */
ssize_t net_recv(int fd, void *buf, size_t cap);

/* Reads until EOF (or an error such as ECONNRESET, or cap bytes). Returns
 * the bytes read; *eof (if not NULL) is 1 when the peer closed cleanly. */
size_t net_recv_all(int fd, char *buf, size_t cap, int *eof);

/* Reads exactly one response (head plus Content-Length body, nothing
 * more) into buf, NUL-terminated. Returns its length; fails the test on
 * EOF, an error or a malformed head. */
size_t net_recv_response(int fd, char *buf, size_t cap);

/* `GET /` as an HTTP/1.1 client must send it (with Host), and its length. */
#define NET_GET_HELLO     "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
#define NET_GET_HELLO_LEN (sizeof NET_GET_HELLO - 1)

/* The expected bytes of `GET /` (keep-alive, HTTP/1.1). */
#define NET_HELLO_RESPONSE \
    "HTTP/1.1 200 OK\r\nServer: greenfut\r\nContent-Length: 6\r\n\r\nhello\n"
extern const char net_hello_response[];

#endif

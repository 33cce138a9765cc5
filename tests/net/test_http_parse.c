/* The request-head parser (examples/http_parse.c) on its own: every input
 * is fed whole, split at every byte boundary into two reads, and one byte
 * at a time, and all three must give the same result and fields. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "http_parse.h"

struct want {
    const char *in;
    enum http_parse_result rc;
    enum http_method method;
    const char *target;
    int minor;
    int keep_alive;
    size_t content_length;
    size_t head_len; /* 0: strlen(in) */
};

static const struct want cases[] = {
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE, HTTP_METHOD_GET, "/",
     1, 1, 0, 0},
    {"HEAD /x?y=1 HTTP/1.0\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE,
     HTTP_METHOD_HEAD, "/x?y=1", 0, 0, 0, 0},
    {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", HTTP_PARSE_DONE,
     HTTP_METHOD_GET, "/", 0, 1, 0, 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nconnection: foo, CLOSE\r\n\r\n",
     HTTP_PARSE_DONE, HTTP_METHOD_GET, "/", 1, 0, 0, 0},
    {"POST /p HTTP/1.1\r\nContent-Length: 12\r\nX:  v \t\r\nHost: h\r\n\r\n"
     "body",
     HTTP_PARSE_DONE, HTTP_METHOD_OTHER, "/p", 1, 1, 12,
     sizeof "POST /p HTTP/1.1\r\nContent-Length: 12\r\nX:  v \t\r\n"
            "Host: h\r\n\r\n" -
         1},
    {"GET /a HTTP/1.1\nHost: a\n\nGET /b HTTP/1.1\n\n", HTTP_PARSE_DONE,
     HTTP_METHOD_GET, "/a", 1, 1, 0, 25},
    {"GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\nHost: a\r\n"
     "\r\n",
     HTTP_PARSE_DONE, HTTP_METHOD_GET, "/", 1, 1, 5, 0},
    /* RFC 9112 3.2.2: the absolute form is accepted; the target is its
     * path and query, empty when it has neither (meaning "/"). */
    {"GET http://example.com/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n",
     HTTP_PARSE_DONE, HTTP_METHOD_GET, "/a/b?c=d", 1, 1, 0, 0},
    {"HEAD HTTPS://Example.COM:8443/x HTTP/1.0\r\n\r\n", HTTP_PARSE_DONE,
     HTTP_METHOD_HEAD, "/x", 0, 0, 0, 0},
    {"GET http://127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
     HTTP_PARSE_DONE, HTTP_METHOD_GET, "", 1, 1, 0, 0},
    {"GET http://[::1]?q HTTP/1.1\r\nHost: [::1]\r\n\r\n", HTTP_PARSE_DONE,
     HTTP_METHOD_GET, "?q", 1, 1, 0, 0},
    {"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0,
     0, 0},
    {"GET http://user@host/ HTTP/1.1\r\nHost: host\r\n\r\n", HTTP_PARSE_BAD, 0,
     NULL, 0, 0, 0, 0},
    {"GET ftp://host/ HTTP/1.1\r\nHost: host\r\n\r\n", HTTP_PARSE_BAD, 0, NULL,
     0, 0, 0, 0},
    {"GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0,
     0, 0},
    /* RFC 9112 2.2: empty lines before the request line are ignored (and
     * are part of the head, so the caller drops them with it). */
    {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE, HTTP_METHOD_GET,
     "/", 1, 1, 0, 0},
    {"\n\r\n\r\nHEAD /h HTTP/1.0\n\n", HTTP_PARSE_DONE, HTTP_METHOD_HEAD, "/h",
     0, 0, 0, 0},
    {"\r\n", HTTP_PARSE_MORE, 0, NULL, 0, 0, 0, 0},
    {"\r\n\r\n\r\nGET", HTTP_PARSE_MORE, 0, NULL, 0, 0, 0, 0},
    {"\r\n \r\nGET / HTTP/1.1\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    /* RFC 9112 3.2: HTTP/1.1 needs exactly one Host (empty is valid);
     * HTTP/1.0 may have none, but never two. */
    {"GET / HTTP/1.1\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0,
     0},
    {"GET / HTTP/1.0\r\n\r\n", HTTP_PARSE_DONE, HTTP_METHOD_GET, "/", 0, 0, 0,
     0},
    {"GET / HTTP/1.1\r\nHost:\r\n\r\n", HTTP_PARSE_DONE, HTTP_METHOD_GET, "/",
     1, 1, 0, 0},
    {"GET / HTTP/1.1\r\nhOST: [::1]:8080\r\n\r\n", HTTP_PARSE_DONE,
     HTTP_METHOD_GET, "/", 1, 1, 0, 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0,
     0, 0, 0},
    {"GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0,
     0, 0, 0},
    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0,
     0},
    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0,
     0},
    {"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0,
     0},
    {"GET / HTTP/1.1\r\nHost: a\r\n", HTTP_PARSE_MORE, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1", HTTP_PARSE_MORE, 0, NULL, 0, 0, 0, 0},
    {"GET  / HTTP/1.1\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1 \r\nHost: a\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET x HTTP/1.1\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.x\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0,
     0},
    {"GET / HTTP/1.1\r\n folded\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0,
     0},
    {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
     HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
     HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
     HTTP_PARSE_UNSUPPORTED, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/2.0\r\n\r\n", HTTP_PARSE_UNSUPPORTED, 0, NULL, 0, 0, 0, 0},
    /* Every tchar in a name, obs-text and tabs in a value, every byte of
     * a host and port; names are matched whole, not by prefix. */
    {"GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: \x80\xff\tv\r\n"
     "Host: aZ0-._~!$&'()*+,;=[::1]%:8\r\nHostx: a b\r\nConnectionx: close"
     "\r\nContent-Lengthx: q\r\n\r\n",
     HTTP_PARSE_DONE, HTTP_METHOD_GET, "/", 1, 1, 0, 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: closex, keep-alive, close\r\n"
     "\r\n",
     HTTP_PARSE_DONE, HTTP_METHOD_GET, "/", 1, 0, 0, 0},
    {"GETX / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE, HTTP_METHOD_OTHER,
     "/", 1, 1, 0, 0},
    {"GE / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_PARSE_DONE, HTTP_METHOD_OTHER,
     "/", 1, 1, 0, 0},
    {"GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", HTTP_PARSE_BAD, 0, NULL,
     0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0,
     0, 0, 0},
    {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    /* Errors come at the byte that makes them, before the head ends. */
    {"GET / HTTP/1.1\r\nBad Name", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n", HTTP_PARSE_UNSUPPORTED,
     0, NULL, 0, 0, 0, 0},
    {"G\x01", HTTP_PARSE_BAD, 0, NULL, 0, 0, 0, 0},
};

/* Feeds in[0..len) in pieces whose ends are cut[0..ncut), then the rest,
 * into a buffer that only grows, as a connection does. */
static enum http_parse_result feed(const char *in, size_t len,
                                   const size_t *cut, size_t ncut,
                                   size_t max_head, struct http_request *req)
{
    struct http_parser p;
    http_parser_init(&p, max_head);
    enum http_parse_result rc = HTTP_PARSE_MORE;
    for (size_t k = 0; k <= ncut; k++) {
        size_t end = k < ncut ? cut[k] : len;
        rc = http_parse_request(&p, in, end, req);
        if (rc != HTTP_PARSE_MORE)
            return rc;
    }
    return rc;
}

static void check_fields(const struct want *w, const struct http_request *r)
{
    if (w->rc != HTTP_PARSE_DONE)
        return;
    CHECK_EQ(r->method, w->method);
    CHECK_EQ(r->target_len, strlen(w->target));
    CHECK(memcmp(r->target, w->target, r->target_len) == 0);
    CHECK_EQ(r->minor, w->minor);
    CHECK_EQ(r->keep_alive, w->keep_alive);
    CHECK_EQ(r->content_length, w->content_length);
    CHECK_EQ(r->head_len, w->head_len ? w->head_len : strlen(w->in));
}

static void every_split(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct want *w = &cases[c];
        size_t len = strlen(w->in);
        struct http_request req;
        enum http_parse_result rc = feed(w->in, len, NULL, 0, 8192, &req);
        if (rc != w->rc)
            fprintf(stderr, "case %zu: got %d\n", c, (int)rc);
        CHECK_EQ(rc, w->rc);
        check_fields(w, &req);
        /* Two reads, split at every boundary. */
        for (size_t at = 0; at <= len; at++) {
            memset(&req, 0xa5, sizeof req);
            CHECK_EQ(feed(w->in, len, &at, 1, 8192, &req), w->rc);
            check_fields(w, &req);
        }
        /* One byte per read. */
        size_t cuts[256];
        CHECK_LT(len, 256);
        for (size_t i = 0; i < len; i++)
            cuts[i] = i;
        CHECK_EQ(feed(w->in, len, cuts, len, 8192, &req), w->rc);
        check_fields(w, &req);
    }
}

/* A bad request line is reported as soon as its bad byte arrives, before
 * the blank line; a good one waits. */
static void early_errors(void)
{
    struct http_parser p;
    struct http_request req;
    http_parser_init(&p, 8192);
    CHECK_EQ(http_parse_request(&p, "BAD LINE\r\n", 10, &req), HTTP_PARSE_BAD);
    http_parser_init(&p, 8192);
    CHECK_EQ(http_parse_request(&p, "GET / HTTP/1.1 ", 15, &req),
             HTTP_PARSE_BAD);
    http_parser_init(&p, 8192);
    CHECK_EQ(http_parse_request(&p, "GET / HTTP/1.1\r\n", 16, &req),
             HTTP_PARSE_MORE);
}

/* The head limit: a head of exactly max_head bytes parses, one more byte
 * (or a buffer that reaches the limit without an end) is too large. */
static void limits(void)
{
    static char buf[9000];
    struct http_parser p;
    struct http_request req;
    for (size_t max = 20; max < 200; max += 7) {
        memset(buf, 'x', sizeof buf);
        memcpy(buf, "GET / HTTP/1.0\r\nA: ", 19); /* 1.0: no Host needed */
        for (size_t head = 24; head <= max + 1; head++) {
            char save[4];
            memcpy(save, buf + head - 4, 4);
            memcpy(buf + head - 4, "\r\n\r\n", 4);
            http_parser_init(&p, max);
            enum http_parse_result rc = http_parse_request(&p, buf, head, &req);
            CHECK_EQ(rc, head <= max ? HTTP_PARSE_DONE : HTTP_PARSE_TOO_LARGE);
            memcpy(buf + head - 4, save, 4);
        }
        http_parser_init(&p, max);
        CHECK_EQ(http_parse_request(&p, buf, max - 1, &req), HTTP_PARSE_MORE);
        CHECK_EQ(http_parse_request(&p, buf, max, &req), HTTP_PARSE_TOO_LARGE);
    }
}

/* Pipelined heads: parse one, drop it, parse the next from a fresh parser;
 * the empty line some clients send after a request is skipped. */
static void pipelined(void)
{
    const char *in = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                     "\r\nHEAD /b HTTP/1.0\r\n\r\nGET /c";
    size_t len = strlen(in), off = 0;
    const char *targets[] = {"/a", "/b"};
    struct http_parser p;
    struct http_request req;
    for (int i = 0; i < 2; i++) {
        http_parser_init(&p, 8192);
        CHECK_EQ(http_parse_request(&p, in + off, len - off, &req),
                 HTTP_PARSE_DONE);
        CHECK_EQ(req.target_len, 2);
        CHECK(memcmp(req.target, targets[i], 2) == 0);
        off += req.head_len;
    }
    http_parser_init(&p, 8192);
    CHECK_EQ(http_parse_request(&p, in + off, len - off, &req),
             HTTP_PARSE_MORE);
}

int main(void)
{
    every_split();
    early_errors();
    limits();
    pipelined();
    return 0;
}

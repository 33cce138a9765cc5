/* An HTTP/1.1 request-head parser with a pure function interface.
 *
 * It reads no sockets and allocates nothing: the caller appends bytes to a
 * buffer and calls http_parse_request on the whole buffer after each read.
 * The parser is one state machine that looks at each byte once, checking
 * it as it goes; a small struct http_parser keeps its state between calls,
 * so a head costs one pass however it is split between reads (one byte at
 * a time included). A complete head is described in a struct http_request
 * whose strings point into the caller's buffer.
 *
 * Invariant: between http_parser_init and a result other than
 * HTTP_PARSE_MORE, every call passes the same buffer, only ever longer
 * (bytes are appended, never changed).
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stddef.h>

/* Results of http_parse_request. */
enum http_parse_result {
    HTTP_PARSE_DONE = 0,        /* a complete head; *req describes it */
    HTTP_PARSE_MORE = 1,        /* no error so far; append bytes and retry */
    HTTP_PARSE_BAD = 2,         /* malformed: answer 400 and close */
    HTTP_PARSE_TOO_LARGE = 3,   /* head longer than the limit: 431, close */
    HTTP_PARSE_UNSUPPORTED = 4, /* Transfer-Encoding or a bad version: 501 */
};

enum http_method {
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_OTHER, /* a valid token we do not serve (405) */
};

/* Parse state kept between calls; set up with http_parser_init. All is
 * written by http_parse_request alone. */
struct http_parser {
    size_t scanned;   /* bytes of the buffer already parsed */
    size_t req_start; /* where the request line starts: after the empty
                         lines skipped before it */
    size_t max_head;  /* limit on the head, terminating blank line included */
    /* private: the machine's state (http_parse.c) and what it has found */
    size_t target;         /* offset of the target's path and query */
    size_t target_len;     /* their length, once the target has ended */
    size_t value;          /* a Content-Length value being read */
    size_t content_length; /* the last Content-Length seen */
    unsigned state;        /* where the machine is (enum state) */
    unsigned sub;          /* bytes into the item being read, up to 255 */
    unsigned names;        /* which names (or Connection tokens) it can be */
    unsigned flags;        /* F_* bits */
    unsigned char header;  /* the header whose value is being read */
    unsigned char method;  /* enum http_method */
    unsigned char hosts;   /* Host lines (counted up to 2) */
    unsigned char keep_alive;
    int major, minor; /* the version's digits */
};

/* One parsed request head. Pointers point into the parsed buffer. */
struct http_request {
    enum http_method method;
    const char *target; /* path and query of the request-target, not
                           NUL-terminated: all of an origin-form target,
                           the part after the authority of an absolute-form
                           one, which may be empty (that means "/") */
    size_t target_len;
    int minor;             /* HTTP/1.<minor>: 0 or 1 */
    int keep_alive;        /* 1 unless the version/Connection says close */
    size_t content_length; /* body bytes that follow the head (0: none) */
    size_t head_len;       /* bytes of the head, blank line included */
};

/* Prepares `p` for a new request head of at most max_head bytes. */
void http_parser_init(struct http_parser *p, size_t max_head);

/* Parses the request head at the start of buf[0..len). Returns
 * HTTP_PARSE_DONE (then *req is filled and req->head_len bytes of buf are
 * the head), HTTP_PARSE_MORE when the head is not complete yet and nothing
 * seen so far is wrong, or HTTP_PARSE_BAD / _TOO_LARGE / _UNSUPPORTED. A
 * malformed request line is reported as soon as the line is complete,
 * without waiting for the rest of the head. Lines end in CRLF or a bare LF.
 * RFC 9112: empty lines before the request line are skipped (and counted
 * in head_len, 2.2); the target may be origin-form or absolute-form with
 * an http or https scheme (3.2); an HTTP/1.1 head without a Host header,
 * or any head with two or with an invalid value, is HTTP_PARSE_BAD (3.2).
 * Pure: no IO, no allocation, no global state. */
enum http_parse_result http_parse_request(struct http_parser *p,
                                          const char *buf, size_t len,
                                          struct http_request *req);

#endif

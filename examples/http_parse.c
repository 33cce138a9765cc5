/* The HTTP/1.1 request-head parser (RFC 9112 sections 2.2, 3 and 5,
 * strict).
 *
 * Scanning is incremental: only bytes past p->scanned are looked at, and
 * the request line is checked the moment its line ends. The header lines
 * are checked once, when the blank line that ends the head has arrived.
 */
#include "http_parse.h"

#include <string.h>

void http_parser_init(struct http_parser *p, size_t max_head)
{
    p->scanned = 0;
    p->line_start = 0;
    p->req_start = 0;
    p->line_end = 0;
    p->max_head = max_head;
}

/* RFC 9110 tchar: the characters of a token (method, header name). */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The length of a line that ends before `nl` (a '\n'), without its '\r'. */
static size_t line_len(const char *buf, size_t start, size_t nl)
{
    size_t n = nl - start;
    if (n > 0 && buf[nl - 1] == '\r')
        n--;
    return n;
}

static int ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

/* The length of the "http://authority" or "https://authority" that
 * starts an absolute-form target t[0..n) (RFC 9112 3.2.2), or 0 when t is
 * not one. The authority must not be empty; userinfo ('@') is refused, as
 * RFC 9110 4.2.4 tells a recipient to treat it as an error. */
static size_t absolute_prefix(const char *t, size_t n)
{
    size_t i = 0;
    if (n >= 7 && ieq(t, 7, "http://"))
        i = 7;
    else if (n >= 8 && ieq(t, 8, "https://"))
        i = 8;
    else
        return 0;
    size_t a = i;
    while (i < n && t[i] != '/' && t[i] != '?') {
        if (t[i] == '@')
            return 0;
        i++;
    }
    return i > a ? i : 0;
}

/* method SP request-target SP HTTP/1.x, exactly one space each. */
static enum http_parse_result parse_request_line(const char *s, size_t n,
                                                 struct http_request *req)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != ' ')
        return HTTP_PARSE_BAD;
    if (i == 3 && memcmp(s, "GET", 3) == 0)
        req->method = HTTP_METHOD_GET;
    else if (i == 4 && memcmp(s, "HEAD", 4) == 0)
        req->method = HTTP_METHOD_HEAD;
    else
        req->method = HTTP_METHOD_OTHER;
    size_t t = ++i;
    while (i < n && (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f)
        i++;
    if (i == t || i >= n || s[i] != ' ')
        return HTTP_PARSE_BAD;
    /* A proxy-style absolute target names the resource by its path, which
     * may be empty ("http://host" means "/"). */
    size_t skip = s[t] == '/' ? 0 : absolute_prefix(s + t, i - t);
    if (s[t] != '/' && skip == 0)
        return HTTP_PARSE_BAD;
    req->target = s + t + skip;
    req->target_len = i - t - skip;
    i++;
    if (n - i != 8 || memcmp(s + i, "HTTP/", 5) != 0 || s[i + 6] != '.' ||
        s[i + 5] < '0' || s[i + 5] > '9' || s[i + 7] < '0' || s[i + 7] > '9')
        return HTTP_PARSE_BAD;
    if (s[i + 5] != '1' || s[i + 7] > '1')
        return HTTP_PARSE_UNSUPPORTED;
    req->minor = s[i + 7] - '0';
    req->keep_alive = req->minor == 1;
    return HTTP_PARSE_DONE;
}

/* Applies the tokens of a Connection header value. */
static void connection_tokens(const char *v, size_t n, struct http_request *req)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t t = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (ieq(v + t, i - t, "close"))
            req->keep_alive = 0;
        else if (ieq(v + t, i - t, "keep-alive") && req->minor == 0)
            req->keep_alive = 1;
    }
}

/* What parse_headers has seen so far, for the headers that may not
 * repeat (or only with the same value). */
struct seen {
    int length; /* a Content-Length */
    int hosts;  /* Host header lines */
};

/* A valid Host value: uri-host [ ":" port ] (RFC 9110 7.2), checked by its
 * characters (reg-name, IP literal, port), so that no path, userinfo or
 * whitespace hides in it. Empty is valid. */
static int host_ok(const char *v, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)v[k];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') ||
              (c != 0 && strchr("-._~!$&'()*+,;=:[]%", c))))
            return 0;
    }
    return 1;
}

/* name ":" OWS value OWS; no obs-fold, no control characters. */
static enum http_parse_result parse_header(const char *s, size_t n,
                                           struct http_request *req,
                                           struct seen *seen)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return HTTP_PARSE_BAD;
    size_t name_len = i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t v = i, end = n;
    for (size_t k = v; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return HTTP_PARSE_BAD;
    }
    while (end > v && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    if (ieq(s, name_len, "connection")) {
        connection_tokens(s + v, end - v, req);
    } else if (ieq(s, name_len, "host")) {
        /* RFC 9112 3.2: more than one Host line, or an invalid one, MUST
         * be 400. */
        if (++seen->hosts > 1 || !host_ok(s + v, end - v))
            return HTTP_PARSE_BAD;
    } else if (ieq(s, name_len, "transfer-encoding")) {
        return HTTP_PARSE_UNSUPPORTED;
    } else if (ieq(s, name_len, "content-length")) {
        size_t len = 0;
        if (end == v)
            return HTTP_PARSE_BAD;
        for (size_t k = v; k < end; k++) {
            if (s[k] < '0' || s[k] > '9' || len > ((size_t)-1 - 9) / 10)
                return HTTP_PARSE_BAD;
            len = len * 10 + (size_t)(s[k] - '0');
        }
        if (seen->length && len != req->content_length)
            return HTTP_PARSE_BAD;
        seen->length = 1;
        req->content_length = len;
    }
    return HTTP_PARSE_DONE;
}

/* Checks every header line of a complete head [line_end, head_len). */
static enum http_parse_result parse_headers(const struct http_parser *p,
                                            const char *buf,
                                            struct http_request *req)
{
    struct seen seen = {0, 0};
    size_t start = p->line_end;
    for (;;) {
        const char *nl = memchr(buf + start, '\n', req->head_len - start);
        size_t at = (size_t)(nl - buf);
        size_t n = line_len(buf, start, at);
        if (n == 0) { /* the blank line */
            /* RFC 9112 3.2: an HTTP/1.1 request without Host MUST be 400;
             * HTTP/1.0 does not require it. */
            if (req->minor == 1 && seen.hosts == 0)
                return HTTP_PARSE_BAD;
            return HTTP_PARSE_DONE;
        }
        enum http_parse_result rc = parse_header(buf + start, n, req, &seen);
        if (rc != HTTP_PARSE_DONE)
            return rc;
        start = at + 1;
    }
}

enum http_parse_result http_parse_request(struct http_parser *p,
                                          const char *buf, size_t len,
                                          struct http_request *req)
{
    size_t limit = len < p->max_head ? len : p->max_head;
    for (size_t i = p->scanned; i < limit; i++) {
        if (buf[i] != '\n')
            continue;
        size_t n = line_len(buf, p->line_start, i);
        if (p->line_end == 0 && n == 0) {
            /* RFC 9112 2.2: a server SHOULD ignore empty lines before the
             * request line (some clients send one after a POST body). They
             * still count against max_head. */
            p->req_start = i + 1;
        } else if (p->line_end == 0) {
            memset(req, 0, sizeof *req);
            enum http_parse_result rc =
                parse_request_line(buf + p->line_start, n, req);
            if (rc != HTTP_PARSE_DONE)
                return rc;
            p->line_end = i + 1;
        } else if (n == 0) {
            /* The request line is parsed again: *req may have been
             * reused by the caller between calls. */
            memset(req, 0, sizeof *req);
            (void)parse_request_line(
                buf + p->req_start,
                line_len(buf, p->req_start, p->line_end - 1), req);
            req->head_len = i + 1;
            p->scanned = i + 1;
            return parse_headers(p, buf, req);
        }
        p->line_start = i + 1;
    }
    p->scanned = limit;
    return len >= p->max_head ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_MORE;
}

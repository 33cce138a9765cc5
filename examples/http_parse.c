/* The HTTP/1.1 request-head parser (RFC 9112 sections 2.2, 3 and 5,
 * strict), as one state machine that looks at each byte once.
 *
 * Every byte is classified in the state it arrives in: the request line's
 * method, target and version, each header's name (matched against the
 * four names that matter while it is read), its value (checked as it is
 * read, by what the header is: a Host's characters, a Content-Length's
 * digits, a Connection's tokens) and the line ends. Nothing is searched
 * for first and parsed afterwards, so a request costs one pass however
 * its bytes are split between reads, and the state between two calls is
 * the few fields of struct http_parser. An error is reported at the byte
 * that makes the head wrong (a header's own rules at its line end).
 */
#include "http_parse.h"

#include <stdint.h>
#include <string.h>

/* Where the machine is; saved in p->state between calls. */
enum state {
    S_START,     /* a line before the request line: empty, or its start */
    S_START_CR,  /* a CR of an empty line before the request line */
    S_METHOD,    /* in the method */
    S_TARGET0,   /* the target's first byte */
    S_SCHEME,    /* in "http://" or "https://" (p->sub bytes matched) */
    S_AUTHORITY, /* after the scheme, up to '/', '?' or the space */
    S_TARGET,    /* the path and query */
    S_VERSION,   /* "HTTP/x.y", p->sub bytes seen */
    S_LINE_CR,   /* the CR that ends the request line */
    S_HEADER,    /* the start of a header line, or of the blank line */
    S_END_CR,    /* the CR of the blank line */
    S_NAME,      /* in a header name */
    S_OWS,       /* spaces after the colon */
    S_VALUE,     /* in a header value */
    S_VALUE_CR,  /* the CR that ends a header line */
};

/* The headers whose values matter, matched while the name is read: the
 * first byte picks the one candidate it can be (the two that start with
 * "con" part at their fourth byte), each later byte keeps it or drops it,
 * one comparison a byte. */
enum header {
    H_CONNECTION,
    H_CONTENT_LENGTH,
    H_HOST,
    H_TRANSFER_ENCODING,
    H_COUNT,
    H_OTHER = H_COUNT,
};
static const char *const header_names[H_COUNT] = {
    "connection", "content-length", "host", "transfer-encoding"};
static const unsigned char header_lens[H_COUNT] = {10, 14, 4, 17};

/* The Connection tokens that matter, a bit each in p->names while a
 * Connection value is read. */
#define TOKEN_CLOSE      1u
#define TOKEN_KEEP_ALIVE 2u

/* Bits of p->flags. */
#define F_WS     1u  /* a space or tab since the last byte of the value */
#define F_DIGITS 2u  /* a Content-Length value has a digit */
#define F_LENGTH 4u  /* a Content-Length header was seen */
#define F_GET    8u  /* the method so far is a prefix of GET */
#define F_HEAD   16u /* ... of HEAD */
#define F_HTTPS  32u /* the scheme has its 's' */

/* Byte classes, one load per byte: bits of classes[c]. */
#define C_TCHAR 1u /* RFC 9110 tchar: method and header-name bytes */
#define C_VCHAR 2u /* a visible byte (0x21-0x7e): request-target bytes */
#define C_HOST                                                             \
    4u             /* a byte of uri-host [":" port] (RFC 9110 7.2): ALPHA, \
                      DIGIT and -._~!$&'()*+,;=:[]% */
#define C_FIELD 8u /* a field-value byte: VCHAR, SP, HTAB, obs-text */
static const unsigned char classes[256] = {
    0,  0,  0,  0,  0,  0,  0,  0,  0,  8,  0,  0,  0,  0,  0,  0,  /* 00 */
    0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 10 */
    8,  15, 10, 11, 15, 15, 15, 15, 14, 14, 15, 15, 14, 15, 15, 10, /* 20 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 14, 10, 14, 10, 10, /* 30 */
    10, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 40 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 10, 14, 11, 15, /* 50 */
    11, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, /* 60 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 10, 11, 10, 15, 0,  /* 70 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* 80 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* 90 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* a0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* b0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* c0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* d0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* e0 */
    8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  8,  /* f0 */
};

void http_parser_init(struct http_parser *p, size_t max_head)
{
    memset(p, 0, sizeof *p);
    p->max_head = max_head;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* A Connection token: p->sub bytes of it seen, now c: which of the two
 * tokens that matter (bits of p->names) can it still be? */
static unsigned match_token(unsigned tokens, size_t at, unsigned char c)
{
    c = lower(c);
    if ((tokens & TOKEN_CLOSE) && (at >= 5 || "close"[at] != (char)c))
        tokens &= ~TOKEN_CLOSE;
    if ((tokens & TOKEN_KEEP_ALIVE) &&
        (at >= 10 || "keep-alive"[at] != (char)c))
        tokens &= ~TOKEN_KEEP_ALIVE;
    return tokens;
}

/* A Connection token has ended: apply it. */
static void end_token(struct http_parser *p)
{
    if (p->sub == 5 && (p->names & TOKEN_CLOSE))
        p->keep_alive = 0;
    else if (p->sub == 10 && (p->names & TOKEN_KEEP_ALIVE) && p->minor == 0)
        p->keep_alive = 1;
    p->sub = 0;
    p->names = TOKEN_CLOSE | TOKEN_KEEP_ALIVE;
}

/* A header line has ended (its LF): the rules of the header as a whole.
 * Returns HTTP_PARSE_MORE to go on. */
static enum http_parse_result end_header(struct http_parser *p)
{
    switch (p->header) {
    case H_CONNECTION:
        end_token(p);
        break;
    case H_HOST:
        /* RFC 9112 3.2: more than one Host line MUST be 400. */
        if (++p->hosts > 1)
            return HTTP_PARSE_BAD;
        break;
    case H_CONTENT_LENGTH:
        if (!(p->flags & F_DIGITS) ||
            ((p->flags & F_LENGTH) && p->value != p->content_length))
            return HTTP_PARSE_BAD;
        p->flags |= F_LENGTH;
        p->content_length = p->value;
        break;
    case H_TRANSFER_ENCODING:
        return HTTP_PARSE_UNSUPPORTED;
    default:
        break;
    }
    return HTTP_PARSE_MORE;
}

/* One byte of a header value (not CR or LF): checked by the header's
 * rules. Returns HTTP_PARSE_MORE to go on. */
static enum http_parse_result value_byte(struct http_parser *p, unsigned char c)
{
    unsigned k = classes[c];
    if (!(k & C_FIELD))
        return HTTP_PARSE_BAD; /* a control byte */
    int ws = c == ' ' || c == '\t';
    switch (p->header) {
    case H_CONNECTION:
        if (ws || c == ',') {
            if (p->sub)
                end_token(p);
        } else {
            p->names = match_token(p->names, p->sub, c);
            if (p->sub < 255)
                p->sub++;
        }
        break;
    case H_HOST:
        /* Trailing spaces are not part of the value; inner ones are
         * wrong, as is any byte that is not of a host and port. */
        if (ws)
            p->flags |= F_WS;
        else if ((p->flags & F_WS) || !(k & C_HOST))
            return HTTP_PARSE_BAD;
        break;
    case H_CONTENT_LENGTH:
        if (ws) {
            p->flags |= F_WS;
        } else if (c < '0' || c > '9' || (p->flags & F_WS) ||
                   p->value > (SIZE_MAX - 9) / 10) {
            return HTTP_PARSE_BAD;
        } else {
            p->value = p->value * 10 + (size_t)(c - '0');
            p->flags |= F_DIGITS;
        }
        break;
    default:
        break;
    }
    return HTTP_PARSE_MORE;
}

/* In a header value at s[*i] (after its leading spaces): a run of the
 * bytes the header allows at once (any field byte, host bytes, digits),
 * then one byte by the header's rules, or the line's end. Returns
 * HTTP_PARSE_MORE to go on, with *i at the last byte used (limit when the run
 * reached it), or the result. */
static enum http_parse_result value_run(struct http_parser *p,
                                        const unsigned char *s, size_t *i,
                                        size_t limit)
{
    size_t k = *i;
    if (p->header == H_OTHER) {
        while (k < limit && (classes[s[k]] & C_FIELD))
            k++;
    } else if (p->header == H_HOST && !(p->flags & F_WS)) {
        while (k < limit && (classes[s[k]] & C_HOST))
            k++;
    } else if (p->header == H_CONTENT_LENGTH && !(p->flags & F_WS)) {
        for (; k < limit && s[k] >= '0' && s[k] <= '9'; k++) {
            if (p->value > (SIZE_MAX - 9) / 10)
                return HTTP_PARSE_BAD;
            p->value = p->value * 10 + (size_t)(s[k] - '0');
            p->flags |= F_DIGITS;
        }
    }
    *i = k;
    if (k == limit)
        return HTTP_PARSE_MORE; /* the loop ends; state stays */
    unsigned char c = s[k];
    if (c == '\r') {
        p->state = S_VALUE_CR;
        return HTTP_PARSE_MORE;
    }
    if (c == '\n') {
        enum http_parse_result rc = end_header(p);
        p->state = S_HEADER;
        return rc;
    }
    return value_byte(p, c);
}

/* The request line has ended: its version decides what follows. */
static enum http_parse_result end_request_line(struct http_parser *p)
{
    if (p->major != 1 || p->minor > 1)
        return HTTP_PARSE_UNSUPPORTED;
    p->keep_alive = p->minor == 1;
    return HTTP_PARSE_MORE;
}

/* The blank line has ended at buf[i]: the head is complete. */
static enum http_parse_result end_head(struct http_parser *p, const char *buf,
                                       size_t i, struct http_request *req)
{
    /* RFC 9112 3.2: an HTTP/1.1 request without Host MUST be 400;
     * HTTP/1.0 does not require it. */
    if (p->minor == 1 && p->hosts == 0)
        return HTTP_PARSE_BAD;
    req->method = (enum http_method)p->method;
    req->target = buf + p->target;
    req->target_len = p->target_len;
    req->minor = p->minor;
    req->keep_alive = p->keep_alive;
    req->content_length = p->content_length;
    req->head_len = i + 1;
    return HTTP_PARSE_DONE;
}

enum http_parse_result http_parse_request(struct http_parser *p,
                                          const char *buf, size_t len,
                                          struct http_request *req)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t limit = len < p->max_head ? len : p->max_head;
    enum http_parse_result rc = HTTP_PARSE_MORE;
    size_t i = p->scanned;
    for (; i < limit; i++) {
        unsigned char c = s[i];
        switch ((enum state)p->state) {
        case S_START:
            /* RFC 9112 2.2: a server SHOULD ignore empty lines before the
             * request line (some clients send one after a POST body).
             * They still count against max_head. */
            if (c == '\n') {
                p->req_start = i + 1;
            } else if (c == '\r') {
                p->state = S_START_CR;
            } else if (classes[c] & C_TCHAR) {
                p->flags = (c == 'G' ? F_GET : 0) | (c == 'H' ? F_HEAD : 0);
                p->sub = 1;
                p->state = S_METHOD;
            } else {
                return HTTP_PARSE_BAD;
            }
            break;
        case S_START_CR:
            if (c != '\n')
                return HTTP_PARSE_BAD;
            p->req_start = i + 1;
            p->state = S_START;
            break;
        case S_METHOD:
            if (c == ' ') {
                p->method = (p->flags & F_GET) && p->sub == 3 ? HTTP_METHOD_GET
                            : (p->flags & F_HEAD) && p->sub == 4
                                ? HTTP_METHOD_HEAD
                                : HTTP_METHOD_OTHER;
                p->flags = 0;
                p->state = S_TARGET0;
            } else if (classes[c] & C_TCHAR) {
                if (p->sub >= 3 || "GET"[p->sub] != (char)c)
                    p->flags &= ~F_GET;
                if (p->sub >= 4 || "HEAD"[p->sub] != (char)c)
                    p->flags &= ~F_HEAD;
                if (p->sub < 255)
                    p->sub++;
            } else {
                return HTTP_PARSE_BAD;
            }
            break;
        case S_TARGET0:
            /* Origin form, or an absolute form (RFC 9112 3.2.2), whose
             * path names the resource. */
            if (c == '/') {
                p->target = i;
                p->state = S_TARGET;
            } else if (lower(c) == 'h') {
                p->sub = 1;
                p->state = S_SCHEME;
            } else {
                return HTTP_PARSE_BAD;
            }
            break;
        case S_SCHEME: {
            const char *want = p->flags & F_HTTPS ? "https://" : "http://";
            if (p->sub == 4 && lower(c) == 's' && !(p->flags & F_HTTPS)) {
                p->flags |= F_HTTPS;
            } else if (lower(c) != (unsigned char)want[p->sub]) {
                return HTTP_PARSE_BAD;
            }
            if (++p->sub == strlen(want)) {
                p->sub = 0; /* now: bytes of the authority */
                p->state = S_AUTHORITY;
            }
            break;
        }
        case S_AUTHORITY:
            /* Not empty; userinfo ('@') is refused, as RFC 9110 4.2.4
             * tells a recipient to treat it as an error. */
            if (c == '/' || c == '?' || c == ' ') {
                if (p->sub == 0)
                    return HTTP_PARSE_BAD;
                p->target = i;
                if (c == ' ') { /* no path: "/" */
                    p->target_len = 0;
                    p->sub = 0;
                    p->state = S_VERSION;
                } else {
                    p->state = S_TARGET;
                }
            } else if (c == '@' || !(classes[c] & C_VCHAR)) {
                return HTTP_PARSE_BAD;
            } else {
                p->sub = 1;
            }
            break;
        case S_TARGET:
            while (i < limit && (classes[s[i]] & C_VCHAR))
                i++;
            if (i == limit)
                goto out;
            if (s[i] != ' ')
                return HTTP_PARSE_BAD;
            p->target_len = i - p->target;
            p->sub = 0;
            p->state = S_VERSION;
            break;
        case S_VERSION:
            /* HTTP/<digit>.<digit>, exactly; then the line ends. All eight
             * bytes at once when they are there. */
            if (p->sub == 0 && limit - i >= 8 &&
                memcmp(s + i, "HTTP/", 5) == 0 && s[i + 5] >= '0' &&
                s[i + 5] <= '9' && s[i + 6] == '.' && s[i + 7] >= '0' &&
                s[i + 7] <= '9') {
                p->major = s[i + 5] - '0';
                p->minor = s[i + 7] - '0';
                p->sub = 8;
                i += 7;
                break;
            }
            if (p->sub < 5) {
                if (c != (unsigned char)"HTTP/"[p->sub])
                    return HTTP_PARSE_BAD;
            } else if (p->sub == 5 || p->sub == 7) {
                if (c < '0' || c > '9')
                    return HTTP_PARSE_BAD;
                if (p->sub == 5)
                    p->major = c - '0';
                else
                    p->minor = c - '0';
            } else if (p->sub == 6) {
                if (c != '.')
                    return HTTP_PARSE_BAD;
            } else if (c == '\r') {
                p->state = S_LINE_CR;
                break;
            } else if (c == '\n') {
                if ((rc = end_request_line(p)) != HTTP_PARSE_MORE)
                    return rc;
                p->state = S_HEADER;
                break;
            } else {
                return HTTP_PARSE_BAD;
            }
            p->sub++;
            break;
        case S_LINE_CR:
            if (c != '\n')
                return HTTP_PARSE_BAD;
            if ((rc = end_request_line(p)) != HTTP_PARSE_MORE)
                return rc;
            p->state = S_HEADER;
            break;
        case S_HEADER:
            if (c == '\n')
                return end_head(p, buf, i, req);
            if (c == '\r') {
                p->state = S_END_CR;
            } else if (classes[c] & C_TCHAR) {
                /* Not a space: obs-fold is refused. */
                unsigned char l = lower(c);
                p->header = l == 'c'   ? H_CONNECTION
                            : l == 'h' ? H_HOST
                            : l == 't' ? H_TRANSFER_ENCODING
                                       : H_OTHER;
                p->sub = 1;
                p->state = S_NAME;
            } else {
                return HTTP_PARSE_BAD;
            }
            break;
        case S_END_CR:
            if (c != '\n')
                return HTTP_PARSE_BAD;
            return end_head(p, buf, i, req);
        case S_NAME:
            while (i < limit && (classes[s[i]] & C_TCHAR)) {
                if (p->header != H_OTHER) {
                    unsigned char l = lower(s[i]);
                    if (p->header == H_CONNECTION && p->sub == 3 && l == 't')
                        p->header = H_CONTENT_LENGTH;
                    if (p->sub >= header_lens[p->header] ||
                        l != (unsigned char)header_names[p->header][p->sub])
                        p->header = H_OTHER;
                }
                if (p->sub < 255)
                    p->sub++;
                i++;
            }
            if (i == limit)
                goto out;
            if (s[i] != ':')
                return HTTP_PARSE_BAD;
            if (p->header != H_OTHER && p->sub != header_lens[p->header])
                p->header = H_OTHER; /* a longer name that starts like one */
            p->flags &= F_LENGTH;
            p->value = 0;
            p->sub = 0;
            p->names = TOKEN_CLOSE | TOKEN_KEEP_ALIVE;
            p->state = S_OWS;
            break;
        case S_OWS:
            if (c == ' ' || c == '\t')
                break;
            p->state = S_VALUE;
            if ((rc = value_run(p, s, &i, limit)) != HTTP_PARSE_MORE)
                return rc;
            break;
        case S_VALUE:
            if ((rc = value_run(p, s, &i, limit)) != HTTP_PARSE_MORE)
                return rc;
            break;
        case S_VALUE_CR:
            if (c != '\n')
                return HTTP_PARSE_BAD;
            if ((rc = end_header(p)) != HTTP_PARSE_MORE)
                return rc;
            p->state = S_HEADER;
            break;
        }
    }
out:
    p->scanned = limit;
    return len >= p->max_head ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_MORE;
}

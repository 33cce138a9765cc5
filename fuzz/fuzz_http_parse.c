/* Fuzz target: the HTTP request-head parser (examples/http_parse.c).
 *
 * The first bytes of the input choose the head limit and up to eight split
 * points; the rest is the byte stream. The stream is parsed whole in one
 * call, and again as a server reads it: growing prefixes ending at the
 * split points, each parsed with the same parser state until a result other
 * than HTTP_PARSE_MORE. The two must agree exactly (result and every field
 * of the request), every pointer must lie inside the buffer, and a head
 * never claims more bytes than it was given or than the limit.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http_parse.h"

#define MAX_SPLITS 8

static void check_request(const struct http_request *q, const char *buf,
                          size_t len, size_t max_head)
{
    FUZZ_CHECK(q->head_len > 0 && q->head_len <= len);
    FUZZ_CHECK(q->head_len <= max_head);
    FUZZ_CHECK(q->target >= buf && q->target_len <= q->head_len);
    FUZZ_CHECK((size_t)(q->target - buf) + q->target_len <= q->head_len);
    FUZZ_CHECK(q->minor == 0 || q->minor == 1);
    FUZZ_CHECK(q->keep_alive == 0 || q->keep_alive == 1);
    FUZZ_CHECK(q->method == HTTP_METHOD_GET || q->method == HTTP_METHOD_HEAD ||
               q->method == HTTP_METHOD_OTHER);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    size_t max_head = 16 + fuzz_u16(&in) % 4096;
    uint8_t nsplit = fuzz_u8(&in) % (MAX_SPLITS + 1);
    uint16_t cut[MAX_SPLITS];
    for (int i = 0; i < nsplit; i++)
        cut[i] = fuzz_u16(&in);
    /* A copy, so that reading past the stream is an ASan error. */
    size_t len = in.len;
    char *buf = len ? (char *)malloc(len) : NULL;
    if (len && !buf)
        return 0;
    if (len)
        memcpy(buf, in.p, len);
    const char *b = buf ? buf : "";

    struct http_parser whole;
    struct http_request wq;
    memset(&wq, 0, sizeof wq);
    http_parser_init(&whole, max_head);
    enum http_parse_result wr = http_parse_request(&whole, b, len, &wq);
    FUZZ_CHECK(wr <= HTTP_PARSE_UNSUPPORTED);
    if (wr == HTTP_PARSE_DONE)
        check_request(&wq, b, len, max_head);

    /* The same stream in pieces: prefixes ending at sorted cut points. */
    size_t ends[MAX_SPLITS + 1];
    int nends = 0;
    for (int i = 0; i < nsplit; i++)
        if (len)
            ends[nends++] = cut[i] % len;
    for (int i = 1; i < nends; i++) /* insertion sort */
        for (int j = i; j > 0 && ends[j - 1] > ends[j]; j--) {
            size_t t = ends[j];
            ends[j] = ends[j - 1];
            ends[j - 1] = t;
        }
    ends[nends++] = len;
    struct http_parser inc;
    struct http_request iq;
    memset(&iq, 0, sizeof iq);
    http_parser_init(&inc, max_head);
    enum http_parse_result ir = HTTP_PARSE_MORE;
    for (int i = 0; i < nends && ir == HTTP_PARSE_MORE; i++) {
        if (i > 0 && ends[i] == ends[i - 1])
            continue;
        ir = http_parse_request(&inc, b, ends[i], &iq);
        if (ir == HTTP_PARSE_DONE)
            check_request(&iq, b, ends[i], max_head);
    }
    FUZZ_CHECK(ir == wr);
    if (wr == HTTP_PARSE_DONE) {
        FUZZ_CHECK(iq.method == wq.method);
        FUZZ_CHECK(iq.target == wq.target);
        FUZZ_CHECK(iq.target_len == wq.target_len);
        FUZZ_CHECK(iq.minor == wq.minor);
        FUZZ_CHECK(iq.keep_alive == wq.keep_alive);
        FUZZ_CHECK(iq.content_length == wq.content_length);
        FUZZ_CHECK(iq.head_len == wq.head_len);
    }
    free(buf);
    return 0;
}

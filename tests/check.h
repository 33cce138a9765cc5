/* Test assertions: on failure print where, what, and both values, then exit
 * with status 1 (a CTest failure). Exit 77 is a skip. */
#ifndef RT_TESTS_CHECK_H
#define RT_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                             \
    do {                                                                     \
        if (!(x)) {                                                          \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                    #x);                                                     \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_OP_(a, op, b)                                                  \
    do {                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                \
        if (!(va_ op vb_)) {                                                 \
            fprintf(stderr, "%s:%d: CHECK(%s %s %s) failed: %lld vs %lld\n", \
                    __FILE__, __LINE__, #a, #op, #b, va_, vb_);              \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_EQ(a, b) CHECK_OP_(a, ==, b)
#define CHECK_NE(a, b) CHECK_OP_(a, !=, b)
#define CHECK_LT(a, b) CHECK_OP_(a, <, b)
#define CHECK_LE(a, b) CHECK_OP_(a, <=, b)
#define CHECK_GT(a, b) CHECK_OP_(a, >, b)
#define CHECK_GE(a, b) CHECK_OP_(a, >=, b)

/* rc is 0/positive or a negative errno. */
#define CHECK_OK(rc)                                                           \
    do {                                                                       \
        long long rc_ = (long long)(rc);                                       \
        if (rc_ < 0) {                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #rc, \
                    strerror((int)-rc_));                                      \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* Whether a test's rt_run has one worker: RT_WORKERS unset or 1 (the mt
 * label reruns the portable suite with RT_WORKERS=2). */
static inline int one_worker(void)
{
    const char *w = getenv("RT_WORKERS");
    return !w || strcmp(w, "1") == 0;
}

#define SKIP(why)                              \
    do {                                       \
        fprintf(stderr, "skipped: %s\n", why); \
        exit(77);                              \
    } while (0)

#endif

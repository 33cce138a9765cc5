/* A waker for tests that counts what is done to it. The waker handed out by
 * tw_waker is the test's own (borrowed, not counted); every clone adds one
 * to `live`, every wake or drop of a clone takes one away, so a test that
 * ends with live == 0 leaked no waker. Atomic, so other threads may wake. */
#ifndef RT_TESTS_TESTWAKER_H
#define RT_TESTS_TESTWAKER_H

#include <stdatomic.h>

#include <greenfut/waker.h>

struct tw {
    atomic_int wakes; /* wake + wake_by_ref */
    atomic_int clones;
    atomic_int drops;
    atomic_int live; /* clones not yet consumed */
};

/* Zeroes the counters and returns the test's waker for them. */
struct rt_waker tw_init(struct tw *t);

#endif

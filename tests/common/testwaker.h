/* A waker for tests that counts what is done to it. The waker handed out by
 * tw_waker is the test's own (borrowed, not counted); every clone adds one
 * to `live`, every wake or drop of a clone takes one away, so a test that
 * ends with live == 0 leaked no waker. Atomic, so other threads may wake. */
#ifndef RT_TESTS_TESTWAKER_H
#define RT_TESTS_TESTWAKER_H

#include <pthread.h>
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

/* A test waker that a thread can block on, for tests that drive poll
 * functions from several threads: counted as struct tw's (in `counts`),
 * and a wake or wake_by_ref of it or of any clone sets `set` and signals,
 * so a thread whose poll returned RT_PENDING waits with tw_park_wait
 * until it may poll again (no sleeping). Keep it alive until every thread
 * that could still wake it has been joined: a wake may come late. */
struct tw_park {
    struct tw counts;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int set; /* lock's: woken since the last tw_park_wait returned */
};

/* Initialises `p` (counters zero, not set) and returns the test's waker
 * for it (borrowed, not counted). End it with tw_park_fini. */
struct rt_waker tw_park_init(struct tw_park *p);

/* Blocks until `p` has been woken since the last call returned, then
 * clears that. */
void tw_park_wait(struct tw_park *p);

/* Destroys `p`'s mutex and condition. */
void tw_park_fini(struct tw_park *p);

#endif

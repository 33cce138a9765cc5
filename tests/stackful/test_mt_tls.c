/* The thread-local hazard of green threads on several workers, shown.
 *
 * Each worker's OS thread gets its own value in hz_slot (worker k: k + 1).
 * A green thread then runs hz_keep (mt_tls_hazard.c, built at -O2 -fPIC),
 * which reads hz_slot, calls a function that moves the thread to the other
 * worker, and reads hz_slot again. With the address kept in a register
 * across the call, the second read returns the old OS thread's value: the
 * green thread reads (and could write) another thread's variable. Checked
 * every time: after the move, gt_worker() (the runtime's accessor, which
 * reads the thread pointer anew) and hz_fresh() (a fresh read) give the new
 * worker, and a pinned thread, woken from the other worker, stays on its OS
 * thread and reads its own value.
 *
 * Whether hz_keep shows the stale value depends on the compiler's choice,
 * which no standard fixes: GCC 12 on x86-64 keeps the address (the test
 * prints "reproduced"); a compiler that computes it anew after the call
 * shows the new value, and the test says "not reproduced" and passes, since
 * the point is then only that nothing promises the re-read. So the hazard is
 * asserted where it is known to appear (GCC on x86-64, no sanitizer, whose
 * instrumentation changes the code), and printed elsewhere. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"
#include "mt_tls_hazard.h"
#include "mtutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !SANITIZED
#define HAZARD_EXPECTED 1
#else
#define HAZARD_EXPECTED 0
#endif

static void move_call(void *arg)
{
    move_to(*(int *)arg);
}

/* A pinned thread cannot be moved: it asks the other worker's agent for a
 * wake, which still brings it back to its own worker. */
static void hop_call(void *arg)
{
    agent_hop(*(int *)arg);
}

static void *root(void *arg)
{
    (void)arg;
    agents_start();
    for (int k = 0; k < MT_WORKERS; k++) {
        move_to(k);
        hz_set(k + 1);
    }
    int stale = 0;
    enum { ROUNDS = 8 };
    for (int r = 0; r < ROUNDS; r++) {
        int from = gt_worker();
        int to = 1 - from;
        int64_t me = gt_self();
        pthread_t t0 = pthread_self();
        int before = 0, after = 0;
        hz_keep(move_call, &to, &before, &after);
        CHECK(!pthread_equal(t0, pthread_self()));
        CHECK_EQ(before, from + 1);
        CHECK_EQ(gt_worker(), to);    /* the runtime's accessor */
        CHECK_EQ(gt_self(), me);      /* its current thread, too */
        CHECK_EQ(hz_fresh(), to + 1); /* a fresh read */
        CHECK(after == from + 1 || after == to + 1);
        stale += after == from + 1;
        if (r == 0)
            printf("moved from worker %d to %d: hz_keep read %d before and "
                   "%d after the move; gt_worker() says %d, a fresh read "
                   "%d\n",
                   from, to, before, after, gt_worker(), hz_fresh());
    }
    printf("hazard %s: %d of %d moves read the old OS thread's variable\n",
           stale ? "reproduced" : "not reproduced with this compiler", stale,
           ROUNDS);
    if (HAZARD_EXPECTED)
        CHECK_EQ(stale, ROUNDS);

    /* Pinned: woken from the other worker, it stays. */
    CHECK_OK(gt_pin());
    int mine = gt_worker();
    int other = 1 - mine;
    pthread_t t0 = pthread_self();
    for (int r = 0; r < ROUNDS; r++) {
        int before = 0, after = 0;
        hz_keep(hop_call, &other, &before, &after);
        CHECK(pthread_equal(t0, pthread_self()));
        CHECK_EQ(gt_worker(), mine);
        CHECK_EQ(before, mine + 1);
        CHECK_EQ(after, mine + 1);
    }
    printf("pinned to worker %d: %d wakes from worker %d, every read %d\n",
           mine, ROUNDS, other, mine + 1);
    agents_stop();
    return NULL;
}

int main(void)
{
    struct gt_config cfg = {.pool_max = 64, .workers = MT_WORKERS};
    CHECK_OK(gt_run(&cfg, root, NULL, NULL));
    return 0;
}

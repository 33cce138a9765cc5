/* Two workers: a green thread really moves between OS threads. It parks
 * 48 calls deep on one worker and is woken from the other, so it resumes
 * on the other worker's OS thread, with every frame's locals intact; then
 * back, many times. And stealing: threads spawned on one worker are
 * observed running on both, and every thread ran to its end once. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "mtutil.h"

#define DEPTH 48
#define HOPS  20

static unsigned hops_done, os_changes;

/* Each frame holds a pattern of its own; after the move at the bottom,
 * every frame checks its pattern on the way up. */
static unsigned long deep(int depth, int target, pthread_t *before,
                          pthread_t *after)
{
    volatile unsigned long local[8];
    for (int i = 0; i < 8; i++)
        local[i] = (unsigned long)depth * 1000003u + (unsigned long)i;
    unsigned long below = 0;
    if (depth < DEPTH) {
        below = deep(depth + 1, target, before, after);
    } else {
        *before = pthread_self();
        move_to(target);
        *after = pthread_self();
    }
    unsigned long sum = below;
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(local[i], (unsigned long)depth * 1000003u + (unsigned long)i);
        sum += local[i];
    }
    return sum;
}

static unsigned long expected_sum(void)
{
    unsigned long sum = 0;
    for (int d = 0; d <= DEPTH; d++)
        for (int i = 0; i < 8; i++)
            sum += (unsigned long)d * 1000003u + (unsigned long)i;
    return sum;
}

static void *traveller(void *arg)
{
    (void)arg;
    for (int h = 0; h < HOPS; h++) {
        int from = gt_worker();
        int to = 1 - from;
        pthread_t before, after;
        CHECK_EQ(deep(0, to, &before, &after), expected_sum());
        CHECK_EQ(gt_worker(), to);
        CHECK(!pthread_equal(before, after)); /* another OS thread */
        os_changes++;
        hops_done++;
    }
    return (void *)(uintptr_t)0x5eed;
}

/* Stealing: yielders spawned by one thread, the worker of every turn
 * recorded. */
#define YIELDERS 32
#define TURNS    200
static atomic_uint seen_mask[YIELDERS];
static atomic_uint finished;

/* Yields TURNS times, and on until some yielder has run on each worker:
 * the other worker gets yielders only by stealing them (they are all
 * spawned by one thread, onto its own worker's queue), so without stealing
 * this never ends and the test times out. How soon the idle worker steals
 * is the OS's business, so no count of turns is asserted. */
static atomic_uint seen_all;

static void *yielder(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    for (int t = 0; t < TURNS || atomic_load(&seen_all) != 3u; t++) {
        int k = gt_worker();
        CHECK(k >= 0 && k < MT_WORKERS);
        atomic_fetch_or(&seen_mask[i], 1u << k);
        atomic_fetch_or(&seen_all, 1u << k);
        gt_yield();
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    agents_start();
    int64_t id = gt_spawn(traveller, NULL, NULL);
    CHECK_GT(id, 0);
    void *res = NULL;
    CHECK_OK(gt_join(id, &res));
    CHECK_EQ((uintptr_t)res, 0x5eed);
    CHECK_EQ(hops_done, HOPS);

    int64_t ids[YIELDERS];
    for (unsigned i = 0; i < YIELDERS; i++) {
        ids[i] = gt_spawn(yielder, (void *)(uintptr_t)i, NULL);
        CHECK_GT(ids[i], 0);
    }
    for (unsigned i = 0; i < YIELDERS; i++)
        CHECK_OK(gt_join(ids[i], NULL));
    CHECK_EQ(atomic_load(&finished), YIELDERS);
    unsigned all = 0, moved = 0;
    for (unsigned i = 0; i < YIELDERS; i++) {
        unsigned m = atomic_load(&seen_mask[i]);
        all |= m;
        moved += m == 3u;
    }
    printf("migrations with a 48-deep stack: %u; yielders seen on both "
           "workers: %u of %u\n",
           os_changes, moved, YIELDERS);
    CHECK_EQ(all, 3u); /* work was stolen: both workers ran yielders */
    agents_stop();
    return NULL;
}

int main(void)
{
    struct gt_config cfg = {.pool_max = 64, .workers = MT_WORKERS};
    CHECK_OK(gt_run(&cfg, root, NULL, NULL));
    return 0;
}

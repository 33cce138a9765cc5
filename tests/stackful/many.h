/* Shared body of the 1e5 and 1e6 tests: N green threads spawned, all parked
 * at once, then all woken and joined; RSS (/proc/self/statm) is read before,
 * while parked and after. */
#ifndef RT_TESTS_STACKFUL_MANY_H
#define RT_TESTS_STACKFUL_MANY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/gt.h>

static size_t many_n;
static struct rt_waker *many_wakers;
static int64_t *many_ids;
static int many_open;

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    CHECK(f != NULL);
    unsigned long size = 0, res = 0;
    CHECK_EQ(fscanf(f, "%lu %lu", &size, &res), 2);
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static void *parker(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    many_wakers[i] = rt_waker_clone(gt_waker());
    while (!many_open)
        gt_park("gate");
    return (void *)(uintptr_t)(i + 1);
}

static void *many_root(void *arg)
{
    (void)arg;
    size_t before = rss_bytes();
    for (size_t i = 0; i < many_n; i++) {
        many_ids[i] = gt_spawn(parker, (void *)(uintptr_t)i, NULL);
        CHECK_GT(many_ids[i], 0);
    }
    gt_yield(); /* every parker runs once and parks */
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.threads_parked, many_n);
    CHECK_EQ(st.threads_live, many_n + 1);
    CHECK_EQ(st.stacks_guarded + st.stacks_slab, many_n + 1);
    size_t parked = rss_bytes();
    fprintf(stderr,
            "%zu parked: %zu bytes/thread (RSS delta), %zu guarded + %zu in "
            "%zu slabs, touched %zu bytes\n",
            many_n, (parked - before) / many_n, st.stacks_guarded,
            st.stacks_slab, st.slabs, st.stack_bytes_touched);
#if !defined(__SANITIZE_ADDRESS__)
    CHECK_LT((parked - before) / many_n, 8500);
#endif
    many_open = 1;
    for (size_t i = 0; i < many_n; i++)
        rt_waker_wake(&many_wakers[i]);
    for (size_t i = 0; i < many_n; i++) {
        void *res = NULL;
        CHECK_OK(gt_join(many_ids[i], &res));
        CHECK_EQ((uintptr_t)res, i + 1);
    }
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.threads_live, 1);
    CHECK_EQ(st.stacks_guarded + st.stacks_slab, 1 + st.stacks_pooled);
    /* While the scheduler has work the pool keeps the burst's stacks for
     * the next burst; once it blocks for lack of work it gives back all
     * but pool_max (64). A sleep is that moment: the root is the only
     * thread, so the scheduler blocks in the reactor until the timer. */
    CHECK_EQ(st.stacks_pooled, many_n);
    CHECK_OK(gt_sleep(1000000));
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.stacks_pooled, 64);
    CHECK_EQ(st.stacks_guarded + st.stacks_slab, 1 + st.stacks_pooled);
    size_t after = rss_bytes();
    fprintf(stderr,
            "after join and an idle moment: RSS %zu KiB above the "
            "start\n",
            after > before ? (after - before) / 1024 : 0);
    /* Left over: the pool (64 stacks), the id table and this test's own
     * arrays (about 56 bytes per thread together). */
#if !defined(__SANITIZE_ADDRESS__)
    CHECK_LT(after, before + 8u * 1024u * 1024u + many_n * 64u);
#endif
    return NULL;
}

static int many_main(size_t n)
{
    many_n = n;
    many_wakers = calloc(n, sizeof(*many_wakers));
    many_ids = calloc(n, sizeof(*many_ids));
    CHECK(many_wakers && many_ids);
    CHECK_OK(gt_run(NULL, many_root, NULL, NULL));
    free(many_wakers);
    free(many_ids);
    return 0;
}

#endif

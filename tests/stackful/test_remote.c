/* Cross-thread wake: a pthread wakes a parked green thread 100,000 times in
 * lock step; both sides count every round. The wait is covered by a reactor
 * hold so the scheduler knows a wake can still come.
 *
 * Then references across threads: a pthread clones and drops a finished
 * thread's waker many times, keeps one clone, and the owner drops the
 * original. The block must live on (the clone is a reference the owner has
 * not seen yet) and be freed only after the pthread drops the clone. Last,
 * a clone made on a pthread comes back and is dropped by the owner, before
 * and after the original. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <greenfut/gt.h>

static unsigned rounds = 100000;
static atomic_uint turn; /* round the green thread waits in */
static atomic_uint done; /* rounds the pthread has finished */
static struct rt_waker waker;
static unsigned woken_by_pthread;

static void *pthread_main(void *arg)
{
    (void)arg;
    for (unsigned i = 1; i <= rounds; i++) {
        while (atomic_load(&turn) != i)
            sched_yield();
        atomic_store(&done, i);
        rt_waker_wake_by_ref(&waker);
        woken_by_pthread++;
    }
    return NULL;
}

static void *counter(void *arg)
{
    (void)arg;
    unsigned seen = 0;
    for (unsigned i = 1; i <= rounds; i++) {
        atomic_store(&turn, i);
        while (atomic_load(&done) < i)
            gt_park("pthread");
        seen++;
    }
    return (void *)(uintptr_t)seen;
}

static int64_t counter_id;

static void *grab_waker(void *arg)
{
    (void)arg;
    waker = rt_waker_clone(gt_waker());
    return counter(NULL);
}

#define CHURN 10000

static struct rt_waker w_orig, w_kept, w_main;
static atomic_int step;

static void *holder(void *arg)
{
    (void)arg;
    w_orig = rt_waker_clone(gt_waker());
    return NULL;
}

static void *clone_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < CHURN; i++) {
        struct rt_waker c = rt_waker_clone(&w_orig);
        rt_waker_drop(&c);
    }
    w_kept = rt_waker_clone(&w_orig);
    atomic_store(&step, 1);
    while (atomic_load(&step) != 2)
        sched_yield();
    rt_waker_drop(&w_kept); /* the last reference */
    rt_waker_wake(&w_main); /* queued after the drop: runs after it */
    return NULL;
}

/* Freed stacks kept for reuse: a thread's block goes there when freed. */
static size_t pooled(void)
{
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    return st.stacks_pooled;
}

static void cross_thread_refs(void)
{
    int64_t id = gt_spawn(holder, NULL, NULL);
    CHECK_GT(id, 0);
    CHECK_OK(gt_join(id, NULL));
    size_t pool = pooled(); /* the holder's block is kept by w_orig */
    rt_reactor_hold(gt_reactor());
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, clone_thread, NULL), 0);
    while (atomic_load(&step) != 1)
        sched_yield(); /* the pthread needs nothing from this scheduler */
    rt_waker_drop(&w_orig);
    CHECK_EQ(pooled(), pool); /* w_kept still refers to it */
    w_main = rt_waker_clone(gt_waker());
    atomic_store(&step, 2);
    gt_park("the pthread's last drop");
    CHECK_EQ(pooled(), pool + 1); /* freed, on this thread */
    CHECK_EQ(pthread_join(th, NULL), 0);
    rt_reactor_release(gt_reactor());
}

static struct rt_waker w_self, w_back;

static void *clone_back(void *arg)
{
    (void)arg;
    w_back = rt_waker_clone(&w_self);
    return NULL;
}

/* Clones its own waker, has a pthread clone that, and drops both. */
static void *clone_owner(void *arg)
{
    int clone_first = (int)(intptr_t)arg;
    w_self = rt_waker_clone(gt_waker());
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, clone_back, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    rt_waker_drop(clone_first ? &w_back : &w_self);
    rt_waker_drop(clone_first ? &w_self : &w_back);
    return NULL;
}

/* A foreign-made clone dropped by the owner: counted once, freed once. */
static void clone_dropped_by_owner(int clone_first)
{
    int64_t id = gt_spawn(clone_owner, (void *)(intptr_t)clone_first, NULL);
    CHECK_GT(id, 0);
    gt_yield(); /* it runs to its end */
    size_t pool = pooled();
    CHECK_OK(gt_join(id, NULL));
    CHECK_EQ(pooled(), pool + 1); /* freed at the join, not before */
}

static void *main_green(void *arg)
{
    (void)arg;
    pthread_t th;
    rt_reactor_hold(gt_reactor());
    counter_id = gt_spawn(grab_waker, NULL, NULL);
    CHECK_GT(counter_id, 0);
    CHECK_EQ(pthread_create(&th, NULL, pthread_main, NULL), 0);
    void *seen = NULL;
    CHECK_OK(gt_join(counter_id, &seen));
    CHECK_EQ(pthread_join(th, NULL), 0);
    rt_reactor_release(gt_reactor());
    rt_waker_drop(&waker);
    CHECK_EQ((uintptr_t)seen, rounds);
    CHECK_EQ(woken_by_pthread, rounds);
    cross_thread_refs();
    clone_dropped_by_owner(1);
    clone_dropped_by_owner(0);
    return NULL;
}

int main(void)
{
    const char *small = getenv("GT_TEST_SMALL");
    if (small && strcmp(small, "1") == 0)
        rounds = 2000;
    CHECK_OK(gt_run(NULL, main_green, NULL, NULL));
    return 0;
}

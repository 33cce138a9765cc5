/* Wakes from threads outside the scheduler, with two workers: each of four
 * green threads waits in lock step for its own pthread's wake, ROUNDS
 * times; the wakes go to the inject queue and an idle worker takes them.
 * The waits are covered by a reactor hold. Then references across
 * threads: a pthread clones and drops a finished thread's waker, and its
 * drop of the last reference frees the block (on the pthread). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mtutil.h"

#define PAIRS 4

static unsigned rounds = 20000;

struct pair {
    atomic_uint turn; /* round the green thread waits in */
    atomic_uint done; /* rounds the pthread has finished */
    struct rt_waker waker;
    atomic_int have_waker;
    unsigned seen;
    atomic_uint workers; /* bit k: resumed on worker k */
};

static struct pair pairs[PAIRS];

static void *pthread_main(void *arg)
{
    struct pair *p = arg;
    while (!atomic_load(&p->have_waker))
        sched_yield();
    for (unsigned i = 1; i <= rounds; i++) {
        while (atomic_load(&p->turn) != i)
            sched_yield();
        atomic_store(&p->done, i);
        rt_waker_wake_by_ref(&p->waker);
    }
    return NULL;
}

static void *counter(void *arg)
{
    struct pair *p = arg;
    p->waker = rt_waker_clone(gt_waker());
    atomic_store(&p->have_waker, 1);
    for (unsigned i = 1; i <= rounds; i++) {
        atomic_store(&p->turn, i);
        while (atomic_load(&p->done) < i)
            gt_park("pthread");
        atomic_fetch_or(&p->workers, 1u << gt_worker());
        p->seen++;
    }
    return NULL;
}

static struct rt_waker w_orig;
static atomic_int step;

static void *holder(void *arg)
{
    (void)arg;
    w_orig = rt_waker_clone(gt_waker());
    return NULL;
}

static void *dropper(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        struct rt_waker c = rt_waker_clone(&w_orig);
        rt_waker_drop(&c);
    }
    atomic_store(&step, 1);
    rt_waker_drop(&w_orig); /* the last reference: freed here */
    return NULL;
}

static size_t pooled(void)
{
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    return st.stacks_pooled;
}

static void *root(void *arg)
{
    (void)arg;
    rt_reactor_hold(gt_reactor());
    pthread_t th[PAIRS];
    int64_t ids[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        CHECK_GT(ids[i] = gt_spawn(counter, &pairs[i], NULL), 0);
        CHECK_EQ(pthread_create(&th[i], NULL, pthread_main, &pairs[i]), 0);
    }
    unsigned all = 0;
    for (int i = 0; i < PAIRS; i++) {
        CHECK_OK(gt_join(ids[i], NULL));
        CHECK_EQ(pthread_join(th[i], NULL), 0);
        rt_waker_drop(&pairs[i].waker);
        CHECK_EQ(pairs[i].seen, rounds);
        all |= atomic_load(&pairs[i].workers);
    }
    printf("workers that took foreign wakes: mask %u\n", all);
    CHECK_NE(all, 0u);

    int64_t id = gt_spawn(holder, NULL, NULL);
    CHECK_GT(id, 0);
    CHECK_OK(gt_join(id, NULL));
    size_t pool = pooled(); /* w_orig keeps the holder's block */
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, dropper, NULL), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(pooled(), pool + 1); /* freed by the pthread's drop */
    rt_reactor_release(gt_reactor());
    return NULL;
}

int main(void)
{
    const char *small = getenv("GT_TEST_SMALL");
    if (small && strcmp(small, "1") == 0)
        rounds = 500;
    struct gt_config cfg = {.pool_max = 64, .workers = MT_WORKERS};
    CHECK_OK(gt_run(&cfg, root, NULL, NULL));
    return 0;
}

/* Cross-thread wake: a pthread wakes a parked green thread 100,000 times in
 * lock step; both sides count every round. The wait is covered by a reactor
 * hold so the scheduler knows a wake can still come. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gt.h"

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

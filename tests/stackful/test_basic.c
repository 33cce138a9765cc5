/* Spawn/join with results, round-robin yield order, sleep order, and the
 * documented errors for bad input. */
#include <errno.h>
#include <string.h>
#include <stdint.h>

#include "check.h"
#include <greenfut/clock.h>
#include <greenfut/gt.h>

static void *times_two(void *arg)
{
    return (void *)((intptr_t)arg * 2);
}

static void *yield_then_return(void *arg)
{
    gt_yield();
    return arg;
}

/* Round robin: each of the threads appends its index once per turn. */
#define RR_THREADS 4
#define RR_ROUNDS  5
static int rr_log[RR_THREADS * RR_ROUNDS];
static int rr_len;

static void *rr_worker(void *arg)
{
    for (int i = 0; i < RR_ROUNDS; i++) {
        rr_log[rr_len++] = (int)(intptr_t)arg;
        gt_yield();
    }
    return NULL;
}

static int sleep_log[3];
static int sleep_len;

/* Sleepers sleep k units of `unit_ns`; each notes when it started, so that
 * a start delayed by more than one unit (a slow, instrumented machine) is
 * seen and the check repeated with longer units instead of failing. */
static uint64_t unit_ns = 10000000u;
static uint64_t first_start, last_start;

static void *sleeper(void *arg)
{
    int k = (int)(intptr_t)arg;
    uint64_t now = rt_now_ns();
    if (!first_start || now < first_start)
        first_start = now;
    if (now > last_start)
        last_start = now;
    CHECK_OK(gt_sleep((uint64_t)k * unit_ns));
    sleep_log[sleep_len++] = k;
    return NULL;
}

/* Checks it got an intact copy that lives on its own stack. */
static void *check_copy(void *arg)
{
    char *copy = arg;
    CHECK(strcmp(copy, "copied onto the stack") == 0);
    int local;
    CHECK_LT((char *)&local, copy); /* below the copy: same stack */
    CHECK_LT(copy - (char *)&local, 4096);
    return copy;
}

/* Uses about 8 KiB of stack below its block, then returns. */
static void *deep_frames(void *arg)
{
    (void)arg;
    volatile char buf[8192];
    for (size_t i = 0; i < sizeof(buf); i += 64)
        buf[i] = (char)i;
    return (void *)(intptr_t)buf[64];
}

/* Checks a big argument copy, which lies where deep_frames' frames were
 * when the stack is the pooled one it left (under valgrind: no invalid
 * write, the reused stack is addressable again). */
static void *check_big_copy(void *arg)
{
    const unsigned char *copy = arg;
    for (size_t i = 0; i < 6000; i++)
        CHECK_EQ(copy[i], (unsigned char)(i * 7));
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    CHECK_EQ(gt_self(), 1);

    /* Results come back through join. */
    int64_t ids[10];
    for (int i = 0; i < 10; i++) {
        ids[i] = gt_spawn(times_two, (void *)(intptr_t)i, NULL);
        CHECK_GT(ids[i], 0);
    }
    for (int i = 9; i >= 0; i--) {
        void *res = NULL;
        CHECK_OK(gt_join(ids[i], &res));
        CHECK_EQ((intptr_t)res, 2 * i);
    }
    /* Joining a thread that is still running parks until it ends. */
    int64_t y = gt_spawn(yield_then_return, (void *)(intptr_t)7,
                         &(struct gt_opts){.name = "yielder"});
    void *res = NULL;
    CHECK_OK(gt_join(y, &res));
    CHECK_EQ((intptr_t)res, 7);

    /* Round robin over 4 threads (the root waits in join meanwhile). */
    int64_t rr[RR_THREADS];
    for (int i = 0; i < RR_THREADS; i++)
        rr[i] = gt_spawn(rr_worker, (void *)(intptr_t)i, NULL);
    for (int i = 0; i < RR_THREADS; i++)
        CHECK_OK(gt_join(rr[i], NULL));
    CHECK_EQ(rr_len, RR_THREADS * RR_ROUNDS);
    for (int i = 0; i < rr_len; i++)
        CHECK_EQ(rr_log[i], i % RR_THREADS);

    /* Sleeps end in deadline order, whatever the spawn order. */
    for (;;) {
        sleep_len = 0;
        first_start = last_start = 0;
        int64_t s3 = gt_spawn(sleeper, (void *)(intptr_t)3, NULL);
        int64_t s1 = gt_spawn(sleeper, (void *)(intptr_t)1, NULL);
        int64_t s2 = gt_spawn(sleeper, (void *)(intptr_t)2, NULL);
        CHECK_OK(gt_join(s3, NULL));
        CHECK_OK(gt_join(s1, NULL));
        CHECK_OK(gt_join(s2, NULL));
        if (last_start - first_start < unit_ns || unit_ns >= 4000000000u)
            break;
        unit_ns *= 4; /* the starts were too far apart to judge the order */
    }
    CHECK_LT(last_start - first_start, unit_ns);
    CHECK_EQ(sleep_len, 3);
    CHECK_EQ(sleep_log[0], 1);
    CHECK_EQ(sleep_log[1], 2);
    CHECK_EQ(sleep_log[2], 3);

    /* arg_size: the thread gets its own copy, on its own stack. */
    char msg[32] = "copied onto the stack";
    int64_t c = gt_spawn(check_copy, msg, &(struct gt_opts){.arg_size = 32});
    CHECK_GT(c, 0);
    memset(msg, 'x', sizeof msg); /* after spawn: the copy is unaffected */
    void *where = NULL;
    CHECK_OK(gt_join(c, &where));
    CHECK(where != (void *)msg);

    /* Bad input. */
    CHECK_EQ(gt_spawn(NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(gt_spawn(check_copy, NULL, &(struct gt_opts){.arg_size = 8}),
             -EINVAL);
    CHECK_EQ(gt_spawn(check_copy, msg,
                      &(struct gt_opts){.arg_size = GT_STACK_DEFAULT}),
             -EINVAL);
    CHECK_EQ(gt_spawn(times_two, NULL,
                      &(struct gt_opts){.stack_size = GT_STACK_MIN - 1}),
             -EINVAL);
    CHECK_EQ(
        gt_spawn(times_two, NULL, &(struct gt_opts){.stack_size = SIZE_MAX}),
        -ENOMEM);
    int64_t once = gt_spawn(times_two, NULL, NULL);
    CHECK_OK(gt_join(once, NULL));
    CHECK_EQ(gt_join(once, NULL), -ESRCH);
    CHECK_EQ(gt_join(12345, NULL), -ESRCH);
    CHECK_EQ(gt_join(gt_self(), NULL), -EDEADLK);
    CHECK_EQ(gt_stack_used(once), -ESRCH);

    /* A pooled stack reused with a bigger argument copy. */
    static unsigned char big[6000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (unsigned char)(i * 7);
    int64_t deep = gt_spawn(deep_frames, NULL, NULL);
    CHECK_OK(gt_join(deep, NULL));
    int64_t copy = gt_spawn(check_big_copy, big,
                            &(struct gt_opts){.arg_size = sizeof(big)});
    CHECK_GT(copy, 0);
    CHECK_OK(gt_join(copy, NULL));
    return (void *)(intptr_t)42;
}

static void *nested_run(void *arg)
{
    (void)arg;
    CHECK_EQ(gt_run(NULL, times_two, NULL, NULL), -EBUSY);
    return NULL;
}

int main(void)
{
    /* Outside a scheduler. */
    CHECK_EQ(gt_spawn(times_two, NULL, NULL), -EPERM);
    CHECK_EQ(gt_join(1, NULL), -EPERM);
    CHECK_EQ(gt_self(), 0);
    CHECK(gt_reactor() == NULL);
    CHECK(gt_waker() == NULL);
    gt_yield();
    gt_park("nothing");
    CHECK_EQ(gt_run(NULL, NULL, NULL, NULL), -EINVAL);

    void *res = NULL;
    CHECK_OK(gt_run(NULL, root, NULL, &res));
    CHECK_EQ((intptr_t)res, 42);
    CHECK_OK(gt_run(NULL, nested_run, NULL, NULL));
    /* A scheduler can run again on the same OS thread. */
    CHECK_OK(gt_run(NULL, times_two, (void *)(intptr_t)5, &res));
    CHECK_EQ((intptr_t)res, 10);
    return 0;
}

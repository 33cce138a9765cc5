/* Copy stacks: threads that share their worker's run stack keep their
 * frames intact across parks at any depth, interleaved with threads that
 * own a stack; yields, joins, channels and sleeps; a large used stack; an
 * overflow of the run stack (in a child: the report names the thread); two
 * workers, each copy-stack thread pinned where it first ran; the modes
 * chosen per spawn, per scheduler and by RT_STACK_MODE. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "child.h"
#include <greenfut/chan.h>
#include <greenfut/gt.h>

static const struct gt_opts copy_opts = {.stack_mode = GT_STACK_MODE_COPY};
static const struct gt_opts own_opts = {.stack_mode = GT_STACK_MODE_OWN};

/* Fills a local array with a pattern of (seed, depth), recurses, yields
 * `yields` times at the bottom, and checks every level's array after. */
__attribute__((noinline)) static unsigned long
fill_and_yield(unsigned seed, int depth, int yields)
{
    volatile unsigned char buf[200];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(seed * 31u + (unsigned)depth * 7u + i);
    unsigned long sum = 0;
    if (depth > 0) {
        sum = fill_and_yield(seed, depth - 1, yields);
    } else {
        for (int i = 0; i < yields; i++)
            gt_yield();
    }
    for (size_t i = 0; i < sizeof(buf); i++) {
        CHECK_EQ(buf[i],
                 (unsigned char)(seed * 31u + (unsigned)depth * 7u + i));
        sum += buf[i];
    }
    return sum;
}

struct job {
    unsigned seed;
    int depth, yields;
    bool copy; /* a copy-stack thread: it must stay on its worker */
};

static void *run_job(void *arg)
{
    const struct job *j = arg; /* the spawn's copy: never on the stack */
    return (void *)(uintptr_t)fill_and_yield(j->seed, j->depth, j->yields);
}

static unsigned long expect_sum(unsigned seed, int depth)
{
    unsigned long sum = 0;
    for (int d = 0; d <= depth; d++)
        for (size_t i = 0; i < 200; i++)
            sum += (unsigned char)(seed * 31u + (unsigned)d * 7u + i);
    return sum;
}

/* 64 threads, every other one a copy-stack thread, at depths 0..15, all
 * yielding in turn: each copy-stack switch saves one thread's frames and
 * restores another's. */
static void *interleaved(void *arg)
{
    (void)arg;
    enum { N = 64 };
    int64_t ids[N];
    struct gt_stats before, after;
    for (int i = 0; i < N; i++) {
        if (i == 1) /* after the first copy-stack spawn made the run stacks */
            CHECK_OK(gt_stats(&before));
        struct job j = {.seed = (unsigned)i, .depth = i % 16, .yields = 20};
        struct gt_opts o = i % 2 ? own_opts : copy_opts;
        o.arg_size = sizeof(j);
        ids[i] = gt_spawn(run_job, &j, &o);
        CHECK_GT(ids[i], 0);
    }
    CHECK_OK(gt_stats(&after));
    /* Only the threads with a stack of their own took one. */
    CHECK_EQ(after.stacks_guarded + after.stacks_slab,
             before.stacks_guarded + before.stacks_slab + N / 2);
    for (int i = 0; i < N; i++) {
        void *res = NULL;
        CHECK_OK(gt_join(ids[i], &res));
        CHECK_EQ((uintptr_t)res, expect_sum((unsigned)i, i % 16));
    }
    return NULL;
}

/* Two copy-stack threads run the same function on the same run stack:
 * their locals have the same address, so the bytes must have moved. */
static volatile uintptr_t addr[2];

static void *where(void *arg)
{
    volatile int local = (int)(intptr_t)arg;
    addr[(intptr_t)arg] = (uintptr_t)&local;
    gt_yield();
    CHECK_EQ(local, (int)(intptr_t)arg);
    return NULL;
}

static void *same_address(void *arg)
{
    (void)arg;
    int64_t a = gt_spawn(where, (void *)(intptr_t)0, &copy_opts);
    int64_t b = gt_spawn(where, (void *)(intptr_t)1, &copy_opts);
    CHECK_OK(gt_join(a, NULL));
    CHECK_OK(gt_join(b, NULL));
    CHECK_EQ(addr[0], addr[1]);
    return NULL;
}

/* Channels: the ops and messages live in the threads' argument copies
 * (heap), as the copy-stack rule asks; a parked sender's message must not
 * be on its stack. */
struct chan_arg {
    struct rt_chan *ch;
    struct rt_chan_op op;
    long msg;
    long n;
};

static void *producer(void *arg)
{
    struct chan_arg *a = arg;
    for (long i = 0; i < a->n; i++) {
        a->msg = i;
        rt_chan_op_init(&a->op);
        struct rt_cx cx = gt_cx();
        int res = 0;
        while (rt_chan_poll_send(a->ch, &a->op, &a->msg, &cx, &res) ==
               RT_PENDING)
            gt_park("send");
        CHECK_EQ(res, 0);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct chan_arg *a = arg;
    long sum = 0;
    for (long i = 0; i < a->n; i++) {
        rt_chan_op_init(&a->op);
        struct rt_cx cx = gt_cx();
        int res = 0;
        while (rt_chan_poll_recv(a->ch, &a->op, &a->msg, &cx, &res) ==
               RT_PENDING)
            gt_park("recv");
        CHECK_EQ(res, 1);
        CHECK_EQ(a->msg, i);
        /* deeper frames each time: the save buffer grows and shrinks */
        sum += (long)fill_and_yield((unsigned)i, (int)(i % 8), 0) -
               (long)expect_sum((unsigned)i, (int)(i % 8));
    }
    return (void *)(intptr_t)sum;
}

static void *channels(void *arg)
{
    (void)arg;
    struct rt_chan *ch = malloc(sizeof(*ch));
    CHECK(ch != NULL);
    CHECK_OK(rt_chan_init(ch, sizeof(long), 0)); /* rendezvous */
    struct chan_arg a = {.ch = ch, .n = 1000};
    struct gt_opts o = copy_opts;
    o.arg_size = sizeof(a);
    int64_t c = gt_spawn(consumer, &a, &o);
    int64_t p = gt_spawn(producer, &a, &o);
    void *res = (void *)1;
    CHECK_OK(gt_join(p, NULL));
    CHECK_OK(gt_join(c, &res));
    CHECK_EQ((intptr_t)res, 0);
    rt_chan_fini(ch);
    free(ch);
    return NULL;
}

/* A parked copy-stack thread's stack use is the bytes its save copied:
 * exact, more for a deeper park. */
static void *park_depth(void *arg)
{
    int depth = (int)(intptr_t)arg;
    return (void *)(uintptr_t)fill_and_yield(1, depth, 1);
}

static void *stack_used(void *arg)
{
    (void)arg;
    int64_t a = gt_spawn(park_depth, (void *)(intptr_t)0, &copy_opts);
    int64_t b = gt_spawn(park_depth, (void *)(intptr_t)10, &copy_opts);
    gt_yield(); /* both run to their yield; b's save happens as a resumes */
    gt_yield();
    int64_t ua = gt_stack_used(a), ub = gt_stack_used(b);
    CHECK_GT(ua, 0);
    CHECK_LT(ua, 4096); /* a shallow park: far below one page */
    CHECK_GT(ub, ua + 10 * 200);
    CHECK_OK(gt_join(a, NULL));
    CHECK_OK(gt_join(b, NULL));
    return NULL;
}

/* Sleeps: the timer of a copy-stack thread's gt_sleep is not on its
 * stack (the timer heap writes into it while the thread is parked). */
static void *sleeper(void *arg)
{
    for (int i = 0; i < 5; i++)
        CHECK_OK(gt_sleep((uint64_t)(intptr_t)arg * 100000u));
    return NULL;
}

static void *sleeps(void *arg)
{
    (void)arg;
    int64_t ids[8];
    for (int i = 0; i < 8; i++)
        ids[i] = gt_spawn(sleeper, (void *)(intptr_t)(i + 1),
                          i % 2 ? &own_opts : &copy_opts);
    for (int i = 0; i < 8; i++)
        CHECK_OK(gt_join(ids[i], NULL));
    return NULL;
}

/* A large used stack: 600 KiB of frames, parked and resumed while other
 * copy-stack threads use the run stack; the save buffer holds it all. */
__attribute__((noinline)) static unsigned deep(int depth, int yields)
{
    volatile unsigned char buf[16 * 1024];
    for (size_t i = 0; i < sizeof(buf); i += 512)
        buf[i] = (unsigned char)(depth + (int)i);
    unsigned sum = 0;
    if (depth > 0) {
        sum = deep(depth - 1, yields);
    } else {
        for (int i = 0; i < yields; i++)
            gt_yield();
    }
    for (size_t i = 0; i < sizeof(buf); i += 512)
        CHECK_EQ(buf[i], (unsigned char)(depth + (int)i));
    return sum + buf[0];
}

static void *run_deep(void *arg)
{
    return (void *)(uintptr_t)deep((int)(intptr_t)arg, 3);
}

static void *large(void *arg)
{
    (void)arg;
    int64_t big = gt_spawn(run_deep, (void *)(intptr_t)37, &copy_opts);
    int64_t small = gt_spawn(park_depth, (void *)(intptr_t)2, &copy_opts);
    gt_yield();
    gt_yield();
    CHECK_GT(gt_stack_used(big), 37 * 16 * 1024);
    CHECK_OK(gt_join(big, NULL));
    CHECK_OK(gt_join(small, NULL));
    return NULL;
}

/* Past GT_COPY_STACK_SIZE: the run stack's guard faults, and the report
 * names the thread and the run stack's size. */
static void *overflow(void *arg)
{
    (void)arg;
    struct gt_opts o = copy_opts;
    o.name = "deep";
    int64_t id = gt_spawn(run_deep, (void *)(intptr_t)100, &o);
    CHECK_OK(gt_join(id, NULL));
    return NULL;
}

static int overflow_child(void)
{
    gt_run(NULL, overflow, NULL, NULL);
    return 3; /* not reached: the overflow aborts */
}

/* Two workers: every copy-stack thread stays on the worker it first ran
 * on, across yields and parks. */
static void *pinned_job(void *arg)
{
    const struct job *j = arg;
    int w = gt_worker();
    unsigned long sum = 0;
    for (int r = 0; r < 10; r++) {
        sum += fill_and_yield(j->seed, j->depth, 3);
        CHECK(!j->copy || gt_worker() == w);
        CHECK_OK(gt_sleep(1000));
        CHECK(!j->copy || gt_worker() == w);
    }
    return (void *)(uintptr_t)sum;
}

static void *two_workers(void *arg)
{
    (void)arg;
    enum { N = 32 };
    int64_t ids[N];
    for (int i = 0; i < N; i++) {
        struct job j = {
            .seed = (unsigned)i, .depth = i % 6, .copy = i % 4 != 3};
        struct gt_opts o = i % 4 == 3 ? own_opts : copy_opts;
        o.arg_size = sizeof(j);
        ids[i] = gt_spawn(pinned_job, &j, &o);
        CHECK_GT(ids[i], 0);
    }
    for (int i = 0; i < N; i++) {
        void *res = NULL;
        CHECK_OK(gt_join(ids[i], &res));
        CHECK_EQ((uintptr_t)res, 10 * expect_sum((unsigned)i, i % 6));
    }
    return NULL;
}

/* With the scheduler's default, the root and the spawns that ask for no
 * mode have copy stacks (no stack of their own). */
static void *by_default(void *arg)
{
    (void)arg;
    /* The only stacks: the worker's run stack and its copier's. */
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.stacks_guarded + st.stacks_slab, 2);
    int64_t a = gt_spawn(park_depth, (void *)(intptr_t)3, NULL);
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.stacks_guarded + st.stacks_slab, 2);
    int64_t b = gt_spawn(park_depth, (void *)(intptr_t)3, &own_opts);
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.stacks_guarded + st.stacks_slab, 3);
    CHECK_OK(gt_join(a, NULL));
    CHECK_OK(gt_join(b, NULL));
    CHECK_EQ(gt_spawn(park_depth, NULL,
                      &(struct gt_opts){.stack_mode = (enum gt_stack_mode)7}),
             -EINVAL);
    return NULL;
}

int main(void)
{
    CHECK_OK(gt_run(NULL, interleaved, NULL, NULL));
    CHECK_OK(gt_run(NULL, same_address, NULL, NULL));
    CHECK_OK(gt_run(NULL, channels, NULL, NULL));
    CHECK_OK(gt_run(NULL, stack_used, NULL, NULL));
    CHECK_OK(gt_run(NULL, sleeps, NULL, NULL));
    CHECK_OK(gt_run(NULL, large, NULL, NULL));

    struct gt_config copy_cfg = {.pool_max = 64,
                                 .stack_mode = GT_STACK_MODE_COPY};
    CHECK_OK(gt_run(&copy_cfg, by_default, NULL, NULL));
    CHECK_OK(setenv("RT_STACK_MODE", "copy", 1));
    CHECK_OK(gt_run(NULL, by_default, NULL, NULL));
    CHECK_OK(setenv("RT_STACK_MODE", "sideways", 1));
    CHECK_EQ(gt_run(NULL, by_default, NULL, NULL), -EINVAL);
    CHECK_OK(unsetenv("RT_STACK_MODE"));

    struct gt_config two = {.pool_max = 64, .workers = 2};
    CHECK_OK(gt_run(&two, two_workers, NULL, NULL));
    CHECK_OK(gt_run(&two, interleaved, NULL, NULL));
    CHECK_OK(gt_run(&two, channels, NULL, NULL));

    char err[4096];
    int st = run_child(overflow_child, err, sizeof(err));
    fprintf(stderr, "copy-stack child said: %s", err);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGABRT);
    CHECK(strstr(err, "stack overflow in green thread 2 \"deep\"") != NULL);
    CHECK(strstr(err, "stack size 1048576 bytes") != NULL);
    return 0;
}

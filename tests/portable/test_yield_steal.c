/* Yielders behind a worker that is held: on two workers, a task that
 * yields goes to its worker's yield queue (common/workers.c), which no
 * other worker takes from while it has work of its own. This test holds a
 * worker and checks that the other one comes for the yielder anyway.
 *
 * Each round, a yielder spawns a holder and yields. The holder takes the
 * spawner's LIFO slot, so it runs next on the yielder's worker, and spins
 * there without ever suspending until the yielder has yielded HOLD_YIELDS
 * more times. The yielder is queued behind the holder on that worker, so
 * it runs only if the other worker takes it: without that the holder
 * would spin forever, and it gives up (and the test fails) after
 * HOLD_LIMIT_S seconds instead.
 *
 * Checked: every round ends; while the holder spun, the yielder ran on
 * the other worker. Then many yielders, with holders one after another
 * among them and rt_dump walking the queues (the yield queues among them)
 * between holders: every yield happened, exactly.
 * With one worker held by a blocker, on the other: a yield lets a task
 * that was ready there before it run first (the yield goes behind the
 * ring's items); and a yielder is not starved by two tasks that keep
 * waking each other through the LIFO slot (the slot's run cap counts the
 * yield queue as something waiting).
 *
 * Everything runs again with the yield queues off (their membarrier(2)
 * registration made to fail through common/sys.h), where yields go to
 * the ring. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include <greenfut/dump.h>
#include <greenfut/rt.h>
#include "sys.h"

#define ROUNDS       20
#define HOLD_YIELDS  50
#define HOLD_LIMIT_S 20
#define MANY         64
#define MANY_YIELDS  2000
#define HOLDERS      4

static atomic_long yields;      /* the yielder's, in this round */
static atomic_int holder_on;    /* the holder's worker, -1 until it runs */
static atomic_int elsewhere;    /* yields seen on the other worker */
static atomic_long many_yields; /* every yield of the second part */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Holds its worker: spins without ever suspending until `until` more
 * yields were counted in *count, or the count reached `total`. One runs
 * at a time (a second one on the other worker would leave no worker to
 * run the yielders). */
struct holder {
    RT_FRAME;
    atomic_long *count;
    long until, total;
};

static atomic_int holder_done; /* the round's holder let go */

static enum rt_poll holder(void *self)
{
    struct holder *f = self;
    RT_BEGIN(f);
    atomic_store(&holder_on, rt_worker_index());
    {
        long from = atomic_load(f->count);
        double start = now_s();
        for (long c = from; c - from < f->until && c < f->total;
             c = atomic_load(f->count))
            if (now_s() - start > HOLD_LIMIT_S)
                CHECK(!"a yielder queued behind a held worker never ran");
    }
    atomic_store(&holder_done, 1);
    RT_END(f);
}

struct yielder {
    RT_FRAME;
    struct rt_join j;
    int rc;
};

static enum rt_poll yielder(void *self)
{
    struct yielder *f = self;
    RT_BEGIN(f);
    {
        struct holder h = {
            .count = &yields, .until = HOLD_YIELDS, .total = 1L << 40};
        CHECK_EQ(rt_spawn(holder, &h, sizeof h, &f->j), 0);
    }
    /* Until the holder has let go (it may spin on our worker). */
    while (!atomic_load(&holder_done)) {
        RT_AWAIT_YIELD(f);
        int on = atomic_load(&holder_on);
        if (on >= 0 && rt_worker_index() != on)
            atomic_fetch_add(&elsewhere, 1);
        atomic_fetch_add(&yields, 1);
    }
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->rc, 0);
    RT_END(f);
}

struct many {
    RT_FRAME;
    long i;
};

static enum rt_poll many(void *self)
{
    struct many *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < MANY_YIELDS; f->i++) {
        RT_AWAIT_YIELD(f);
        atomic_fetch_add(&many_yields, 1);
    }
    RT_END(f);
}

/* Holds a worker until `release` is set (or fails the test after
 * HOLD_LIMIT_S). */
static atomic_int release, blocker_on;

struct blocker {
    RT_FRAME;
};

static enum rt_poll blocker(void *self)
{
    struct blocker *f = self;
    RT_BEGIN(f);
    atomic_store(&blocker_on, rt_worker_index());
    {
        double start = now_s();
        while (!atomic_load(&release))
            if (now_s() - start > HOLD_LIMIT_S)
                CHECK(!"the worker beside the blocker made no progress");
    }
    RT_END(f);
}

/* Order: Y yields once while R, ready before it, waits in the ring. */
static atomic_int r_ran, r_ran_before_y;

struct ready_task {
    RT_FRAME;
};

static enum rt_poll ready_task(void *self)
{
    struct ready_task *f = self;
    RT_BEGIN(f);
    atomic_fetch_add(&r_ran, 1);
    RT_END(f);
}

struct nothing {
    RT_FRAME;
};

static enum rt_poll nothing(void *self)
{
    struct nothing *f = self;
    RT_BEGIN(f);
    RT_END(f);
}

struct once_yielder {
    RT_FRAME;
};

static enum rt_poll once_yielder(void *self)
{
    struct once_yielder *f = self;
    RT_BEGIN(f);
    RT_AWAIT_YIELD(f);
    atomic_store(&r_ran_before_y, atomic_load(&r_ran));
    RT_END(f);
}

/* Starvation: a pair that wakes each other until `pair_stop`, beside a
 * yielder that must get its turns. */
#define PAIR_YIELDS 1000
static struct rt_notify to_a, to_b;
static atomic_int pair_stop;

struct pair {
    RT_FRAME;
    int first, rc;
};

static enum rt_poll pair(void *self)
{
    struct pair *f = self;
    RT_BEGIN(f);
    for (;;) {
        if (f->first) {
            rt_notify_one(&to_b);
            if (atomic_load(&pair_stop))
                break;
            RT_AWAIT_NOTIFIED(f, f->rc, &to_a);
        } else {
            RT_AWAIT_NOTIFIED(f, f->rc, &to_b);
            rt_notify_one(&to_a); /* on stop too: the other may wait */
            if (atomic_load(&pair_stop))
                break;
        }
        CHECK_EQ(f->rc, 0);
    }
    RT_END(f);
}

struct side_yielder {
    RT_FRAME;
    int i;
};

static enum rt_poll side_yielder(void *self)
{
    struct side_yielder *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < PAIR_YIELDS; f->i++)
        RT_AWAIT_YIELD(f);
    atomic_store(&pair_stop, 1);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int i, rc;
    struct rt_join j[MANY + 1];
};

/* The dump walks every worker's queues, the yield queues among them. */
static void dump_quietly(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK(m != NULL);
    CHECK_GE(rt_dump(m), 0);
    fclose(m);
    CHECK(len > 0);
    free(buf);
}

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < ROUNDS; f->i++) {
        atomic_store(&yields, 0);
        atomic_store(&holder_on, -1);
        atomic_store(&holder_done, 0);
        atomic_store(&elsewhere, 0);
        {
            struct yielder y = {0};
            CHECK_EQ(rt_spawn(yielder, &y, sizeof y, &f->j[0]), 0);
        }
        RT_AWAIT_JOIN(f, f->rc, &f->j[0]);
        CHECK_EQ(f->rc, 0);
        /* It could only get past the holder on the other worker. */
        CHECK_GE(atomic_load(&elsewhere), 1);
    }
    atomic_store(&many_yields, 0);
    for (f->i = 0; f->i < MANY; f->i++) {
        struct many m = {0};
        CHECK_EQ(rt_spawn(many, &m, sizeof m, &f->j[f->i]), 0);
    }
    /* Holders one after another while the yielders run, and the dump. */
    for (f->i = 0; f->i < HOLDERS; f->i++) {
        dump_quietly();
        {
            struct holder h = {.count = &many_yields,
                               .until = MANY_YIELDS,
                               .total = (long)MANY * MANY_YIELDS};
            CHECK_EQ(rt_spawn(holder, &h, sizeof h, &f->j[MANY]), 0);
        }
        RT_AWAIT_JOIN(f, f->rc, &f->j[MANY]);
        CHECK_EQ(f->rc, 0);
    }
    for (f->i = 0; f->i < MANY; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    CHECK_EQ(atomic_load(&many_yields), (long)MANY * MANY_YIELDS);

    /* Hold one worker; the root goes on on the other. */
    atomic_store(&release, 0);
    atomic_store(&blocker_on, -1);
    {
        struct blocker b = {0};
        CHECK_EQ(rt_spawn(blocker, &b, sizeof b, &f->j[MANY]), 0);
    }
    while (atomic_load(&blocker_on) < 0 ||
           atomic_load(&blocker_on) == rt_worker_index())
        RT_AWAIT_YIELD(f);
    /* The order: Y, then R, then a third task are spawned, so that Y and
     * R wait in the ring (the third in the LIFO slot: a spawn takes it and
     * moves the slot's task to the ring); Y runs first and yields once. */
    atomic_store(&r_ran, 0);
    atomic_store(&r_ran_before_y, -1);
    {
        struct once_yielder y = {0};
        CHECK_EQ(rt_spawn(once_yielder, &y, sizeof y, &f->j[0]), 0);
    }
    {
        struct ready_task r = {0};
        CHECK_EQ(rt_spawn(ready_task, &r, sizeof r, &f->j[1]), 0);
    }
    {
        struct nothing d = {0};
        CHECK_EQ(rt_spawn(nothing, &d, sizeof d, &f->j[2]), 0);
    }
    for (f->i = 0; f->i < 3; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    /* R, ready before Y yielded, ran before Y went on. */
    CHECK_EQ(atomic_load(&r_ran_before_y), 1);
    /* The pair and the yielder, on the one worker left. */
    rt_notify_init(&to_a);
    rt_notify_init(&to_b);
    atomic_store(&pair_stop, 0);
    for (f->i = 0; f->i < 3; f->i++) {
        if (f->i < 2) {
            struct pair p = {.first = f->i == 0};
            CHECK_EQ(rt_spawn(pair, &p, sizeof p, &f->j[f->i]), 0);
        } else {
            struct side_yielder y = {0};
            CHECK_EQ(rt_spawn(side_yielder, &y, sizeof y, &f->j[f->i]), 0);
        }
    }
    for (f->i = 0; f->i < 3; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    atomic_store(&release, 1);
    RT_AWAIT_JOIN(f, f->rc, &f->j[MANY]);
    CHECK_EQ(f->rc, 0);
    RT_END(f);
}

static void run_all(void)
{
    struct rt_opts o = {.workers = 2};
    struct root r = {0};
    CHECK_EQ(rt_run_opts(&o, root, &r, sizeof r, NULL), 0);
}

int main(void)
{
    rt_sys_count_start();
    run_all();
    /* The registration was asked for (a query, then the register). */
    CHECK_GE(rt_sys_calls(RT_SYS_MEMBARRIER), 1);

    /* Without the yield queues: the first membarrier(2) call, the query,
     * fails, and yields go to the ring. */
    CHECK_EQ(rt_sys_fault_arm(RT_SYS_MEMBARRIER, 1, ENOSYS), 0);
    run_all();
    CHECK_EQ(rt_sys_fault_fired(), 1);
    rt_sys_fault_disarm();
    printf("%s: %d rounds held, with and without the yield queues\n",
           rt_backend_name(), ROUNDS);
    return 0;
}

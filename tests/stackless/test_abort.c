/* fut_task_abort, cancellation by drop, with one worker and with two: a
 * task parked in a read or a far sleep is dropped where it waits (no more
 * of its code runs, the pipe's bytes stay unread, nothing is left waiting
 * in the reactor) and its join gives -ECANCELED; a task aborted before its
 * first poll never runs; a task that keeps yielding is dropped at one of
 * its re-polls; aborting an ended task or an aborted one gives -EALREADY
 * and leaves the ended one's output; a task cannot abort itself; bad
 * handles are refused. Every task's memory is given back. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/leaf.h>
#include <greenfut/task.h>

#define FAR_NS (3600ull * 1000000000ull)

static atomic_int started, after; /* victims at their await / past it */
static int pipefd[2];

/* Parks in a read of the pipe, or in a sleep of an hour. */
struct victim {
    struct fut_future base;
    unsigned state;
    int sleeps;
    char buf[8];
    ssize_t got;
    struct fut_future *in; /* the child awaited now, for the drop */
    union {
        struct fut_read rd;
        struct fut_sleep nap;
    } u;
};

static enum rt_poll victim_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct victim *f = (struct victim *)self;
    (void)out;
    FUT_BEGIN(f->state);
    atomic_fetch_add(&started, 1);
    if (f->sleeps) {
        fut_sleep_for_init(&f->u.nap, FAR_NS);
        f->in = &f->u.nap.base;
        FUT_AWAIT(&f->u.nap, NULL);
    } else {
        fut_read_init(&f->u.rd, pipefd[0], f->buf, sizeof f->buf);
        f->in = &f->u.rd.base;
        FUT_AWAIT(&f->u.rd, &f->got);
    }
    f->in = NULL;
    atomic_fetch_add(&after, 1); /* never, once dropped */
    FUT_END;
}

/* A native future drops the child it awaits: that is what withdraws the
 * read's waker from the fd and disarms the sleep's timer. */
static void victim_drop(struct fut_future *self)
{
    struct victim *f = (struct victim *)self;
    if (f->in)
        fut_drop(f->in);
}

static const struct fut_vtable victim_vt = {victim_poll, victim_drop, "victim"};

/* Yields until dropped; counts its polls. */
static atomic_long spins;

struct spinner {
    struct fut_future base;
};

static enum rt_poll spinner_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    (void)self;
    (void)out;
    atomic_fetch_add(&spins, 1);
    rt_waker_wake_by_ref(cx->waker);
    return RT_PENDING;
}

static const struct fut_vtable spinner_vt = {spinner_poll, NULL, "spinner"};

/* Outputs 42 at its first poll. */
static enum rt_poll quick_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    (void)self;
    (void)cx;
    *(intptr_t *)out = 42;
    return RT_READY;
}

static const struct fut_vtable quick_vt = {quick_poll, NULL, "quick"};

/* Tries to abort itself through its own handle. */
static struct fut_join self_join;
static int self_rc = 1;

static enum rt_poll selfish_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    self_rc = fut_task_abort(&self_join);
    return RT_READY;
}

static const struct fut_vtable selfish_vt = {selfish_poll, NULL, "selfish"};

/* The root: each case in turn. */
struct root {
    struct fut_future base;
    unsigned state;
    int i;
    struct fut_join j;
    struct fut_yield y;
};

static void expect_cancelled(struct fut_join *j)
{
    CHECK_EQ(fut_join(j, NULL), -ECANCELED);
}

static enum rt_poll root_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct root *f = (struct root *)self;
    (void)out;
    FUT_BEGIN(f->state);
    /* Parked in a read, then in a sleep. */
    for (f->i = 0; f->i < 2; f->i++) {
        atomic_store(&started, 0);
        {
            struct victim v = {.base = {&victim_vt}, .sleeps = f->i};
            CHECK_OK(fut_spawn(&v.base, sizeof v, 0, &f->j));
        }
        while (atomic_load(&started) == 0) {
            fut_yield_init(&f->y);
            FUT_AWAIT(&f->y, NULL);
        }
        /* Once more: with two workers the victim may still be in the poll
         * that started; the abort then drops it after that poll. */
        fut_yield_init(&f->y);
        FUT_AWAIT(&f->y, NULL);
        CHECK_OK(fut_task_abort(&f->j));
        CHECK_EQ(fut_task_abort(&f->j), -EALREADY); /* twice */
        FUT_AWAIT(&f->j.base, NULL);
        CHECK_EQ(fut_join_error(&f->j), -ECANCELED);
        CHECK_EQ(fut_task_abort(&f->j), -ESRCH); /* joined */
    }
    CHECK_EQ(atomic_load(&after), 0);
    { /* nothing left waiting in the reactor */
        struct rt_reactor_stats rs;
        CHECK_OK(rt_reactor_stats(fut_reactor(), &rs));
        CHECK_EQ(rs.io_waiters, 0);
        CHECK_EQ(rs.timers, 0);
    }
    /* A task that keeps running (yielding), on whichever worker. */
    atomic_store(&spins, 0);
    {
        struct spinner sp = {.base = {&spinner_vt}};
        CHECK_OK(fut_spawn(&sp.base, sizeof sp, 0, &f->j));
    }
    while (atomic_load(&spins) < 10) {
        fut_yield_init(&f->y);
        FUT_AWAIT(&f->y, NULL);
    }
    CHECK_OK(fut_task_abort(&f->j));
    FUT_AWAIT(&f->j.base, NULL);
    CHECK_EQ(fut_join_error(&f->j), -ECANCELED);
    FUT_END;
}

static const struct fut_vtable root_vt = {root_poll, NULL, "root"};

static void run(unsigned workers)
{
    struct fut_executor *ex;
    CHECK_OK(
        fut_executor_new_with(&ex, &(struct fut_config){.workers = workers}));
    CHECK_OK(pipe(pipefd));
    CHECK_OK(fut_register(pipefd[0]));
    atomic_store(&after, 0);

    /* Parked victims, aborted by a task. */
    struct root r = {.base = {&root_vt}};
    CHECK_OK(fut_block_on(&r.base, NULL));
    fut_drop(&r.base);
    /* The dropped read took nothing: the bytes written now stay. */
    CHECK_EQ(write(pipefd[1], "x", 1), 1);
    char c = 0;
    CHECK_EQ(read(pipefd[0], &c, 1), 1);
    CHECK_EQ(c, 'x');

    /* Aborted before its first poll: it never runs. */
    struct fut_join j;
    atomic_store(&started, 0);
    struct victim v = {.base = {&victim_vt}};
    CHECK_OK(fut_spawn(&v.base, sizeof v, 0, &j));
    CHECK_OK(fut_task_abort(&j));
    expect_cancelled(&j);
    CHECK_EQ(atomic_load(&started), 0);

    /* A task that never parks, aborted while queued: it never runs. */
    long polls = atomic_load(&spins);
    struct spinner sp = {.base = {&spinner_vt}};
    CHECK_OK(fut_spawn(&sp.base, sizeof sp, 0, &j));
    CHECK_OK(fut_task_abort(&j));
    expect_cancelled(&j);
    CHECK_OK(fut_run()); /* nothing left to run */
    CHECK_EQ(atomic_load(&spins), polls);

    /* Ended: the abort is refused and the output stands. */
    struct fut_future q = {&quick_vt};
    CHECK_OK(fut_spawn(&q, sizeof q, sizeof(intptr_t), &j));
    CHECK_OK(fut_run());
    CHECK_EQ(fut_task_abort(&j), -EALREADY);
    intptr_t v42 = 0;
    CHECK_OK(fut_join(&j, &v42));
    CHECK_EQ(v42, 42);

    /* Itself. */
    struct fut_future s = {&selfish_vt};
    CHECK_OK(fut_spawn(&s, sizeof s, 0, &self_join));
    CHECK_OK(fut_join(&self_join, NULL));
    CHECK_EQ(self_rc, -EDEADLK);

    /* Bad handles. */
    CHECK_EQ(fut_task_abort(NULL), -EINVAL);
    struct fut_future not_a_handle = {&quick_vt};
    CHECK_EQ(fut_task_abort((struct fut_join *)&not_a_handle), -EINVAL);
    fut_join_init(&j);
    CHECK_EQ(fut_task_abort(&j), -ESRCH);

    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, 0);
    CHECK_EQ(st.tasks_allocated, 0);
    CHECK_OK(fut_close(pipefd[0]));
    close(pipefd[1]);
    fut_executor_free(ex);
}

int main(void)
{
    run(1);
    run(2);
    return 0;
}

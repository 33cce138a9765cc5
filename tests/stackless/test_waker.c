/* The task waker: clone/drop keep the reference count balanced (every task
 * allocation is freed at the end, also when a clone outlives the task), and
 * a burst of wakes before a poll gives exactly one poll. */
#include "check.h"
#include <greenfut/task.h>

#define CLONES 1000

static struct rt_waker saved[CLONES];
static int polls;

/* Pending on the first poll (cloning its waker CLONES times), ready on the
 * next. */
struct cloner {
    struct fut_future base;
    int polled;
};

static enum rt_poll cloner_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct cloner *f = (struct cloner *)self;
    (void)out;
    polls++;
    if (f->polled)
        return RT_READY;
    f->polled = 1;
    for (int i = 0; i < CLONES; i++) {
        saved[i] = rt_waker_clone(cx->waker);
        CHECK(rt_waker_will_wake(&saved[i], cx->waker));
    }
    return RT_PENDING;
}

static const struct fut_vtable cloner_vt = {cloner_poll, NULL, "cloner"};

/* A root that is ready once `polls` reached a value, yielding meanwhile. */
struct wait_polls {
    struct fut_future base;
    int target;
};

static enum rt_poll wait_polls_poll(struct fut_future *self, struct rt_cx *cx,
                                    void *out)
{
    struct wait_polls *f = (struct wait_polls *)self;
    (void)out;
    if (polls >= f->target)
        return RT_READY;
    rt_waker_wake_by_ref(cx->waker);
    return RT_PENDING;
}

static const struct fut_vtable wait_polls_vt = {wait_polls_poll, NULL,
                                                "wait_polls"};

static struct fut_stats stats(void)
{
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    return st;
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));

    /* Burst: CLONES wakes of every kind before the next poll -> 1 poll. */
    struct cloner c = {{&cloner_vt}, 0};
    struct fut_join j;
    CHECK_OK(fut_spawn(&c.base, sizeof(c), 0, &j));
    struct wait_polls w = {{&wait_polls_vt}, 1};
    CHECK_OK(fut_block_on(&w.base, NULL));
    CHECK_EQ(polls, 1);
    CHECK_EQ(stats().tasks_allocated, 1);
    uint64_t before = stats().polls;
    for (int i = 0; i < CLONES; i++) {
        if (i % 3 == 0)
            rt_waker_wake(&saved[i]); /* consumes the clone */
        else
            rt_waker_wake_by_ref(&saved[i]);
    }
    CHECK_OK(fut_join(&j, NULL));
    CHECK_EQ(polls, 2);
    CHECK_EQ(stats().polls - before, 1);

    /* The task is done but the remaining clones keep its memory alive;
     * waking a finished task does nothing. */
    CHECK_EQ(stats().tasks_pending, 0);
    CHECK_EQ(stats().tasks_allocated, 1);
    before = stats().polls;
    for (int i = 0; i < CLONES; i++)
        rt_waker_wake_by_ref(&saved[i]);
    CHECK_OK(fut_run());
    CHECK_EQ(stats().polls, before);
    for (int i = 0; i < CLONES; i++)
        rt_waker_drop(&saved[i]);
    CHECK_EQ(stats().tasks_allocated, 0);
    CHECK_EQ(stats().task_bytes, 0);

    /* Clones dropped while the task is pending, then a detached task
     * finishes: nothing left either. */
    polls = 0;
    c.polled = 0;
    CHECK_OK(fut_spawn(&c.base, sizeof(c), 0, NULL));
    w.target = 1;
    CHECK_OK(fut_block_on(&w.base, NULL));
    CHECK_EQ(stats().tasks_allocated, 1);
    for (int i = 1; i < CLONES; i++)
        rt_waker_drop(&saved[i]);
    rt_waker_wake(&saved[0]);
    CHECK_OK(fut_run());
    CHECK_EQ(polls, 2);
    CHECK_EQ(stats().tasks_allocated, 0);
    fut_executor_free(ex);
    return 0;
}

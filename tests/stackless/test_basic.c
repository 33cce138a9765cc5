/* The core: block_on, spawn + join with outputs, a hand-written state
 * machine across sleeps and yields, in-place spawning, and a
 * self-referential frame that stays valid across polls (tasks never move). */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include <greenfut/combinators.h>
#include <greenfut/leaf.h>
#include <greenfut/task.h>

/* A task: sum of i for i in 0..n, sleeping or yielding between steps. */
struct counter {
    struct fut_future base;
    unsigned state;
    int n; /* argument */
    int i; /* locals that live across awaits */
    long sum;
    struct fut_sleep nap;
    struct fut_yield y;
};

static enum rt_poll counter_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct counter *f = (struct counter *)self;
    FUT_BEGIN(f->state);
    for (f->i = 0; f->i < f->n; f->i++) {
        f->sum += f->i;
        if (f->i % 2) {
            fut_sleep_for_init(&f->nap, 1000);
            FUT_AWAIT(&f->nap, NULL);
        } else {
            fut_yield_init(&f->y);
            FUT_AWAIT(&f->y, NULL);
        }
    }
    if (out)
        *(long *)out = f->sum;
    FUT_END;
}

static void counter_drop(struct fut_future *self)
{
    struct counter *f = (struct counter *)self;
    fut_drop(&f->nap.base);
}

static const struct fut_vtable counter_vt = {counter_poll, counter_drop,
                                             "counter"};

static void counter_init(struct counter *f, int n)
{
    f->base.vt = &counter_vt;
    f->state = 0;
    f->n = n;
    f->i = 0;
    f->sum = 0;
    fut_sleep_for_init(&f->nap, 0);
    fut_yield_init(&f->y);
}

static int counter_init_fn(struct fut_future *frame, void *arg)
{
    counter_init((struct counter *)frame, *(int *)arg);
    return 0;
}

/* A self-referential frame: `cursor` points into `buf` of the same frame
 * and is followed after every suspension. */
struct selfref {
    struct fut_future base;
    unsigned state;
    char buf[64];
    char *cursor; /* points into buf from the first poll on */
    struct fut_yield y;
};

static enum rt_poll selfref_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct selfref *f = (struct selfref *)self;
    FUT_BEGIN(f->state);
    f->cursor = f->buf; /* the frame is pinned now: safe to point inside */
    while (f->cursor < f->buf + 10) {
        *f->cursor++ = 'a';
        fut_yield_init(&f->y);
        FUT_AWAIT(&f->y, NULL);
        CHECK(f->cursor >= f->buf && f->cursor <= f->buf + 10);
    }
    if (out)
        *(int *)out = (int)(f->cursor - f->buf);
    FUT_END;
}

static const struct fut_vtable selfref_vt = {selfref_poll, NULL, "selfref"};

/* A root future that spawns and joins two tasks. */
struct parent {
    struct fut_future base;
    unsigned state;
    struct fut_join a, b;
    long ra, rb;
};

static enum rt_poll parent_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct parent *f = (struct parent *)self;
    FUT_BEGIN(f->state);
    {
        struct counter c;
        counter_init(&c, 6);
        CHECK_OK(fut_spawn(&c.base, sizeof(c), sizeof(long), &f->a));
        counter_init(&c, 4);
        CHECK_OK(fut_spawn(&c.base, sizeof(c), sizeof(long), &f->b));
    }
    FUT_AWAIT(&f->a, &f->ra);
    FUT_AWAIT(&f->b, &f->rb);
    if (out)
        *(long *)out = f->ra + f->rb;
    FUT_END;
}

static void parent_drop(struct fut_future *self)
{
    struct parent *f = (struct parent *)self;
    fut_drop(&f->a.base);
    fut_drop(&f->b.base);
}

static const struct fut_vtable parent_vt = {parent_poll, parent_drop, "parent"};

static void check_no_tasks(void)
{
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, 0);
    CHECK_EQ(st.tasks_allocated, 0);
    CHECK_EQ(st.task_bytes, 0);
}

int main(void)
{
    /* block_on without an executor makes a temporary one. */
    struct fut_sleep s;
    fut_sleep_for_init(&s, 100000);
    int sres = -1;
    CHECK_OK(fut_block_on(&s.base, &sres));
    CHECK_EQ(sres, 0);
    fut_drop(&s.base);
    CHECK(fut_executor_current() == NULL);

    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    CHECK(fut_reactor() != NULL);

    /* A state machine as the root future. */
    struct counter c;
    counter_init(&c, 5);
    long sum = -1;
    CHECK_OK(fut_block_on(&c.base, &sum));
    CHECK_EQ(sum, 0 + 1 + 2 + 3 + 4);
    fut_drop(&c.base);

    /* Spawn + join from inside a future. */
    struct parent p = {.base = {&parent_vt}};
    long total = -1;
    CHECK_OK(fut_block_on(&p.base, &total));
    CHECK_EQ(total, 15 + 6);
    fut_drop(&p.base);
    check_no_tasks();

    /* Spawn from outside, join with fut_join. */
    struct fut_join j;
    counter_init(&c, 3);
    CHECK_OK(fut_spawn(&c.base, sizeof(c), sizeof(long), &j));
    sum = -1;
    CHECK_OK(fut_join(&j, &sum));
    CHECK_EQ(sum, 3);
    fut_drop(&j.base);
    check_no_tasks();

    /* In place: fut_spawn_with and fut_frame_alloc/spawn. */
    int n = 8;
    CHECK_OK(fut_spawn_with(sizeof(struct counter), sizeof(long),
                            counter_init_fn, &n, &j));
    CHECK_OK(fut_join(&j, &sum));
    CHECK_EQ(sum, 28);
    struct fut_future *fr =
        fut_frame_alloc(sizeof(struct counter), sizeof(long));
    CHECK(fr != NULL);
    counter_init((struct counter *)fr, 2);
    CHECK_OK(fut_frame_spawn(fr, &j));
    CHECK_OK(fut_join(&j, &sum));
    CHECK_EQ(sum, 1);
    fr = fut_frame_alloc(sizeof(struct counter), 0);
    CHECK(fr != NULL);
    fut_frame_discard(fr);
    check_no_tasks();

    /* Self-referential frames: many at once, interleaved by yields. */
    struct fut_join js[16];
    for (int i = 0; i < 16; i++) {
        struct selfref sr = {.base = {&selfref_vt}};
        CHECK_OK(fut_spawn(&sr.base, sizeof(sr), sizeof(int), &js[i]));
    }
    for (int i = 0; i < 16; i++) {
        int len = 0;
        CHECK_OK(fut_join(&js[i], &len));
        CHECK_EQ(len, 10);
    }
    /* Detached tasks run to the end under fut_run. */
    for (int i = 0; i < 4; i++) {
        counter_init(&c, 3);
        CHECK_OK(fut_spawn(&c.base, sizeof(c), sizeof(long), NULL));
    }
    CHECK_OK(fut_run());
    check_no_tasks();
    fut_executor_free(ex);
    CHECK(fut_executor_current() == NULL);
    return 0;
}

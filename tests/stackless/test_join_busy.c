/* A join handle has one awaiter. While one task waits on it, another task
 * that polls it gets RT_READY at once with fut_join_error -EBUSY, and the
 * handle stays the first's: the first is woken with the result. Before,
 * the second took the handle's waker slot, the first was never woken, and
 * the run ended in a false deadlock. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include <greenfut/leaf.h>
#include <greenfut/task.h>

static struct fut_join shared;
static int rcs[2] = {1, 1}; /* each awaiter's outcome */
static intptr_t got;

/* Yields a few times, then outputs 42. */
struct target {
    struct fut_future base;
    unsigned state;
    int i;
    struct fut_yield y;
};

static enum rt_poll target_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct target *f = (struct target *)self;
    FUT_BEGIN(f->state);
    for (f->i = 0; f->i < 3; f->i++) {
        fut_yield_init(&f->y);
        FUT_AWAIT(&f->y, NULL);
    }
    *(intptr_t *)out = 42;
    FUT_END;
}

static const struct fut_vtable target_vt = {target_poll, NULL, "target"};

struct awaiter {
    struct fut_future base;
    int idx;
};

static enum rt_poll awaiter_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct awaiter *f = (struct awaiter *)self;
    (void)out;
    intptr_t v = 0;
    if (fut_poll(&shared.base, cx, &v) == RT_PENDING)
        return RT_PENDING;
    rcs[f->idx] = fut_join_error(&shared);
    if (rcs[f->idx] == 0) {
        got = v;
        fut_drop(&shared.base);
    }
    return RT_READY;
}

static const struct fut_vtable awaiter_vt = {awaiter_poll, NULL, "awaiter"};

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct target t = {.base = {&target_vt}};
    CHECK_OK(fut_spawn(&t.base, sizeof t, sizeof(intptr_t), &shared));
    for (int i = 0; i < 2; i++) {
        struct awaiter a = {.base = {&awaiter_vt}, .idx = i};
        CHECK_OK(fut_spawn(&a.base, sizeof a, 0, NULL));
    }
    CHECK_OK(fut_run());
    CHECK_EQ(rcs[0], 0);
    CHECK_EQ(rcs[1], -EBUSY);
    CHECK_EQ(got, 42);
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_allocated, 0);
    fut_executor_free(ex);
    return 0;
}

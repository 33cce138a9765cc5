/* Tasks spawned without a join handle (detached) give their memory back
 * when they end, not when the run ends: a long-running program (a server
 * whose connection tasks come and go) must not grow with the tasks it has
 * ever had. The root spawns N detached tasks one after the other, each run
 * to its end before the next; meanwhile the backend's own accounting of
 * task memory must stay at a few tasks' worth, and every task must have
 * run once. On two workers too (the suite's mt rerun). */
#include <stdatomic.h>

#include "check.h"
#include <greenfut/rt.h>

#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
#include <greenfut/gt.h>

/* The stacks the scheduler holds now (live threads, and DONE ones whose
 * memory is not yet given back). */
static size_t held(void)
{
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    return st.stacks_guarded + st.stacks_slab;
}
#else
#include <greenfut/task.h>

static size_t held(void)
{
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    return st.tasks_allocated;
}
#endif

#define TASKS 3000

static atomic_int ran;
static size_t most; /* the most held() said during the run */

struct empty {
    RT_FRAME;
};

static enum rt_poll empty(void *self)
{
    struct empty *f = self;
    RT_BEGIN(f);
    atomic_fetch_add(&ran, 1);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int i;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < TASKS; f->i++) {
        {
            struct empty e = {0};
            CHECK_OK(rt_spawn(empty, &e, sizeof e, NULL));
        }
        while (atomic_load(&ran) <= f->i) /* it runs to its end */
            RT_AWAIT_YIELD(f);
        size_t h = held();
        if (h > most)
            most = h;
    }
    RT_END(f);
}

int main(void)
{
    struct root r = {0};
    CHECK_OK(rt_run(root, &r, sizeof r, NULL));
    CHECK_EQ(atomic_load(&ran), TASKS);
    /* The root, a task or two not yet given back, a worker's own stacks:
     * a handful, against the TASKS a leak would hold. */
    CHECK(most < 16);
    return 0;
}

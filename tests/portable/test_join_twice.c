/* Two tasks join one handle: the first joiner gets the task's result, the
 * second gets -ESRCH at once (include/greenfut/rt.h, RT_AWAIT_JOIN), on both
 * backends. Before, the stackless second joiner took the handle's waker slot,
 * the first was never woken, and the run ended in a false deadlock. */
#include <errno.h>
#include <stdio.h>

#include "check.h"
#include <greenfut/rt.h>

static struct rt_join shared; /* the one handle both joiners await */
static int results[2];        /* each joiner's rc, 1 + its index when unset */
static intptr_t got;          /* what the successful joiner saw */

struct target {
    RT_FRAME;
};

static enum rt_poll target(void *self)
{
    struct target *f = self;
    RT_BEGIN(f);
    /* Still running when both joiners have started to wait. */
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    RT_RETURN(f, 42);
    RT_END(f);
}

struct joiner {
    RT_FRAME;
    int idx;
    int rc;
};

static enum rt_poll joiner(void *self)
{
    struct joiner *f = self;
    RT_BEGIN(f);
    RT_AWAIT_JOIN(f, f->rc, &shared);
    results[f->idx] = f->rc;
    if (f->rc == 0)
        got = shared.ret;
    RT_RETURN(f, 0);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join j[2];
    int i;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(
        rt_spawn(target, &(struct target){0}, sizeof(struct target), &shared));
    for (f->i = 0; f->i < 2; f->i++) {
        struct joiner jn = {.idx = f->i};
        CHECK_OK(rt_spawn(joiner, &jn, sizeof jn, &f->j[f->i]));
    }
    for (f->i = 0; f->i < 2; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
    }
    RT_RETURN(f, 1);
    RT_END(f);
}

int main(void)
{
    results[0] = 1;
    results[1] = 2;
    struct root r = {0};
    intptr_t ret = 0;
    CHECK_EQ(rt_run(root, &r, sizeof r, &ret), 0);
    CHECK_EQ(ret, 1);
    /* Exactly one joiner got the result; the other was refused. */
    CHECK_EQ(results[0] + results[1], -ESRCH);
    CHECK(results[0] == 0 || results[1] == 0);
    CHECK_EQ(got, 42);
    return 0;
}

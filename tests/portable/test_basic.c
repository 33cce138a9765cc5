/* Portable basics on either backend: spawn and join with results, sleep
 * order, child tasks awaited in place, yield, join errors. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"
#include <greenfut/rt.h>

/* Records the order in which sleepers wake, and whether any sleeper found
 * its deadline already passed when it first ran (then the order proves
 * nothing, and main runs again with the deadlines further apart). */
static int order[8];
/* Atomics: with RT_WORKERS the sleepers may wake on two threads at once. */
static atomic_int norder;
static atomic_int late;
static uint64_t spacing = 1000000;

struct sleeper {
    RT_FRAME;
    int id;
    uint64_t until;
};

static enum rt_poll sleeper(void *self)
{
    struct sleeper *f = self;
    RT_BEGIN(f);
    if (rt_now_ns() >= f->until)
        late++;
    RT_AWAIT_SLEEP_UNTIL(f, f->until);
    order[atomic_fetch_add(&norder, 1)] = f->id;
    RT_RETURN(f, f->id * 10);
    RT_END(f);
}

/* A child that sleeps and returns a value; its parent nests it twice. */
struct leaf {
    RT_FRAME;
    int x;
};

static enum rt_poll leaf(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_YIELD(f);
    RT_AWAIT_SLEEP(f, 1000);
    RT_RETURN(f, f->x + 1);
    RT_END(f);
}

struct mid {
    RT_FRAME;
    struct leaf child;
    int x;
};

static enum rt_poll mid(void *self)
{
    struct mid *f = self;
    RT_BEGIN(f);
    f->child = (struct leaf){.x = f->x};
    RT_AWAIT_CALL(f, leaf, &f->child);
    RT_RETURN(f, f->child.rt.ret * 2);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join j[4];
    struct mid m;
    uint64_t base;
    int i;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    /* Spawned out of order; they must wake in deadline order. The
     * deadlines are absolute, spacing apart, from after the spawns. */
    static const uint64_t k[4] = {4, 1, 3, 2};
    f->base = rt_now_ns() + spacing;
    for (f->i = 0; f->i < 4; f->i++) {
        struct sleeper s = {.id = f->i, .until = f->base + k[f->i] * spacing};
        CHECK_OK(rt_spawn(sleeper, &s, sizeof s, &f->j[f->i]));
    }
    for (f->i = 0; f->i < 4; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
        CHECK_EQ(f->j[f->i].ret, f->i * 10);
    }
    /* Joining twice is an error, not a crash. */
    RT_AWAIT_JOIN(f, f->rc, &f->j[0]);
    CHECK_EQ(f->rc, -ESRCH);

    f->m = (struct mid){.x = 20};
    RT_AWAIT_CALL(f, mid, &f->m);
    CHECK_EQ(f->m.rt.ret, 42);
    RT_RETURN(f, 7);
    RT_END(f);
}

int main(void)
{
    struct root r = {0};
    intptr_t ret = 0;
    CHECK_EQ(rt_run(NULL, &r, sizeof r, &ret), -EINVAL);
    CHECK_EQ(rt_run(root, &r, 3, &ret), -EINVAL);
    CHECK_EQ(rt_spawn(root, &r, sizeof r, NULL), -EPERM); /* not running */
    CHECK_OK(rt_run(root, &r, sizeof r, &ret));
    /* A slow machine (valgrind) may start a sleeper after its deadline:
     * then run again with the deadlines four times further apart. */
    while (late && spacing < 4000000000u) {
        late = 0;
        norder = 0;
        spacing *= 4;
        r = (struct root){0};
        CHECK_OK(rt_run(root, &r, sizeof r, &ret));
    }
    CHECK_EQ(late, 0);
    CHECK_EQ(ret, 7);
    CHECK_EQ(norder, 4);
    if (one_worker()) { /* deadline order */
        CHECK_EQ(order[0], 1);
        CHECK_EQ(order[1], 3);
        CHECK_EQ(order[2], 2);
        CHECK_EQ(order[3], 0);
    } else { /* two due in one turn may run on two workers: each once */
        int seen = 0;
        for (int i = 0; i < 4; i++)
            seen |= 1 << order[i];
        CHECK_EQ(seen, 15);
    }
    printf("%s: ok\n", rt_backend_name());
    return 0;
}

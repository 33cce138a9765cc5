#include "testwaker.h"

static const struct rt_waker_vtable tw_vt;

static struct rt_waker tw_clone(void *data)
{
    struct tw *t = data;
    atomic_fetch_add(&t->clones, 1);
    atomic_fetch_add(&t->live, 1);
    return (struct rt_waker){&tw_vt, data};
}

static void tw_wake(void *data)
{
    struct tw *t = data;
    atomic_fetch_add(&t->wakes, 1);
    atomic_fetch_sub(&t->live, 1);
}

static void tw_wake_by_ref(void *data)
{
    struct tw *t = data;
    atomic_fetch_add(&t->wakes, 1);
}

static void tw_drop(void *data)
{
    struct tw *t = data;
    atomic_fetch_add(&t->drops, 1);
    atomic_fetch_sub(&t->live, 1);
}

static const struct rt_waker_vtable tw_vt = {tw_clone, tw_wake, tw_wake_by_ref,
                                             tw_drop};

struct rt_waker tw_init(struct tw *t)
{
    atomic_init(&t->wakes, 0);
    atomic_init(&t->clones, 0);
    atomic_init(&t->drops, 0);
    atomic_init(&t->live, 0);
    return (struct rt_waker){&tw_vt, t};
}

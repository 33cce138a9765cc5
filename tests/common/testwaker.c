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

static const struct rt_waker_vtable park_vt;

static void park_signal(struct tw_park *p)
{
    atomic_fetch_add(&p->counts.wakes, 1);
    pthread_mutex_lock(&p->lock);
    p->set = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

static struct rt_waker park_clone(void *data)
{
    struct tw_park *p = data;
    atomic_fetch_add(&p->counts.clones, 1);
    atomic_fetch_add(&p->counts.live, 1);
    return (struct rt_waker){&park_vt, data};
}

static void park_wake(void *data)
{
    struct tw_park *p = data;
    /* The count goes first: once signalled, the owner may check it. */
    atomic_fetch_sub(&p->counts.live, 1);
    park_signal(p);
}

static void park_wake_by_ref(void *data)
{
    park_signal(data);
}

static void park_drop(void *data)
{
    struct tw_park *p = data;
    atomic_fetch_add(&p->counts.drops, 1);
    atomic_fetch_sub(&p->counts.live, 1);
}

static const struct rt_waker_vtable park_vt = {park_clone, park_wake,
                                               park_wake_by_ref, park_drop};

struct rt_waker tw_park_init(struct tw_park *p)
{
    (void)tw_init(&p->counts);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->set = 0;
    return (struct rt_waker){&park_vt, p};
}

void tw_park_wait(struct tw_park *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->set)
        pthread_cond_wait(&p->cond, &p->lock);
    p->set = 0;
    pthread_mutex_unlock(&p->lock);
}

void tw_park_fini(struct tw_park *p)
{
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
}

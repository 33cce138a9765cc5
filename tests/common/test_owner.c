/* The waker ownership protocol (common/owner.h) over a fake owner: clones,
 * wakes and drops from the owner thread and from a foreign one, applied on
 * the owner, and the object freed there exactly once, only after its last
 * reference went. Also run under ThreadSanitizer (label tsan). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "check.h"
#include "owner.h"
#include <greenfut/reactor.h>

/* The fake owner: an object that counts what the protocol did to it. */
struct obj {
    struct rt_remote remote;
    uint32_t refs;
    struct rt_reactor *reactor;
    int wakes;         /* owner: local wakes */
    int foreign_wakes; /* owner: wakes applied by the node's run */
    int frees;         /* owner: times the protocol freed it */
};

/* The owner thread is the one that set this. */
static _Thread_local bool owner_thread;

static struct obj *obj_of(struct rt_remote *node)
{
    return RT_CONTAINER_OF(node, struct obj, remote);
}

static bool is_owner(struct rt_remote *node)
{
    (void)node;
    return owner_thread;
}

static struct rt_reactor *reactor_of(struct rt_remote *node)
{
    return obj_of(node)->reactor;
}

static void wake(struct rt_remote *node, bool foreign)
{
    CHECK(owner_thread);
    struct obj *o = obj_of(node);
    CHECK_EQ(o->frees, 0);
    if (foreign)
        o->foreign_wakes++;
    else
        o->wakes++;
}

static void free_obj(struct rt_remote *node)
{
    CHECK(owner_thread);
    struct obj *o = obj_of(node);
    CHECK_EQ(o->refs, 0u);
    o->frees++; /* the memory stays: the test reads the counters after */
}

static const struct rt_owner_ops ops = {is_owner, reactor_of, wake, free_obj};

static void run(struct rt_remote *node)
{
    rt_owner_run(&ops, node, &obj_of(node)->refs);
}

/* The waker vtable, one line per entry, as a backend writes it. */
static const struct rt_waker_vtable vt;

static struct rt_waker w_clone(void *data)
{
    struct obj *o = data;
    rt_owner_clone(&ops, &o->remote, &o->refs);
    return (struct rt_waker){&vt, o};
}

static void w_wake(void *data)
{
    struct obj *o = data;
    rt_owner_wake(&ops, &o->remote, &o->refs);
}

static void w_wake_by_ref(void *data)
{
    struct obj *o = data;
    rt_owner_wake_by_ref(&ops, &o->remote);
}

static void w_drop(void *data)
{
    struct obj *o = data;
    rt_owner_drop(&ops, &o->remote, &o->refs);
}

static const struct rt_waker_vtable vt = {w_clone, w_wake, w_wake_by_ref,
                                          w_drop};

/* An object with one reference, the owner's, returned as a waker. */
static struct rt_waker obj_init(struct obj *o, struct rt_reactor *r)
{
    rt_remote_init(&o->remote, run);
    o->refs = 1;
    o->reactor = r;
    o->wakes = o->foreign_wakes = o->frees = 0;
    return (struct rt_waker){&vt, o};
}

/* Turns until nothing is queued. */
static void drain(struct rt_reactor *r)
{
    while (rt_reactor_turn(r, 0) > 0)
        ;
}

static void test_owner_only(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct obj o;
    struct rt_waker w = obj_init(&o, r);
    struct rt_waker c = rt_waker_clone(&w);
    CHECK_EQ(o.refs, 2u);
    rt_waker_wake_by_ref(&c);
    rt_waker_wake(&c); /* consumes the clone */
    CHECK_EQ(o.wakes, 2);
    CHECK_EQ(o.refs, 1u);
    CHECK_EQ(o.frees, 0);
    rt_waker_drop(&w);
    CHECK_EQ(o.frees, 1);
    CHECK_EQ(rt_reactor_has_waiters(r), 0); /* nothing was posted */
    rt_reactor_free(r);
}

/* A clone made on another thread and dropped on the owner before the
 * owner has seen it: the owner's count is 0 then, and the drop applies
 * the word first. */
struct clone_arg {
    struct rt_waker *from; /* borrowed */
    struct rt_waker made;
};

static void *clone_thread(void *p)
{
    struct clone_arg *a = p;
    a->made = rt_waker_clone(a->from);
    return NULL;
}

static void test_foreign_clone_owner_drop(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct obj o;
    struct rt_waker w = obj_init(&o, r);
    struct clone_arg a = {&w, RT_WAKER_NONE};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, clone_thread, &a), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(o.refs, 1u); /* the foreign clone is in the word only */
    rt_waker_drop(&w);
    CHECK_EQ(o.refs, 0u);
    CHECK_EQ(o.frees, 0); /* the clone keeps it */
    rt_waker_drop(&a.made);
    CHECK_EQ(o.frees, 1);
    drain(r);
    CHECK_EQ(o.frees, 1);
    rt_reactor_free(r);
}

/* A foreign thread clones, wakes and drops many times while the owner
 * does the same and turns the reactor; the foreign thread's last drop may
 * be the last reference, freeing the object from the node's run. */
struct storm_arg {
    struct rt_waker w; /* owned by the thread: dropped at its end */
    struct rt_reactor *r;
    int rounds;
    atomic_int done;
};

static void *storm_thread(void *p)
{
    struct storm_arg *a = p;
    for (int i = 0; i < a->rounds; i++) {
        struct rt_waker c = rt_waker_clone(&a->w);
        rt_waker_wake_by_ref(&c);
        if (i % 2)
            rt_waker_wake(&c);
        else
            rt_waker_drop(&c);
    }
    rt_waker_drop(&a->w);
    atomic_store(&a->done, 1);
    (void)rt_reactor_notify(a->r);
    return NULL;
}

static void storm(bool owner_drops_first)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    struct obj o;
    struct rt_waker w = obj_init(&o, r);
    struct storm_arg a = {rt_waker_clone(&w), r, 20000, 0};
    CHECK_EQ(o.refs, 2u);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, storm_thread, &a), 0);
    if (owner_drops_first)
        rt_waker_drop(&w);
    int local = 0;
    while (!atomic_load(&a.done)) {
        if (!owner_drops_first) {
            struct rt_waker c = rt_waker_clone(&w);
            rt_waker_wake(&c);
            local++;
        }
        (void)rt_reactor_turn(r, owner_drops_first ? -1 : 0);
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    drain(r);
    CHECK_EQ(o.wakes, local);
    CHECK_GT(o.foreign_wakes, 0);
    CHECK_LE(o.foreign_wakes, a.rounds);
    if (!owner_drops_first) {
        CHECK_EQ(o.frees, 0); /* the owner's reference is still there */
        CHECK_EQ(o.refs, 1u);
        rt_waker_drop(&w);
    }
    CHECK_EQ(o.frees, 1);
    CHECK_EQ(o.refs, 0u);
    CHECK(rt_remote_idle(&o.remote));
    rt_reactor_free(r);
}

int main(void)
{
    owner_thread = true;
    test_owner_only();
    test_foreign_clone_owner_drop();
    storm(false);
    storm(true);
    return 0;
}

/* A multi-worker executor (two workers): tasks are stolen and polled on
 * both, exactly once per wake; a pinned task stays on its worker; join
 * handles work across workers; a foreign thread's wakes reach a task; a
 * deadlock is still found and reported; counts end at zero. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include <greenfut/clock.h>
#include <greenfut/task.h>

#define TASKS 2000

static atomic_uint seen; /* bit i: a task was polled on worker i */
static atomic_long ran;  /* tasks that completed */
static atomic_long deadline_ns;

/* A task that yields until both workers have polled some task (bounded by
 * a deadline, so a machine that never runs the second worker fails the
 * check below instead of hanging). */
struct spinner {
    struct fut_future base;
    int yields;
};

static enum rt_poll spinner_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct spinner *s = (struct spinner *)self;
    (void)out;
    int w = fut_worker();
    CHECK(w == 0 || w == 1);
    atomic_fetch_or(&seen, 1u << w);
    if (atomic_load(&seen) != 3u && s->yields < 100000 &&
        (int64_t)rt_now_ns() < atomic_load(&deadline_ns)) {
        s->yields++;
        rt_waker_wake_by_ref(cx->waker);
        return RT_PENDING;
    }
    atomic_fetch_add(&ran, 1);
    return RT_READY;
}

static const struct fut_vtable spinner_vt = {spinner_poll, NULL, "spinner"};

/* The root: spawns the spinners, then is done (fut_run runs the rest). */
static void test_stealing(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new_with(&ex, &(struct fut_config){.workers = 2}));
    atomic_store(&deadline_ns, (long)(rt_now_ns() + 10000000000ull));
    for (int i = 0; i < TASKS; i++) {
        struct spinner s = {{&spinner_vt}, 0};
        CHECK_OK(fut_spawn(&s.base, sizeof s, 0, NULL));
    }
    CHECK_OK(fut_run());
    CHECK_EQ(atomic_load(&ran), TASKS);
    CHECK_EQ(atomic_load(&seen), 3u); /* polled on both workers */
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, 0);
    CHECK_EQ(st.tasks_allocated, 0);
    fut_executor_free(ex);
}

/* A pinned task: every poll after the pin is on the same worker. */
struct pinned {
    struct fut_future base;
    int n, at;
};

static atomic_int pin_moves;

static enum rt_poll pinned_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct pinned *p = (struct pinned *)self;
    (void)out;
    if (p->n == 0) {
        CHECK_OK(fut_pin());
        p->at = fut_worker();
    } else if (fut_worker() != p->at) {
        atomic_fetch_add(&pin_moves, 1);
    }
    if (++p->n < 2000) {
        rt_waker_wake_by_ref(cx->waker);
        return RT_PENDING;
    }
    return RT_READY;
}

static const struct fut_vtable pinned_vt = {pinned_poll, NULL, "pinned"};

static void test_pin(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new_with(&ex, &(struct fut_config){.workers = 2}));
    atomic_store(&deadline_ns, (long)(rt_now_ns() + 200000000ull));
    for (int i = 0; i < 8; i++) {
        struct pinned p = {{&pinned_vt}, 0, -1};
        CHECK_OK(fut_spawn(&p.base, sizeof p, 0, NULL));
        struct spinner s = {{&spinner_vt}, 0};
        CHECK_OK(fut_spawn(&s.base, sizeof s, 0, NULL));
    }
    CHECK_OK(fut_run());
    CHECK_EQ(atomic_load(&pin_moves), 0);
    CHECK_EQ(fut_pin(), -EPERM); /* outside a poll */
    fut_executor_free(ex);
}

/* A tree of joins: each task spawns two children below a depth, joins
 * both and returns the sum of the leaves' ones. */
struct node {
    struct fut_future base;
    int depth, state;
    struct fut_join a, b;
    long ra, rb;
};

static const struct fut_vtable node_vt;

static enum rt_poll node_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct node *n = (struct node *)self;
    if (n->depth == 0) {
        *(long *)out = 1;
        return RT_READY;
    }
    if (n->state == 0) {
        struct node c = {.base = {&node_vt}, .depth = n->depth - 1};
        CHECK_OK(fut_spawn(&c.base, sizeof c, sizeof(long), &n->a));
        CHECK_OK(fut_spawn(&c.base, sizeof c, sizeof(long), &n->b));
        n->state = 1;
    }
    if (n->state == 1) {
        if (fut_poll(&n->a.base, cx, &n->ra) == RT_PENDING)
            return RT_PENDING;
        CHECK_OK(n->a.err);
        n->state = 2;
    }
    if (fut_poll(&n->b.base, cx, &n->rb) == RT_PENDING)
        return RT_PENDING;
    CHECK_OK(n->b.err);
    *(long *)out = n->ra + n->rb;
    return RT_READY;
}

static const struct fut_vtable node_vt = {node_poll, NULL, "node"};

static void test_join_tree(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new_with(&ex, &(struct fut_config){.workers = 2}));
    for (int round = 0; round < 5; round++) {
        struct node root = {.base = {&node_vt}, .depth = 12};
        long sum = 0;
        CHECK_OK(fut_block_on(&root.base, &sum));
        CHECK_EQ(sum, 1L << 12);
    }
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, 0);
    CHECK_EQ(st.tasks_allocated, 0);
    fut_executor_free(ex);
}

/* Wakes from a foreign thread, while both workers may be idle. */
#define WAKES 20000
static struct rt_waker shared;
static atomic_int stored, done;

struct target {
    struct fut_future base;
};

static enum rt_poll target_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    (void)self;
    (void)out;
    if (!atomic_load(&stored)) {
        shared = rt_waker_clone(cx->waker);
        atomic_store(&stored, 1);
    }
    return atomic_load(&done) ? RT_READY : RT_PENDING;
}

static const struct fut_vtable target_vt = {target_poll, NULL, "target"};

static void *waker_thread(void *arg)
{
    struct rt_reactor *r = arg;
    while (!atomic_load(&stored))
        ;
    for (int i = 0; i < WAKES; i++)
        rt_waker_wake_by_ref(&shared);
    atomic_store(&done, 1);
    rt_waker_wake(&shared); /* consumes the clone */
    rt_reactor_release(r);
    return NULL;
}

static void test_foreign(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new_with(&ex, &(struct fut_config){.workers = 2}));
    struct rt_reactor *r = fut_reactor();
    rt_reactor_hold(r); /* the thread's wakes are a source */
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, waker_thread, r), 0);
    struct target t = {{&target_vt}};
    struct fut_join j;
    CHECK_OK(fut_spawn(&t.base, sizeof t, 0, &j));
    CHECK_OK(fut_join(&j, NULL));
    CHECK_EQ(pthread_join(th, NULL), 0);
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK(st.remote_wakes > 0);
    CHECK_EQ(st.tasks_allocated, 0);
    fut_executor_free(ex);
}

/* A task that waits on nothing: with two workers the deadlock is found. */
static enum rt_poll stuck_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    return RT_PENDING;
}

static const struct fut_vtable stuck_vt = {stuck_poll, NULL, "stuck"};

static void test_deadlock(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new_with(&ex, &(struct fut_config){.workers = 2}));
    struct fut_future f = {&stuck_vt};
    for (int i = 0; i < 4; i++)
        CHECK_OK(fut_spawn(&f, sizeof f, 0, NULL));
    CHECK_EQ(fut_run(), -EDEADLK);
    fut_executor_free(ex);
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_EQ(fut_executor_new_with(
                 &ex, &(struct fut_config){.workers = RT_WORKERS_MAX + 1}),
             -EINVAL);
    test_stealing();
    test_pin();
    test_join_tree();
    test_foreign();
    test_deadlock();
    return 0;
}

/* Cross-thread wakes: a pthread wakes a task 100,000 times through its
 * waker; each wake goes through the reactor's remote queue and the task's
 * NOTIFIED bit, so the task is polled at most once per wake and at least
 * once after the last. Then a foreign thread drops the last reference of a
 * finished task, which is freed on the executor's thread.
 *
 * Then references across threads: a pthread clones and drops a finished
 * task's waker many times, keeps one clone, and the executor's thread drops
 * the original. The task must live on (the clone is a reference the owner
 * has not seen yet) and be freed only after the pthread drops the clone.
 * Last, a clone made on a pthread comes back and is dropped on the
 * executor's thread, before and after the original. */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include <greenfut/task.h>

#define WAKES 100000

static struct rt_waker shared; /* the clone the thread uses */
static atomic_int ready;       /* the task stored `shared` */
static atomic_int done;        /* the thread made its last wake */
static atomic_int finished;    /* the task saw `done` */
static long polls;

static enum rt_poll target_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    (void)self;
    (void)out;
    polls++;
    if (!atomic_load(&ready)) {
        shared = rt_waker_clone(cx->waker);
        atomic_store(&ready, 1);
    }
    if (atomic_load(&done)) {
        atomic_store(&finished, 1);
        return RT_READY;
    }
    return RT_PENDING;
}

static const struct fut_vtable target_vt = {target_poll, NULL, "target"};

static void *waker_thread(void *arg)
{
    struct rt_reactor *r = arg;
    while (!atomic_load(&ready))
        ;
    for (int i = 0; i < WAKES - 1; i++)
        rt_waker_wake_by_ref(&shared);
    atomic_store(&done, 1);
    rt_waker_wake_by_ref(&shared);
    /* Keep the clone until the task is finished, so that this thread's
     * drop is the last reference: the remote free path. */
    while (!atomic_load(&finished))
        ;
    rt_waker_drop(&shared);
    rt_reactor_release(r); /* no more wakes from here */
    return NULL;
}

#define CHURN 10000

static struct rt_waker w_orig, w_kept;
static atomic_int step;

static enum rt_poll holder_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    (void)self;
    (void)out;
    w_orig = rt_waker_clone(cx->waker);
    return RT_READY;
}

static const struct fut_vtable holder_vt = {holder_poll, NULL, "holder"};

static void *clone_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < CHURN; i++) {
        struct rt_waker c = rt_waker_clone(&w_orig);
        rt_waker_drop(&c);
    }
    w_kept = rt_waker_clone(&w_orig);
    atomic_store(&step, 1);
    while (atomic_load(&step) != 2)
        ;
    rt_waker_drop(&w_kept); /* the last reference */
    return NULL;
}

static size_t allocated(void)
{
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    return st.tasks_allocated;
}

static void cross_thread_refs(void)
{
    struct fut_future h = {&holder_vt};
    struct fut_join j;
    CHECK_OK(fut_spawn(&h, sizeof(h), 0, &j));
    CHECK_OK(fut_join(&j, NULL));
    CHECK_EQ(allocated(), 1); /* kept by w_orig */
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, clone_thread, NULL), 0);
    while (atomic_load(&step) != 1)
        ;
    rt_waker_drop(&w_orig);
    CHECK_OK(rt_reactor_turn(fut_reactor(), 0)); /* the churn's posts */
    CHECK_EQ(allocated(), 1);                    /* w_kept still refers to it */
    atomic_store(&step, 2);
    /* The drop's post notifies the reactor: wait for it there. */
    while (allocated() != 0)
        CHECK_GE(rt_reactor_turn(fut_reactor(), -1), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
}

static struct rt_waker w_back;

static void *clone_back(void *arg)
{
    (void)arg;
    w_back = rt_waker_clone(&w_orig);
    return NULL;
}

/* A foreign-made clone dropped by the owner: counted once, freed once. */
static void clone_dropped_by_owner(int clone_first)
{
    struct fut_future h = {&holder_vt};
    struct fut_join j;
    CHECK_OK(fut_spawn(&h, sizeof(h), 0, &j));
    CHECK_OK(fut_join(&j, NULL));
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, clone_back, NULL), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    rt_waker_drop(clone_first ? &w_back : &w_orig);
    CHECK_EQ(allocated(), 1);
    rt_waker_drop(clone_first ? &w_orig : &w_back);
    CHECK_EQ(allocated(), 0);
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct fut_future t = {&target_vt};
    struct fut_join j;
    CHECK_OK(fut_spawn(&t, sizeof(t), 0, &j));
    /* The thread is a wake source the reactor cannot see: hold it, or an
     * idle executor would rightly call this a deadlock. */
    rt_reactor_hold(fut_reactor());
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, waker_thread, fut_reactor()), 0);
    CHECK_OK(fut_join(&j, NULL));
    CHECK_GE(polls, 2);
    CHECK_LE(polls, WAKES + 1);
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_GE(st.remote_wakes, 1);
    CHECK_LE(st.remote_wakes, WAKES);
    /* Run until the hold is released and the foreign drop's free ran. */
    CHECK_OK(fut_run());
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_OK(rt_reactor_turn(fut_reactor(), 0));
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_allocated, 0);
    printf("%ld polls for %d foreign wakes (%llu remote)\n", polls, WAKES,
           (unsigned long long)st.remote_wakes);
    cross_thread_refs();
    clone_dropped_by_owner(1);
    clone_dropped_by_owner(0);
    fut_executor_free(ex);
    return 0;
}

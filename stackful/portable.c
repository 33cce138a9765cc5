/* The stackful side of rt.h: a portable task is a green thread that runs
 * the task function once, straight through. */
#include <greenfut/rt.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt_internal.h"
#include "dump_internal.h"
#include "park.h"
#include "rt_cancel.h"
#include "workers.h"

/* The root's frame is a heap copy (gt_run takes no argument copy), owned
 * and freed by rt_run, which also covers a gt_run that fails before the
 * root starts; every spawned task's frame is copied onto its green
 * thread's own stack. */
/* Takes the wait the frame is suspended in (the child chain's, for a
 * RT_AWAIT_CALL) off its object's queue: the stackful run's teardown calls
 * it for every task still parked, so that no channel, mutex or timer that
 * outlives the run is left pointing into a freed stack (common/rt_cancel.h,
 * as stackless/portable.c's drop); a join needs nothing (it waits on the
 * scheduler's own state, which goes with it). */
static void cancel_op(struct rt_frame *h)
{
    (void)rt__frame_cancel(gt_reactor(), h, NULL);
}

static void cancel_frame(void *arg)
{
    cancel_op(arg);
}

/* A heap frame never ends by itself once its task is torn down: free it
 * here, as heap_entry would have. */
static void cancel_heap_frame(void *arg)
{
    cancel_op(arg);
    free(arg);
}

/* ---- Cancellation (rt_cancel) ------------------------------------------
 * A cancelled task's awaits poll with cancelled_waker (rt_stackful_waker
 * returns it once rt_cancel stored it in the thread), which every poll
 * function refuses: its refusal path calls cancel_check below, on the
 * task's own stack, which takes the innermost frame's wait off its
 * object, and the await returns -ECANCELED. The park itself is untouched: the
 * wake rt_cancel sends makes the thread poll again, and that poll is refused.
 * A join polls nothing: gt_join looks at the same waker after every wake,
 * and gives the join up (sched.c's join_give_up).
 */

/* The frame of the chain under h that is suspended in a leaf operation
 * (h itself when it awaits no child). */
static struct rt_frame *innermost(struct rt_frame *h)
{
    while (h->op == RT__OP_CHILD && h->u.child)
        h = h->u.child;
    return h;
}

/* The empty waker of a cancelled task's context: rt_cx_ok refuses it. */
static const struct rt_waker cancelled_waker = {NULL, NULL};

/* rt__cancel_check (include/greenfut/rt_poll.h): for a cancelled task,
 * takes its innermost frame's wait off its object. */
static int cancel_check(void)
{
    struct gt__thread *self = gt__self();
    if (!self || !self->arg ||
        __atomic_load_n(&self->portable_waker, __ATOMIC_ACQUIRE) !=
            &cancelled_waker)
        return 1;
    struct rt_frame *h = innermost(self->arg);
    rt__frame_withdraw_io(gt_reactor(), h, &self->waker);
    return rt__frame_cancel(gt_reactor(), h, NULL) ? 0 : -ECANCELED;
}

const struct rt_waker *rt_stackful_waker(void)
{
    struct gt__thread *self = gt__self();
    return self ? __atomic_load_n(&self->portable_waker, __ATOMIC_ACQUIRE)
                : NULL;
}

int rt_cancel(struct rt_join *join)
{
    struct gt__worker *wk = gt__here();
    if (!wk)
        return -EPERM;
    int64_t id = join ? __atomic_load_n(&join->id, __ATOMIC_ACQUIRE) : 0;
    if (id <= 0)
        return -ESRCH;
    if (!atomic_load_explicit(&rt__cancel_check, memory_order_relaxed))
        atomic_store_explicit(&rt__cancel_check, cancel_check,
                              memory_order_relaxed);
    struct gt__sched *s = wk->s;
    bool mt = s->ws != NULL;
    /* The id holds a reference until joined: under ids_lock the thread
     * cannot go. A wake under it keeps the lock order (ids_lock, then a
     * run queue's), as a thread's end waking its joiner does. */
    if (mt)
        rt_spin_lock_always(&s->ids_lock);
    struct gt__slot *slot = gt__thread_find(s, id);
    int rc = -ESRCH;
    if (slot) {
        struct gt__thread *t = slot->t;
        rc = 0;
        unsigned st = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
        if ((st & GT__STATE) != GT__DONE) {
            __atomic_store_n(&t->portable_waker, &cancelled_waker,
                             __ATOMIC_RELEASE);
            /* t->waker is fixed from the spawn on. */
            rt_waker_wake_by_ref(&t->waker);
        }
    }
    if (mt)
        rt_spin_unlock(&s->ids_lock, true);
    return rc;
}

int rt_cancelled(void)
{
    return rt_stackful_waker() == &cancelled_waker;
}

/* The root's and every spawned task's whose frame is not on the heap
 * (its cancel hook, cancel_frame, is given at the spawn). rt_run frees the
 * root's frame; a spawned one is on its stack. */
static void *frame_entry(void *arg)
{
    struct rt_frame *h = arg;
    (void)h->fn(h);
    return (void *)h->ret;
}

/* A spawned frame too big for the thread's stack: a heap copy that dies
 * with the task. */
static void *heap_entry(void *arg)
{
    struct rt_frame *h = arg;
    (void)h->fn(h);
    intptr_t v = h->ret;
    free(h);
    return (void *)v;
}

/* Frames from 2 GiB up are refused before the template is read or memory
 * asked for, as the stackless backend's frame allocator refuses them: the
 * same -ENOMEM on both backends, where a sanitizer's malloc would abort. */
#define FRAME_MAX ((size_t)UINT32_MAX / 2)

static void init_header(struct rt_frame *h, rt_task_fn fn)
{
    h->state = 0;
    h->op = RT__OP_NONE;
    h->fn = fn;
    h->ret = 0;
}

/* The spawn's init hook: the header of the frame copied onto the new
 * thread's stack, before the thread can run (on any worker). */
static void init_copy(void *arg, void *fn)
{
    init_header(arg, (rt_task_fn)(uintptr_t)fn);
}

static void frame_wait(const void *frame, struct rt__dump_task *d);

/* Gives describe() the frame reader, once: every portable task is spawned
 * here or by rt_run, so it is set before any of them parks. */
static void note_frame_wait(void)
{
    if (!atomic_load_explicit(&gt__frame_wait, memory_order_relaxed))
        atomic_store_explicit(&gt__frame_wait, frame_wait,
                              memory_order_relaxed);
}

int rt_spawn(rt_task_fn fn, const void *frame, size_t size,
             struct rt_join *join)
{
    /* For the watchdog: the task is named by its own function and by the
     * call to rt_spawn, not by the wrappers above. */
    struct gt__site at = {.site = (uintptr_t)__builtin_return_address(0),
                          .entry = (uintptr_t)fn,
                          .detached = join == NULL};
    if (join) {
        join->id = 0;
        join->ret = 0;
    }
    if (!fn || !frame || size < sizeof(struct rt_frame))
        return -EINVAL;
    if (!gt_reactor())
        return -EPERM;
    if (size > FRAME_MAX)
        return -ENOMEM;
    note_frame_wait();
    /* A frame of up to a quarter of the stack is copied onto the thread's
     * own stack; a bigger one goes to the heap. */
    int64_t id;
    if (size <= GT_STACK_DEFAULT / 4) {
        struct gt_opts opts = {.arg_size = size};
        at.init = init_copy;
        at.init_data = (void *)(uintptr_t)fn;
        at.cancel = cancel_frame;
        id = gt__spawn_at(frame_entry, (void *)(uintptr_t)frame, &opts, &at);
        if (id < 0)
            return (int)id;
    } else {
        struct rt_frame *h = malloc(size);
        if (!h)
            return -ENOMEM;
        memcpy(h, frame, size);
        init_header(h, fn);
        at.cancel = cancel_heap_frame;
        id = gt__spawn_at(heap_entry, h, NULL, &at);
        if (id < 0) {
            free(h);
            return (int)id;
        }
    }
    if (join)
        join->id = id;
    return 0;
}

/* gt__frame_wait: the wait of the frame a green thread is parked in. */
static void frame_wait(const void *frame, struct rt__dump_task *d)
{
    const struct rt_frame *h = frame;
    while (h->op == RT__OP_CHILD && h->u.child)
        h = h->u.child;
    const char *what = d->wait; /* gt_park's, when the op names none */
    rt__frame_wait(h, d);
    if (!d->wait)
        d->wait = what;
}

void rt_stackful_park(struct rt_frame *h, const char *what)
{
    gt__park(what, h);
}

int rt_stackful_join(struct rt_join *join)
{
    /* Atomics: with several workers two tasks may await one handle at
     * once (the second gets -ESRCH, as gt_join refuses it). */
    int64_t id = join ? __atomic_load_n(&join->id, __ATOMIC_ACQUIRE) : 0;
    if (id <= 0)
        return rt_cancelled() ? -ECANCELED : -ESRCH;
    /* A cancelled task's join, whether the cancel came before it began or
     * while it waited, is given up in gt_join: the joined task runs on
     * detached, and the handle is empty, as stackless drops its join
     * future. */
    void *v = NULL;
    int rc = gt_join(id, &v);
    __atomic_store_n(&join->id, 0, __ATOMIC_RELEASE);
    if (rc < 0)
        return rt_cancelled() ? -ECANCELED : -ESRCH;
    join->ret = (intptr_t)v;
    return 0;
}

/* rt_run and rt_run_opts, named by the call at `site` for the watchdog. */
static int run_at(const struct rt_opts *opts, rt_task_fn fn, const void *frame,
                  size_t size, intptr_t *ret, uintptr_t site)
{
    if (!fn || !frame || size < sizeof(struct rt_frame))
        return -EINVAL;
    if (gt_reactor())
        return -EBUSY;
    if (size > FRAME_MAX)
        return -ENOMEM;
    /* No options: RT_WORKERS decides, in gt_run (workers 0). */
    int n = opts ? rt_workers_count(opts->workers, true) : 0;
    if (n < 0)
        return n;
    note_frame_wait();
    struct rt_frame *h = malloc(size);
    if (!h)
        return -ENOMEM;
    memcpy(h, frame, size);
    init_header(h, fn);
    void *v = NULL;
    struct gt__site at = {
        .site = site, .entry = (uintptr_t)fn, .cancel = cancel_frame};
    struct gt_config cfg = {.pool_max = 64, .workers = (unsigned)n};
    int rc = gt__run_at(&cfg, frame_entry, h, &v, &at);
    free(h); /* every green thread is gone when gt_run returns */
    if (rc == 0 && ret)
        *ret = (intptr_t)v;
    return rc;
}

int rt_run(rt_task_fn fn, const void *frame, size_t size, intptr_t *ret)
{
    return run_at(NULL, fn, frame, size, ret,
                  (uintptr_t)__builtin_return_address(0));
}

int rt_run_opts(const struct rt_opts *opts, rt_task_fn fn, const void *frame,
                size_t size, intptr_t *ret)
{
    return run_at(opts, fn, frame, size, ret,
                  (uintptr_t)__builtin_return_address(0));
}

int rt_pin(void)
{
    return gt_pin();
}

int rt_worker_index(void)
{
    return gt_worker();
}

int rt_register(int fd)
{
    return gt_reactor() ? gt_register(fd) : -EPERM;
}

int rt_close(int fd)
{
    return gt_reactor() ? gt_close(fd) : -EPERM;
}

struct rt_reactor *rt_reactor_current(void)
{
    return gt_reactor();
}

const char *rt_backend_name(void)
{
    return "stackful";
}

/* The stackless side of rt.h: a portable task is a future whose poll calls
 * the task function with the poll's context at hand. */
#include <greenfut/rt.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include "executor_internal.h"
#include "join_internal.h"
#include <greenfut/leaf.h>
#include "dump_internal.h"
#include "rt_cancel.h"
#include "task_internal.h"
#include "workers.h"

/* The context of the task being polled on this thread, set by
 * portable_poll for the duration of one poll. */
static _Thread_local struct rt_cx *polling_cx;

struct rt_cx *rt_stackless_cx(void)
{
    return polling_cx;
}

/* ---- Cancellation (rt_cancel) ------------------------------------------
 * rt_cancel swaps the frame's fn for cancelled_task, which runs the real
 * function with cancelled_cx as the context of every await: each poll
 * function refuses it, its refusal path calls cancel_check (the wait the
 * frame was suspended in leaves its object), and the await returns
 * -ECANCELED.
 * portable_poll reads fn at every poll anyway, so a cancellable task
 * costs a poll nothing more. rt_cancel writes fn only while no poll can
 * read it: on the task's one worker, or with the task borrowed
 * (fut__task_borrow); one that runs or is queued when the cancel comes
 * gets it from a small task that tries again after each yield. The real
 * fn is kept in a record of the process-wide list below. */

/* The record of a cancelled frame. */
struct cancelled {
    struct rt_frame *h;
    rt_task_fn fn;           /* the frame's own task function */
    struct fut_executor *ex; /* whose rt_run frees the record at its end */
    struct cancelled *next;
};

/* Every record; the lock is taken whatever rt_mt() says, as runs on other
 * OS threads (one scheduler per thread) share the list. */
static struct cancelled *cancelled_list;
static struct rt_spin cancelled_lock = RT_SPIN_INIT;

/* The record's fn, or NULL. Lock held. */
static struct cancelled **record_of(const struct rt_frame *h)
{
    struct cancelled **at = &cancelled_list;
    while (*at && (*at)->h != h)
        at = &(*at)->next;
    return at;
}

static rt_task_fn real_fn(const struct rt_frame *h)
{
    rt_spin_lock_always(&cancelled_lock);
    struct cancelled *c = *record_of(h);
    rt_task_fn fn = c ? c->fn : NULL;
    rt_spin_unlock(&cancelled_lock, true);
    return fn;
}

/* The cancelled frame being polled on this thread (cancelled_task sets
 * it), for withdraw. */
static _Thread_local struct rt_frame *polling_cancelled;
/* The real context of that poll, whose waker rt__frame_withdraw_io
 * compares. */
static _Thread_local struct rt_cx *polling_real_cx;

static struct rt_frame *innermost(struct rt_frame *h)
{
    while (h->op == RT__OP_CHILD && h->u.child)
        h = h->u.child;
    return h;
}

static void cancel_join(struct rt_frame *h);

/* The empty waker of a cancelled task's context: rt_cx_ok refuses it. */
static const struct rt_waker cancelled_waker = {NULL, NULL};
static struct rt_cx cancelled_cx = {&cancelled_waker};

/* rt__cancel_check (include/greenfut/rt_poll.h): for the cancelled frame
 * being polled, takes its innermost frame's wait off its object. */
static int cancel_check(void)
{
    struct rt_frame *h = polling_cancelled;
    if (!h || polling_cx != &cancelled_cx)
        return 1;
    h = innermost(h);
    if (polling_real_cx)
        rt__frame_withdraw_io(fut_reactor(), h, polling_real_cx->waker);
    return rt__frame_cancel(fut_reactor(), h, cancel_join) ? 0 : -ECANCELED;
}

/* A cancelled frame's fn: its real function under cancelled_cx. A task
 * that is still pending (a yield, or an await its code retries) is woken
 * again through its real waker, so it runs to its end. */
static enum rt_poll cancelled_task(void *self)
{
    struct rt_frame *h = self;
    rt_task_fn fn = real_fn(h);
    RT_ASSERT(fn != NULL);
    struct rt_cx *real = polling_cx;
    struct rt_frame *outer = polling_cancelled;
    struct rt_cx *outer_cx = polling_real_cx;
    polling_cx = &cancelled_cx;
    polling_cancelled = h;
    polling_real_cx = real;
    enum rt_poll p = fn(h);
    polling_cx = real;
    polling_cancelled = outer;
    polling_real_cx = outer_cx;
    if (p == RT_PENDING)
        rt_waker_wake_by_ref(real->waker);
    return p;
}

static enum rt_poll portable_poll(struct fut_future *self, struct rt_cx *cx,
                                  void *out)
{
    struct rt_frame *h = (struct rt_frame *)self;
    struct rt_cx *outer = polling_cx; /* block_on may nest a poll */
    polling_cx = cx;
    enum rt_poll p = h->fn(h);
    polling_cx = outer;
    if (p == RT_READY && out && out != (void *)&h->ret)
        memcpy(out, &h->ret, sizeof(h->ret));
    return p;
}

/* A frame suspended in a join holds the join future: dropping it gives the
 * handle up. */
static void cancel_join(struct rt_frame *h)
{
    fut_drop(&h->u.join->j.base);
}

/* Cancels whatever the frame is suspended in, the child chain first
 * (common/rt_cancel.h). This is what makes dropping a portable task safe:
 * no timer, waiter or job is left pointing into the freed frame. */
static void cancel_op(struct rt_frame *h)
{
    (void)rt__frame_cancel(fut_reactor(), h, cancel_join);
}

/* Frees the record of a cancelled frame that is dropped. */
static void forget(struct rt_frame *h)
{
    rt_spin_lock_always(&cancelled_lock);
    struct cancelled **at = record_of(h);
    struct cancelled *c = *at;
    if (c)
        *at = c->next;
    rt_spin_unlock(&cancelled_lock, true);
    free(c);
}

static void portable_drop(struct fut_future *self)
{
    struct rt_frame *h = (struct rt_frame *)self;
    cancel_op(h);
    if (h->fn == cancelled_task)
        forget(h);
}

/* Installs cancelled_task in t's frame, with record c (freed when the
 * frame was cancelled already). The caller owns t's frame for the moment:
 * it runs on the task's only worker, or has borrowed it
 * (fut__task_borrow), so no poll reads fn meanwhile and plain accesses
 * do; the lock orders the record for the polls that look it up. */
static void install(struct fut__task *t, struct cancelled *c)
{
    struct rt_frame *h = (struct rt_frame *)fut__task_frame(t);
    rt_spin_lock_always(&cancelled_lock);
    if (h->fn == cancelled_task) { /* cancelled before */
        rt_spin_unlock(&cancelled_lock, true);
        free(c);
        return;
    }
    c->h = h;
    c->fn = h->fn;
    c->next = cancelled_list;
    cancelled_list = c;
    h->fn = cancelled_task;
    rt_spin_unlock(&cancelled_lock, true);
}

/* Several workers: borrows t and installs the record. Returns false while
 * t runs or is queued (then it is polled soon, and this is tried again);
 * true once done, or when t completed (c is then freed). */
static bool install_mt(struct fut__task *t, struct cancelled *c)
{
    if (!fut__task_borrow(t)) {
        if (!(__atomic_load_n(&t->flags, __ATOMIC_ACQUIRE) & FUT__COMPLETE))
            return false;
        free(c);
        return true;
    }
    install(t, c);
    fut__task_give_back(t);
    /* Polled again: its pending await is refused. */
    struct rt_waker w = fut__task_waker(t);
    rt_waker_wake_by_ref(&w);
    return true;
}

/* Several workers, the target busy when rt_cancel came: a task of our own
 * that tries again after each yield, holding a reference to it. */
struct cancel_later {
    RT_FRAME;
    struct fut__task *t;
    struct cancelled *c;
    struct rt_waker ref; /* a clone of t's waker: t's reference */
};

static enum rt_poll cancel_later(void *self)
{
    struct cancel_later *f = self;
    RT_BEGIN(f);
    while (!install_mt(f->t, f->c))
        RT_AWAIT_YIELD(f);
    rt_waker_drop(&f->ref);
    RT_END(f);
}

static int spawn_at(rt_task_fn fn, const void *frame, size_t size,
                    struct rt_join *join, uintptr_t site);

int rt_cancel(struct rt_join *join)
{
    struct fut_executor *ex = fut_executor_current();
    if (!ex)
        return -EPERM;
    if (!join || fut_dropped(&join->j.base) || !join->j.task)
        return -ESRCH;
    if (!atomic_load_explicit(&rt__cancel_check, memory_order_relaxed))
        atomic_store_explicit(&rt__cancel_check, cancel_check,
                              memory_order_relaxed);
    struct fut__task *t = join->j.task; /* the handle's reference keeps it */
    if (__atomic_load_n(&t->flags, __ATOMIC_ACQUIRE) & FUT__COMPLETE)
        return 0;
    struct cancelled *c = malloc(sizeof *c);
    if (!c)
        return -ENOMEM;
    c->ex = ex;
    if (!t->tasks->ws) { /* one worker: t is not being polled now */
        install(t, c);
        struct rt_waker w = fut__task_waker(t);
        rt_waker_wake_by_ref(&w);
        return 0;
    }
    if (install_mt(t, c))
        return 0;
    struct rt_waker w = fut__task_waker(t);
    struct cancel_later l = {.t = t, .c = c, .ref = rt_waker_clone(&w)};
    int rc = spawn_at(cancel_later, &l, sizeof l, NULL,
                      (uintptr_t)__builtin_return_address(0));
    if (rc < 0) {
        rt_waker_drop(&l.ref);
        free(c);
    }
    return rc;
}

int rt_cancelled(void)
{
    return polling_cx == &cancelled_cx;
}

/* The records of executor ex's frames that completed before their cancel
 * was seen (their drop saw the real fn): freed when its run ends. */
static void forget_all(struct fut_executor *ex)
{
    rt_spin_lock_always(&cancelled_lock);
    struct cancelled **at = &cancelled_list;
    while (*at) {
        struct cancelled *c = *at;
        if (c->ex == ex) {
            *at = c->next;
            free(c);
        } else {
            at = &c->next;
        }
    }
    rt_spin_unlock(&cancelled_lock, true);
}

static const struct fut_vtable portable_vt = {
    .poll = portable_poll,
    .drop = portable_drop,
    .name = "portable task",
};

/* The dump's and deadlock report's view of a portable task (fut__about):
 * its own function rather than the one vtable all portable tasks share,
 * the chain of child frames it awaits through with each one's resume line
 * (the frame's state is the __LINE__ of its await), and the op its
 * innermost child frame is suspended in. */
/* The frame's task function, its real one when it was cancelled. */
static rt_task_fn fn_of(const struct rt_frame *h)
{
    return h->fn == cancelled_task ? real_fn(h) : h->fn;
}

static uintptr_t entry_of(const struct fut_future *frame)
{
    /* Atomic: the dump calls this for a task that another worker may be
     * ending (fut_drop clears the vtable). */
    return __atomic_load_n(&frame->vt, __ATOMIC_RELAXED) == &portable_vt
               ? (uintptr_t)fn_of((const struct rt_frame *)frame)
               : 0;
}

static bool about(const struct fut_future *frame, struct fut__about *out)
{
    if (frame->vt != &portable_vt)
        return false;
    const struct rt_frame *h = (const struct rt_frame *)frame;
    out->fn = (uintptr_t)fn_of(h);
    out->inner = 0;
    out->chain[0] = out->fn;
    out->files[0] = h->file;
    out->lines[0] = h->state;
    out->depth = 1;
    while (h->op == RT__OP_CHILD && h->u.child) {
        h = h->u.child;
        out->inner = (uintptr_t)h->fn;
        if (out->depth < FUT__ABOUT_DEPTH) {
            out->chain[out->depth] = out->inner;
            out->files[out->depth] = h->file;
            out->lines[out->depth++] = h->state;
        }
    }
    struct rt__dump_task w = {.fd = -1};
    rt__frame_wait(h, &w);
    out->waits = w.wait;
    out->obj = w.obj;
    out->fd = w.fd;
    out->deadline = w.deadline;
    out->join_id = 0;
    out->join_fn = 0;
    /* A join names the task joined: the handle holds a reference to it,
     * and its id and function were fixed at its spawn. */
    struct fut__task *jt =
        h->op == RT__OP_JOIN && h->u.join ? h->u.join->j.task : NULL;
    if (jt) {
        out->join_id = jt->id;
        out->join_fn = entry_of(fut__task_frame(jt));
    }
    return true;
}

enum rt_poll rt_stackless_poll_yield(struct rt_frame *h)
{
    return fut_poll_yield(&h->u.yielded, polling_cx);
}

static inline __attribute__((always_inline)) enum rt_poll
poll_join(struct rt_frame *h, struct rt_join *join);

enum rt_poll rt_stackless_poll_join(struct rt_frame *h, struct rt_join *join)
{
    if (!rt_cx_ok(polling_cx)) { /* cancelled: the handle is given up */
        h->r.i = rt__cx_refusal();
        return RT_READY;
    }
    if (!join) {
        h->r.i = -ESRCH;
        return RT_READY;
    }
    /* With workers two tasks may join one handle at once: its test, poll,
     * error and drop are one step under the handle's lock. */
    if (!fut__current->ws)
        return poll_join(h, join);
    fut__join_hold_mt(&join->j);
    enum rt_poll r = poll_join(h, join);
    fut__join_release_mt(&join->j);
    return r;
}

static inline __attribute__((always_inline)) enum rt_poll
poll_join(struct rt_frame *h, struct rt_join *join)
{
    if (fut_dropped(&join->j.base)) {
        h->r.i = -ESRCH;
        return RT_READY;
    }
    intptr_t v = 0;
    if (fut_poll(&join->j.base, polling_cx, &v) == RT_PENDING)
        return RT_PENDING;
    int err = fut_join_error(&join->j);
    if (err == -EBUSY) { /* another task awaits it: the handle stays its */
        h->r.i = -ESRCH;
        return RT_READY;
    }
    fut_drop(&join->j.base);
    if (err) {
        h->r.i = -ESRCH;
    } else {
        join->ret = v;
        h->r.i = 0;
    }
    return RT_READY;
}

/* Builds the task's frame in its final place: the template's bytes, then
 * the header fields only we may set. */
static struct fut_future *make_task(rt_task_fn fn, const void *frame,
                                    size_t size)
{
    /* The frame's own `ret` is the output slot: nothing after the frame. */
    struct fut_future *ff = fut__frame_alloc_in(
        size, offsetof(struct rt_frame, ret), sizeof(intptr_t));
    if (!ff)
        return NULL;
    memcpy(ff, frame, size);
    struct rt_frame *h = (struct rt_frame *)ff;
    h->base.vt = &portable_vt;
    h->file = NULL;
    h->state = 0;
    h->op = RT__OP_NONE;
    h->fn = fn;
    h->ret = 0;
    return ff;
}

/* rt_spawn with the site the watchdog names: the task's own function and
 * the return address of the public call (rt_spawn's or rt_run's). */
static int spawn_at(rt_task_fn fn, const void *frame, size_t size,
                    struct rt_join *join, uintptr_t site)
{
    if (join) {
        fut_join_init(&join->j);
        join->ret = 0;
    }
    if (!fn || !frame || size < sizeof(struct rt_frame))
        return -EINVAL;
    if (!fut_executor_current())
        return -EPERM;
    /* Atomics: spawns on several workers store the same two pointers,
     * which the dump reads on any of them. */
    __atomic_store_n(&fut__about, about, __ATOMIC_RELAXED);
    __atomic_store_n(&fut__entry, entry_of, __ATOMIC_RELAXED);
    struct fut_future *ff = make_task(fn, frame, size);
    if (!ff)
        return -ENOMEM;
    int rc =
        fut__frame_spawn_at(ff, join ? &join->j : NULL, site, (uintptr_t)fn);
    if (rc < 0) {
        fut_frame_discard(ff);
        return rc;
    }
    /* The portable API never drops a handle: one that is not awaited is
     * ended by the executor's teardown, as gt_run frees unjoined threads. */
    if (join)
        fut__join_end_at_free(&join->j);
    return 0;
}

int rt_spawn(rt_task_fn fn, const void *frame, size_t size,
             struct rt_join *join)
{
    return spawn_at(fn, frame, size, join,
                    (uintptr_t)__builtin_return_address(0));
}

int rt_run(rt_task_fn fn, const void *frame, size_t size, intptr_t *ret)
{
    return rt_run_opts(NULL, fn, frame, size, ret);
}

int rt_run_opts(const struct rt_opts *opts, rt_task_fn fn, const void *frame,
                size_t size, intptr_t *ret)
{
    if (!fn || !frame || size < sizeof(struct rt_frame))
        return -EINVAL;
    if (fut_executor_current())
        return -EBUSY;
    int n = rt_workers_count(opts ? opts->workers : 0, opts != NULL);
    if (n < 0)
        return n;
    struct fut_executor *ex;
    int rc = fut_executor_new_with(
        &ex, &(struct fut_config){.workers = (unsigned)n});
    if (rc < 0)
        return rc;
    struct rt_join root;
    rc = spawn_at(fn, frame, size, &root,
                  (uintptr_t)__builtin_return_address(0));
    intptr_t v = 0;
    if (rc == 0)
        rc = fut_join(&root.j, &v);
    if (rc == 0)
        rc = fut_run(); /* the tasks the root left behind */
    fut_drop(&root.j.base);
    fut_executor_free(ex);
    forget_all(ex);
    if (rc == 0 && ret)
        *ret = v;
    return rc;
}

int rt_register(int fd)
{
    return fut_register(fd);
}

int rt_close(int fd)
{
    return fut_close(fd);
}

struct rt_reactor *rt_reactor_current(void)
{
    return fut_reactor();
}

const char *rt_backend_name(void)
{
    return "stackless";
}

int rt_pin(void)
{
    return fut_pin();
}

int rt_worker_index(void)
{
    return fut__polling || (fut__current && fut__current->cur) ? fut_worker()
                                                               : -EPERM;
}

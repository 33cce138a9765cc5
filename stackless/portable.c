/* The stackless side of rt.h: a portable task is a future whose poll calls
 * the task function with the poll's context at hand. */
#include <greenfut/rt.h>

#include <errno.h>
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
    rt__frame_cancel(fut_reactor(), h, cancel_join);
}

static void portable_drop(struct fut_future *self)
{
    cancel_op((struct rt_frame *)self);
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
static uintptr_t entry_of(const struct fut_future *frame)
{
    return frame->vt == &portable_vt
               ? (uintptr_t)((const struct rt_frame *)frame)->fn
               : 0;
}

static bool about(const struct fut_future *frame, struct fut__about *out)
{
    if (frame->vt != &portable_vt)
        return false;
    const struct rt_frame *h = (const struct rt_frame *)frame;
    out->fn = (uintptr_t)h->fn;
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

enum rt_poll rt_stackless_poll_join(struct rt_frame *h, struct rt_join *join)
{
    if (!join || fut_dropped(&join->j.base)) {
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

/* Tasks: allocation, reference counting, the task waker, one poll.
 *
 * A task lives as long as its reference count is above zero: one reference
 * belongs to the scheduler until the future is done, one to the join handle
 * until it is joined or dropped, one to every waker clone. Everything
 * happens on the executor's thread, the free included: a foreign thread
 * only adds to the word of the task's remote node (common/owner.h), and
 * the owner applies it when the reactor runs the node.
 */
#include <greenfut/task.h>

#include <errno.h>
#include <string.h>

#include <greenfut/check.h>
#include "owner.h"
#include "task_internal.h"
#include "wait_note.h"
#include "watchdog_internal.h"

_Thread_local struct fut__tasks *fut__current;
_Thread_local const char *fut__wait_note;

void fut__tasks_init(struct fut__tasks *ts, struct rt_reactor *r)
{
    memset(ts, 0, sizeof(*ts));
    ts->reactor = r;
    rt_list_init(&ts->ready);
    fut__slab_init(&ts->slab);
    fut__current = ts;
}

bool fut__tasks_fini(struct fut__tasks *ts)
{
    fut__current = NULL;
    if (ts->allocated)
        return false;
    fut__slab_fini(&ts->slab);
    return true;
}

/* One element of a fut__for_each_task walk. */
struct walk {
    struct fut__tasks *ts;
    unsigned mask, want;
    void (*fn)(struct fut__tasks *, struct fut__task *);
};

static void walk_slot(void *slot, void *arg)
{
    struct walk *w = arg;
    struct fut__task *t = slot;
    if ((t->flags & w->mask) == w->want)
        w->fn(w->ts, t);
}

void fut__for_each_task(struct fut__tasks *ts, unsigned mask, unsigned want,
                        void (*fn)(struct fut__tasks *, struct fut__task *))
{
    struct walk w = {ts, mask, want, fn};
    fut__slab_walk(&ts->slab, walk_slot, &w);
}

void fut__for_each_pending(struct fut__tasks *ts,
                           void (*fn)(struct fut__tasks *, struct fut__task *))
{
    fut__for_each_task(ts, FUT__SPAWNED | FUT__COMPLETE, FUT__SPAWNED, fn);
}

static void task_free(struct fut__task *t)
{
    struct fut__tasks *ts = t->tasks;
    size_t slot = t->flags & FUT__OWN_CHUNK
                      ? fut__slab_own_size(t)
                      : ((size_t)t->units + 1) * FUT__SLOT_STEP;
    ts->allocated--;
    ts->bytes -= slot;
    if (rt__watchdog_noting())
        rt__watchdog_forget(fut__task_frame(t));
    t->flags = 0; /* a free slot: the chunk walk skips it */
    fut__slab_free(&ts->slab, t, slot);
}

/* The ownership protocol (common/owner.h) over a task: the owner is the
 * executor's thread, a wake queues the task. */
static struct fut__task *task_of_node(struct rt_remote *node)
{
    return RT_CONTAINER_OF(node, struct fut__task, remote);
}

static bool is_owner(struct rt_remote *node)
{
    return task_of_node(node)->tasks == fut__current;
}

static struct rt_reactor *reactor_of(struct rt_remote *node)
{
    return task_of_node(node)->tasks->reactor;
}

/* A foreign wake of a finished task is dropped (its NOTIFIED is pinned
 * anyway) and not counted. */
static void wake(struct rt_remote *node, bool foreign)
{
    struct fut__task *t = task_of_node(node);
    if (foreign) {
        if (t->flags & FUT__COMPLETE)
            return;
        t->tasks->remote_wakes++;
    }
    fut__task_wake_local(t);
}

static void free_node(struct rt_remote *node)
{
    task_free(task_of_node(node));
}

static const struct rt_owner_ops task_owner = {is_owner, reactor_of, wake,
                                               free_node};

void fut__task_unref(struct fut__task *t)
{
    RT_ASSERT(t->tasks == fut__current);
    rt_owner_unref(&task_owner, &t->remote, &t->refs);
}

/* Runs on the owner thread, called by the reactor's turn: what other
 * threads did to the task since the last run (see task_internal.h). */
static void remote_run(struct rt_remote *node)
{
    rt_owner_run(&task_owner, node, &task_of_node(node)->refs);
}

static struct rt_waker waker_clone(void *data)
{
    struct fut__task *t = data;
    rt_owner_clone(&task_owner, &t->remote, &t->refs);
    return (struct rt_waker){&fut__task_waker_vt, t};
}

static void waker_wake(void *data)
{
    struct fut__task *t = data;
    rt_owner_wake(&task_owner, &t->remote, &t->refs);
}

static void waker_wake_by_ref(void *data)
{
    struct fut__task *t = data;
    rt_owner_wake_by_ref(&task_owner, &t->remote);
}

static void waker_drop(void *data)
{
    struct fut__task *t = data;
    rt_owner_drop(&task_owner, &t->remote, &t->refs);
}

const struct rt_waker_vtable fut__task_waker_vt = {
    waker_clone, waker_wake, waker_wake_by_ref, waker_drop};

/* The frame is done (or abandoned): release it and everyone waiting. */
static void finish(struct fut__tasks *ts, struct fut__task *t)
{
    fut_drop(fut__task_frame(t));
    t->flags |= FUT__COMPLETE;
    /* Pin notified at 1 so no wake queues the task again; if it was queued
     * meanwhile, unqueue it. */
    t->flags |= FUT__NOTIFIED;
    if (t->flags & FUT__IN_READY) {
        rt_list_remove(&t->ready);
        t->flags &= (uint8_t)~FUT__IN_READY;
    }
    ts->pending--;
    rt_waker_wake(&t->join);
    fut__task_unref(t); /* the scheduler's reference */
}

void fut__task_run(struct fut__tasks *ts, struct fut__task *t)
{
    /* Clear NOTIFIED before polling: a wake during the poll queues the
     * task again. Rust: tokio's transition_to_running. */
    t->flags &= (uint8_t) ~(FUT__IN_READY | FUT__NOTIFIED);
    struct rt_waker w = {&fut__task_waker_vt, t}; /* borrowed, no ref */
    struct rt_cx cx = {&w};
    ts->cur = t;
    ts->polls++;
    fut__wait_note = NULL;
    enum rt_poll r = fut_poll(fut__task_frame(t), &cx, fut__task_out(t));
    ts->cur = NULL;
    if (r == RT_READY) {
        finish(ts, t);
        return;
    }
#if defined(RT_DEBUG) && RT_DEBUG
    t->wait_on = fut__wait_note;
#endif
}

void fut__task_cancel(struct fut__tasks *ts, struct fut__task *t)
{
    t->flags |= FUT__CANCELLED;
    finish(ts, t);
}

/* ---- Allocation ---- */

/* Allocates a task whose output slot starts `out_off` bytes into the slot
 * and whose slot holds at least `bytes`. */
static struct fut_future *frame_alloc(size_t out_off, size_t out_size,
                                      size_t bytes)
{
    struct fut__tasks *ts = fut__current;
    size_t slot = fut__slab_slot_size(bytes);
    struct fut__task *t = fut__slab_alloc(&ts->slab, slot);
    if (!t)
        return NULL;
    rt_remote_init(&t->remote, remote_run);
    t->tasks = ts;
    t->join = RT_WAKER_NONE;
    t->refs = 1;
    t->units = (uint8_t)(slot / FUT__SLOT_STEP - 1); /* slab slots only */
    t->flags = fut__slab_own_chunk(slot) ? FUT__OWN_CHUNK : 0;
    t->out_size = (uint16_t)out_size;
    t->id = 0;
    t->out_off = (uint32_t)out_off;
#if defined(RT_DEBUG) && RT_DEBUG
    t->wait_on = NULL;
#endif
    ts->allocated++;
    ts->bytes += slot;
    return fut__task_frame(t);
}

struct fut_future *fut_frame_alloc(size_t frame_size, size_t out_size)
{
    if (!fut__current || frame_size < sizeof(struct fut_future) ||
        out_size > UINT16_MAX || frame_size > UINT32_MAX / 2)
        return NULL;
    size_t head = offsetof(struct fut__task, frame);
    size_t align = _Alignof(max_align_t);
    size_t out_off = head + frame_size;
    if (out_size)
        out_off = (out_off + align - 1) / align * align;
    return frame_alloc(out_off, out_size, out_off + out_size);
}

struct fut_future *fut__frame_alloc_in(size_t frame_size, size_t out_at,
                                       size_t out_size)
{
    if (!fut__current || frame_size < sizeof(struct fut_future) ||
        out_size > UINT16_MAX || frame_size > UINT32_MAX / 2 ||
        out_at > frame_size || out_size > frame_size - out_at)
        return NULL;
    size_t head = offsetof(struct fut__task, frame);
    return frame_alloc(head + out_at, out_size, head + frame_size);
}

void fut_frame_discard(struct fut_future *frame)
{
    if (frame)
        task_free(fut__task_of(frame));
}

/* Tasks: allocation, reference counting, the task waker, join handles.
 *
 * A task lives as long as its reference count is above zero: one reference
 * belongs to the scheduler until the future is done, one to the join handle
 * until it is joined or dropped, one to every waker clone. Everything
 * happens on the executor's thread, the free included: a foreign thread
 * only adds to the word of the task's remote node (task_internal.h), and
 * the owner applies it when the reactor runs the node.
 */
#include <greenfut/task.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include "sys.h"
#include "task_internal.h"
#include "watchdog_internal.h"

_Thread_local struct fut_executor *fut__current;
_Thread_local const char *fut__wait_note;

/* Put `t` (notified just flipped 0 -> 1 by us, on the owner thread) at the
 * tail of the ready queue. No allocation: the link is in the header. */
static void push_ready(struct fut_executor *ex, struct fut__task *t)
{
    rt_list_push_back(&ex->ready, &t->ready);
    t->flags |= FUT__IN_READY;
}

/* ---- Slots ---- */

static size_t slot_size(size_t bytes)
{
    return (bytes + FUT__SLOT_STEP - 1) / FUT__SLOT_STEP * FUT__SLOT_STEP;
}

static int own_chunk(size_t slot);

static struct fut__chunk *chunk_new(struct fut_executor *ex, size_t slot)
{
    size_t data = own_chunk(slot) ? slot : FUT__CHUNK_BYTES;
    struct fut__chunk *c = rt_sys_malloc(sizeof(*c) + data);
    if (!c)
        return NULL;
    c->slot = (uint32_t)slot;
    c->used = 0;
    c->cap = (uint32_t)(data / slot);
    rt_list_push_back(&ex->chunks, &c->link);
    return c;
}

/* A task too big for the slabs (or any task under ASan): its own chunk. */
static int own_chunk(size_t slot)
{
    return !FUT__SLAB || slot > FUT__SLOT_MAX;
}

static void *slot_alloc(struct fut_executor *ex, size_t slot)
{
    if (own_chunk(slot)) {
        struct fut__chunk *c = chunk_new(ex, slot);
        if (!c)
            return NULL;
        c->used = 1;
        return c->data;
    }
    size_t cls = slot / FUT__SLOT_STEP - 1;
    void *p = ex->free_slots[cls];
    if (p) {
        memcpy(&ex->free_slots[cls], p, sizeof(void *));
        return p;
    }
    struct fut__chunk *c = ex->carving[cls];
    if (!c || c->used == c->cap) {
        c = chunk_new(ex, slot);
        if (!c)
            return NULL;
        ex->carving[cls] = c;
    }
    return (char *)c->data + (size_t)c->used++ * slot;
}

static void slot_free(struct fut_executor *ex, void *p, size_t slot)
{
    if (own_chunk(slot)) {
        struct fut__chunk *c = RT_CONTAINER_OF(p, struct fut__chunk, data);
        if (ex->walking) { /* a walk may hold it: swept after the walk */
            c->used = 0;
            return;
        }
        rt_list_remove(&c->link);
        free(c);
        return;
    }
    size_t cls = slot / FUT__SLOT_STEP - 1;
    memcpy(p, &ex->free_slots[cls], sizeof(void *));
    ex->free_slots[cls] = p;
}

/* Calls fn(ex, t) for every task whose flags under `mask` are `want`. */
static void for_each(struct fut_executor *ex, unsigned mask, unsigned want,
                     void (*fn)(struct fut_executor *, struct fut__task *))
{
    RT_ASSERT(!ex->walking);
    ex->walking = 1;
    for (struct rt_list *n = ex->chunks.next; n != &ex->chunks; n = n->next) {
        struct fut__chunk *c = RT_CONTAINER_OF(n, struct fut__chunk, link);
        for (uint32_t i = 0; i < c->used; i++) {
            struct fut__task *t =
                (struct fut__task *)(void *)((char *)c->data +
                                             (size_t)i * c->slot);
            if ((t->flags & mask) == want)
                fn(ex, t);
        }
    }
    ex->walking = 0;
    /* Sweep the own chunks whose task was freed during the walk. */
    struct rt_list *n = ex->chunks.next;
    while (n != &ex->chunks) {
        struct rt_list *next = n->next;
        struct fut__chunk *c = RT_CONTAINER_OF(n, struct fut__chunk, link);
        if (c->used == 0 && own_chunk(c->slot)) {
            rt_list_remove(&c->link);
            free(c);
        }
        n = next;
    }
}

void fut__for_each_pending(struct fut_executor *ex,
                           void (*fn)(struct fut_executor *,
                                      struct fut__task *))
{
    for_each(ex, FUT__SPAWNED | FUT__COMPLETE, FUT__SPAWNED, fn);
}

void fut__slabs_free(struct fut_executor *ex)
{
    struct rt_list *n;
    while ((n = rt_list_pop_front(&ex->chunks)))
        free(RT_CONTAINER_OF(n, struct fut__chunk, link));
    memset(ex->free_slots, 0, sizeof(ex->free_slots));
    memset(ex->carving, 0, sizeof(ex->carving));
}

static void really_free(struct fut__task *t)
{
    struct fut_executor *ex = t->ex;
    size_t slot =
        t->flags & FUT__OWN_CHUNK
            ? RT_CONTAINER_OF((void *)t, struct fut__chunk, data)->slot
            : ((size_t)t->units + 1) * FUT__SLOT_STEP;
    ex->allocated--;
    ex->bytes -= slot;
    if (rt__watchdog_noting())
        rt__watchdog_forget(fut__task_frame(t));
    t->flags = 0; /* a free slot: the chunk walk skips it */
    slot_free(ex, t, slot);
}

/* The NOTIFIED transition, owner thread only. Many wakes before a poll
 * give one poll. */
static void wake_local(struct fut__task *t)
{
    if (t->flags & FUT__NOTIFIED)
        return;
    t->flags |= FUT__NOTIFIED;
    push_ready(t->ex, t);
}

/* Frees `t` when no reference is left anywhere: none counted here, and
 * nothing in its remote word (a clone made by another thread and not yet
 * seen, or a queued node, keeps it: the node's run frees it later). */
static void free_if_unused(struct fut__task *t)
{
    if (t->refs == 0 && rt_remote_idle(&t->remote))
        really_free(t);
}

void fut__task_unref(struct fut__task *t)
{
    RT_ASSERT(t->ex == fut__current);
    if (t->refs == 0) /* a clone made elsewhere, not applied yet */
        t->refs =
            (uint32_t)((int64_t)t->refs - rt_remote_take_drops(&t->remote));
    RT_ASSERT(t->refs > 0);
    t->refs--;
    free_if_unused(t);
}

/* Runs on the owner thread, called by the reactor's turn: what other
 * threads did to the task since the last run (see task_internal.h). */
static void remote_run(struct rt_remote *node)
{
    struct fut__task *t = RT_CONTAINER_OF(node, struct fut__task, remote);
    unsigned word = node->taken;
    if ((word & RT_REMOTE_WAKE) && !(t->flags & FUT__COMPLETE)) {
        t->ex->remote_wakes++;
        wake_local(t);
    }
    int64_t refs = (int64_t)t->refs - rt_remote_drops(word);
    RT_ASSERT(refs >= 0);
    t->refs = (uint32_t)refs;
    free_if_unused(t);
}

/* Hands an operation on `t` from another thread to the owner. The caller
 * holds a reference until the owner has applied it (a drop hands that
 * reference over), so `t` stays alive until the node has run. */
static void post(struct fut__task *t, unsigned add, unsigned set)
{
    (void)rt_reactor_post(t->ex->reactor, &t->remote, add, set);
}

static struct rt_waker waker_clone(void *data)
{
    struct fut__task *t = data;
    if (t->ex == fut__current)
        t->refs++;
    else /* seen by the owner before the reference we cloned from goes */
        rt_remote_add(&t->remote, 0u - RT_REMOTE_DROP);
    return (struct rt_waker){&fut__task_waker_vt, t};
}

static void waker_wake(void *data)
{
    struct fut__task *t = data;
    if (t->ex == fut__current) {
        wake_local(t);
        fut__task_unref(t);
    } else {
        post(t, RT_REMOTE_DROP, RT_REMOTE_WAKE);
    }
}

static void waker_wake_by_ref(void *data)
{
    struct fut__task *t = data;
    if (t->ex == fut__current)
        wake_local(t);
    else
        post(t, 0, RT_REMOTE_WAKE);
}

static void waker_drop(void *data)
{
    struct fut__task *t = data;
    if (t->ex == fut__current)
        fut__task_unref(t);
    else
        post(t, RT_REMOTE_DROP, 0);
}

const struct rt_waker_vtable fut__task_waker_vt = {
    waker_clone, waker_wake, waker_wake_by_ref, waker_drop};

/* The frame is done (or abandoned): release it and everyone waiting. */
static void finish(struct fut_executor *ex, struct fut__task *t)
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
    ex->pending--;
    rt_waker_wake(&t->join);
    fut__task_unref(t); /* the scheduler's reference */
}

void fut__task_run(struct fut_executor *ex, struct fut__task *t)
{
    /* Clear NOTIFIED before polling: a wake during the poll queues the
     * task again. Rust: tokio's transition_to_running. */
    t->flags &= (uint8_t) ~(FUT__IN_READY | FUT__NOTIFIED);
    struct rt_waker w = {&fut__task_waker_vt, t}; /* borrowed, no ref */
    struct rt_cx cx = {&w};
    ex->cur = t;
    ex->polls++;
    fut__wait_note = NULL;
    enum rt_poll r = fut_poll(fut__task_frame(t), &cx, fut__task_out(t));
    ex->cur = NULL;
    if (r == RT_READY) {
        finish(ex, t);
        return;
    }
#if defined(RT_DEBUG) && RT_DEBUG
    t->wait_on = fut__wait_note;
#endif
}

void fut__task_cancel(struct fut_executor *ex, struct fut__task *t)
{
    t->flags |= FUT__CANCELLED;
    finish(ex, t);
}

/* ---- Spawning ---- */

/* Allocates a task whose output slot starts `out_off` bytes into the slot
 * and whose slot holds at least `bytes`. */
static struct fut_future *frame_alloc(size_t out_off, size_t out_size,
                                      size_t bytes)
{
    struct fut_executor *ex = fut__current;
    size_t slot = slot_size(bytes);
    struct fut__task *t = slot_alloc(ex, slot);
    if (!t)
        return NULL;
    rt_remote_init(&t->remote, remote_run);
    t->ex = ex;
    t->join = RT_WAKER_NONE;
    t->refs = 1;
    t->units = (uint8_t)(slot / FUT__SLOT_STEP - 1); /* slab slots only */
    t->flags = own_chunk(slot) ? FUT__OWN_CHUNK : 0;
    t->out_size = (uint16_t)out_size;
    t->id = 0;
    t->out_off = (uint32_t)out_off;
#if defined(RT_DEBUG) && RT_DEBUG
    t->wait_on = NULL;
#endif
    ex->allocated++;
    ex->bytes += slot;
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
        really_free(fut__task_of(frame));
}

static const struct fut_vtable join_vt;

int fut__frame_spawn_at(struct fut_future *frame, struct fut_join *join,
                        uintptr_t site, uintptr_t entry)
{
    if (!frame || !frame->vt || !frame->vt->poll)
        return -EINVAL;
    if (rt__watchdog_noting())
        rt__watchdog_spawned(frame, site,
                             entry ? entry : (uintptr_t)frame->vt->poll);
    struct fut__task *t = fut__task_of(frame);
    struct fut_executor *ex = t->ex;
    RT_ASSERT(ex == fut__current);
    t->id = ++ex->next_id;
    t->flags |= FUT__SPAWNED;
    ex->pending++;
    ex->spawned++;
    if (join) {
        t->refs++;
        t->flags |= FUT__JOIN;
        join->base.vt = &join_vt;
        join->task = t;
        join->err = 0;
    }
    t->flags |= FUT__NOTIFIED;
    push_ready(ex, t);
    return 0;
}

int fut_frame_spawn(struct fut_future *frame, struct fut_join *join)
{
    return fut__frame_spawn_at(frame, join,
                               (uintptr_t)__builtin_return_address(0), 0);
}

int fut_spawn(const struct fut_future *frame, size_t frame_size,
              size_t out_size, struct fut_join *join)
{
    if (!frame || !frame->vt || !frame->vt->poll ||
        frame_size < sizeof(struct fut_future))
        return -EINVAL;
    if (!fut__current)
        return -ENXIO;
    struct fut_future *f = fut_frame_alloc(frame_size, out_size);
    if (!f)
        return out_size > UINT16_MAX ? -EINVAL : -ENOMEM;
    memcpy(f, frame, frame_size);
    return fut__frame_spawn_at(f, join, (uintptr_t)__builtin_return_address(0),
                               0);
}

int fut_spawn_with(size_t frame_size, size_t out_size, fut_init_fn init,
                   void *arg, struct fut_join *join)
{
    if (!init || frame_size < sizeof(struct fut_future))
        return -EINVAL;
    if (!fut__current)
        return -ENXIO;
    struct fut_future *f = fut_frame_alloc(frame_size, out_size);
    if (!f)
        return out_size > UINT16_MAX ? -EINVAL : -ENOMEM;
    f->vt = NULL;
    int rc = init(f, arg);
    if (rc == 0 && (!f->vt || !f->vt->poll))
        rc = -EINVAL;
    if (rc < 0) {
        fut_frame_discard(f);
        return rc;
    }
    return fut__frame_spawn_at(f, join, (uintptr_t)__builtin_return_address(0),
                               0);
}

/* ---- Join handles ---- */

static enum rt_poll join_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct fut_join *j = (struct fut_join *)self;
    struct fut__task *t = j->task;
    if (!t) {
        if (j->err == 0)
            j->err = -EALREADY;
        return RT_READY;
    }
    RT_ASSERT(t->ex == fut__current); /* join on the task's own thread */
    if (!(t->flags & FUT__COMPLETE)) {
        /* One awaiter per handle: a second one would take the first's
         * slot, and the first would never be woken. It is refused and the
         * handle stays the first's (not detached, not dropped). */
        if (rt_waker_is_set(&t->join) &&
            !rt_waker_will_wake(&t->join, cx->waker)) {
            j->err = -EBUSY;
            return RT_READY;
        }
        rt_waker_store(&t->join, cx->waker);
        fut__wait_note = "join";
        return RT_PENDING;
    }
    j->err = 0; /* a refused second awaiter may have left -EBUSY */
    if (t->flags & FUT__CANCELLED)
        j->err = -ECANCELED;
    else if (out && t->out_size)
        memcpy(out, fut__task_out(t), t->out_size);
    j->task = NULL;
    t->flags &= (uint8_t)~FUT__JOIN;
    rt_waker_drop(&t->join);
    fut__task_unref(t);
    return RT_READY;
}

/* Detach: the task runs on, its output is thrown away. */
static void join_drop(struct fut_future *self)
{
    struct fut_join *j = (struct fut_join *)self;
    struct fut__task *t = j->task;
    if (!t)
        return;
    j->task = NULL;
    t->flags &= (uint8_t)~FUT__JOIN;
    rt_waker_drop(&t->join);
    fut__task_unref(t);
}

static const struct fut_vtable join_vt = {join_poll, join_drop, "join"};

void fut_join_init(struct fut_join *join)
{
    join->base.vt = &join_vt;
    join->task = NULL;
    join->err = -EINVAL;
}

int fut_join(struct fut_join *join, void *out)
{
    if (!join || join->base.vt != &join_vt)
        return -EINVAL;
    if (!join->task)
        return join->err == 0 ? -EALREADY : join->err;
    int rc = fut_block_on(&join->base, out);
    return rc < 0 ? rc : join->err;
}

/* An unawaited handle's end: what join_drop does, minus the handle. */
static void release_handle(struct fut_executor *ex, struct fut__task *t)
{
    (void)ex;
    t->flags &= (uint8_t) ~(FUT__JOIN | FUT__JOIN_AT_FREE);
    rt_waker_drop(&t->join);
    fut__task_unref(t);
}

void fut__release_handles(struct fut_executor *ex)
{
    unsigned m = FUT__SPAWNED | FUT__JOIN | FUT__JOIN_AT_FREE;
    for_each(ex, m, m, release_handle);
}

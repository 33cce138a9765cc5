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
#include <greenfut/coop.h>
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
    if ((fut__flags(t) & w->mask) == w->want)
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

/* Ends task `t`'s hold on its slot, which becomes a free one (flags 0:
 * the chunk walk skips it; an atomic store, as with workers a dump may
 * walk meanwhile). Returns the slot's size. */
static inline size_t slot_retire(struct fut__task *t)
{
    size_t slot = t->flags & FUT__OWN_CHUNK
                      ? fut__slab_own_size(t)
                      : ((size_t)t->units + 1) * FUT__SLOT_STEP;
    if (rt__watchdog_noting())
        rt__watchdog_forget(fut__task_frame(t));
    __atomic_store_n(&t->flags, 0, __ATOMIC_RELEASE);
    return slot;
}

static inline void task_release(struct fut__tasks *ts, struct fut__task *t)
{
    size_t slot = slot_retire(t);
    ts->allocated--;
    ts->bytes -= slot;
    fut__slab_free(&ts->slab, t, slot);
}

/* Worker `me` gives FUT__CACHE_MOVE slots of class `cls` back to the
 * slab. */
static void cache_spill(struct fut__tasks *ts, struct fut__worker *me,
                        size_t cls)
{
    size_t slot = (cls + 1) * FUT__SLOT_STEP;
    rt_spin_lock_always(&ts->slab_lock);
    for (unsigned i = 0; i < FUT__CACHE_MOVE; i++)
        fut__slab_free(&ts->slab, fut__slot_pop(&me->cache[cls]), slot);
    rt_spin_unlock(&ts->slab_lock, true);
    me->cached[cls] -= FUT__CACHE_MOVE;
}

/* With workers the slab and its counts are under slab_lock; a worker's
 * own slots go to its cache instead. Out of line, so the one-worker path
 * stays as it was (bench_spawn). */
__attribute__((noinline)) static void task_free_mt(struct fut__tasks *ts,
                                                   struct fut__task *t)
{
    struct fut__worker *me = fut__worker_here(ts);
    if (!me || (t->flags & FUT__OWN_CHUNK)) {
        rt_spin_lock_always(&ts->slab_lock);
        task_release(ts, t);
        rt_spin_unlock(&ts->slab_lock, true);
        return;
    }
    size_t slot = slot_retire(t);
    size_t cls = slot / FUT__SLOT_STEP - 1;
    __atomic_store_n(&me->allocated, me->allocated - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&me->bytes, me->bytes - (int64_t)slot, __ATOMIC_RELAXED);
    fut__slot_push(&me->cache[cls], t);
    if (++me->cached[cls] > FUT__CACHE_MAX)
        cache_spill(ts, me, cls);
}

static void task_free(struct fut__task *t)
{
    struct fut__tasks *ts = t->tasks;
    if (ts->ws)
        task_free_mt(ts, t);
    else
        task_release(ts, t);
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

static void unref_mt(struct fut__task *t);

void fut__task_unref(struct fut__task *t)
{
    RT_ASSERT(t->tasks == fut__current);
    if (t->tasks->ws)
        unref_mt(t);
    else
        rt_owner_unref(&task_owner, &t->remote, &t->refs);
}

/* Runs on the owner thread, called by the reactor's turn: what other
 * threads did to the task since the last run (see task_internal.h). */
static void remote_run(struct rt_remote *node)
{
    rt_owner_run(&task_owner, node, &task_of_node(node)->refs);
}

/* ---- Multi-worker executors
 *
 * With several workers a task has no owner thread: every worker may poll
 * it, wake it, clone or drop its wakers, and so may foreign threads. So
 * the task's reference count and flags change by atomic operations only,
 * and the remote node is not used (what a foreign thread does is done at
 * once, with the same atomics; a foreign wake goes to the inject queue).
 * The node's `taken` word holds the pin instead: 0, or the pinned worker's
 * index plus one (written by the polling worker, read by wakers: atomic).
 *
 * The flags protocol (tokio's task state, in the NOTIFIED and RUNNING bits
 * of one byte):
 * - a wake sets NOTIFIED unless it or COMPLETE is set; the waker that set
 *   it queues the task, unless RUNNING is set: then the poller does, after
 *   the poll. So a task is queued at most once, and never while polled;
 * - a worker that takes the task from a queue clears NOTIFIED and sets
 *   RUNNING in one step, polls, then clears RUNNING, queuing the task again
 *   if NOTIFIED came meanwhile;
 * - the end sets COMPLETE and NOTIFIED (pinned: no wake queues it again)
 *   under the join lock, while RUNNING, so a finished task is in no queue;
 * - a task that wakes itself while polled (a yield, a spent cooperative
 *   budget) does not touch the flags: the wake is noted in the polling
 *   thread's fut__self_woke, and after the poll the task goes back to the
 *   ring with RUNNING still set. Other wakes meanwhile only add NOTIFIED,
 *   as for any RUNNING task, and queue nothing. The worker that takes it
 *   next sees RUNNING and clears only a NOTIFIED that came, so a yield
 *   costs no locked instruction on the flags (a RUNNING task in a queue is
 *   "runnable" to the dump: it is polled by no worker).
 * A queued task is pending, so the scheduler's reference keeps it alive. */

_Thread_local struct fut__task *fut__polling;

/* The task polled on this thread that woke itself during its poll, or
 * NULL (see above). */
static _Thread_local struct fut__task *fut__self_woke;

static struct rt_spin join_stripes[FUT__STRIPES];

static struct rt_spin *join_stripe(struct fut__task *t)
{
    return fut__stripe(join_stripes, t);
}

void fut__join_lock_mt(struct fut__task *t)
{
    rt_spin_lock_always(join_stripe(t));
}

void fut__join_unlock_mt(struct fut__task *t)
{
    rt_spin_unlock(join_stripe(t), true);
}

static unsigned pin_of(struct fut__task *t)
{
    return __atomic_load_n(&t->remote.taken, __ATOMIC_ACQUIRE);
}

/* Queues `t` (NOTIFIED and not RUNNING, or after its poll a task that
 * woke itself, RUNNING kept: `requeue`) where the caller is: a pinned task
 * on its own worker's inbox; on a worker of the executor, a task that
 * woke itself on that worker's yield queue, another on its ring, or its
 * LIFO slot when a task being polled there woke it; elsewhere the inject
 * queue. */
static void schedule_mt(struct fut__task *t, bool requeue)
{
    struct fut__tasks *ts = t->tasks;
    unsigned pin = pin_of(t);
    if (pin) {
        rt_worker_send(&ts->ws->w[pin - 1], &t->ready);
        return;
    }
    struct rt_worker *w = rt_worker_self();
    if (w && w->ws == ts->ws) {
        if (requeue)
            rt_worker_requeue(w, &t->ready);
        else
            rt_worker_push(w, &t->ready, fut__polling != NULL);
        return;
    }
    __atomic_fetch_add(&ts->remote_wakes, 1, __ATOMIC_RELAXED);
    rt_workers_inject(ts->ws, &t->ready);
}

void fut__task_launch_mt(struct fut__task *t)
{
    schedule_mt(t, false);
}

void fut__task_wake_mt(struct fut__task *t)
{
    if (t == fut__polling) { /* itself: queued after its poll */
        fut__self_woke = t;
        return;
    }
    uint8_t f = __atomic_load_n(&t->flags, __ATOMIC_ACQUIRE);
    do {
        if (f & (FUT__COMPLETE | FUT__NOTIFIED))
            return;
    } while (!__atomic_compare_exchange_n(&t->flags, &f,
                                          (uint8_t)(f | FUT__NOTIFIED), true,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    if (!(f & FUT__RUNNING))
        schedule_mt(t, false);
}

__attribute__((noinline)) static void unref_mt(struct fut__task *t)
{
    uint32_t left = __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
    RT_ASSERT(left != UINT32_MAX);
    if (left == 0)
        task_free(t);
}

int fut_pin(void)
{
    struct fut__task *t = fut__polling;
    if (t) {
        struct rt_worker *w = rt_worker_self();
        __atomic_store_n(&t->remote.taken, w->index + 1, __ATOMIC_RELEASE);
        return 0;
    }
    struct fut__tasks *ts = fut__current;
    return ts && ts->cur ? 0 : -EPERM; /* one worker: nowhere to move to */
}

int fut_worker(void)
{
    struct rt_worker *w = rt_worker_self();
    if (w && fut__current && w->ws == fut__current->ws)
        return (int)w->index;
    return fut__current ? 0 : -EPERM;
}

/* Two vtables, one per protocol: with one worker the owner-thread
 * protocol of owner.h (fut__task_waker_vt), with several the atomic one
 * above from any thread (fut__task_waker_vt_mt). Every waker of a task
 * comes from fut__task_run or fut__task_run_mt, which pick by the
 * executor's worker count, so no entry has to ask which. */
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

static struct rt_waker waker_clone_mt(void *data)
{
    struct fut__task *t = data;
    __atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
    return (struct rt_waker){&fut__task_waker_vt_mt, t};
}

static void waker_wake_mt(void *data)
{
    fut__task_wake_mt(data);
    unref_mt(data);
}

static void waker_wake_by_ref_mt(void *data)
{
    fut__task_wake_mt(data);
}

static void waker_drop_mt(void *data)
{
    unref_mt(data);
}

const struct rt_waker_vtable fut__task_waker_vt_mt = {
    waker_clone_mt, waker_wake_mt, waker_wake_by_ref_mt, waker_drop_mt};

/* The frame is done (or abandoned): release it and everyone waiting. */
static void finish_mt(struct fut__tasks *ts, struct fut__task *t)
{
    fut_drop(fut__task_frame(t));
    /* The join lock orders COMPLETE against a handle's poll storing its
     * waker. With no handle (never one, or join_drop cleared FUT__JOIN
     * under the lock, after which nobody stores a join waker again) there
     * is nothing to order: a detached task ends without the lock. */
    uint8_t f = __atomic_load_n(&t->flags, __ATOMIC_ACQUIRE);
    bool joined = f & FUT__JOIN;
    if (joined)
        fut__join_lock_mt(t);
    /* One CAS sets COMPLETE and NOTIFIED and clears RUNNING together: a
     * wake never sees the task neither running nor complete. */
    while (!__atomic_compare_exchange_n(
        &t->flags, &f,
        (uint8_t)((f | FUT__COMPLETE | FUT__NOTIFIED) & ~FUT__RUNNING), true,
        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
    struct rt_waker j = RT_WAKER_NONE;
    if (joined) {
        j = t->join;
        t->join = RT_WAKER_NONE;
        fut__join_unlock_mt(t);
    }
    rt_waker_wake(&j);
    fut__pending_sub(ts, fut__worker_here(ts));
    unref_mt(t); /* the scheduler's reference */
}

static void finish(struct fut__tasks *ts, struct fut__task *t)
{
    if (ts->ws) {
        finish_mt(ts, t);
        return;
    }
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
    ts->polls++; /* also the cooperative budget's clock: a new run */
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

void fut__task_run_mt(struct fut__tasks *ts, struct fut__task *t)
{
    uint8_t f = __atomic_load_n(&t->flags, __ATOMIC_ACQUIRE);
    if (f & FUT__RUNNING) { /* it woke itself: consume what came since */
        if (f & FUT__NOTIFIED)
            __atomic_fetch_and(&t->flags, (uint8_t)~FUT__NOTIFIED,
                               __ATOMIC_ACQ_REL);
    } else {
        RT_DEBUG_ASSERT(f & FUT__NOTIFIED);
        while (!__atomic_compare_exchange_n(
            &t->flags, &f, (uint8_t)((f & ~FUT__NOTIFIED) | FUT__RUNNING), true,
            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
    }
    if (__builtin_expect(f & FUT__CANCELLED, 0)) { /* only the end clears it */
        finish_mt(ts, t); /* aborted (fut__task_abort): dropped, not polled */
        return;
    }
    struct rt_waker w = {&fut__task_waker_vt_mt, t}; /* borrowed, no ref */
    struct rt_cx cx = {&w};
    /* Saved and restored: a poll may run another executor's tasks. */
    struct fut__task *outer = fut__polling, *outer_woke = fut__self_woke;
    fut__polling = t;
    fut__self_woke = NULL;
    fut__wait_note = NULL;
    enum rt_poll r = fut_poll(fut__task_frame(t), &cx, fut__task_out(t));
    bool again = fut__self_woke == t;
    fut__polling = outer;
    fut__self_woke = outer_woke;
    if (r == RT_READY) {
        /* An abort that came during this poll lost: the task ended. */
        if (__atomic_load_n(&t->flags, __ATOMIC_RELAXED) & FUT__CANCELLED)
            __atomic_fetch_and(&t->flags, (uint8_t)~FUT__CANCELLED,
                               __ATOMIC_ACQ_REL);
        finish_mt(ts, t);
        return;
    }
#if defined(RT_DEBUG) && RT_DEBUG
    t->wait_on = fut__wait_note;
#endif
    if (again) { /* RUNNING stays set: see the protocol above */
        schedule_mt(t, true);
        return;
    }
    f = __atomic_fetch_and(&t->flags, (uint8_t)~FUT__RUNNING, __ATOMIC_ACQ_REL);
    if (f & FUT__NOTIFIED) /* woken during its poll: once more, later */
        schedule_mt(t, true);
}

bool fut__task_borrow(struct fut__task *t)
{
    uint8_t f = __atomic_load_n(&t->flags, __ATOMIC_ACQUIRE);
    do {
        if (f & (FUT__RUNNING | FUT__NOTIFIED | FUT__COMPLETE))
            return false;
    } while (!__atomic_compare_exchange_n(&t->flags, &f,
                                          (uint8_t)(f | FUT__RUNNING), true,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    return true;
}

void fut__task_give_back(struct fut__task *t)
{
    uint8_t f =
        __atomic_fetch_and(&t->flags, (uint8_t)~FUT__RUNNING, __ATOMIC_ACQ_REL);
    if (f & FUT__NOTIFIED) /* woken while borrowed */
        schedule_mt(t, true);
}

void fut__task_cancel(struct fut__tasks *ts, struct fut__task *t)
{
    fut__flags_or(t, FUT__CANCELLED);
    finish(ts, t);
}

/* An abort with several workers marks the task CANCELLED under its join
 * lock (where its end sets COMPLETE, so the two cannot cross unseen), then
 * drops it here if no worker has it (borrowed: not polled, not queued),
 * else wakes it: the worker that next takes it from a queue drops it
 * instead of polling it (fut__task_run_mt). A poll that ends the task
 * meanwhile wins: the end clears the mark, the output stands. */
int fut__task_abort(struct fut__task *t)
{
    struct fut__tasks *ts = t->tasks;
    if (!ts->ws) {
        if (t->flags & FUT__COMPLETE)
            return -EALREADY;
        if (ts->cur == t)
            return -EDEADLK;
        t->flags |= FUT__CANCELLED;
        finish(ts, t);
        return 0;
    }
    if (t == fut__polling)
        return -EDEADLK;
    fut__join_lock_mt(t);
    uint8_t f = __atomic_load_n(&t->flags, __ATOMIC_ACQUIRE);
    bool done = f & (FUT__COMPLETE | FUT__CANCELLED);
    if (!done)
        __atomic_fetch_or(&t->flags, FUT__CANCELLED, __ATOMIC_ACQ_REL);
    fut__join_unlock_mt(t);
    if (done)
        return -EALREADY;
    if (fut__task_borrow(t))
        finish_mt(ts, t);
    else
        fut__task_wake_mt(t);
    return 0;
}

/* ---- Allocation ---- */

/* Worker `me` takes up to FUT__CACHE_MOVE slots of `slot` bytes from the
 * slab into its cache. A slot carved here is marked free (flags 0) before
 * the lock goes: the chunk walk visits every carved slot. */
static void cache_fill(struct fut__tasks *ts, struct fut__worker *me,
                       size_t slot)
{
    size_t cls = slot / FUT__SLOT_STEP - 1;
    rt_spin_lock_always(&ts->slab_lock);
    for (unsigned i = 0; i < FUT__CACHE_MOVE; i++) {
        struct fut__task *p = fut__slab_alloc(&ts->slab, slot);
        if (!p)
            break;
        __atomic_store_n(&p->flags, 0, __ATOMIC_RELAXED);
        fut__slot_push(&me->cache[cls], p);
        me->cached[cls]++;
    }
    rt_spin_unlock(&ts->slab_lock, true);
}

/* A slot from the slab of a multi-worker executor, counted: from the
 * calling worker's cache when it is one (filled from the slab when
 * empty), else from the slab under its lock. */
__attribute__((noinline)) static struct fut__task *
slab_alloc_mt(struct fut__tasks *ts, size_t slot)
{
    struct fut__worker *me = fut__worker_here(ts);
    if (me && !fut__slab_own_chunk(slot)) {
        size_t cls = slot / FUT__SLOT_STEP - 1;
        if (!me->cache[cls])
            cache_fill(ts, me, slot);
        struct fut__task *t = fut__slot_pop(&me->cache[cls]);
        if (!t)
            return NULL;
        me->cached[cls]--;
        __atomic_store_n(&me->allocated, me->allocated + 1, __ATOMIC_RELAXED);
        __atomic_store_n(&me->bytes, me->bytes + (int64_t)slot,
                         __ATOMIC_RELAXED);
        return t;
    }
    rt_spin_lock_always(&ts->slab_lock);
    struct fut__task *t = fut__slab_alloc(&ts->slab, slot);
    if (t) {
        ts->allocated++;
        ts->bytes += slot;
    }
    rt_spin_unlock(&ts->slab_lock, true);
    return t;
}

/* Allocates a task whose output slot starts `out_off` bytes into the slot
 * and whose slot holds at least `bytes`. */
static struct fut_future *frame_alloc(size_t out_off, size_t out_size,
                                      size_t bytes)
{
    struct fut__tasks *ts = fut__current;
    size_t slot = fut__slab_slot_size(bytes);
    /* Several workers: whole cache lines, so that a task never shares one
     * with a task another worker runs (each poll writes its task's flags
     * and frame). tokio aligns its task cells for the same reason. */
    if (ts->ws && !fut__slab_own_chunk(slot))
        slot = (slot + FUT__SLOT_LINE - 1) / FUT__SLOT_LINE * FUT__SLOT_LINE;
    struct fut__task *t =
        ts->ws ? slab_alloc_mt(ts, slot) : fut__slab_alloc(&ts->slab, slot);
    if (!t)
        return NULL;
    rt_remote_init(&t->remote, remote_run);
    t->tasks = ts;
    t->join = RT_WAKER_NONE;
    t->refs = 1;
    t->units = (uint8_t)(slot / FUT__SLOT_STEP - 1); /* slab slots only */
    /* Atomic: with workers a dump may walk the chunks meanwhile. */
    __atomic_store_n(&t->flags, fut__slab_own_chunk(slot) ? FUT__OWN_CHUNK : 0,
                     __ATOMIC_RELAXED);
    t->out_size = (uint16_t)out_size;
    t->id = 0;
    t->out_off = (uint32_t)out_off;
#if defined(RT_DEBUG) && RT_DEBUG
    t->wait_on = NULL;
#endif
    if (!ts->ws) { /* slab_alloc_mt counted them under the lock */
        ts->allocated++;
        ts->bytes += slot;
    }
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

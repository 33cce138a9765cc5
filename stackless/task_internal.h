/* The task header, its flags and the task set of an executor, for the
 * modules above the task (join, executor, portable). Not for use outside
 * stackless/.
 *
 * The invariant to keep in mind: every field of a task but `remote` is the
 * owner thread's (the executor's). Other threads never touch the flags
 * (NOTIFIED among them), `refs` or the ready link; what they do to a task (wake
 * it, clone or drop a waker) is added to the word of its remote node and
 * applied by the owner when the reactor runs that node, or sooner, when the
 * owner drops a reference its count has not seen (a clone made elsewhere):
 * the protocol of common/owner.h. So the owner's own wakes, clones and drops
 * are plain loads and stores, no locked instruction.
 */
#ifndef RT_STACKLESS_TASK_INTERNAL_H
#define RT_STACKLESS_TASK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <greenfut/task.h>
#include <greenfut/check.h>
#include <greenfut/list.h>
#include <greenfut/mt.h>
#include <greenfut/reactor.h>
#include "slab.h"
#include "workers.h"

/* Owner-thread-only bits of fut__task.flags. A free slot has flags 0. */
enum {
    FUT__SPAWNED = 1u << 4,   /* fut_frame_spawn ran: counts as a task */
    FUT__IN_READY = 1u << 0,  /* linked on tasks->ready through `ready` */
    FUT__COMPLETE = 1u << 1,  /* frame dropped; output (if any) written */
    FUT__JOIN = 1u << 2,      /* a join handle refers to the task */
    FUT__CANCELLED = 1u << 3, /* dropped unfinished by fut_executor_free */
    FUT__NOTIFIED = 1u << 5,  /* queued or about to be (the NOTIFIED bit) */
    FUT__OWN_CHUNK = 1u << 6, /* the slot is a chunk of its own */
    /* The join handle's reference is released by fut_executor_free if no
     * one has awaited or dropped the handle by then (portable handles,
     * which the portable API never drops: a frame that goes, or a handle
     * overwritten by the next spawn, must not leak the task). */
    FUT__JOIN_AT_FREE = 1u << 7,
    /* In a multi-worker executor tasks sit in rings, which nothing can
     * unlink from, so IN_READY is not needed there; the bit says instead
     * that a worker is polling the task (tokio's RUNNING). */
    FUT__RUNNING = FUT__IN_READY,
};

/* What tasks need of the executor that owns them: its reactor, its ready
 * queue, the slab their slots come from and the counts. The executor embeds
 * it (struct fut_executor, executor_internal.h); every field is written on
 * the executor's thread only. */
struct fut__tasks {
    struct rt_reactor *reactor; /* the executor's; set by fut__tasks_init */
    /* The workers of a multi-worker executor, NULL with one worker. Fixed
     * at creation. With workers, the fields below are shared by them:
     * `ready` and `cur` are unused (the rings hold the queue, a task's
     * RUNNING bit says it is polled), the slab and the counts `allocated`
     * and `bytes` are under slab_lock, `pending`, `remote_wakes` and a
     * task's `refs` and `flags` change by atomic operations only (see
     * task.c's "Multi-worker executors"). */
    struct rt_workers *ws;
    struct rt_spin slab_lock;
    struct rt_list ready;  /* FIFO of runnable tasks (fut__task.ready) */
    struct fut__slab slab; /* every task's slot */
    struct fut__task *cur; /* the task being polled, or NULL */
    size_t pending;        /* spawned tasks whose future is not done; with
                            * workers also the workers' unspent credit (below) */
    size_t allocated;      /* task allocations not yet freed */
    size_t bytes;          /* their slot sizes */
    uint64_t polls;        /* fut__task_run calls */
    uint64_t remote_wakes; /* wakes applied from other threads */
    /* With workers: each worker's own state (n of them, fixed), see
     * struct fut__worker. NULL with one worker. */
    struct fut__worker *workers;
};

/* Locks striped by an object's address (a task's join lock, a join
 * handle's lock in join.c): FUT__STRIPES of them per set, each object on
 * one by its address. */
#define FUT__STRIPES 64u

static inline struct rt_spin *fut__stripe(struct rt_spin *set, const void *p)
{
    return &set[((uintptr_t)p >> 6) % FUT__STRIPES];
}

/* With workers, `pending` is taken and given back by each worker in
 * blocks of FUT__CREDIT, so that a spawn and an end touch no line another
 * worker writes: pending = tasks not done + every worker's credit, never
 * less than the tasks not done. A worker spends its credit at its spawns,
 * earns one back at every end it runs, and gives back all of it
 * (fut__worker_settle) whenever it runs out of tasks, before it looks
 * whether any are left: so only a worker that still runs tasks holds
 * credit, and the last one to run out sees pending reach zero. */
#define FUT__CREDIT 32u

/* Slots of one size a worker keeps for itself before it gives
 * FUT__CACHE_MOVE of them back to the slab, and how many it takes from the
 * slab at once when it has none. */
#define FUT__CACHE_MAX  64u
#define FUT__CACHE_MOVE 32u

/* One worker of a multi-worker executor (rt_worker.ctx points at it).
 * Written by that worker only; the others read `polled` (the dump) and the
 * counts (the stats), so those are relaxed atomics (plain moves).
 * - polled: the task (or root future) it polls now, NULL between polls;
 * - the cache: free slots per size class, linked through their first word,
 *   handed out and taken back without the slab lock (a slot in a cache has
 *   flags 0, so a walk of the chunks skips it);
 * - allocated/bytes: slots handed to tasks on this worker less those it
 *   took back (either may be negative: a task may end on another worker);
 *   fut__tasks.allocated and bytes count the rest, under the slab lock;
 * - spawned (relaxed atomic) and the block of spawn numbers it hands out,
 *   so that a spawn touches no counter another worker writes but
 *   `pending`. */
struct fut__worker {
    char pad_[64]; /* the previous worker's cache tail stays off our line */
    _Atomic(const void *) polled;
    int64_t allocated, bytes;
    uint64_t spawned;         /* tasks spawned on this worker */
    uint32_t id_next, id_end; /* spawn numbers taken from the executor's
                                 counter in blocks, handed out here */
    uint16_t cached[FUT__SLOT_CLASSES];
    void *cache[FUT__SLOT_CLASSES];
    size_t credit; /* counted in tasks.pending, no task's yet (above);
                    * relaxed stores, the stats read it */
};

/* The calling thread's state as a worker of `ts`'s executor, or NULL (one
 * worker, or a thread that is none of its workers). */
static inline struct fut__worker *fut__worker_here(struct fut__tasks *ts)
{
    struct rt_worker *w = ts->ws ? rt_worker_self() : NULL;
    return w && w->ws == ts->ws ? (struct fut__worker *)w->ctx : NULL;
}

/* A spawn's count in tasks.pending, on worker `me` (NULL: none of the
 * executor's workers) of an executor with workers. */
static inline void fut__pending_add(struct fut__tasks *ts,
                                    struct fut__worker *me)
{
    if (!me) {
        __atomic_fetch_add(&ts->pending, 1, __ATOMIC_RELAXED);
        return;
    }
    size_t c = me->credit;
    if (c == 0) {
        __atomic_fetch_add(&ts->pending, FUT__CREDIT, __ATOMIC_RELAXED);
        c = FUT__CREDIT;
    }
    __atomic_store_n(&me->credit, c - 1, __ATOMIC_RELAXED);
}

/* A task's end, the reverse of fut__pending_add: past two blocks of
 * credit, one goes back. */
static inline void fut__pending_sub(struct fut__tasks *ts,
                                    struct fut__worker *me)
{
    if (!me) {
        __atomic_fetch_sub(&ts->pending, 1, __ATOMIC_ACQ_REL);
        return;
    }
    size_t c = me->credit + 1;
    if (c > 2 * FUT__CREDIT) {
        __atomic_fetch_sub(&ts->pending, FUT__CREDIT, __ATOMIC_ACQ_REL);
        c -= FUT__CREDIT;
    }
    __atomic_store_n(&me->credit, c, __ATOMIC_RELAXED);
}

/* Worker `me` gives all its credit back to tasks.pending: when it has run
 * out of tasks (before it looks whether any are left) and when it ends. */
static inline void fut__worker_settle(struct fut__tasks *ts,
                                      struct fut__worker *me)
{
    if (me->credit) {
        __atomic_fetch_sub(&ts->pending, me->credit, __ATOMIC_ACQ_REL);
        __atomic_store_n(&me->credit, 0, __ATOMIC_RELAXED);
    }
}

/* Tasks not done, for the stats and the dump: tasks.pending less the
 * workers' credit (a snapshot while workers run). */
static inline size_t fut__pending(const struct fut__tasks *ts)
{
    size_t n = __atomic_load_n(&ts->pending, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; ts->ws && ts->workers && i < ts->ws->n; i++) {
        size_t c = __atomic_load_n(&ts->workers[i].credit, __ATOMIC_RELAXED);
        n = n > c ? n - c : 0;
    }
    return n;
}

/* The task slots and bytes the executor's tasks hold, summed over the
 * workers' counts: exact when no worker runs, a snapshot meanwhile. */
static inline void fut__tasks_held(const struct fut__tasks *ts, size_t *slots,
                                   size_t *bytes)
{
    int64_t n = (int64_t)ts->allocated, b = (int64_t)ts->bytes;
    for (unsigned i = 0; ts->ws && i < ts->ws->n; i++) {
        n += __atomic_load_n(&ts->workers[i].allocated, __ATOMIC_RELAXED);
        b += __atomic_load_n(&ts->workers[i].bytes, __ATOMIC_RELAXED);
    }
    *slots = n > 0 ? (size_t)n : 0;
    *bytes = b > 0 ? (size_t)b : 0;
}

/* Layout of one task (x86-64, release build), a slot of a slab chunk:
 *
 *   offset  size  field
 *        0    16  ready     ready-queue link (owner)
 *       16    24  remote    node and word for other threads' wakes and drops
 *       40     8  tasks     the owning executor's task set
 *       48    16  join      waker of whoever awaits the join handle
 *       64     4  refs      reference count (owner)
 *       68     1  units     slot size / FUT__SLOT_STEP - 1 (slab slots)
 *       69     1  flags     FUT__* bits, NOTIFIED among them
 *       70     2  out_size  output bytes
 *       72     4  id        spawn number, for diagnostics
 *       76     4  out_off   where the output slot starts
 *       80     -  frame     the future, first member a struct fut_future
 *   out_off  out_size       the output slot: after the frame, or a field
 *                           inside it (fut__frame_alloc_in)
 *
 * There is no list of all tasks: the deadlock report and the executor's
 * teardown walk the slab chunks instead (16 bytes per task saved). The
 * remote node costs 24 bytes that an atomic NOTIFIED bit would not (the
 * link could then double as the node); it buys a wake, a clone and a drop
 * without a locked instruction on the owner thread (bench_yield and
 * bench_handoff, docs/stackless.md).
 */
struct fut__task {
    struct rt_list ready;     /* owner: on tasks->ready */
    struct rt_remote remote;  /* other threads: wakes and drops, counted */
    struct fut__tasks *tasks; /* set at allocation, never changes */
    struct rt_waker join;     /* owner: stored by the join handle's poll */
    uint32_t refs;            /* scheduler (until complete) + join + wakers */
    uint8_t units;            /* slab slot size in steps, minus one */
    uint8_t flags;     /* FUT__*; NOTIFIED set by wake, cleared before a poll */
    uint16_t out_size; /* set at allocation */
    uint32_t id;       /* set at spawn */
    uint32_t out_off;  /* set at allocation */
#if defined(RT_DEBUG) && RT_DEBUG
    const char *wait_on; /* owner: what the last pending poll waited on */
#endif
    max_align_t frame[]; /* the future's frame, then the output slot */
};

/* The calling thread's task set (its executor's), or NULL: the
 * thread-ownership check of wakes. Set by fut__tasks_init, cleared by
 * fut__tasks_fini. */
extern _Thread_local struct fut__tasks *fut__current;

/* Prepares `ts` over reactor `r` and makes it the calling thread's. */
void fut__tasks_init(struct fut__tasks *ts, struct rt_reactor *r);

/* Clears the thread's task set. When no task allocation is left, frees the
 * slab and returns true; otherwise leaves it (the tasks still point into
 * it) and returns false. */
bool fut__tasks_fini(struct fut__tasks *ts);

static inline struct fut__task *fut__task_of(struct fut_future *frame)
{
    return RT_CONTAINER_OF(frame, struct fut__task, frame);
}

static inline struct fut_future *fut__task_frame(struct fut__task *t)
{
    return (struct fut_future *)(void *)t->frame;
}

static inline void *fut__task_out(struct fut__task *t)
{
    return t->out_size ? (char *)t + t->out_off : NULL;
}

/* The NOTIFIED transition, owner thread only: puts `t` at the tail of the
 * ready queue unless it is queued already, so many wakes before a poll give
 * one poll. No allocation: the link is in the header. */
static inline void fut__task_wake_local(struct fut__task *t)
{
    if (t->flags & FUT__NOTIFIED)
        return;
    t->flags |= FUT__NOTIFIED | FUT__IN_READY;
    rt_list_push_back(&t->tasks->ready, &t->ready);
}

/* Multi-worker executors (task.c): the NOTIFIED transition with atomics,
 * queuing the task where the waker runs. */
void fut__task_wake_mt(struct fut__task *t);

/* Multi-worker executors (task.c): queues a new task, whose flags its
 * spawner has set to SPAWNED | NOTIFIED with one store while nobody else
 * could see it (a spawn needs no CAS). */
void fut__task_launch_mt(struct fut__task *t);

/* The NOTIFIED transition of a new or woken task, whatever the executor. */
static inline void fut__task_wake(struct fut__task *t)
{
    if (t->tasks->ws)
        fut__task_wake_mt(t);
    else
        fut__task_wake_local(t);
}

/* The lock of the join handshake of `t` in a multi-worker executor (one of
 * a few shared stripes): the handle's poll tests COMPLETE and stores its
 * waker under it, the task's end sets COMPLETE and takes the waker under
 * it, so a wake cannot fall between the two. Returns whether it was taken
 * (only with workers); give that to fut__join_unlock. */
void fut__join_lock_mt(struct fut__task *t);
void fut__join_unlock_mt(struct fut__task *t);

static inline bool fut__join_lock(struct fut__task *t)
{
    if (!t->tasks->ws)
        return false;
    fut__join_lock_mt(t);
    return true;
}

static inline void fut__join_unlock(struct fut__task *t, bool taken)
{
    if (taken)
        fut__join_unlock_mt(t);
}

/* ORs `bits` into t->flags: plainly with one worker, atomically with
 * several (a waker may be changing NOTIFIED meanwhile). */
static inline void fut__flags_or(struct fut__task *t, unsigned bits)
{
    if (t->tasks->ws)
        __atomic_fetch_or(&t->flags, (uint8_t)bits, __ATOMIC_ACQ_REL);
    else
        t->flags |= (uint8_t)bits;
}

static inline void fut__flags_clear(struct fut__task *t, unsigned bits)
{
    if (t->tasks->ws)
        __atomic_fetch_and(&t->flags, (uint8_t)~bits, __ATOMIC_ACQ_REL);
    else
        t->flags &= (uint8_t)~bits;
}

/* t->flags, read atomically (any executor). */
static inline unsigned fut__flags(const struct fut__task *t)
{
    return __atomic_load_n(&t->flags, __ATOMIC_ACQUIRE);
}

/* Adds `d` to a count of the task set: atomically with workers. */
static inline void fut__count(const struct fut__tasks *ts, size_t *c, long d)
{
    if (ts->ws)
        __atomic_fetch_add(c, (size_t)d, __ATOMIC_RELAXED);
    else
        *c += (size_t)d;
}

/* The task a multi-worker executor's worker is polling on this thread, or
 * NULL: for wakes (the task just woken by the running one takes the LIFO
 * slot) and fut_pin. Never read across a switch: stackless tasks do not
 * switch stacks. */
extern _Thread_local struct fut__task *fut__polling;

/* Polls task `t` of a multi-worker executor once (a worker took it from a
 * queue): RUNNING for the poll, queued again if woken meanwhile. */
void fut__task_run_mt(struct fut__tasks *ts, struct fut__task *t);

/* Multi-worker executors: takes a parked task as a poller would (sets
 * RUNNING unless it is running, queued or finished), so that its frame can
 * be read (the dump); false when it could not. fut__task_give_back ends
 * the borrow, queuing the task if it was woken meanwhile. */
bool fut__task_borrow(struct fut__task *t);
void fut__task_give_back(struct fut__task *t);

/* The task wakers: data is the task; _mt is the one of executors with
 * several workers (task.c says why there are two). */
extern const struct rt_waker_vtable fut__task_waker_vt;
extern const struct rt_waker_vtable fut__task_waker_vt_mt;

/* A borrowed waker of `t` (no reference taken), with the vtable of its
 * executor's protocol: for code outside task.c that wakes or clones it. */
static inline struct rt_waker fut__task_waker(struct fut__task *t)
{
    return (struct rt_waker){
        t->tasks->ws ? &fut__task_waker_vt_mt : &fut__task_waker_vt, t};
}

/* fut_frame_alloc for a frame that holds its own output: the output slot
 * is the `out_size` bytes at `out_at` inside the frame (the future writes
 * it last, when it returns RT_READY, and the drop leaves it alone), so the
 * task needs no slot after the frame. NULL as fut_frame_alloc, or when the
 * output does not lie within the frame. */
struct fut_future *fut__frame_alloc_in(size_t frame_size, size_t out_at,
                                       size_t out_size);

/* Polls task `t` once (it was just popped from tasks->ready). */
void fut__task_run(struct fut__tasks *ts, struct fut__task *t);

/* Drops the frame of an unfinished task without output (executor free). */
void fut__task_cancel(struct fut__tasks *ts, struct fut__task *t);

/* fut_task_abort's work on task `t` of the calling thread's executor:
 * the same results. */
int fut__task_abort(struct fut__task *t);

/* Calls fn(ts, t) for every task whose flags under `mask` are `want`, by
 * walking the slab chunks. fn may finish tasks (free slots) but not spawn. */
void fut__for_each_task(struct fut__tasks *ts, unsigned mask, unsigned want,
                        void (*fn)(struct fut__tasks *, struct fut__task *));

/* fut__for_each_task over the spawned tasks whose future is not done. */
void fut__for_each_pending(struct fut__tasks *ts,
                           void (*fn)(struct fut__tasks *, struct fut__task *));

/* Takes one reference away; frees the task when it was the last. */
void fut__task_unref(struct fut__task *t);

#endif

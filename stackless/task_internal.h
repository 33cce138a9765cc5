/* The task header and the executor, shared by task.c, sched.c and leaf.c.
 * Not for use outside stackless/.
 *
 * The invariant to keep in mind: every field of a task but `remote` is the
 * owner thread's (the executor's). Other threads never touch the flags
 * (NOTIFIED among them), `refs` or the ready link; what they do to a task (wake
 * it, clone or drop a waker) is added to the word of its remote node and
 * applied by the owner when the reactor runs that node, or sooner, when the
 * owner drops a reference its count has not seen (a clone made elsewhere). So
 * the owner's own wakes, clones and drops are plain loads and stores, no locked
 * instruction.
 */
#ifndef RT_STACKLESS_TASK_INTERNAL_H
#define RT_STACKLESS_TASK_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <greenfut/task.h>
#include <greenfut/check.h>
#include <greenfut/list.h>
#include <greenfut/reactor.h>

/* Owner-thread-only bits of fut__task.flags. A free slot has flags 0. */
enum {
    FUT__SPAWNED = 1u << 4,   /* fut_frame_spawn ran: counts as a task */
    FUT__IN_READY = 1u << 0,  /* linked on ex->ready through `ready` */
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
};

/* Layout of one task (x86-64, release build), a slot of a slab chunk:
 *
 *   offset  size  field
 *        0    16  ready     ready-queue link (owner)
 *       16    24  remote    node and word for other threads' wakes and drops
 *       40     8  ex        owning executor
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
    struct rt_list ready;    /* owner: on ex->ready */
    struct rt_remote remote; /* other threads: wakes and drops, counted */
    struct fut_executor *ex; /* set at allocation, never changes */
    struct rt_waker join;    /* owner: stored by the join handle's poll */
    uint32_t refs;           /* scheduler (until complete) + join + wakers */
    uint8_t units;           /* slab slot size in steps, minus one */
    uint8_t flags;     /* FUT__*; NOTIFIED set by wake, cleared before a poll */
    uint16_t out_size; /* set at allocation */
    uint32_t id;       /* set at spawn */
    uint32_t out_off;  /* set at allocation */
#if defined(RT_DEBUG) && RT_DEBUG
    const char *wait_on; /* owner: what the last pending poll waited on */
#endif
    max_align_t frame[]; /* the future's frame, then the output slot */
};

/* Task slots come from slab chunks, one slot size per chunk, sizes in
 * steps of FUT__SLOT_STEP up to FUT__SLOT_MAX; a bigger task gets a chunk
 * of its own, freed with it. A freed slot goes on its size's free list (its
 * first word is the link), so spawn and free cost a pop and a push: no
 * malloc in the steady state. Chunks go back to malloc when the executor is
 * freed. Rust: tokio boxes each task; a slab is what a C runtime can do
 * without a general allocator's per-object header. */
/* fut_frame_alloc for a frame that holds its own output: the output slot
 * is the `out_size` bytes at `out_at` inside the frame (the future writes
 * it last, when it returns RT_READY, and the drop leaves it alone), so the
 * task needs no slot after the frame. NULL as fut_frame_alloc, or when the
 * output does not lie within the frame. */
struct fut_future *fut__frame_alloc_in(size_t frame_size, size_t out_at,
                                       size_t out_size);

/* fut_frame_spawn with the site the watchdog names (include/greenfut/watchdog.h):
 * `site` is the return address of the public spawn call, `entry` the
 * function to name as the task's (0: the frame's poll function). */
int fut__frame_spawn_at(struct fut_future *frame, struct fut_join *join,
                        uintptr_t site, uintptr_t entry);

#define FUT__SLOT_STEP    16u
#define FUT__SLOT_MAX     4096u
#define FUT__SLOT_CLASSES (FUT__SLOT_MAX / FUT__SLOT_STEP)
#define FUT__CHUNK_BYTES  (256u * 1024u)

/* Under AddressSanitizer every task gets a chunk of its own, so that ASan
 * sees each task as one malloc block and catches a use after free. */
#if defined(__SANITIZE_ADDRESS__)
#define FUT__SLAB 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUT__SLAB 0
#endif
#endif
#ifndef FUT__SLAB
#define FUT__SLAB 1
#endif

struct fut__chunk {
    struct rt_list link; /* on ex->chunks */
    uint32_t slot;       /* slot size */
    uint32_t used;       /* slots carved so far (bump pointer) */
    uint32_t cap;        /* slots that fit */
    uint32_t pad_;
    max_align_t data[];
};

struct fut_executor {
    struct rt_reactor *reactor; /* owned */
    struct rt_list ready;       /* FIFO of runnable tasks (fut__task.ready) */
    struct rt_list chunks;      /* every slab chunk (fut__chunk.link) */
    void *free_slots[FUT__SLOT_CLASSES];           /* per size: freed slots */
    struct fut__chunk *carving[FUT__SLOT_CLASSES]; /* per size: bump chunk */
    struct fut__task *cur; /* the task being polled, or NULL */
    atomic_int root_woken; /* the block_on root's waker fired */
    int running;           /* inside fut_block_on / fut_run */
    int walking;           /* inside fut__for_each_pending */
    uint32_t next_id;
    size_t pending;   /* unfinished tasks */
    size_t allocated; /* task allocations not yet freed */
    size_t bytes;     /* their slot sizes */
    uint64_t spawned;
    uint64_t polls;
    uint64_t remote_wakes;
    uint64_t yields;
};

/* What the deadlock report says of a task beyond its vtable's name, for
 * frames whose vtable cannot say it alone (a portable task: one vtable for
 * every task function). */
struct fut__about {
    uintptr_t fn;      /* code address naming the task (its function) */
    uintptr_t inner;   /* innermost child task's function, 0 for none */
    const char *waits; /* what it waits on, NULL when not known */
};

/* Fills *out for `frame` and returns true, or returns false for a frame it
 * does not know. Set by the portable layer when it spawns; NULL before. */
typedef bool (*fut__about_fn)(const struct fut_future *frame,
                              struct fut__about *out);
extern fut__about_fn fut__about;

/* The calling thread's executor (the thread-ownership check of wakes). */
extern _Thread_local struct fut_executor *fut__current;

/* What the last leaf future that returned RT_PENDING waited on; leaves set
 * it, the executor records it per task in RT_DEBUG builds. */
extern _Thread_local const char *fut__wait_note;

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

/* The task waker: data is the task. */
extern const struct rt_waker_vtable fut__task_waker_vt;

/* Polls task `t` once (it was just popped from ex->ready). */
void fut__task_run(struct fut_executor *ex, struct fut__task *t);

/* Drops the frame of an unfinished task without output (executor free). */
void fut__task_cancel(struct fut_executor *ex, struct fut__task *t);

/* Calls fn(ex, t) for every spawned task whose future is not done, by
 * walking the slab chunks. fn may finish tasks (free slots) but not spawn. */
void fut__for_each_pending(struct fut_executor *ex,
                           void (*fn)(struct fut_executor *,
                                      struct fut__task *));

/* The executor's teardown, after every pending task was cancelled: ends
 * the join handles of FUT__JOIN_AT_FREE tasks that nobody awaited, without
 * touching the handles' memory (their owners are gone). */
void fut__release_handles(struct fut_executor *ex);

/* Frees every slab chunk (the executor's teardown). */
void fut__slabs_free(struct fut_executor *ex);

/* Takes one reference away; frees the task when it was the last. */
void fut__task_unref(struct fut__task *t);

#endif

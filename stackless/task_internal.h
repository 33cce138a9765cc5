/* The task header and the executor, shared by task.c, sched.c and leaf.c.
 * Not for use outside stackless/.
 *
 * The one invariant to keep in mind: whoever flips `notified` from 0 to 1
 * owns the task's queue node (`q`) until the executor pops the task and
 * clears `notified` again just before polling it. A finished task keeps
 * `notified` at 1 forever, so no wake can queue it again.
 */
#ifndef RT_STACKLESS_TASK_INTERNAL_H
#define RT_STACKLESS_TASK_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "task.h"
#include "check.h"
#include "list.h"
#include "reactor.h"

/* Owner-thread-only bits of fut__task.flags. */
enum {
    FUT__IN_READY = 1u << 0,  /* linked on ex->ready through q.ready */
    FUT__COMPLETE = 1u << 1,  /* frame dropped; output (if any) written */
    FUT__JOIN = 1u << 2,      /* a join handle refers to the task */
    FUT__CANCELLED = 1u << 3, /* dropped unfinished by fut_executor_free */
};

/* Layout of one task allocation (x86-64, release build):
 *
 *   offset  size  field
 *        0    16  node      all tasks of the executor (deadlock report)
 *       16    24  q         ready-queue link OR cross-thread wake node
 *       40     8  ex        owning executor
 *       48    16  join      waker of whoever awaits the join handle
 *       64     4  refs      reference count
 *       68     1  notified  queued or about to be (the NOTIFIED bit)
 *       69     1  flags     FUT__* bits
 *       70     2  out_size  output bytes
 *       72     4  id        spawn number, for diagnostics
 *       76     4  out_off   where the output slot starts
 *       80     -  frame     the future, first member a struct fut_future
 *   out_off  out_size       the output slot
 */
struct fut__task {
    struct rt_list node; /* owner: linked at spawn, unlinked at completion */
    /* The ready link and the remote node are never in use at the same time
     * (see the invariant above), so they share storage: 16 bytes per task
     * saved, measured by bench_sl_parked. The remote node's `queued` word
     * lies beyond the link and stays valid; `run` is rewritten before each
     * cross-thread use. */
    union {
        struct rt_list ready;    /* owner: on ex->ready */
        struct rt_remote remote; /* a foreign waker: in the reactor's queue */
    } q;
    struct fut_executor *ex; /* set at allocation, never changes */
    struct rt_waker join;    /* owner: stored by the join handle's poll */
    atomic_uint refs;        /* scheduler (until complete) + join + wakers */
    atomic_uchar notified;   /* any thread: set by wake, cleared by poll */
    uint8_t flags;           /* owner only */
    uint16_t out_size;       /* set at allocation */
    uint32_t id;             /* set at spawn */
    uint32_t out_off;        /* set at allocation */
#if defined(RT_DEBUG) && RT_DEBUG
    const char *wait_on; /* owner: what the last pending poll waited on */
#endif
    max_align_t frame[]; /* the future's frame, then the output slot */
};

struct fut_executor {
    struct rt_reactor *reactor; /* owned */
    struct rt_list ready;       /* FIFO of runnable tasks (q.ready) */
    struct rt_list tasks;       /* every unfinished task (node) */
    struct fut__task *cur;      /* the task being polled, or NULL */
    atomic_int root_woken;      /* the block_on root's waker fired */
    int running;                /* inside fut_block_on / fut_run */
    uint32_t next_id;
    size_t pending;   /* unfinished tasks */
    size_t allocated; /* task allocations not yet freed */
    size_t bytes;     /* their malloc request sizes */
    uint64_t spawned;
    uint64_t polls;
    uint64_t remote_wakes;
    uint64_t yields;
};

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

/* Takes one reference away; frees the task when it was the last. */
void fut__task_unref(struct fut__task *t);

#endif

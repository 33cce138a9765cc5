/* Tasks, join handles and the executor: the stackless scheduler's API
 * (implemented by task.c, join.c and executor.c; docs/stackless.md).
 *
 * A task is ONE heap allocation: a header (reference count, NOTIFIED bit,
 * ready-queue link, ...) followed by the future's frame and then the output
 * slot. It never moves after it is spawned, so its frame is pinned for its
 * whole life (Rust: Pin<Box<dyn Future>>). The executor polls it whenever
 * its waker is woken; many wakes before a poll give one poll.
 *
 * One executor per OS thread, reachable as the thread's "current" executor.
 * Everything here must be called on that thread, except waking a task's
 * waker (any thread) and rt_reactor_hold/release on fut_reactor(). A thread
 * that keeps a task's waker to wake it later is invisible to the reactor:
 * cover it with rt_reactor_hold(fut_reactor()) until it is done, or an idle
 * executor reports a deadlock.
 *
 * Errors are negative errno values. A spawn that fails never polls or drops
 * the frame it was given (the caller still owns it).
 */
#ifndef RT_STACKLESS_TASK_H
#define RT_STACKLESS_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "mt.h"
#include "reactor.h"

struct fut_executor;
struct fut__task;

/* A join handle: a future whose output is the task's output (copied into
 * `out`, which must hold the task's output size, or be NULL). Dropping it
 * before it is ready detaches the task, which goes on running. It must be
 * polled and dropped on the executor's thread. It has one awaiter: while
 * one task waits on it, a poll with another waker is RT_READY at once with
 * error -EBUSY and leaves the handle to the first (that caller must not
 * drop it: the handle is the first awaiter's). Rust: JoinHandle<T>, which
 * is not Clone, so only one task can await it. */
struct fut_join {
    struct fut_future base;
    /* private: written by spawn and by the join handle's poll/drop */
    struct fut__task *task; /* NULL once joined or dropped */
    /* 0, -ESRCH (empty or joined), -EBUSY (awaited),
     * -ECANCELED (the task was dropped unfinished by fut_executor_free) */
    int err;
};

/* Counters of the current executor, all measured, none computed. */
struct fut_stats {
    size_t tasks_pending;   /* spawned tasks whose future is not done */
    size_t tasks_allocated; /* task allocations not yet freed */
    size_t task_bytes;      /* bytes requested from malloc for those */
    uint64_t spawned;       /* tasks ever spawned */
    uint64_t polls;         /* task polls */
    uint64_t remote_wakes;  /* wakes that came from another thread */
    uint64_t yields;        /* times the budget made the loop turn */
};

/* Called by fut_spawn_with to build a frame in place; returns 0 or a
 * negative errno (then the task is freed and the frame never dropped). */
typedef int (*fut_init_fn)(struct fut_future *frame, void *arg);

/* ---- The executor ---- */

/* Creates an executor (and its reactor) and makes it the calling thread's
 * current one. Returns 0, -EINVAL (out NULL), -EBUSY (this thread already
 * has one), -ENOMEM or the reactor's error. Freed by fut_executor_free. */
int fut_executor_new(struct fut_executor **out);

/* Options of fut_executor_new_with; zero-initialise (fields may be added
 * at the end). */
struct fut_config {
    unsigned workers; /* worker OS threads (the caller's included) that poll
                         the spawned tasks and steal from one another; 0:
                         RT_WORKERS from the environment if set, else 1;
                         RT_WORKERS_CPUS: one per online CPU; at most
                         RT_WORKERS_MAX. The root future of fut_block_on
                         is always polled on the calling thread */
};

/* fut_executor_new with options (cfg NULL: as fut_executor_new). Also
 * -EINVAL for a bad worker count or RT_WORKERS. */
int fut_executor_new_with(struct fut_executor **out,
                          const struct fut_config *cfg);

/* Pins the task being polled to the worker polling it: it is never stolen
 * or polled elsewhere from then on. Returns 0, or -EPERM outside a task's
 * poll. */
int fut_pin(void);

/* The index (0 .. workers - 1) of the worker polling the caller, or -EPERM
 * outside an executor's thread. */
int fut_worker(void);

/* Drops every task that has not finished (their frames' drop runs, so
 * their timers are cancelled), frees the reactor (dropping the wakers it
 * stored) and the executor, and clears the thread's current executor.
 * Every waker clone and join handle of its tasks must be gone by then
 * (the ASan tests check it), and another OS thread's last wake or drop must
 * have returned (join that thread first): it may still be posting to the
 * reactor. NULL is a no-op. Never runs a poll. */
void fut_executor_free(struct fut_executor *ex);

/* The calling thread's executor, or NULL. */
struct fut_executor *fut_executor_current(void);

/* The current executor's reactor (register fds and arm timers on it), or
 * NULL when this thread has no executor. */
struct rt_reactor *fut_reactor(void);

/* Fills *st for the current executor. Returns 0, -EINVAL (st NULL) or
 * -EPERM (no executor on this thread). */
int fut_stats(struct fut_stats *st);

/* Polls `root` (a future the caller owns; it stays where it is until this
 * returns) and the spawned tasks until root is ready; root's output goes to
 * `out` (NULL: discarded). Tasks still pending when root is ready stay in
 * the executor and run at the next fut_block_on/fut_run. When the thread
 * has no executor, one is created for the call and freed before it returns
 * (its unfinished tasks are dropped). root is not dropped: the caller
 * drops it. May run any task's poll.
 * Returns 0, -EINVAL (root or root->vt NULL), -EBUSY (called from inside a
 * poll), -EDEADLK (root pending, nothing runnable and nothing that could
 * wake anyone: the stuck tasks are printed on stderr) or a negative errno
 * from the reactor. */
int fut_block_on(struct fut_future *root, void *out);

/* Runs the current executor until no spawned task is pending. Returns 0,
 * -EPERM (no executor), -EBUSY (called from inside a poll), -EDEADLK (as
 * fut_block_on) or a reactor error. May run any task's poll. */
int fut_run(void);

/* ---- Spawning ---- */

/* Spawns a copy of the frame at `frame` (frame_size bytes, its first member
 * a struct fut_future with a vtable) as a new task whose output has
 * out_size bytes. The frame must not have been polled: a frame may point
 * into itself only after its first poll, which happens in the task.
 * Ownership of what the frame holds moves to the task; the caller's bytes
 * are just a template afterwards (do not drop them).
 * On success, when `join` is not NULL it becomes the task's join handle;
 * otherwise the task is detached. Does not poll: the task is queued.
 * Returns 0, -EINVAL (frame or its vt NULL, frame_size too small),
 * -EPERM (no executor on this thread) or -ENOMEM. */
int fut_spawn(const struct fut_future *frame, size_t frame_size,
              size_t out_size, struct fut_join *join);

/* Spawns a task whose frame (frame_size bytes) is built IN PLACE by
 * init(frame, arg) inside the task allocation, so it never moves at all.
 * init must set frame->vt. Same results as fut_spawn, plus init's error. */
int fut_spawn_with(size_t frame_size, size_t out_size, fut_init_fn init,
                   void *arg, struct fut_join *join);

/* The two halves of fut_spawn_with, for callers that build frames inline:
 * fut_frame_alloc returns uninitialised frame storage of frame_size bytes
 * inside a new task allocation (NULL: no executor, frame_size too small,
 * or out of memory); the caller builds the frame there (setting vt) and
 * then either starts it with fut_frame_spawn or gives it back with
 * fut_frame_discard (which does not drop it). */
struct fut_future *fut_frame_alloc(size_t frame_size, size_t out_size);

/* Queues the task around `frame` (from fut_frame_alloc); see fut_spawn for
 * `join`. Returns 0, or -EINVAL (frame or frame->vt NULL; the allocation is
 * then still the caller's to discard). */
int fut_frame_spawn(struct fut_future *frame, struct fut_join *join);

/* Frees an allocation from fut_frame_alloc that was never spawned. */
void fut_frame_discard(struct fut_future *frame);

/* ---- Join handles ---- */

/* Blocks on the join handle (fut_block_on of it): runs the executor until
 * the task is done, copies its output to `out` (NULL: discarded) and
 * releases the handle. Returns 0, -EINVAL (join NULL or not a handle),
 * -ESRCH (never spawned, or already joined), -EBUSY (a task awaits the
 * handle already),
 * -ECANCELED (the task was dropped unfinished: see fut_join_error), or an
 * error of fut_block_on. */
int fut_join(struct fut_join *join, void *out);

/* The error of the join handle's last poll: 0, -ESRCH (empty handle, or
 * joined twice), -EBUSY (another task awaits it; read it
 * right after that poll, the first awaiter's completion resets it) or
 * -ECANCELED (the task was dropped unfinished, by fut_executor_free, so it
 * has no output; the handle is released all the same); a poll that
 * reports an error is RT_READY and writes nothing to out. */
static inline int fut_join_error(const struct fut_join *join)
{
    return join->err;
}

/* Cancellation by drop (Rust's JoinHandle::abort): drops the frame of the
 * task behind `join` where it is suspended, so none of its code runs any
 * more and its leaf operations are cancelled with it (a parked receive
 * takes no message, an armed timer is disarmed, an fd wait is withdrawn).
 * Awaiting the handle then gives -ECANCELED (fut_join_error); the handle
 * is still the caller's to await or drop. What the task's code would have
 * done on its way out (an unlock, a close) does not happen: that is the
 * portable rt_cancel's job, which lets the task unwind itself.
 * With one worker the frame is dropped before this returns. With several,
 * a task that another worker polls or has queued right now is dropped by
 * that worker instead of being polled again; if the poll under way ends
 * the task, its output stands and the handle gives it.
 * Call it on a thread of the task's executor (a task's poll or the
 * executor's caller). Returns 0, -EINVAL (join NULL or not a handle),
 * -ESRCH (an empty or joined handle), -EALREADY (the task had ended, or
 * was aborted before), -EDEADLK (the task itself is calling) or -EPERM
 * (not on a thread of the task's executor). */
int fut_task_abort(struct fut_join *join);

/* A handle that refers to no task (its poll reports -EINVAL). */
void fut_join_init(struct fut_join *join);

/* ---- Small helpers over the reactor ---- */

/* rt_reactor_register(fut_reactor(), fd): registers `fd` (puts it in
 * non-blocking mode). Returns 0, -EPERM (no executor) or the reactor's
 * error (-EBADF, -EEXIST, -EPERM, -ENOMEM). */
int fut_register(int fd);

/* rt_reactor_close(fut_reactor(), fd): deregisters `fd`, waking and so
 * releasing any waker the reactor still holds for it, then closes it.
 * (A dropped IO future has withdrawn its own waker already.) Returns 0,
 * -EPERM (no executor; the fd is then left open) or a negative errno. */
int fut_close(int fd);

#endif

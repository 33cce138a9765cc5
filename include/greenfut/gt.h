/* gt: green threads on Boost.Context, the native blocking-style API.
 *
 * A green thread owns a machine stack; a suspended one is a saved stack
 * pointer (stackful/fcontext.h). Code on it reads like blocking code: gt_read
 * waits for data, gt_sleep for time, gt_join for another thread, and any
 * depth of calls may block because locals live on the stack.
 *
 * Model: one scheduler per gt_run. gt_run starts it, runs the root thread
 * and every thread spawned from there, and returns when all have ended.
 * With gt_config.workers > 1 (or RT_WORKERS) it runs the threads on that
 * many OS threads, the caller's included, which share one reactor and
 * steal runnable threads from one another: a thread may resume on another
 * OS thread after any call that can park or yield, so code that keeps
 * thread-local state across one calls gt_pin first (docs/multicore.md). All
 * functions below except gt_run must be called from a green thread of the
 * calling OS thread's scheduler (inside gt_run); outside one they return
 * -EPERM (or do nothing for the void ones). Errors are negative errno values;
 * errno is never an output channel.
 *
 * Thread function: `void *fn(void *arg)`; its return value is the thread's
 * result, handed out once by gt_join.
 *
 * Handles: a thread is named by an int64_t id (1, 2, 3, ... per scheduler,
 * never reused). gt_join ends the handle; a second join of the same id is
 * reported (-ESRCH), never a use after free.
 *
 * Waking: every green thread has one waker (include/greenfut/waker.h) with the
 * stackful vtable; waking it makes a parked thread runnable, and a wake that
 * arrives while the thread runs is remembered, so the next gt_park returns at
 * once (no lost wake-ups). Wakes from another OS thread go through
 * rt_reactor_post (the thread's remote node and its counted word) and are
 * safe. Every poll function of common/ can be
 * awaited as
 *
 *     struct rt_cx cx = gt_cx();
 *     while (rt_poll_x(gt_reactor(), ..., &cx, &res) == RT_PENDING)
 *         gt_park("x");
 *
 * Deadlock: when nothing is runnable and the reactor can wake no one
 * (rt_reactor_has_waiters false) while threads are parked, gt_run prints the
 * stuck threads and returns -EDEADLK. A thread that waits for a wake from
 * another OS thread must therefore be covered by rt_reactor_hold(gt_reactor())
 * until that wake is sent (rt_reactor_release afterwards).
 */
#ifndef RT_STACKFUL_GT_H
#define RT_STACKFUL_GT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "mt.h"
#include "rt_poll.h"
#include "reactor.h"
#include "rt_select.h"
#include "waker.h"

/* Default usable stack per thread (the control block, about 256 bytes,
 * lives at its top). 64 KiB holds glibc's printf family and a few KiB of
 * locals with room to spare; a parked thread with a shallow stack touches one
 * 4 KiB page of it (bench_sf_park). */
#define GT_STACK_DEFAULT (64u * 1024u)
/* Smallest accepted stack: room for the control block, printf, and a signal
 * frame delivered on the thread's stack. */
#define GT_STACK_MIN (16u * 1024u)
/* Longest name kept (longer names are cut). */
#define GT_NAME_MAX 31
/* Usable bytes of the shared run stack of each worker in copy-stack mode
 * (mapped with MAP_NORESERVE, so only the pages used are memory; a 64 KiB
 * guard below it). A copy-stack thread may use this much stack at once. */
#define GT_COPY_STACK_SIZE (1024u * 1024u)

/* Where a green thread's frames live (docs/stackful.md compares them).
 * - GT_STACK_MODE_SCHED: whatever the scheduler's default is (gt_config).
 * - GT_STACK_MODE_OWN: a stack of its own, guarded or carved from a slab
 *   (gt_config's guarded_max, slab_only).
 * - GT_STACK_MODE_COPY: the thread runs on its worker's one shared run
 *   stack; when another thread needs that stack, the used part of this
 *   one's (from its saved stack pointer to the top) is copied into a save
 *   buffer on the heap sized to fit, and copied back before it resumes. A
 *   parked thread costs its control block, its argument copy and the bytes
 *   it had in use, and a switch costs copies proportional to them. Pinned
 *   to the worker it first runs on (as by gt_pin). Rule: while the thread
 *   is parked (inside any call that may switch), pointers into its stack
 *   are invalid for everyone else, exactly as for a stackless future's
 *   locals: data handed to a waiter, another thread or a channel lives in
 *   the thread's argument copy (arg_size), on the heap or in static
 *   storage. The stack_size option is ignored (GT_COPY_STACK_SIZE is the
 *   limit; past it the shared stack's guard faults and the overflow
 *   report names the thread). */
enum gt_stack_mode {
    GT_STACK_MODE_SCHED = 0,
    GT_STACK_MODE_OWN = 1,
    GT_STACK_MODE_COPY = 2,
};

/* Per-spawn options; a NULL opts means all defaults. */
struct gt_opts {
    size_t stack_size; /* usable bytes; 0: GT_STACK_DEFAULT; rounded up to
                          whole pages; below GT_STACK_MIN: -EINVAL */
    const char *name;  /* optional, copied (up to GT_NAME_MAX bytes); used in
                          overflow and deadlock reports */
    size_t arg_size;   /* 0: fn gets `arg` as given. Otherwise arg_size
                          bytes at `arg` are copied to the top of the new
                          thread's own stack and fn gets the copy, so the
                          caller's bytes may go away after gt_spawn (no
                          malloc; the copy dies with the thread). At most a
                          quarter of the stack: more is -EINVAL. In copy
                          mode the copy sits in the control block's heap
                          allocation, so it stays valid while parked */
    enum gt_stack_mode stack_mode; /* 0 (GT_STACK_MODE_SCHED): the
                                      scheduler's default; another value
                                      than the three: -EINVAL */
};

/* Per-scheduler configuration for gt_run; NULL means all defaults. */
struct gt_config {
    size_t pool_max;    /* freed stacks kept for reuse across an idle
                           moment (default 64): while the scheduler has
                           work the pool keeps every freed stack, up to the
                           most ever live at once, so a burst's stacks
                           serve the next burst with no new mapping and no
                           page faults; when it is about to block for lack
                           of work it gives back all but pool_max. 0: no
                           pool, every stack given back as its thread
                           ends */
    size_t guarded_max; /* stacks that get their own mapping and guard
                           before spawns switch to slab mode; 0: default
                           (vm.max_map_count / 4), SIZE_MAX: never slabs */
    size_t slab_bytes;  /* slab size in slab mode (default 16 MiB) */
    int slab_only;      /* nonzero: every stack comes from a slab */
    unsigned workers;   /* worker OS threads (the caller's included) that
                           run the green threads and steal from one
                           another; 0: RT_WORKERS from the environment if
                           set, else 1; RT_WORKERS_CPUS: one per online
                           CPU; at most RT_WORKERS_MAX */
    enum gt_stack_mode stack_mode; /* the default of spawns that ask for
                                      none (the root thread's too):
                                      GT_STACK_MODE_SCHED reads
                                      RT_STACK_MODE from the environment
                                      ("copy" or "own"; unset or empty:
                                      own; anything else: gt_run returns
                                      -EINVAL), which is how a portable
                                      program (rt_run) picks copy stacks */
};

/* Counters of the calling thread's scheduler, measured not estimated. */
struct gt_stats {
    size_t threads_live;         /* spawned and not yet ended */
    size_t threads_parked;       /* in gt_park (incl. read/write/sleep/join) */
    size_t threads_runnable;     /* on the ready queue */
    uint64_t switches;           /* jump_fcontext calls by this scheduler */
    uint64_t spawned;            /* gt_spawn successes */
    size_t stacks_guarded;       /* live stacks with their own guard mapping
                                    (with copy stacks, each worker's run
                                    stack and its copier's count here) */
    size_t stacks_slab;          /* live stacks carved from slabs */
    size_t stacks_slab_guarded;  /* of those, with a guard below that faults
                                    at once (all of them with guard regions;
                                    slot 0 of each slab without) */
    const char *slab_mode;       /* "guard regions" (MADV_GUARD_INSTALL),
                                    "gap pages" (the kernel lacks them) or
                                    "none yet" (no slab made so far) */
    size_t slabs;                /* mapped slabs */
    size_t stacks_pooled;        /* freed stacks kept for reuse */
    size_t stack_bytes_reserved; /* address space of all stacks incl. guards,
                                    slabs and the pool */
    size_t stack_bytes_touched;  /* resident bytes of live threads' stacks
                                    (mincore) */
    size_t stack_high_water; /* the largest gt_stack_used of a live thread */
};

/* Runs a scheduler on the calling OS thread: spawns fn(arg) as the root
 * green thread (named "main"), runs until every green thread has ended, then
 * frees everything (stacks of threads never joined included). *result (if
 * not NULL) gets the root's result. cfg may be NULL.
 * Returns 0; -EINVAL (fn NULL or a bad cfg); -EBUSY (a scheduler already
 * runs on this OS thread); -ENOMEM (no memory for the reactor or the first
 * stack); -EDEADLK after printing the stuck threads to stderr (the parked
 * threads are then freed without being resumed, so their stacks unwind
 * nothing: memory they malloc'ed leaks, and a waiter they queued with a
 * poll function on an object that outlives the run is theirs to avoid;
 * portable tasks' waits are cancelled by the teardown). May switch
 * stacks. With several workers it returns after every worker thread has
 * been joined; -EINVAL also for a bad worker count or RT_WORKERS, -EAGAIN
 * when a worker thread cannot be created. */
int gt_run(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
           void **result);

/* Creates a green thread that will run fn(arg), queued behind the runnable
 * ones (the caller keeps running). Returns its id (> 0), or -EINVAL (fn
 * NULL, stack size below GT_STACK_MIN, an unknown stack mode), -ENOMEM (no
 * stack memory or no mapping left: never a crash), -EPERM (not on a green
 * thread). The caller owns the id until gt_join. Never switches stacks. */
int64_t gt_spawn(void *(*fn)(void *), void *arg, const struct gt_opts *opts);

/* Waits for thread `id` to end, stores its result in *result (if not NULL)
 * and ends the id. Returns 0, -ESRCH (no such thread: never spawned,
 * already joined, or its join given up as below), -EDEADLK (id is the
 * caller itself), -EBUSY (another thread already waits to join it),
 * -EPERM, or -ECANCELED when the caller is a portable task stopped by
 * rt_cancel (before or during the wait): then the join is given up, and
 * thread `id` goes on detached (its end frees it) or, when it has ended,
 * is freed. May switch stacks. */
int gt_join(int64_t id, void **result);

/* Lets every other runnable thread run once (round robin), then returns.
 * Now and then it also lets the reactor look for IO without blocking, so a
 * yielding loop cannot starve IO. No-op outside a green thread. May switch
 * stacks. */
void gt_yield(void);

/* Suspends the caller for at least `ns` nanoseconds (0: a gt_yield); a
 * sleep longer than INT64_MAX ns (292 years; UINT64_MAX too) never ends, and
 * its armed timer keeps the run from ending or reporting a deadlock.
 * Returns 0, -ENOMEM (timer heap could not grow), -EPERM. May switch. */
int gt_sleep(uint64_t ns);

/* The calling green thread's id, or 0 outside one. */
int64_t gt_self(void);

/* Pins the calling green thread to the worker OS thread it runs on now: it
 * is never stolen or resumed on another one from then on, so thread-local
 * state it keeps stays its own. Returns 0, or -EPERM outside a green
 * thread. */
int gt_pin(void);

/* The index (0 .. workers - 1) of the worker running the caller, or -EPERM
 * outside a green thread. It may change across any call that can park. */
int gt_worker(void);

/* Parks the calling thread until its waker is woken; returns at once when a
 * wake came since the last park (consuming it). A wake is a hint: callers
 * re-check their condition (re-poll). `what` (a string that outlives the
 * park, e.g. a literal) is what deadlock reports say it waits on. No-op
 * outside a green thread. May switch stacks. */
void gt_park(const char *what);

/* The calling OS thread's reactor, or NULL outside gt_run. Owned by gt_run;
 * valid until it returns. */
struct rt_reactor *gt_reactor(void);

/* The calling green thread's waker, borrowed: valid while the thread lives
 * (clone it to keep it; clones keep the thread's control block alive until
 * dropped, and must be dropped before gt_run returns: a clone used on
 * another OS thread means that thread's last wake or drop has returned, for
 * example by joining it, before gt_run's end). NULL outside one. */
const struct rt_waker *gt_waker(void);

/* A poll context holding gt_waker() (cx.waker NULL outside a green thread,
 * which every poll function rejects with -EINVAL). */
struct rt_cx gt_cx(void);

/* Registers `fd` with the reactor (edge-triggered, O_NONBLOCK): needed once
 * before gt_read/gt_write/gt_connect/gt_accept on it (gt_accept registers the
 * fds it returns). Returns 0 or -EBADF, -EEXIST, -EPERM, -ENOMEM. */
int gt_register(int fd);

/* Deregisters `fd` (waking its waiters with -EBADF) and closes it. Returns 0
 * or a negative errno. */
int gt_close(int fd);

/* Reads up to len bytes, parking until data or EOF. Returns the count (0 at
 * EOF) or -errno (-EBADF: fd not registered). May switch stacks. */
ssize_t gt_read(int fd, void *buf, size_t len);

/* Writes up to len bytes, parking while the fd is full. Returns the count
 * (may be short) or -errno (-EPIPE: peer closed). May switch stacks. */
ssize_t gt_write(int fd, const void *buf, size_t len);

/* Accepts a connection on listening socket `fd`, parking until one comes.
 * The new fd is registered and owned by the caller (end it with gt_close).
 * addr/alen may be NULL. Returns the fd or -errno. May switch stacks. */
int gt_accept(int fd, struct sockaddr *addr, socklen_t *alen);

/* Connects registered socket `fd`, parking until done. Returns 0 or -errno
 * (e.g. -ECONNREFUSED). May switch stacks. */
int gt_connect(int fd, const struct sockaddr *addr, socklen_t alen);

/* Waits for the first of cases[0..n) to complete (include/greenfut/
 * rt_select.h: fill the cases with rt_sel_recv, rt_sel_send, ...), parking
 * meanwhile. Returns the index of the case that won, its result in
 * cases[index].res, every other case withdrawn (it received, sent, read or
 * wrote nothing); of cases ready at once one is drawn at random, or the
 * first with flags RT_SELECT_BIASED. Returns -EINVAL (bad cases or flags,
 * rt_select_init) or -EPERM. The cases live on the caller's stack as they
 * like. May switch stacks. */
int gt_select(struct rt_sel_case *cases, size_t n, unsigned flags);

/* Bytes of thread `id`'s stack that are in use or were, page-granular: the
 * distance from the stack's top down to its lowest resident page (mincore,
 * so no paint pass costs memory at spawn). A pooled stack remembers pages an
 * earlier owner touched. A copy-stack thread: the bytes its last save
 * copied out (0 before any), exact. Returns the bytes or -ESRCH, -EPERM. */
int64_t gt_stack_used(int64_t id);

/* Fills *st with the calling scheduler's counters. Walks every live stack
 * (one mincore each), so it costs O(threads). Returns 0, -EINVAL, -EPERM. */
int gt_stats(struct gt_stats *st);

#endif

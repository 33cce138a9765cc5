/* Green-thread internals, shared by the files of stackful/ (never included
 * from outside it): the thread block, the workers, the scheduler, and what
 * the files call of one another.
 *
 * Invariant: exactly one context runs per worker, wk->current; every other
 * live thread is queued (RUNNABLE), parked (PARKED), or finished (DONE).
 * A thread's control block sits at the top of its own stack, so a spawn
 * costs no malloc, and it lives until its last reference is gone: one held
 * by the scheduler until the thread has switched away for the last time, one
 * by its id until gt_join, one per waker clone.
 *
 * One worker (s->ws NULL): `refs`, `state` and everything else but `remote`
 * belong to the scheduler's OS thread. Another thread never touches them:
 * its wakes, clones and drops go into the word of the `remote` node
 * (include/greenfut/reactor.h), which the owner applies when the reactor
 * runs the node. So the owner's own clones and drops are plain increments.
 *
 * Several workers (s->ws set): a thread has no owner thread. `refs` and
 * `state` change by atomic operations only, from any thread; the remote
 * node is unused. The state protocol (switch.h's land finishes each
 * transition on the context that runs next, so that no other worker can
 * see a thread whose context is not saved yet):
 * - park: RUNNING -> PARKING (by the thread), then PARKING -> PARKED in
 *   land; a wake that found PARKING set NOTIFIED, and land queues the
 *   thread instead (RUNNABLE);
 * - wake: PARKED -> RUNNABLE and queue it (the waker); RUNNING, PARKING or
 *   RUNNABLE -> the same | NOTIFIED (the next park returns at once);
 * - yield: RUNNING -> RUNNABLE (by the thread), queued by land;
 * - a worker that takes a thread from a queue: RUNNABLE -> RUNNING,
 *   keeping NOTIFIED;
 * - the end: DONE, under s->ids_lock (the join handshake, sched.c).
 */
#ifndef RT_STACKFUL_GT_INTERNAL_H
#define RT_STACKFUL_GT_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "fcontext.h"
#include <greenfut/gt.h>
#include "idtable.h"
#include <greenfut/list.h>
#include <greenfut/mt.h>
#include <greenfut/reactor.h>
#include "stack.h"

/* The values are what tools/gdb/greenfut.py prints; keep them. */
enum gt__state {
    GT__RUNNING = 0,  /* some worker's wk->current */
    GT__RUNNABLE = 1, /* queued (or about to be, by land) */
    GT__PARKED = 2,   /* waits for its waker */
    GT__DONE = 3,     /* fn returned; kept until joined and unreferenced */
    GT__PARKING = 4,  /* several workers: parked, its context not saved */
};

/* Several workers: the bit of gt__thread.state that says a wake came while
 * the thread was not PARKED (one worker keeps the `notified` bool). */
#define GT__NOTIFIED 8u
#define GT__STATE    7u
/* Several workers: a PARKED thread held by a dump on another worker while
 * it reads the thread (sched.c's dump_hold): a wake adds NOTIFIED and the
 * dump's release queues it. */
#define GT__HELD 16u

struct gt__sched;
struct gt__worker;
struct rt_worker;
struct rt_workers;
struct rt_watchdog;
struct gt__copy_run;

struct gt__thread {
    fcontext_t ctx;      /* saved context; written by whoever lands after
                            this thread jumped away (land) */
    struct rt_list link; /* one worker: wk->ready while RUNNABLE, else
                            self-linked; several: a queue's node */
    struct rt_list all;  /* s->threads while not DONE */
    struct gt__sched *s; /* owner; fixed at spawn */
    unsigned state;      /* enum gt__state; one worker: the owner's OS
                            thread only; several: atomics, with
                            GT__NOTIFIED (see the file comment) */
    bool notified;       /* one worker: a wake came while not parked */
    bool detached;       /* nobody will join it (a portable spawn without
                            a handle, or a join given up by a cancelled
                            joiner): its end drops the id's reference
                            itself; set at spawn, or by sched.c's
                            join_give_up before the end (several
                            workers: under ids_lock, as the end reads
                            it) */
    bool yielded;        /* several workers: a yield's switch is under way
                            (state stays RUNNING); set by the thread, read
                            and cleared by land on the same OS thread */
    unsigned pin;        /* several workers: 0, or the index + 1 of the
                            worker it is pinned to; written by the thread
                            itself, read by wakers (atomics) */
    uint32_t refs;       /* see the file comment */
    int64_t id;          /* > 0; 0 for a worker's own context */
    void *(*fn)(void *); /* set at spawn */
    uintptr_t entry;     /* the function reports name: fn, or for a
                            portable task its own task function (fn is
                            the wrapper); set at spawn */
    void *arg;
    union {
        void *result;              /* fn's return, read by gt_join: once DONE */
        const void *waiting_frame; /* while PARKED only: the portable
                                      frame parked in (set by every park,
                                      NULL for gt_park's), for the dump */
    };
    struct gt__thread *joiner; /* the thread parked in gt_join on us;
                                  several workers: under s->ids_lock */
    const char *waiting;       /* gt_park's `what`, for deadlock reports
                                  and the dump: read only while PARKED */
    int waiting_fd;            /* fd of an IO wait, -1 otherwise */
    void (*cancel)(void *arg); /* gt__site.cancel, set at spawn; run on
                                  `arg` at teardown if fn never ended */
    struct rt_waker waker;     /* {&waker_vt or &waker_vt_mt (thread.c),
                                  this}, borrowed by gt_cx */
    struct rt_remote remote;   /* one worker: other threads' wakes, clones
                                  and drops */
    struct gt__stack stack;    /* the memory this block sits in */
    /* Sanitizer bookkeeping: ASan's fake stack saved at switch-out or
     * TSan's fiber, and for a worker's own context its stack bounds as
     * ASan reported them. */
    void *san_fake;
    const void *san_bottom;
    size_t san_size;
    char name[GT_NAME_MAX + 1];
    /* What a native wait is on, for the dump, beyond `waiting`: written by
     * the thread itself before it parks and cleared once it runs again
     * (gt_join, gt_sleep); read by the dump only while the thread is
     * PARKED, and with several workers only while the dump holds it
     * (GT__HELD: it cannot run, so plain accesses do). The joined block
     * outlives its joiner's wait: the id's reference holds it. */
    const struct gt__thread *joining; /* gt_join: the thread joined */
    uint64_t waiting_deadline;        /* gt_sleep: its deadline */
    /* The waker a portable task's awaits poll with (rt_stackful_waker):
     * &waker from the spawn on (stored before the thread is published),
     * the cancelled context's waker once rt_cancel ran
     * (stackful/portable.c). Atomics: rt_cancel may store it from any
     * worker. */
    const struct rt_waker *portable_waker;
    /* Copy-stack mode (copy.c), kept out of struct gt__stack so that the
     * stacks of every other thread stay as small to copy as before: this
     * thread runs on its home worker's shared run stack, and between runs
     * its frames are `saved` bytes of the `cap` at `save`. Fixed at spawn
     * (copy); the rest written by the home worker's copier only. */
    bool copy;
    uint32_t saved, cap;
    char *save;
};

/* Entry of the id table (common/idtable.h): thread id -> thread. */
struct gt__slot {
    uint64_t id; /* the key: a thread's id, > 0 */
    struct gt__thread *t;
};

/* One worker OS thread of a scheduler: everything a switch touches. All of
 * it is written by that OS thread only (gt_stats reads `switches` with a
 * relaxed atomic load; its writer stores it the same way). A green thread
 * that resumes learns its worker from the switch (land), never from a
 * thread-local read before the switch. */
struct gt__worker {
    struct gt__sched *s;          /* fixed */
    struct gt__thread *current;   /* the running context (maybe &main) */
    struct rt_list ready;         /* one worker: RUNNABLE threads, FIFO */
    size_t runnable;              /* one worker: threads on `ready` */
    unsigned budget;              /* direct handoffs left before a reactor
                                     look; reset by the worker's loop */
    uint64_t switches;            /* jumps made on this worker */
    struct rt_worker *rw;         /* several workers: the queues' worker;
                                     NULL with one */
    struct gt__copy_run *copy;    /* copy stacks (copy.h): NULL until the
                                     first copy-stack spawn publishes it;
                                     read at every switch, so among the
                                     fields every switch reads */
    struct rt_watchdog *watchdog; /* this worker's blocking detector */
    void *altstack;               /* this OS thread's overflow altstack */
    int64_t queued;               /* several workers: threads this worker
                                     queued minus those it took (so no
                                     count is shared by all the workers'
                                     handoffs); the owner writes it with
                                     relaxed atomics, gt__runnable sums */
    struct gt__thread main;       /* the worker's own context (its loop) */
};

struct gt__sched {
    struct gt__worker w0;   /* worker 0: the caller of gt_run; first, so a
                               one-worker scheduler is its worker */
    struct gt__worker *wk;  /* n workers: &w0, or an array whose [0] runs
                               on gt_run's thread */
    unsigned n;             /* fixed */
    struct rt_workers *ws;  /* the queues of several workers; NULL: one */
    struct rt_list threads; /* every thread not DONE, spawn order;
                               several workers: under threads_lock */
    struct rt_reactor *reactor;
    struct gt__stacks stacks; /* several workers: under stacks_lock */
    struct rt_idtable ids;    /* struct gt__slot of every id not joined;
                                 several workers: under ids_lock */
    int64_t next_id;          /* under ids_lock */
    /* Counters; several workers: atomics (relaxed). */
    size_t live;     /* threads not DONE */
    size_t parked;   /* threads PARKED */
    size_t runnable; /* several workers: RUNNABLE threads queued from
                        outside the workers (gt__runnable adds theirs) */
    uint64_t spawned;
    /* Several workers: leaf locks (include/greenfut/mt.h's order); a
     * thread's end takes ids_lock, then a run queue's, to wake its joiner. */
    struct rt_spin ids_lock, stacks_lock, threads_lock;
};

/* The calling OS thread's scheduler, NULL outside gt_run: written by each
 * worker as it starts and ends, read by tools/gdb/greenfut.py only (the
 * runtime reads gt__here()). */
extern _Thread_local struct gt__sched *gt__current_sched;

/* The calling OS thread's worker, NULL outside gt_run. Read it only with
 * gt__here(). */
extern _Thread_local struct gt__worker *gt__cur_worker;

/* The worker of the calling OS thread, read anew at every call. A green
 * thread may resume on another OS thread after any switch, and a compiler
 * may keep a thread-local's address (or glibc's const errno location) in a
 * callee-saved register across the call that switched: the read here goes
 * through the thread pointer in an asm that cannot be merged with an
 * earlier one (x86-64: the %fs base and the variable's initial-exec
 * offset), or through a call that is never inlined elsewhere. Two
 * instructions, no call, on x86-64 (docs/multicore.md). */
struct gt__worker *gt__here_call(void);

static inline struct gt__worker *gt__here(void)
{
#if defined(__x86_64__) && !defined(__ILP32__)
    struct gt__worker *w;
#if defined(__PIE__) || !defined(__PIC__)
    /* In the executable: the variable's offset from the thread pointer is
     * fixed at link time (local-exec), one instruction. */
    __asm__ volatile("movq %%fs:gt__cur_worker@tpoff, %0"
                     : "=r"(w)
                     :
                     : "memory");
#else
    /* In a shared library: the offset comes from the GOT (initial-exec). */
    __asm__ volatile("movq gt__cur_worker@gottpoff(%%rip), %0\n\t"
                     "movq %%fs:(%0), %0"
                     : "=r"(w)
                     :
                     : "memory");
#endif
    return w;
#else
    return gt__here_call();
#endif
}

/* Fills what a parked portable frame waits on into a dump line (the
 * portable layer's rt__frame_wait), for describe(); set by the portable
 * layer at its first park, NULL before (then the dump names the wait by
 * gt_park's `what` only). Relaxed atomic: any worker may set it, always to
 * the same function. */
struct rt__dump_task;
typedef void (*gt__frame_wait_fn)(const void *frame, struct rt__dump_task *d);
extern _Atomic(gt__frame_wait_fn) gt__frame_wait;

/* The running green thread of this OS thread, NULL when none. */
static inline struct gt__thread *gt__self(void)
{
    struct gt__worker *wk = gt__here();
    if (!wk || wk->current == &wk->main)
        return NULL;
    return wk->current;
}

/* The calling OS thread's scheduler, NULL outside gt_run. */
static inline struct gt__sched *gt__sched_here(void)
{
    struct gt__worker *wk = gt__here();
    return wk ? wk->s : NULL;
}

/* The id table entry of thread `id`, or NULL (ids are > 0). It moves when
 * the table grows: look it up again after a spawn. */
static inline struct gt__slot *gt__thread_find(struct gt__sched *s, int64_t id)
{
    return id > 0 ? rt_idtable_find(&s->ids, (uint64_t)id) : NULL;
}

struct gt__site;

/* Starts a green thread running fn(arg) on scheduler `s` (the caller's):
 * its block and stack, its id and its first place on the ready FIFO.
 * Returns the id (> 0) or -EINVAL/-ENOMEM. thread.c. */
int64_t gt__thread_spawn(struct gt__sched *s, void *(*fn)(void *), void *arg,
                         const struct gt_opts *opts, const struct gt__site *at);

/* Drops one reference to `t` and frees it when none is left anywhere;
 * owner thread only. thread.c (its waker section's unref). */
void gt__thread_unref(struct gt__thread *t);

/* Gives the block (and the stack it sits in) back, whatever its
 * references; owner thread only. For the waker's last drop and gt_run's
 * teardown. thread.c. */
void gt__thread_free(struct gt__thread *t);

/* Writes "green thread <id> \"<name>\" (<function>)" for `t` into buf (the
 * name part only when it has one; the function as rt__name_fn resolves
 * t->entry). For the overflow, deadlock and slab-gap reports. */
void gt__describe(const struct gt__thread *t, char *buf, size_t len);

/* Installs the overflow reporter (process-wide, once) and an alternate
 * signal stack for the calling OS thread. Returns 0 or -ENOMEM; *altstack
 * is what gt__overflow_fini frees. */
int gt__overflow_init(void **altstack);
void gt__overflow_fini(void *altstack);

/* Where a thread was spawned, for the watchdog (include/greenfut/watchdog.h):
 * the return address of the public spawn call, and the function to name as the
 * thread's entry (0: the function it runs). And what the spawn does to the
 * new thread before anyone can run it (with several workers that may be at
 * once, on another worker): init(arg, init_data) on the argument the thread
 * will get (its copy, when spawned with arg_size), and `cancel`, the hook
 * that gt_run's teardown calls with that argument when the thread is still
 * parked at the end (-EDEADLK, or an error of the loop): it must take every
 * waiter the thread has queued on objects that outlive the run (channels,
 * mutexes, timers) off their queues, because the stack holding them is
 * about to go. It runs on a worker's context with the reactor still alive,
 * and must not switch. For stackful/portable.c, whose frames say what they
 * wait on. */
struct gt__site {
    uintptr_t site;
    uintptr_t entry;
    void (*init)(void *arg, void *init_data);
    void *init_data;
    void (*cancel)(void *arg);
    bool detached; /* see struct gt__thread's field */
};

/* gt_spawn and gt_run with the site given by the caller: stackful/portable.c
 * names the portable task's own function and its caller's site. */
int64_t gt__spawn_at(void *(*fn)(void *), void *arg, const struct gt_opts *opts,
                     const struct gt__site *at);
int gt__run_at(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
               void **result, const struct gt__site *at);

#endif

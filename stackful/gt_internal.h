/* Green-thread internals, shared by the files of stackful/ (never included
 * from outside it): the thread block, the scheduler, and what the files
 * call of one another.
 *
 * Invariant: exactly one context runs per scheduler, s->current; every other
 * live thread is on s->ready (RUNNABLE), parked (PARKED), or finished (DONE).
 * A thread's control block sits at the top of its own stack, so a spawn
 * costs no malloc, and it lives until its last reference is gone: one held
 * by the scheduler until the thread has switched away for the last time, one
 * by its id until gt_join, one per waker clone.
 *
 * `refs` and everything else but `remote` belong to the owner's OS thread.
 * Another thread never touches them: its wakes, clones and drops go into
 * the word of the `remote` node (include/greenfut/reactor.h), which the owner
 * applies when the reactor runs the node. So the owner's own clones and drops
 * are plain increments, no locked instruction.
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
#include <greenfut/reactor.h>
#include "stack.h"

enum gt__state {
    GT__RUNNING,  /* s->current */
    GT__RUNNABLE, /* on s->ready */
    GT__PARKED,   /* waits for its waker */
    GT__DONE,     /* fn returned; kept until joined and unreferenced */
};

struct gt__sched;

struct gt__thread {
    fcontext_t ctx;       /* saved context; written by whoever lands after
                             this thread jumped away (switch_to/entry) */
    struct rt_list link;  /* s->ready while RUNNABLE; self-linked else */
    struct rt_list all;   /* s->threads while not DONE */
    struct gt__sched *s;  /* owner; fixed at spawn */
    enum gt__state state; /* written on the owner's OS thread only */
    bool notified;        /* a wake came while not parked; park consumes */
    uint32_t refs;        /* see the file comment; owner only */
    int64_t id;           /* > 0; 0 for the scheduler's own context */
    void *(*fn)(void *);  /* set at spawn */
    uintptr_t entry;      /* the function reports name: fn, or for a
                             portable task its own task function (fn is
                             the wrapper); set at spawn */
    void *arg;
    union {
        void *result;              /* fn's return, read by gt_join: once DONE */
        const void *waiting_frame; /* while PARKED only: the portable
                                      frame parked in (rt_stackful_park,
                                      which clears it), for the dump */
    };
    struct gt__thread *joiner; /* the thread parked in gt_join on us */
    const char *waiting;       /* gt_park's `what`, for deadlock reports */
    int waiting_fd;            /* fd of an IO wait, -1 otherwise */
    void (*cancel)(void *arg); /* set by gt__set_cancel after spawn; run
                                  on `arg` at teardown if fn never ended */
    struct rt_waker waker;     /* {&gt__waker_vt, this}, borrowed by gt_cx */
    struct rt_remote remote;   /* other threads' wakes, clones and drops */
    struct gt__stack stack;    /* the memory this block sits in */
    /* ASan bookkeeping: the fake stack saved at switch-out, and for the
     * scheduler's own context its stack bounds as ASan reported them. */
    void *san_fake;
    const void *san_bottom;
    size_t san_size;
    char name[GT_NAME_MAX + 1];
};

/* Entry of the id table (common/idtable.h): thread id -> thread. */
struct gt__slot {
    uint64_t id; /* the key: a thread's id, > 0 */
    struct gt__thread *t;
};

struct gt__sched {
    struct gt__thread *current; /* the running context (maybe &main) */
    struct gt__thread main;     /* gt_run's own context (the scheduler) */
    struct rt_list ready;       /* RUNNABLE threads, FIFO */
    struct rt_list threads;     /* every thread not DONE, spawn order */
    struct rt_reactor *reactor;
    struct gt__stacks stacks;
    struct rt_idtable ids; /* struct gt__slot of every id not joined */
    int64_t next_id;
    size_t live;     /* threads not DONE */
    size_t parked;   /* threads PARKED */
    size_t runnable; /* threads RUNNABLE */
    unsigned budget; /* direct handoffs left before a reactor
                        look; reset by the scheduler loop */
    uint64_t switches;
    uint64_t spawned;
};

/* The calling OS thread's scheduler, NULL outside gt_run. Defined, with
 * the one below, in sched.c, which sets them for the length of a run. */
extern _Thread_local struct gt__sched *gt__current_sched;

/* The blocking detector of this OS thread's gt_run, NULL when off; every
 * switch_to tells it who runs. */
extern _Thread_local struct rt_watchdog *gt__watchdog;

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
    struct gt__sched *s = gt__current_sched;
    if (!s || s->current == &s->main)
        return NULL;
    return s->current;
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

/* The argument thread `id` will get (its copy, when spawned with
 * arg_size), or NULL. For stackful/portable.c, which fills in the header of
 * a frame copied onto the thread's stack before the thread first runs. */
void *gt__spawned_arg(int64_t id);

/* Gives thread `id` a hook that gt_run's teardown calls with the thread's
 * argument when the thread is still parked at the end (-EDEADLK, or an
 * error of the loop): it must take every waiter the thread has queued on
 * objects that outlive the run (channels, mutexes, timers) off their
 * queues, because the stack holding them is about to go. It runs on the
 * scheduler's context with the reactor still alive, and must not switch.
 * For stackful/portable.c, whose frames say what they wait on. */
void gt__set_cancel(int64_t id, void (*cancel)(void *arg));

/* Where a thread was spawned, for the watchdog (include/greenfut/watchdog.h):
 * the return address of the public spawn call, and the function to name as the
 * thread's entry (0: the function it runs). */
struct gt__site {
    uintptr_t site;
    uintptr_t entry;
};

/* gt_spawn and gt_run with the site given by the caller: stackful/portable.c
 * names the portable task's own function and its caller's site. */
int64_t gt__spawn_at(void *(*fn)(void *), void *arg, const struct gt_opts *opts,
                     const struct gt__site *at);
int gt__run_at(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
               void **result, const struct gt__site *at);

#endif

/* The workers of one multi-worker scheduler: their run queues, stealing,
 * parking, and the rule for who turns the shared reactor. Written once for
 * both backends: a queued item is a struct rt_list node embedded in the
 * backend's task (a stackless task's ready link, a green thread's link),
 * and the backend decides what running it means (a poll, a switch).
 *
 * The shape is tokio's multi-thread scheduler and Go's: per worker a
 * bounded ring (the owner pushes at the tail; the owner and thieves take
 * from the head) and a LIFO slot for the task the running one just woke;
 * per scheduler one inject queue (wakes from outside, and the overflow of a
 * full ring), one reactor, one token that says which worker may turn it.
 *
 * Who touches what (the protocol beside each field below):
 * - a ring's tail and the LIFO slot: its owner only; the ring's head and
 *   slots: atomics, the owner and thieves (a CAS on head claims slots);
 * - the inject queue: its spinlock; its length is an atomic for a cheap
 *   emptiness test;
 * - parking: each worker's mutex and condition; the counts of idle and
 *   searching workers are atomics;
 * - the reactor: whoever holds `turner`.
 *
 * One worker never uses this file: a scheduler with one worker keeps its
 * own FIFO and the owner-thread protocol of owner.h (no locked instruction).
 */
#ifndef RT_COMMON_WORKERS_H
#define RT_COMMON_WORKERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <greenfut/list.h>
#include <greenfut/reactor.h>
#include <greenfut/mt.h>

/* Slots of a worker's ring: a power of two (tokio: 256). */
#define RT_RING 256u

/* LIFO-slot runs in a row before the ring gets a turn (tokio's cap). */
#define RT_LIFO_MAX 3u

/* Items taken between two looks at the inject queue, so that it cannot
 * starve behind a busy ring (tokio's global_queue_interval). */
#define RT_INJECT_EVERY 61u

struct rt_workers;

struct rt_worker {
    /* Owner: the worker's own OS thread. */
    struct rt_workers *ws; /* fixed */
    unsigned index;        /* fixed: 0 is the thread that called run */
    struct rt_list *lifo;  /* owner only */
    unsigned lifo_run;     /* owner only: LIFO takes in a row */
    unsigned tick;         /* owner only: items taken, for RT_INJECT_EVERY */
    uint64_t rng;          /* owner only: victim choice */
    bool searching;        /* owner only: counted in ws->searching */
    pthread_t thread;      /* fixed once started */
    void *ctx;             /* the backend's per-worker state; fixed */
    /* The ring. tail: written by the owner only (release), read by
     * thieves; head: CAS by the owner and thieves. Slots are atomics so a
     * thief's read that loses its CAS is not a data race. */
    _Alignas(64) atomic_uint head;
    atomic_uint tail;
    _Atomic(struct rt_list *) ring[RT_RING];
    /* The yield queue (workers.c, "The yield queue"): the tasks this
     * worker queued again right after running them. `yq` and yq_len are
     * written under that protocol: by the owner between yq_busy = 1 and
     * yq_busy = 0 having read yq_revoke 0, or by a thief that holds
     * yq_thief, has set yq_revoke and has then read yq_busy 0. yq_len is
     * read by any worker. */
    _Alignas(64) struct rt_list yq;
    atomic_uint yq_len;
    atomic_uint yq_busy;     /* written by the owner only */
    atomic_uint yq_revoke;   /* written by the thief holding yq_thief */
    struct rt_spin yq_thief; /* one thief at a time */
    bool yq_first;           /* owner only: the next take tries it first */
    /* Parking: `parked` under `lock`; a notifier clears it and signals. */
    _Alignas(64) pthread_mutex_t lock;
    pthread_cond_t cond;
    bool parked;
    /* Work for this worker alone (pinned tasks): `inbox` under
     * inbox_lock, inbox_len mirrors its length; `kicked` is set by
     * rt_worker_wake and cleared by the owner's rt_worker_next. */
    struct rt_spin inbox_lock;
    struct rt_list inbox;
    atomic_size_t inbox_len;
    atomic_bool kicked;
    /* Counters, written by the owner only. */
    uint64_t taken;  /* items this worker ran (relaxed atomic: the stats
                        read it from any worker) */
    uint64_t stolen; /* items it stole from others */
};

/* What the workers need of their backend. */
struct rt_workers_ops {
    /* Unfinished tasks of the scheduler; 0 ends the run. Any worker. */
    size_t (*live)(void *ctx);
    /* Called once, on the worker that found the deadlock while every other
     * worker is parked: print the report. */
    void (*deadlock)(void *ctx);
};

struct rt_workers {
    unsigned n; /* fixed */
    /* Fixed: yields use the yield queues (membarrier(2)'s expedited
     * barrier is registered), else the rings. */
    bool yq_on;
    struct rt_reactor *reactor;       /* fixed: the scheduler's one reactor */
    const struct rt_workers_ops *ops; /* fixed */
    void *ctx;                        /* fixed: the backend's scheduler */
    /* The reactor turn: the index + 1 of the worker that turns it, 0 when
     * none does (CAS from 0 to take; the dump reads which one). */
    atomic_int turner;
    /* Inject queue: under inject_lock; inject_len mirrors its length. */
    struct rt_spin inject_lock;
    struct rt_list inject;
    atomic_size_t inject_len;
    /* Workers parked or blocked in the reactor; workers searching. */
    atomic_uint idle;
    atomic_uint searching;
    /* Set once by rt_workers_stop: the run ends with `rc`. */
    atomic_int stop;
    int rc;
    /* Parked workers' indices; under park_lock. */
    pthread_mutex_t park_lock;
    unsigned nparked;
    unsigned parked_ix[RT_WORKERS_MAX];
    /* The start of rt_workers_run, under park_lock: the threads wait for
     * `go` (set once all are created, or creation `failed`). */
    pthread_cond_t go_cond;
    bool go, failed;
    void (*main)(struct rt_worker *w); /* fixed by rt_workers_run */
    struct rt_worker w[];              /* n of them */
};

/* Creates the queues of `n` (2..RT_WORKERS_MAX) workers over reactor `r`.
 * ctx[i] is worker i's backend state (rt_worker.ctx). Returns 0, -EINVAL or
 * -ENOMEM; the caller frees with rt_workers_free. */
int rt_workers_new(struct rt_workers **out, unsigned n, struct rt_reactor *r,
                   const struct rt_workers_ops *ops, void *ctx,
                   void *const *worker_ctx);

/* Frees `ws` (after rt_workers_run returned). The queues must be empty. */
void rt_workers_free(struct rt_workers *ws);

/* Runs main(w) on every worker: workers 1..n-1 on new OS threads, worker 0
 * on the caller's; returns when all have returned and been joined, with
 * the rc given to rt_workers_stop (0 when never given). -EAGAIN/-ENOMEM
 * when a thread cannot be created (the ones started are stopped first). */
int rt_workers_run(struct rt_workers *ws, void (*main)(struct rt_worker *w));

/* The calling thread's worker (of any scheduler), or NULL. Not inline:
 * a green thread may resume on another OS thread, so the address of this
 * thread-local must never be kept across a switch (docs/multicore.md). */
struct rt_worker *rt_worker_self(void);

/* Sets the calling thread's worker (main's first step). */
void rt__worker_set(struct rt_worker *w);

/* Queues `node` on worker `w`, the caller's own. With `lifo`, it takes the
 * LIFO slot and the slot's previous item moves to the ring. A full ring
 * moves half of itself to the inject queue. Then wakes an idle worker if
 * none is searching. */
void rt_worker_push(struct rt_worker *w, struct rt_list *node, bool lifo);

/* Queues `node` on worker `w`, the caller's own, for a task that this
 * worker has just run and that is ready again without anything new to do
 * (a yield): it goes to the worker's yield queue, which its owner pushes
 * to and takes from with no locked instruction while the queue is not
 * empty, and which another worker takes from only when it would otherwise
 * idle; the items of w's ring, ready before it, move there first, ahead
 * of it (one compare-and-swap, when there are any). Wakes an idle worker
 * when the queue was empty. Without the yield queues (rt_workers.yq_on
 * false) it is rt_worker_push without `lifo`. */
void rt_worker_requeue(struct rt_worker *w, struct rt_list *node);

/* Writes the items of worker `w`'s yield queue, first to last, to out[]
 * (at most `max`) and returns how many it wrote: a consistent list,
 * taken by the thieves' protocol when `w` is not the caller's worker. For
 * the dump. Any thread. */
unsigned rt_worker_yq_snapshot(struct rt_worker *w, const struct rt_list **out,
                               unsigned max);

/* Whether worker `w` (the caller's own) has nothing queued where it
 * could run it next: its LIFO slot free, its ring and its yield queue
 * empty. */
bool rt_worker_empty(struct rt_worker *w);

/* Queues `node` for worker `to` alone (a pinned task): it is never
 * stolen. Wakes `to`. Any thread. */
void rt_worker_send(struct rt_worker *to, struct rt_list *node);

/* Makes worker `w` look for work soon: unparks it, or interrupts the
 * reactor turn it may be blocked in, and makes its next park return at
 * once. For work rt_worker_next cannot see (a root future woken). Any
 * thread. */
void rt_worker_wake(struct rt_worker *w);

/* Whether rt_worker_wake was called since the last rt_worker_next of `w`
 * (its own thread). */
static inline bool rt_worker_kicked(struct rt_worker *w)
{
    return atomic_load_explicit(&w->kicked, memory_order_acquire);
}

/* Forgets every queued item (the backend's teardown, after the run, when
 * it frees or cancels the tasks by other means). */
void rt_workers_clear(struct rt_workers *ws);

/* Queues `node` on the inject queue and wakes an idle worker: for wakes
 * from threads that are not workers of this scheduler. Any thread. */
void rt_workers_inject(struct rt_workers *ws, struct rt_list *node);

/* The next item for worker `w` (its own thread): the LIFO slot (at most
 * RT_LIFO_MAX in a row), every RT_INJECT_EVERY items the inject queue
 * first, the ring and the yield queue (by turns while both have items),
 * the inject queue, then half of another worker's ring, then half of
 * another worker's yield queue.
 * NULL when there is none anywhere. `lifo_ok` false skips the LIFO slot
 * (a yield must not come back first). */
struct rt_list *rt_worker_next(struct rt_worker *w, bool lifo_ok);

/* What rt_worker_idle says. */
enum { RT_IDLE_AGAIN = 0, RT_IDLE_STOP = 1 };

/* Worker `w` found no item: it takes the reactor turn if no other worker
 * has it (blocking until something is due, unless work appears), else it
 * parks until a push wakes it. Detects the deadlock (every other worker
 * parked, no item queued anywhere, nothing in the reactor can wake
 * anyone, tasks still live): reports it through ops->deadlock and stops
 * the run with -EDEADLK. Returns RT_IDLE_AGAIN (look for work again) or
 * RT_IDLE_STOP (the run is over: return from main). */
int rt_worker_idle(struct rt_worker *w);

/* A non-blocking look at the reactor, if no other worker is turning it:
 * for a busy worker, every budget of items. Returns what rt_reactor_turn
 * returned, or 0 when another worker had the turn. */
int rt_worker_poll_reactor(struct rt_worker *w);

/* Ends the run with `rc` (the first call's rc wins) and wakes every
 * worker. Any worker, or the backend when its live count reached 0. */
void rt_workers_stop(struct rt_workers *ws, int rc);

/* Wakes one idle worker when none is searching: the parked one, or the
 * one blocked in the reactor. rt_worker_push and rt_workers_inject call it;
 * a backend calls it when work appears by another path. */
void rt_workers_notify(struct rt_workers *ws);

/* The worker count a scheduler runs with. `asked` is its option (0 when
 * it has none); `zero_is_cpus` says whether an asked 0 means one per CPU
 * (struct rt_opts) or "no option" (gt_config, fut_config).
 * RT_WORKERS_CPUS is one per online CPU. Without an option, the RT_WORKERS
 * environment variable decides (0: one per CPU), else 1. Returns the
 * count (1..RT_WORKERS_MAX) or -EINVAL (more than RT_WORKERS_MAX, or an
 * RT_WORKERS that is not a number in range). */
int rt_workers_count(unsigned asked, bool zero_is_cpus);

#endif

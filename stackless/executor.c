/* The executor: one per thread, spawning, the run loop and blocking.
 *
 * The loop has three named phases: poll the root future if its waker fired,
 * poll ready tasks (at most FUT_BUDGET in a row), then turn the reactor:
 * without blocking when tasks are still ready (so a task that keeps waking
 * itself cannot starve IO and timers), blocking otherwise. When nothing is
 * ready, something is still pending and the reactor has nobody to wake, the
 * program is deadlocked: the loop says so instead of blocking forever.
 */
#include <greenfut/task.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include <greenfut/coop.h>
#include "executor_internal.h"
#include "join_internal.h"
#include "dump_internal.h"
#include "sys.h"
#include "task_internal.h"
#include "watchdog_internal.h"

/* Task polls between two looks at the reactor when tasks stay ready.
 * Rust: tokio's event_interval (61) plays the same role. A look costs a
 * syscall only when the reactor has waiters (see serve_reactor). */
#ifndef FUT_BUDGET /* -DFUT_BUDGET=n to try others */
#define FUT_BUDGET 128
#endif

/* Spawn numbers a worker takes from the executor's counter at once. */
#define ID_BLOCK 256u

/* One per thread. The task set comes first: the thread's current task set
 * (fut__current) is the executor's, and RT_CONTAINER_OF gets it back. */
struct fut_executor {
    struct fut__tasks tasks; /* the ready queue, the slab, the counts */
    atomic_int root_woken;   /* the block_on root's waker fired */
    int running;             /* inside fut_block_on / fut_run */
    uint32_t next_id;        /* the last spawn number given (with workers:
                                atomic, taken ID_BLOCK at a time by each
                                worker, one at a time by other threads) */
    uint64_t spawned;        /* tasks ever spawned (with workers: atomic,
                                by other threads; see fut__worker) */
    uint64_t yields;         /* times the budget made the loop turn (worker
                                0's, with workers; written by one thread,
                                relaxed atomic for fut_stats) */
    /* With workers (tasks.ws): the run's root future and output, polled on
     * worker 0 only; root_done is written there and read by every worker
     * through live_tasks (atomic). */
    struct fut_future *root;
    void *out;
    atomic_int root_done;
    /* With workers: each one's state (n of them, rt_worker.ctx points at
     * each, tasks.workers too). NULL with one worker. */
    struct fut__worker *now;
};

/* The calling thread's executor, or NULL. */
static struct fut_executor *current(void)
{
    return fut__current
               ? RT_CONTAINER_OF(fut__current, struct fut_executor, tasks)
               : NULL;
}

/* The executor's reactor. */
static struct rt_reactor *reactor_of(struct fut_executor *ex)
{
    return ex->tasks.reactor;
}

void fut_polled_after_done(const char *file, int line)
{
    rt_panic(file, line, "future polled after it completed");
}

static const struct rt_workers_ops workers_ops;

int fut_executor_new(struct fut_executor **out)
{
    return fut_executor_new_with(out, NULL);
}

int fut_executor_new_with(struct fut_executor **out,
                          const struct fut_config *cfg)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (fut__current)
        return -EBUSY;
    int n = rt_workers_count(cfg ? cfg->workers : 0, false);
    if (n < 0)
        return n;
    struct fut_executor *ex = rt_sys_calloc(1, sizeof(*ex));
    if (!ex)
        return -ENOMEM;
    struct rt_reactor *r;
    int rc = rt_reactor_new(&r);
    if (rc < 0) {
        free(ex);
        return rc;
    }
    if (n > 1) {
        rc = rt_reactor_share(r);
        ex->now = rt_sys_calloc((size_t)n, sizeof(*ex->now));
        void **ctx = rt_sys_calloc((size_t)n, sizeof(*ctx));
        if (rc == 0 && (!ex->now || !ctx))
            rc = -ENOMEM;
        for (int i = 0; rc == 0 && i < n; i++)
            ctx[i] = &ex->now[i];
        if (rc == 0)
            rc = rt_workers_new(&ex->tasks.ws, (unsigned)n, r, &workers_ops, ex,
                                (void *const *)ctx);
        free(ctx);
        if (rc < 0) {
            rt_reactor_free(r);
            free(ex->now);
            free(ex);
            return rc;
        }
    }
    struct rt_workers *ws = ex->tasks.ws;
    fut__tasks_init(&ex->tasks, r);
    ex->tasks.ws = ws;
    ex->tasks.workers = ex->now;
    rt_spin_init(&ex->tasks.slab_lock);
    atomic_init(&ex->root_woken, 0);
    *out = ex;
    return 0;
}

void fut_executor_free(struct fut_executor *ex)
{
    if (!ex)
        return;
    RT_ASSERT(ex == current() && !ex->running);
    /* The queues only point at pending tasks, which the cancel below
     * finishes: forget them first. */
    if (ex->tasks.ws)
        rt_workers_clear(ex->tasks.ws);
    /* Drop unfinished frames first: their drops cancel timers and release
     * join handles and children while the reactor is still there. */
    fut__for_each_pending(&ex->tasks, fut__task_cancel);
    fut__release_handles(&ex->tasks);
    /* Drops the IO wakers left in fd slots; a waker that was the last
     * reference frees its task here. Remote frees queued by other threads
     * run in a last turn. */
    (void)rt_reactor_turn(reactor_of(ex), 0);
    rt_reactor_free(reactor_of(ex));
    ex->tasks.reactor = NULL;
    /* The workers' counts go to the shared ones before the workers go. */
    size_t left, bytes;
    fut__tasks_held(&ex->tasks, &left, &bytes);
    ex->tasks.allocated = left;
    ex->tasks.bytes = bytes;
    ex->tasks.workers = NULL;
    rt_workers_free(ex->tasks.ws);
    ex->tasks.ws = NULL;
    free(ex->now);
    ex->now = NULL;
    if (!fut__tasks_fini(&ex->tasks))
        fprintf(stderr,
                "stackless: executor freed with %zu task(s) still referenced "
                "(a waker or join handle outlived it)\n",
                left);
    else
        free(ex);
}

struct fut_executor *fut_executor_current(void)
{
    return current();
}

struct rt_reactor *fut_reactor(void)
{
    return fut__current ? fut__current->reactor : NULL;
}

int fut_stats(struct fut_stats *st)
{
    if (!st)
        return -EINVAL;
    struct fut_executor *ex = current();
    if (!ex)
        return -EPERM;
    st->tasks_pending = fut__pending(&ex->tasks);
    bool k = ex->tasks.ws != NULL;
    if (k)
        rt_spin_lock_always(&ex->tasks.slab_lock);
    fut__tasks_held(&ex->tasks, &st->tasks_allocated, &st->task_bytes);
    rt_spin_unlock(&ex->tasks.slab_lock, k);
    st->spawned = __atomic_load_n(&ex->spawned, __ATOMIC_RELAXED);
    for (unsigned i = 0; ex->tasks.ws && i < ex->tasks.ws->n; i++)
        st->spawned += __atomic_load_n(&ex->now[i].spawned, __ATOMIC_RELAXED);
    st->polls = ex->tasks.polls; /* one worker: this thread's own */
    if (ex->tasks.ws)            /* each worker counts its own */
        for (unsigned i = 0; i < ex->tasks.ws->n; i++)
            st->polls +=
                __atomic_load_n(&ex->tasks.ws->w[i].taken, __ATOMIC_RELAXED);
    st->remote_wakes =
        __atomic_load_n(&ex->tasks.remote_wakes, __ATOMIC_RELAXED);
    st->yields = __atomic_load_n(&ex->yields, __ATOMIC_RELAXED);
    return 0;
}

int fut_register(int fd)
{
    struct rt_reactor *r = fut_reactor();
    return r ? rt_reactor_register(r, fd) : -EPERM;
}

int fut_close(int fd)
{
    struct rt_reactor *r = fut_reactor();
    return r ? rt_reactor_close(r, fd) : -EPERM;
}

/* ---- The root future's waker: data is the executor ---- */

static const struct rt_waker_vtable root_vt;

static struct rt_waker root_clone(void *data)
{
    return (struct rt_waker){&root_vt, data};
}

static void root_wake_by_ref(void *data)
{
    struct fut_executor *ex = data;
    atomic_store_explicit(&ex->root_woken, 1, memory_order_release);
    if (ex->tasks.ws) /* the root is worker 0's */
        rt_worker_wake(&ex->tasks.ws->w[0]);
    else if (current() != ex)
        (void)rt_reactor_notify(reactor_of(ex));
}

static void root_drop(void *data)
{
    (void)data;
}

/* The executor outlives every root waker (see fut_executor_free), so the
 * root waker needs no reference count. */
static const struct rt_waker_vtable root_vt = {root_clone, root_wake_by_ref,
                                               root_wake_by_ref, root_drop};

/* ---- Deadlock report ---- */

fut__about_fn fut__about;
fut__entry_fn fut__entry;

/* The workers' notes of the dump being written (NULL: one worker, or
 * none); set around the walk, under the slab lock as dump_out is. */
static struct rt__dump_worker *dump_workers;
static unsigned dump_nworkers;
static struct rt__dump_queues *dump_queues;

/* Fills the dump line of `t` (rt__dump_task_write's shape): the portable
 * layer's fut__about names the task's own function, its innermost child
 * and its wait; a native future has its vtable's name, and in RT_DEBUG
 * builds what its last pending poll waited on. */
static void describe(struct fut__tasks *ts, struct fut__task *t,
                     struct rt__dump_task *d, struct fut__about *a)
{
    struct fut_future *frame = fut__task_frame(t);
    /* Atomic: a task that ends on another worker meanwhile clears it. */
    const struct fut_vtable *vt = __atomic_load_n(&frame->vt, __ATOMIC_RELAXED);
    unsigned flags = fut__flags(t);
    /* With workers, RUNNING and polled by none: it yielded and is queued
     * again (task.c's protocol). */
    int on = ts->ws && dump_workers
                 ? rt__dump_worker_of(dump_workers, dump_nworkers, t)
                 : -1;
    bool running = ts->ws ? (flags & FUT__RUNNING) && (!dump_workers || on >= 0)
                          : ts->cur == t;
    const char *state = running                                   ? "running"
                        : flags & (FUT__IN_READY | FUT__NOTIFIED) ? "runnable"
                                                                  : "parked";
    if (!running && ts->ws && (flags & FUT__RUNNING))
        state = "runnable";
    *d = (struct rt__dump_task){
        .kind = "task",
        .id = t->id,
        .fname = vt && vt->name ? vt->name : "unnamed",
        .state = state,
        .fd = -1,
        .stack = -1,
        .key = frame,
    };
    if (running && dump_workers) {
        d->worker = on >= 0 ? (unsigned)on + 1 : 0;
    } else if (!running && dump_queues &&
               (flags & (FUT__NOTIFIED | FUT__RUNNING))) {
        int i = rt__dump_queued_on(dump_queues, &t->ready);
        d->queued = i >= 0 ? (unsigned)i + 1 : 0;
    }
    /* With workers, another worker may be polling the task or about to:
     * its frame is read only by the task's own worker (the dump's caller)
     * or after borrowing the task as a poller would (RUNNING set on a
     * parked task: a wake meanwhile is kept and queues it on return). A
     * task that is running or queued elsewhere is shown by its state. */
    bool borrowed = false;
    if (ts->ws && t != fut__polling) {
        borrowed = fut__task_borrow(t);
        if (!borrowed) {
            fut__entry_fn entry =
                __atomic_load_n(&fut__entry, __ATOMIC_RELAXED);
            d->fn = vt && entry ? entry(frame) : 0;
            return;
        }
    }
    fut__about_fn about = __atomic_load_n(&fut__about, __ATOMIC_RELAXED);
    bool known = vt && about && about(frame, a);
    if (borrowed)
        fut__task_give_back(t);
    if (known) {
        d->fn = a->fn;
        d->inner = a->inner;
        d->chain = a->chain;
        d->files = a->files;
        d->lines = a->lines;
        d->depth = running ? 0 : a->depth; /* running: no resume yet */
        if (!running) { /* the running task waits on nothing */
            d->wait = a->waits ? a->waits : "?";
            d->obj = a->obj;
            d->fd = a->fd;
            d->deadline = a->deadline;
            d->join_id = a->join_id;
            d->join_fn = a->join_fn;
        }
        return;
    }
#if defined(RT_DEBUG) && RT_DEBUG
    d->wait = t->wait_on;
#endif
}

static FILE *dump_out; /* where dump_task writes; set around the walk */

static void dump_task(struct fut__tasks *ts, struct fut__task *t)
{
    struct rt__dump_task d;
    struct fut__about a; /* d points into it */
    describe(ts, t, &d, &a);
    rt__dump_task_write(dump_out, &d);
}

static void report_root(FILE *out, struct fut_future *root)
{
    if (root)
        fprintf(out, "  root future (%s)\n",
                root->vt->name ? root->vt->name : "unnamed");
}

/* Writes the line of every pending task to `out`. With workers the walk
 * holds the slab's lock, so no slot is allocated or freed under it, and a
 * task's flags are read with acquire, so what its last poll wrote is seen;
 * a task polled meanwhile on another worker may still be described half
 * old, half new (docs/multicore.md). */
static void walk_pending(struct fut_executor *ex, FILE *out)
{
    bool k = ex->tasks.ws != NULL;
    if (k)
        rt_spin_lock_always(&ex->tasks.slab_lock);
    dump_out = out;
    fut__for_each_pending(&ex->tasks, dump_task);
    dump_out = NULL;
    rt_spin_unlock(&ex->tasks.slab_lock, k);
}

/* fut__for_each_pending's step that gives each worker line the id of the
 * task that worker polls, if the task is still pending. */
static void note_polled(struct fut__tasks *ts, struct fut__task *t)
{
    (void)ts;
    int i = rt__dump_worker_of(dump_workers, dump_nworkers, t);
    if (i >= 0 && (fut__flags(t) & FUT__RUNNING))
        dump_workers[i].id = t->id;
}

/* The dump with several workers: what each worker does, then the tasks,
 * each running one with its worker. The notes are read before the walk;
 * the walk holds the slab lock, so the tasks it meets stay allocated. */
static void walk_workers(struct fut_executor *ex, FILE *out)
{
    struct rt_workers *ws = ex->tasks.ws;
    unsigned n = ws->n;
    struct rt__dump_worker *w = calloc(n, sizeof(*w));
    const char **doing = calloc(n, sizeof(*doing));
    if (!w || !doing) {
        free(w);
        free(doing);
        walk_pending(ex, out);
        return;
    }
    struct rt_worker *here = rt_worker_self();
    int self = -1;
    for (unsigned i = 0; i < n; i++) {
        const void *p =
            atomic_load_explicit(&ex->now[i].polled, memory_order_relaxed);
        doing[i] = rt__dump_worker_doing(ws, i);
        if (p && p == ex->root)
            doing[i] = "polling the root future";
        else
            w[i].running = p;
        if (here == &ws->w[i] && !p)
            self = (int)i;
    }
    struct rt__dump_queues *q = rt__dump_queues_take(ws);
    rt_spin_lock_always(&ex->tasks.slab_lock);
    dump_workers = w;
    dump_nworkers = n;
    dump_queues = q;
    fut__for_each_pending(&ex->tasks, note_polled);
    rt__dump_workers_write(out, "task", w, doing, n, self);
    dump_out = out;
    fut__for_each_pending(&ex->tasks, dump_task);
    dump_out = NULL;
    dump_workers = NULL;
    dump_nworkers = 0;
    dump_queues = NULL;
    rt_spin_unlock(&ex->tasks.slab_lock, true);
    rt__dump_queues_free(q);
    free(w);
    free(doing);
}

/* The root future of the running fut_block_on, for the dump. */
static _Thread_local struct fut_future *dump_root;

/* rt_dump's source: the root future, then every pending task. */
static void dump(void *ctx, FILE *out)
{
    struct fut_executor *ex = ctx;
    struct fut_future *root = ex->tasks.ws ? ex->root : dump_root;
    fprintf(out, "stackless: %zu task(s) pending%s", fut__pending(&ex->tasks),
            root ? " and the root future" : "");
    if (ex->tasks.ws)
        fprintf(out, "; %u workers", ex->tasks.ws->n);
    fputc('\n', out);
    report_root(out, root);
    if (ex->tasks.ws)
        walk_workers(ex, out);
    else
        walk_pending(ex, out);
}

static void report_deadlock(struct fut_executor *ex, struct fut_future *root)
{
    fprintf(
        stderr,
        "stackless: deadlock: nothing is runnable and the reactor has nobody "
        "to wake, but %zu task(s)%s still pending:\n",
        fut__pending(&ex->tasks), root ? " and the root future are" : " are");
    report_root(stderr, root);
    walk_pending(ex, stderr);
}

/* ---- The run loop ---- */

/* Phase: look at the reactor without blocking. Skipped when it has no
 * waiters at all: then nothing could be woken, and a busy ping-pong of
 * tasks costs no syscall. */
static int serve_reactor(struct fut_executor *ex)
{
    ex->yields++;
    if (!rt_reactor_has_waiters(reactor_of(ex)))
        return 0;
    int rc = rt_reactor_turn(reactor_of(ex), 0);
    return rc < 0 ? rc : 0;
}

/* The blocking detector of this thread's run, NULL when off. */
static _Thread_local struct rt_watchdog *watchdog;

/* Tells the watchdog (when on) that `f`, task `id`, is about to be polled. */
static void watch_poll(int64_t id, struct fut_future *f)
{
    if (watchdog)
        rt__watchdog_resume(watchdog, id, f->vt->name, (uintptr_t)f->vt->poll,
                            f);
}

static void watch_idle(void)
{
    if (watchdog)
        rt__watchdog_idle(watchdog);
}

/* ---- The run loop of a multi-worker executor ----
 *
 * Each worker takes tasks from the queues (workers.h), FUT_BUDGET in a
 * row, then looks at the reactor without blocking; with nothing left it
 * goes idle (the reactor turn, or parked). Worker 0 also polls the root
 * future when its waker fired. The run ends when the root is ready (or,
 * without a root, when no task is pending), on a deadlock or on a reactor
 * error. */

/* Tasks not done, or the credit of a worker still running tasks
 * (FUT__CREDIT): zero only when neither is left. */
static size_t live_tasks(void *ctx)
{
    struct fut_executor *ex = ctx;
    size_t n = __atomic_load_n(&ex->tasks.pending, __ATOMIC_ACQUIRE);
    if (ex->root && !atomic_load(&ex->root_done))
        n++;
    return n;
}

static void report_deadlock(struct fut_executor *ex, struct fut_future *root);

static void deadlock_mt(void *ctx)
{
    struct fut_executor *ex = ctx;
    report_deadlock(ex, ex->root);
}

static const struct rt_workers_ops workers_ops = {live_tasks, deadlock_mt};

static void worker_main(struct rt_worker *w)
{
    struct rt_workers *ws = w->ws;
    struct fut_executor *ex = ws->ctx;
    struct rt_waker rw = {&root_vt, ex};
    struct rt_cx rcx = {&rw};
    struct fut__worker *now = w->ctx;
    bool mine = fut__current == NULL; /* workers 1.. are new threads */
    if (mine)
        fut__current = &ex->tasks;
    /* Each task run here is one item taken: the budget's clock. */
    const uint64_t *coop_was = rt__coop_enter(&w->taken);
    if (w->index != 0) {
        watchdog = rt__watchdog_start("task");
        rt__dump_begin(dump, ex, reactor_of(ex)); /* rt_dump from here too */
    }
    for (;;) {
        if (w->index == 0 && ex->root && !atomic_load(&ex->root_done) &&
            atomic_exchange_explicit(&ex->root_woken, 0,
                                     memory_order_acq_rel)) {
            watch_poll(0, ex->root);
            rt__coop_refill();
            atomic_store_explicit(&now->polled, ex->root, memory_order_relaxed);
            enum rt_poll p = fut_poll(ex->root, &rcx, ex->out);
            atomic_store_explicit(&now->polled, NULL, memory_order_relaxed);
            watch_idle();
            if (p == RT_READY) {
                atomic_store(&ex->root_done, 1);
                rt_workers_stop(ws, 0);
            }
        }
        unsigned n = 0;
        struct rt_list *l;
        while (n < FUT_BUDGET && (l = rt_worker_next(w, true))) {
            struct fut__task *t = RT_CONTAINER_OF(l, struct fut__task, ready);
            watch_poll(t->id, fut__task_frame(t));
            /* The dump's note: two plain stores on x86-64 (a relaxed
             * atomic store is a mov), on this worker's own line. */
            atomic_store_explicit(&now->polled, t, memory_order_relaxed);
            fut__task_run_mt(&ex->tasks, t); /* may free t */
            atomic_store_explicit(&now->polled, NULL, memory_order_relaxed);
            watch_idle();
            n++;
            if (rt__coop_refused) { /* see run_loop */
                rt__coop_refused = false;
                n = FUT_BUDGET;
            }
        }
        if (n < FUT_BUDGET) /* out of tasks: see FUT__CREDIT */
            fut__worker_settle(&ex->tasks, now);
        if (live_tasks(ex) == 0)
            rt_workers_stop(ws, 0);
        if (n == FUT_BUDGET) {
            if (w->index == 0) /* single writer; fut_stats reads it */
                __atomic_store_n(&ex->yields, ex->yields + 1, __ATOMIC_RELAXED);
            if (rt_reactor_has_waiters(reactor_of(ex))) {
                int rc = rt_worker_poll_reactor(w);
                if (rc < 0)
                    rt_workers_stop(ws, rc);
            }
            if (!atomic_load(&ws->stop))
                continue;
        }
        if (w->index == 0 && ex->root && !atomic_load(&ex->root_done) &&
            atomic_load(&ex->root_woken))
            continue;
        if (rt_worker_idle(w) == RT_IDLE_STOP)
            break;
        rt__dump_check(); /* whichever worker the signal's notify woke */
    }
    fut__worker_settle(&ex->tasks, now);
    rt__coop_leave(coop_was);
    if (w->index != 0) {
        rt__dump_end();
        rt__watchdog_stop(watchdog);
        watchdog = NULL;
    }
    if (mine)
        fut__current = NULL;
}

static int run_mt(struct fut_executor *ex, struct fut_future *root, void *out)
{
    struct rt_workers *ws = ex->tasks.ws;
    ex->root = root;
    ex->out = out;
    atomic_store(&ex->root_done, 0);
    atomic_store(&ws->stop, 0);
    ws->rc = 0;
    if (root)
        atomic_store_explicit(&ex->root_woken, 1, memory_order_relaxed);
    rt__mt_count(1);
    int rc = rt_workers_run(ws, worker_main);
    rt__mt_count(-1);
    ex->root = NULL;
    ex->out = NULL;
    return rc;
}

static int run_loop(struct fut_executor *ex, struct fut_future *root, void *out)
{
    struct rt_waker rw = {&root_vt, ex};
    struct rt_cx rcx = {&rw};
    ex->running = 1;
    watchdog = rt__watchdog_start("task");
    dump_root = root;
    rt__dump_begin(dump, ex, reactor_of(ex));
    /* Each task run is one poll: the budget's clock (with several workers
     * each has its own, worker_main's). */
    const uint64_t *coop_was = rt__coop_enter(&ex->tasks.polls);
    int rc;
    if (ex->tasks.ws) {
        rc = run_mt(ex, root, out);
        goto end;
    }
    if (root)
        atomic_store_explicit(&ex->root_woken, 1, memory_order_relaxed);
    for (;;) {
        /* Phase 1: the root future, when its waker fired. */
        if (root && atomic_exchange_explicit(&ex->root_woken, 0,
                                             memory_order_acq_rel)) {
            watch_poll(0, root);
            rt__coop_refill();
            enum rt_poll p = fut_poll(root, &rcx, out);
            watch_idle();
            if (p == RT_READY) {
                rc = 0;
                break;
            }
        }
        /* Phase 2: ready tasks, FIFO, bounded. */
        for (unsigned n = 0; n < FUT_BUDGET; n++) {
            struct rt_list *l = rt_list_pop_front(&ex->tasks.ready);
            if (!l)
                break;
            struct fut__task *t = RT_CONTAINER_OF(l, struct fut__task, ready);
            watch_poll(t->id, fut__task_frame(t));
            fut__task_run(&ex->tasks, t); /* may free t */
            watch_idle();
            /* A task that spent its cooperative budget woke itself: look
             * at the reactor before it runs again, or a timer due meanwhile
             * would wait for a whole FUT_BUDGET of its runs. */
            if (rt__coop_refused) {
                rt__coop_refused = false;
                break;
            }
        }
        if (root && atomic_load_explicit(&ex->root_woken, memory_order_relaxed))
            continue;
        if (!root && ex->tasks.pending == 0) {
            rc = 0;
            break;
        }
        /* Phase 3: the reactor. */
        if (!rt_list_empty(&ex->tasks.ready)) {
            rc = serve_reactor(ex);
            if (rc < 0)
                break;
            rt__dump_check();
            continue;
        }
        if (!rt_reactor_has_waiters(reactor_of(ex))) {
            report_deadlock(ex, root);
            rc = -EDEADLK;
            break;
        }
        rc = rt_reactor_turn(reactor_of(ex), -1);
        if (rc < 0)
            break;
        rt__dump_check();
    }
end:
    rt__coop_leave(coop_was);
    rt__dump_end();
    dump_root = NULL;
    rt__watchdog_stop(watchdog);
    watchdog = NULL;
    ex->running = 0;
    return rc;
}

int fut_block_on(struct fut_future *root, void *out)
{
    if (!root || !root->vt || !root->vt->poll)
        return -EINVAL;
    struct fut_executor *ex = current();
    if (ex && ex->running)
        return -EBUSY;
    int own = 0;
    if (!ex) {
        int rc = fut_executor_new(&ex);
        if (rc < 0)
            return rc;
        own = 1;
    }
    int rc = run_loop(ex, root, out);
    if (own)
        fut_executor_free(ex);
    return rc;
}

int fut_run(void)
{
    struct fut_executor *ex = current();
    if (!ex)
        return -EPERM;
    if (ex->running)
        return -EBUSY;
    return run_loop(ex, NULL, NULL);
}

/* ---- Spawning ---- */

int fut__frame_spawn_at(struct fut_future *frame, struct fut_join *join,
                        uintptr_t site, uintptr_t entry)
{
    if (!frame || !frame->vt || !frame->vt->poll)
        return -EINVAL;
    if (rt__watchdog_noting())
        rt__watchdog_spawned(frame, site,
                             entry ? entry : (uintptr_t)frame->vt->poll);
    struct fut__task *t = fut__task_of(frame);
    struct fut_executor *ex = current();
    RT_ASSERT(t->tasks == fut__current);
    /* Until the wake below publishes it, the task is the caller's alone:
     * plain writes to it are safe with workers too. */
    if (ex->tasks.ws) {
        struct fut__worker *me = fut__worker_here(&ex->tasks);
        if (me) { /* numbers by blocks: unique, in order per worker */
            if (me->id_next == me->id_end) {
                me->id_next = __atomic_fetch_add(&ex->next_id, ID_BLOCK,
                                                 __ATOMIC_RELAXED);
                me->id_end = me->id_next + ID_BLOCK;
            }
            t->id = ++me->id_next;
            __atomic_store_n(&me->spawned, me->spawned + 1, __ATOMIC_RELAXED);
        } else {
            t->id = __atomic_add_fetch(&ex->next_id, 1, __ATOMIC_RELAXED);
            __atomic_fetch_add(&ex->spawned, 1, __ATOMIC_RELAXED);
        }
        fut__pending_add(&ex->tasks, me);
        if (join)
            fut__join_attach(join, t);
        /* A store, not a locked OR or the wake's CAS: nobody else writes
         * the flags of a task not yet queued, but a dump on another worker
         * may read them (the walk of the slots), so it is an atomic one. */
        __atomic_store_n(&t->flags,
                         (uint8_t)(t->flags | FUT__SPAWNED | FUT__NOTIFIED),
                         __ATOMIC_RELEASE);
        fut__task_launch_mt(t);
        return 0;
    }
    t->id = ++ex->next_id;
    ex->tasks.pending++;
    ex->spawned++;
    t->flags |= FUT__SPAWNED;
    if (join)
        fut__join_attach(join, t);
    fut__task_wake_local(t); /* a new task is not NOTIFIED yet */
    return 0;
}

int fut_frame_spawn(struct fut_future *frame, struct fut_join *join)
{
    return fut__frame_spawn_at(frame, join,
                               (uintptr_t)__builtin_return_address(0), 0);
}

/* What fut_spawn and fut_spawn_with check and allocate before they differ:
 * 0 with *f a new frame, -EPERM (no executor), -EINVAL (an output too
 * large) or -ENOMEM. The caller has checked its own arguments. */
static int frame_new(size_t frame_size, size_t out_size, struct fut_future **f)
{
    if (!fut__current)
        return -EPERM;
    *f = fut_frame_alloc(frame_size, out_size);
    if (!*f)
        return out_size > UINT16_MAX ? -EINVAL : -ENOMEM;
    return 0;
}

int fut_spawn(const struct fut_future *frame, size_t frame_size,
              size_t out_size, struct fut_join *join)
{
    if (!frame || !frame->vt || !frame->vt->poll ||
        frame_size < sizeof(struct fut_future))
        return -EINVAL;
    struct fut_future *f;
    int rc = frame_new(frame_size, out_size, &f);
    if (rc < 0)
        return rc;
    memcpy(f, frame, frame_size);
    return fut__frame_spawn_at(f, join, (uintptr_t)__builtin_return_address(0),
                               0);
}

int fut_spawn_with(size_t frame_size, size_t out_size, fut_init_fn init,
                   void *arg, struct fut_join *join)
{
    if (!init || frame_size < sizeof(struct fut_future))
        return -EINVAL;
    struct fut_future *f;
    int rc = frame_new(frame_size, out_size, &f);
    if (rc < 0)
        return rc;
    f->vt = NULL;
    rc = init(f, arg);
    if (rc == 0 && (!f->vt || !f->vt->poll))
        rc = -EINVAL;
    if (rc < 0) {
        fut_frame_discard(f);
        return rc;
    }
    return fut__frame_spawn_at(f, join, (uintptr_t)__builtin_return_address(0),
                               0);
}

/* ---- Blocking on a join handle ---- */

int fut_join(struct fut_join *join, void *out)
{
    if (!join || join->base.vt != &fut__join_vt)
        return -EINVAL;
    if (!join->task)
        return join->err == 0 ? -ESRCH : join->err;
    int rc = fut_block_on(&join->base, out);
    return rc < 0 ? rc : join->err;
}

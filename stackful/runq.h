/* The run queues' operations: queue a thread, wake one, pick the next
 * context to run; with one worker over the worker's FIFO, with several over
 * the shared queues of common/workers.h.
 *
 * Invariant: with one worker a thread is on wk->ready exactly when it is
 * RUNNABLE, and wk->runnable counts them. With several, a thread is in at
 * most one queue, only while RUNNABLE, and only once its context is saved
 * (the state protocol of gt_internal.h). Header-only, static inline:
 * wake_local and pick are on the handoff path of sched.c and thread.c alike
 * (bench_handoff, bench_yield); the several-worker paths are out of line.
 * Depends on gt_internal.h and common/workers.h only.
 */
#ifndef RT_STACKFUL_RUNQ_H
#define RT_STACKFUL_RUNQ_H

#include "gt_internal.h"
#include <greenfut/list.h>
#include "workers.h"

/* The next context to run: the head of the ready queue, or the worker's
 * own context when the queue is empty or the handoff budget is spent. */
static inline struct gt__thread *pick(struct gt__worker *wk)
{
    if (wk->budget == 0 || rt_list_empty(&wk->ready))
        return &wk->main;
    wk->budget--;
    struct rt_list *n = rt_list_pop_front(&wk->ready);
    wk->runnable--;
    return RT_CONTAINER_OF(n, struct gt__thread, link);
}

/* Puts `t` at the tail of the ready FIFO (one worker). */
static inline void make_runnable(struct gt__worker *wk, struct gt__thread *t)
{
    t->state = GT__RUNNABLE;
    rt_list_push_back(&wk->ready, &t->link);
    wk->runnable++;
}

/* A wake on the owner's OS thread (one worker): a parked thread becomes
 * runnable, a running or runnable one keeps the wake for its next park. */
static inline void wake_local(struct gt__thread *t)
{
    switch (t->state) {
    case GT__PARKED:
        t->s->parked--;
        make_runnable(&t->s->w0, t);
        break;
    case GT__DONE:
        break;
    default:
        t->notified = true; /* the next park returns at once */
        break;
    }
}

/* ---- several workers */

static inline unsigned load_state(const struct gt__thread *t)
{
    return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
}

static inline void count_add(size_t *c, long d)
{
    __atomic_fetch_add(c, (size_t)d, __ATOMIC_RELAXED);
}

/* wk->queued += d, by its owner: a plain add made visible to gt__runnable
 * (no locked instruction). */
static inline void queued_add(struct gt__worker *wk, int64_t d)
{
    __atomic_store_n(&wk->queued, wk->queued + d, __ATOMIC_RELAXED);
}

/* RUNNABLE threads: with several workers the sum of what the workers and
 * other threads queued less what the workers took (exact when the run is
 * quiet, a snapshot meanwhile). */
static inline size_t gt__runnable(const struct gt__sched *s)
{
    if (!s->ws)
        return s->w0.runnable;
    int64_t n = (int64_t)__atomic_load_n(&s->runnable, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < s->n; i++)
        n += __atomic_load_n(&s->wk[i].queued, __ATOMIC_RELAXED);
    return n > 0 ? (size_t)n : 0;
}

/* Queues RUNNABLE `t` (its context saved) where the caller is: a pinned
 * thread in its worker's inbox; on a worker of its scheduler, that
 * worker's ring, or its LIFO slot when `lifo` (a thread running there woke
 * it: it runs next, its data still in cache); elsewhere the inject queue,
 * which wakes an idle worker. Any thread. */
static __attribute__((noinline, unused)) void queue_mt(struct gt__thread *t,
                                                       bool lifo)
{
    struct gt__sched *s = t->s;
    struct gt__worker *wk = gt__here();
    bool mine = wk && wk->s == s;
    if (mine)
        queued_add(wk, 1);
    else
        count_add(&s->runnable, 1);
    unsigned pin = __atomic_load_n(&t->pin, __ATOMIC_ACQUIRE);
    if (pin) {
        rt_worker_send(&s->ws->w[pin - 1], &t->link);
        return;
    }
    if (mine) {
        rt_worker_push(wk->rw, &t->link, lifo && wk->current != &wk->main);
        return;
    }
    rt_workers_inject(s->ws, &t->link);
}

/* Queues `t`, which yielded on the caller's worker (land_mt), on that
 * worker's yield queue (workers.h); a pinned thread as queue_mt does. */
static __attribute__((noinline, unused)) void requeue_mt(struct gt__thread *t)
{
    struct gt__worker *wk = gt__here();
    if (__atomic_load_n(&t->pin, __ATOMIC_ACQUIRE) || !wk || wk->s != t->s) {
        queue_mt(t, false);
        return;
    }
    queued_add(wk, 1);
    rt_worker_requeue(wk->rw, &t->link);
}

/* A PARKED thread made RUNNABLE by the caller (wake_mt, or a dump's
 * release of a wake that came while it held the thread): no longer counted
 * parked, and queued (queue_mt's `lifo`). */
static inline void unpark_mt(struct gt__thread *t, bool lifo)
{
    count_add(&t->s->parked, -1);
    queue_mt(t, lifo);
}

/* A wake, from any thread, with several workers: PARKED -> RUNNABLE and
 * queued; RUNNING, PARKING, RUNNABLE: NOTIFIED is set (land or the next
 * park sees it); DONE: nothing. */
static __attribute__((noinline, unused)) void wake_mt(struct gt__thread *t)
{
    unsigned st = load_state(t);
    for (;;) {
        unsigned next;
        if ((st & GT__STATE) == GT__DONE || (st & GT__NOTIFIED))
            return;
        if (st == GT__PARKED) /* not held by a dump */
            next = GT__RUNNABLE;
        else
            next = st | GT__NOTIFIED;
        if (__atomic_compare_exchange_n(&t->state, &st, next, true,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
    }
    if (st == GT__PARKED)
        unpark_mt(t, true);
}

/* A thread taken from a queue is about to run: RUNNABLE -> RUNNING (0),
 * keeping NOTIFIED; a yielder is RUNNING already (no write). */
static inline struct gt__thread *take_mt(struct gt__worker *wk,
                                         struct rt_list *n)
{
    struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, link);
    if (load_state(t) & GT__STATE)
        __atomic_fetch_and(&t->state, GT__NOTIFIED, __ATOMIC_ACQ_REL);
    queued_add(wk, -1);
    return t;
}

/* pick with several workers: the next queued thread (the LIFO slot when
 * `lifo_ok`), or the worker's own context. */
static __attribute__((noinline, unused)) struct gt__thread *
pick_mt(struct gt__worker *wk, bool lifo_ok)
{
    if (wk->budget == 0)
        return &wk->main;
    struct rt_list *n = rt_worker_next(wk->rw, lifo_ok);
    if (!n)
        return &wk->main;
    wk->budget--;
    return take_mt(wk, n);
}

#endif

/* The ready FIFO's operations: queue a thread, wake one on its owner's OS
 * thread, pick the next context to run.
 *
 * Invariant: a thread is on s->ready exactly when it is RUNNABLE, and
 * s->runnable counts them. Header-only, static inline: wake_local and pick
 * are on the handoff path of sched.c and thread.c alike (bench_handoff,
 * bench_yield). Depends on gt_internal.h only.
 */
#ifndef RT_STACKFUL_RUNQ_H
#define RT_STACKFUL_RUNQ_H

#include "gt_internal.h"
#include <greenfut/list.h>

/* The next context to run: the head of the ready queue, or the scheduler
 * when the queue is empty or the handoff budget is spent. */
static inline struct gt__thread *pick(struct gt__sched *s)
{
    if (s->budget == 0 || rt_list_empty(&s->ready))
        return &s->main;
    s->budget--;
    struct rt_list *n = rt_list_pop_front(&s->ready);
    s->runnable--;
    return RT_CONTAINER_OF(n, struct gt__thread, link);
}

/* Puts `t` at the tail of the ready FIFO. */
static inline void make_runnable(struct gt__sched *s, struct gt__thread *t)
{
    t->state = GT__RUNNABLE;
    rt_list_push_back(&s->ready, &t->link);
    s->runnable++;
}

/* A wake on the owner's OS thread: a parked thread becomes runnable, a
 * running or runnable one keeps the wake for its next park. */
static inline void wake_local(struct gt__thread *t)
{
    switch (t->state) {
    case GT__PARKED:
        t->s->parked--;
        make_runnable(t->s, t);
        break;
    case GT__DONE:
        break;
    case GT__RUNNING:
    case GT__RUNNABLE:
        t->notified = true; /* the next park returns at once */
        break;
    }
}

#endif

/* Join handles, the executor's side: attaching a handle at spawn and ending
 * the handles nobody awaited at teardown. Not for use outside stackless/.
 *
 * The invariant: while a handle refers to a task (join->task set, the
 * task's FUT__JOIN bit set) it holds one of the task's references.
 */
#ifndef RT_STACKLESS_JOIN_INTERNAL_H
#define RT_STACKLESS_JOIN_INTERNAL_H

#include <greenfut/task.h>
#include "task_internal.h"

/* The join handle's vtable (fut_join.base.vt of a live handle). */
extern const struct fut_vtable fut__join_vt;

/* Makes `join` the handle of `t`, which is being spawned: the handle takes
 * a reference. Inline: it is on every spawn's path (bench_spawn). */
static inline void fut__join_attach(struct fut_join *join, struct fut__task *t)
{
    t->refs++;
    t->flags |= FUT__JOIN;
    join->base.vt = &fut__join_vt;
    join->task = t;
    join->err = 0;
}

/* Marks the task of a live handle so that fut_executor_free ends the
 * handle if nobody awaited or dropped it by then (FUT__JOIN_AT_FREE). */
static inline void fut__join_end_at_free(struct fut_join *join)
{
    fut__flags_or(join->task, FUT__JOIN_AT_FREE);
}

/* With workers: the lock of handle `j` (join.c), for the portable join,
 * which polls, reads and drops the handle as one step. */
void fut__join_hold_mt(struct fut_join *j);
void fut__join_release_mt(struct fut_join *j);

/* The executor's teardown, after every pending task was cancelled: ends
 * the join handles of FUT__JOIN_AT_FREE tasks that nobody awaited, without
 * touching the handles' memory (their owners are gone). */
void fut__release_handles(struct fut__tasks *ts);

#endif

/* The cooperative budget: how many leaf operations one run of a task may
 * complete before it must let the others run (tokio's coop budget).
 *
 * A scheduler bounds how many tasks run between two looks at the reactor,
 * but nothing in the schedulers bounds one task whose operations never
 * wait: a reader of a socket that is always readable, a receiver of a
 * channel that is always full. Such a task would keep its worker, and every
 * other task and timer on it, until it chose to wait. So each run of a task
 * gets a budget of leaf operations (RT_COOP_BUDGET by default); the leaf
 * operations of common/ (reads, writes, accepts, channel sends and
 * receives, semaphore and mutex acquires) take one unit each, before they
 * do anything; the operation that finds the budget spent wakes its own task
 * and returns RT_PENDING once, so the task goes to the back of its queue.
 *
 * The budget belongs to the OS thread that runs the task (thread-local,
 * read anew by each operation: nothing keeps its address across a switch).
 * The count is cheap on purpose: an operation decrements a thread-local
 * and goes on while it is not zero. At zero the slow path asks whether the
 * task's run is still the one the count was filled in, by a counter the
 * scheduler keeps anyway and names once per OS thread (its clock: the
 * stackful worker's switch count, the stackless worker's poll count): if
 * the clock moved, this is a later run and the count is filled again; if
 * not, the run has spent its budget and the operation is refused. So
 * starting a run costs the schedulers nothing, and a run completes at
 * least one budget of operations and fewer than two before a refusal.
 * Outside a scheduler
 * the budget is unlimited, so a poll function called directly (a test, a
 * foreign thread) is never refused.
 */
#ifndef RT_COMMON_COOP_H
#define RT_COMMON_COOP_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rt_poll.h"
#include "waker.h"

/* The default budget per run of a task (tokio's is 128 too). */
#define RT_COOP_BUDGET 128u

/* Operations left on this thread before rt__coop_spent looks at the
 * clock. Written by rt_coop_take, rt__coop_spent and the schedulers. */
extern _Thread_local unsigned rt__coop_left;

/* The clock of the scheduler running on this thread (it moves at every
 * run of a task), NULL outside one; and its reading when rt__coop_left was
 * last filled. */
extern _Thread_local const uint64_t *rt__coop_clock;
extern _Thread_local uint64_t rt__coop_run;

/* Set when an operation was refused: the task woke itself and must give
 * its worker away (stackful: the next park yields). */
extern _Thread_local bool rt__coop_refused;

/* Sets the budget each run of a task gets, for every scheduler of the
 * process: 0 turns the budget off (unlimited), as before it existed; the
 * default is RT_COOP_BUDGET; UINT_MAX is the same as 0. Any thread; takes
 * effect on each thread when a scheduler starts there or when the
 * thread's count is next filled. Returns the previous budget. */
unsigned rt_coop_set(unsigned budget);

/* The budget of one run as rt_coop_set left it, UINT_MAX when off.
 * Relaxed: a change only has to be seen at some next fill. */
extern atomic_uint rt__coop_per_run;

/* The budget of one run (UINT_MAX when off). */
static inline unsigned rt__coop_budget(void)
{
    return atomic_load_explicit(&rt__coop_per_run, memory_order_relaxed);
}

/* The schedulers, on each of their OS threads before the first run:
 * `clock` is the counter that moves at every run of a task there, written
 * by this thread only. Returns the clock it replaces (a scheduler run
 * inside a task of another), for rt__coop_leave. */
static inline const uint64_t *rt__coop_enter(const uint64_t *clock)
{
    const uint64_t *was = rt__coop_clock;
    rt__coop_clock = clock;
    rt__coop_run = *clock;
    rt__coop_left = rt__coop_budget();
    return was;
}

/* The schedulers, when no task runs on this thread any more: puts back
 * the clock rt__coop_enter returned (NULL: leaf calls made from now on are
 * never refused). */
static inline void rt__coop_leave(const uint64_t *was)
{
    rt__coop_clock = was;
    if (was)
        rt__coop_run = *was;
}

/* A run the clock does not count (the stackless root future's poll): a
 * fresh budget now. */
static inline void rt__coop_refill(void)
{
    if (rt__coop_clock)
        rt__coop_run = *rt__coop_clock;
    rt__coop_left = rt__coop_budget();
}

/* Whether an operation was refused since the last call, clearing the
 * flag: for a stackful park, which must then yield. Out of line, so that
 * it computes the thread-local's address anew: the caller may have changed
 * OS thread since it last touched one (a green thread). */
bool rt__coop_take_refusal(void);

/* rt_coop_take's slow path, when the count is zero (see the file
 * comment); the same result. */
bool rt__coop_spent(const struct rt_cx *cx);

/* Takes one unit of the running task's budget. Returns true when the
 * operation may go on; false when the run's budget was spent: the task's
 * waker (cx's) has been woken, the count filled again (a stackful yield
 * that finds nobody else to run comes back in the same run), and the
 * operation must return RT_PENDING without doing anything. */
static inline bool rt_coop_take(const struct rt_cx *cx)
{
    unsigned left = rt__coop_left;
    if (left) {
        rt__coop_left = left - 1;
        return true;
    }
    return rt__coop_spent(cx);
}

#endif

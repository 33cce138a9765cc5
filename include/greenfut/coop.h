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
 * Outside a scheduler's run of a task it is unlimited, so a poll function
 * called directly (a test, a foreign thread) is never refused.
 */
#ifndef RT_COMMON_COOP_H
#define RT_COMMON_COOP_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "rt_poll.h"
#include "waker.h"

/* The default budget per run of a task (tokio's is 128 too). */
#define RT_COOP_BUDGET 128u

/* The budget left to the task running on this thread; UINT_MAX: none
 * applies. Written by the schedulers and by rt_coop_take. */
extern _Thread_local unsigned rt__coop_left;

/* Set when rt_coop_take refused an operation: the task woke itself and
 * must give its worker away (stackful: the next park yields). */
extern _Thread_local bool rt__coop_refused;

/* Sets the budget each run of a task gets, for every scheduler of the
 * process: 0 turns the budget off (unlimited), as before it existed; the
 * default is RT_COOP_BUDGET. Any thread; takes effect at the next run of
 * each task. Returns the previous budget. */
unsigned rt_coop_set(unsigned budget);

/* The budget of one run as rt_coop_set left it, 0 when off. Relaxed: a
 * change only has to be seen at some next run. */
extern atomic_uint rt__coop_per_run;

/* The budget of one run (UINT_MAX when off). For the schedulers, before
 * each run of a task: inline, since a poll or a resume pays for it. */
static inline unsigned rt__coop_budget(void)
{
    unsigned b = atomic_load_explicit(&rt__coop_per_run, memory_order_relaxed);
    return b ? b : UINT_MAX;
}

/* The schedulers: a task starts running (stackless: a poll; stackful: the
 * thread is resumed). */
static inline void rt__coop_begin(void)
{
    rt__coop_left = rt__coop_budget();
}

/* Whether rt_coop_take refused an operation since the last call, clearing
 * the flag: for a stackful park, which must then yield. Out of line, so
 * that it computes the thread-local's address anew: the caller may have
 * changed OS thread since it last touched one (a green thread). */
bool rt__coop_take_refusal(void);

/* The schedulers: no task runs on this thread from now on (a run ended):
 * leaf calls made outside a run are never refused. */
static inline void rt__coop_end(void)
{
    rt__coop_left = UINT_MAX;
}

/* Takes one unit of the running task's budget. Returns true when the
 * operation may go on; false when the budget was spent: the task's waker
 * (cx's) has been woken, the budget refilled for its next run, and the
 * operation must return RT_PENDING without doing anything. */
static inline bool rt_coop_take(const struct rt_cx *cx)
{
    unsigned left = rt__coop_left;
    if (left == UINT_MAX)
        return true;
    if (left > 0) {
        rt__coop_left = left - 1;
        return true;
    }
    rt__coop_left = rt__coop_budget();
    rt__coop_refused = true;
    rt_waker_wake_by_ref(cx->waker);
    return false;
}

#endif

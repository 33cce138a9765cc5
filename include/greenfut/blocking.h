/* spawn_blocking: run a blocking or CPU-heavy function on a small pool of
 * OS threads, and let a task await its result without stalling its
 * scheduler.
 *
 * The pool is process-wide and lazy: workers start on demand, up to
 * RT_BLOCKING_THREADS (environment; default 4), and exit after 10 s idle.
 * A job is heap-allocated once per submit (a thread hand-off costs far more
 * than a malloc, so this is no hot path).
 *
 * The waiting side is a poll function: the worker wakes the stored waker
 * from its own thread, which each backend's waker routes to the scheduler
 * through rt_reactor_post (reactor.h: a foreign wake sets a bit in the
 * task's remote node and queues it in one atomic step). While a job is
 * outstanding, the reactor holds a count (rt_reactor_hold) so a scheduler with
 * nothing else to do waits instead of reporting a deadlock.
 *
 * Threads: the pool is shared by every scheduler and every worker of a
 * multi-worker one: submits from several workers at once queue under the
 * pool's mutex, and each job has a mutex of its own between the task that
 * awaits it and the pool thread that runs it. A job is used by one task at
 * a time (the one that submitted it), which may be resumed on another
 * worker between its calls.
 */
#ifndef RT_COMMON_BLOCKING_H
#define RT_COMMON_BLOCKING_H

#include <stdint.h>

#include "rt_poll.h"
#include "reactor.h"

struct rt_blocking;

/* The function a job runs on a worker thread. */
typedef intptr_t (*rt_blocking_fn)(void *arg);

/* Queues fn(arg) on the pool for a task of the scheduler that turns `r`.
 * On success *out is the job, owned by the caller until rt_blocking_poll
 * returns RT_READY (which frees it) or rt_blocking_cancel. Returns 0,
 * -EINVAL (NULL argument), -ENOMEM, or -EAGAIN when no worker thread could
 * be started and none exists. Call from a task of the scheduler that turns
 * `r` (on any of its workers). */
int rt_blocking_submit(struct rt_reactor *r, rt_blocking_fn fn, void *arg,
                       struct rt_blocking **out);

/* RT_READY with *res = fn's return value once the job has run; the job is
 * freed then and must not be used again. RT_PENDING before that, with
 * cx's waker stored to be woken (from the worker's thread) when it ends. */
enum rt_poll rt_blocking_poll(struct rt_blocking *job, struct rt_cx *cx,
                              intptr_t *res);

/* Gives up waiting: the function still runs to its end (a thread cannot be
 * stopped safely), its result is discarded and the job freed. NULL is a
 * no-op. */
void rt_blocking_cancel(struct rt_blocking *job);

#endif

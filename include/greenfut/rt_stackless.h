/* The stackless side of the portable task API (included by
 * include/greenfut/rt.h).
 *
 * A portable task is a future: its frame starts with a struct fut_future
 * whose vtable polls the task function. RT_BEGIN opens a switch on the
 * frame's state, each await is a `case` (the source line number) that
 * returns RT_PENDING upward while its poll function is pending, and RT_END
 * closes the switch. Awaiting a child task polls the child's function in
 * place, so resuming a task suspended D calls deep re-enters D frames.
 */
#ifndef RT_STACKLESS_RT_STACKLESS_H
#define RT_STACKLESS_RT_STACKLESS_H

/* One backend's half of the portable API: it needs what rt.h declares
 * before including it. */
#ifndef RT_COMMON_RT_H
#error "include <greenfut/rt.h>, which includes <greenfut/rt_stackless.h>"
#endif

#include "future.h"
#include "task.h"

struct rt_frame;

/* A join handle: the task's join future, and its result once joined. */
struct rt_join {
    struct fut_join j;
    intptr_t ret; /* the task's RT_RETURN value, set by RT_AWAIT_JOIN */
};

/* The future, then the source file of the frame's resume point (its
 * state is the line): written by an await only when it is pending, for
 * the dump and the debugger; NULL before the first park. */
#define RT__FRAME_BASE      \
    struct fut_future base; \
    const char *file;

/* The context of the portable task being polled on this thread: the one
 * its awaits register their waker from. Valid only inside a task's body
 * (between RT_BEGIN and RT_END); NULL outside any poll. A function rather
 * than the thread-local itself, so that users' object files name no
 * library-internal symbol. Never runs user code. */
struct rt_cx *rt_stackless_cx(void);

/* The context the awaits of the task being polled use. */
static inline struct rt_cx *rt__cx(void)
{
    return rt_stackless_cx();
}

#define rt__reactor() fut_reactor()

/* The two functions below are what RT_AWAIT_YIELD and RT_AWAIT_JOIN
 * expand to (part of the library's ABI, so users' object files name only
 * public symbols); call the macros, not these. */

/* RT_AWAIT_YIELD's poll: wakes itself and is pending once, then ready. */
enum rt_poll rt_stackless_poll_yield(struct rt_frame *h);
/* RT_AWAIT_JOIN's poll: polls the join future, then drops it; h->r.i is 0
 * (result in join->ret) or -ESRCH (empty or already joined handle, or one
 * another task awaits: that one is left alone). */
enum rt_poll rt_stackless_poll_join(struct rt_frame *h, struct rt_join *join);

/* The portable macros are the stackless backend's own (future.h), over the
 * frame header's state field. */
#define RT_BEGIN(f)                        \
    {                                      \
        struct rt_frame *rt__h = &(f)->rt; \
        FUT_BEGIN(rt__h->state)

/* FUT_AWAIT_POLL, plus what the dump reads of a parked frame: its file and
 * `note` (one store, or nothing), written only on the pending path. */
#define RT__AWAIT_NOTE(expr, note)  \
    do {                            \
        rt__h->state = __LINE__;    \
        if (0) {                    \
        case __LINE__:;             \
        }                           \
        if ((expr) == RT_PENDING) { \
            note;                   \
            rt__h->file = __FILE__; \
            return RT_PENDING;      \
        }                           \
    } while (0)

#define RT__AWAIT(expr, what) RT__AWAIT_NOTE(expr, (void)0)

/* An IO await: the fd goes in obj (unused by IO ops) when it parks. */
#define RT__AWAIT_FD(expr, what, fd) \
    RT__AWAIT_NOTE(expr, rt__h->obj = (void *)(intptr_t)(fd))

#define RT__FINISH() FUT_RETURN()

#define RT_END(f) \
    FUT_END       \
    }

/* Lets every other ready task run once: wakes itself, returns RT_PENDING
 * once, and is ready at the next poll. */
#define RT_AWAIT_YIELD(f)                                   \
    do {                                                    \
        rt__h->u.yielded = 0;                               \
        rt__h->op = RT__OP_YIELD;                           \
        RT__AWAIT(rt_stackless_poll_yield(rt__h), "yield"); \
        rt__h->op = RT__OP_NONE;                            \
    } while (0)

/* Runs the child task task_fn over the frame `child_` (a field of this frame)
 * to its end: polls it in place at every poll of this task. */
#define RT_AWAIT_CALL(f, task_fn, child_)            \
    do {                                             \
        (child_)->rt.fn = (task_fn);                 \
        rt__h->u.child = &(child_)->rt;              \
        rt__h->op = RT__OP_CHILD;                    \
        RT__AWAIT((child_)->rt.fn(child_), "child"); \
        rt__h->op = RT__OP_NONE;                     \
    } while (0)

/* Waits for the task of `join_` to end; rc = 0 (its result is then in
 * join_->ret) or -ESRCH (the handle is empty, was joined already, or
 * another task awaits it now). */
#define RT_AWAIT_JOIN(f, rc, join_)                                \
    do {                                                           \
        rt__h->u.join = (join_);                                   \
        rt__h->op = RT__OP_JOIN;                                   \
        RT__AWAIT(rt_stackless_poll_join(rt__h, (join_)), "join"); \
        rt__h->op = RT__OP_NONE;                                   \
        (rc) = rt__h->r.i;                                         \
    } while (0)

#endif

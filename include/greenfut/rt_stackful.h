/* The stackful side of the portable task API (included by
 * include/greenfut/rt.h).
 *
 * A portable task runs on its own green thread, so the macros become plain
 * code: RT_BEGIN/RT_END are braces, an await calls the poll function and
 * parks the thread while it says RT_PENDING, and awaiting a child task is
 * an ordinary call. Resuming a task suspended D calls deep is one stack
 * switch, whatever D is.
 */
#ifndef RT_STACKFUL_RT_STACKFUL_H
#define RT_STACKFUL_RT_STACKFUL_H

/* One backend's half of the portable API: it needs what rt.h declares
 * before including it. */
#ifndef RT_COMMON_RT_H
#error "include <greenfut/rt.h>, which includes <greenfut/rt_stackful.h>"
#endif

#include "gt.h"

struct rt_frame;

/* A join handle: the task's green-thread id, and its result once joined. */
struct rt_join {
    int64_t id;
    intptr_t ret; /* the task's RT_RETURN value, set by RT_AWAIT_JOIN */
};

#define RT__FRAME_BASE

/* The waker the calling portable task's awaits poll with: its green
 * thread's waker, or, once the task is cancelled (rt_cancel), a waker with
 * no vtable that every poll function refuses with -ECANCELED after
 * withdrawing the task's wait (include/greenfut/rt_poll.h). One load where
 * gt_waker() computes an address, so cancellation adds nothing to an
 * await. NULL outside a portable task. What rt__cx() expands to (part of
 * the library's ABI). Never runs user code. */
const struct rt_waker *rt_stackful_waker(void);

/* The calling task's context: a compound literal that lives for the
 * enclosing await statement. A function rather than the scheduler's
 * thread-local, so that users' object files name no library-internal
 * symbol. */
#define rt__cx()      (&(struct rt_cx){rt_stackful_waker()})
#define rt__reactor() gt_reactor()

/* RT_AWAIT_JOIN's body: gt_join of the handle's thread, its result into
 * join->ret. Returns 0, -ESRCH (empty or already joined handle) or
 * -ECANCELED (the caller was cancelled, before the join began or while it
 * waited: the join is given up, the handle emptied). What the
 * macro expands to (part of the library's ABI); call the macro. May switch
 * stacks. */
int rt_stackful_join(struct rt_join *join);

#define RT_BEGIN(f)                        \
    {                                      \
        struct rt_frame *rt__h = &(f)->rt; \
        (void)rt__h;                       \
        {

/* Parks the calling green thread (gt_park(what)), noting `h` as the
 * portable frame it is parked in, for the dump. What RT__AWAIT expands to
 * (part of the library's ABI); call the macros. May switch stacks. */
void rt_stackful_park(struct rt_frame *h, const char *what);

#define RT__AWAIT(expr, what)                \
    do {                                     \
        while ((expr) == RT_PENDING)         \
            rt_stackful_park(rt__h, (what)); \
    } while (0)

/* An IO await: the fd goes in obj (unused by IO ops) when it parks. */
#define RT__AWAIT_FD(expr, what, fd)             \
    do {                                         \
        while ((expr) == RT_PENDING) {           \
            rt__h->obj = (void *)(intptr_t)(fd); \
            rt_stackful_park(rt__h, (what));     \
        }                                        \
    } while (0)

#define RT__FINISH() return RT_READY

#define RT_END(f)    \
    }                \
    return RT_READY; \
    }

/* Lets every other runnable green thread run once. */
#define RT_AWAIT_YIELD(f) \
    do {                  \
        (void)rt__h;      \
        gt_yield();       \
    } while (0)

/* Runs the child task task_fn over the frame `child_` to its end: a plain call
 * on this green thread's stack. The parent's frame points at the child while
 * it runs, so a teardown that finds the thread parked can cancel the wait
 * the child (or its own child) is in. */
#define RT_AWAIT_CALL(f, task_fn, child_) \
    do {                                  \
        rt__h->u.child = &(child_)->rt;   \
        rt__h->op = RT__OP_CHILD;         \
        (child_)->rt.fn = (task_fn);      \
        (void)(child_)->rt.fn(child_);    \
        rt__h->op = RT__OP_NONE;          \
    } while (0)

/* Waits for the task of `join_` to end; rc = 0 (its result is then in
 * join_->ret) or -ESRCH (the handle is empty, was joined already, or
 * another task awaits it now: gt_join's -EINVAL). */
#define RT_AWAIT_JOIN(f, rc, join_)     \
    do {                                \
        (void)rt__h;                    \
        (rc) = rt_stackful_join(join_); \
    } while (0)

#endif

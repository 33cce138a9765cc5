/* The portable task API: one source, two backends.
 *
 * A portable task is a function over a frame struct, written with
 * resume-point macros. Built with RT_BACKEND=stackless the macros make the
 * function a state machine polled as a future; built with RT_BACKEND=stackful
 * the same macros become straight-line code on a green thread that parks on
 * RT_PENDING. Link rt::portable; it defines which backend this header uses.
 *
 * Rules of a portable task (each has a test in tests/portable/):
 *  1. The frame struct's FIRST member is RT_FRAME; the function has the
 *     type enum rt_poll fn(void *self) and casts self to its frame.
 *  2. The body is RT_BEGIN(f) ... RT_END(f); every RT_AWAIT_* stands between
 *     them (elsewhere it does not compile), at most one per source line.
 *  3. Any value that must survive an await lives in the frame (f->i, not a
 *     local): on stackless a local is gone when the task is resumed. That
 *     includes an await's own arguments, which are evaluated again at every
 *     resume: pass frame fields or constants, not locals set before it.
 *     Debug builds check part of this on the stackless backend with gcc's
 *     -Wjump-misses-init (an error there; cmake/rt_warnings.cmake). It
 *     catches a local initialised in its declaration between RT_BEGIN and
 *     an await whose scope reaches that await (`for (int i = 0; ...)`
 *     around one, `int n = g();` before one): the resume switch jumps past
 *     the initialisation. It misses a local declared without an
 *     initialiser and assigned before the await, one declared before
 *     RT_BEGIN, a local array handed to an await (rule 4), and all of the
 *     stackful backend, where locals do survive. It also flags a local
 *     that is dead by the await (a spawn template): close its scope with
 *     braces before the await.
 *  4. Buffers handed to an await (read/write/send/recv) live in the frame
 *     or on the heap, never in a local array, for the same reason.
 *  5. A child task's frame is a field of its parent's frame, set with a
 *     compound literal (which zeroes its RT_FRAME) right before
 *     RT_AWAIT_CALL; the child's result is then child.rt.ret.
 *  6. No `switch` around an await and no `return` inside the body: use
 *     RT_RETURN(f, value) (stackless resumes through a switch of its own).
 *  7. rt_spawn copies the frame: the caller's copy is only a template.
 *     A template that is a local lives on the caller's stack, which on the
 *     stackful backend is a green thread's (64 KiB by default): a template
 *     (or any local) that does not fit there is a stack overflow, reported
 *     as one by name and aborted, never run on (code built with
 *     -fstack-clash-protection, as this project's is, probes it into the
 *     guard; without, the reporter knows it by the stack pointer). Keep big
 *     templates static or on the heap; the copy itself may be any size.
 *
 *   struct counter { RT_FRAME; int i; };
 *   static enum rt_poll count(void *self)
 *   {
 *       struct counter *f = self;
 *       RT_BEGIN(f);
 *       for (f->i = 0; f->i < 3; f->i++)
 *           RT_AWAIT_SLEEP(f, 1000000);          // 1 ms, three times
 *       RT_RETURN(f, f->i);
 *       RT_END(f);
 *   }
 *   ... struct counter c = {0}; intptr_t v; rt_run(count, &c, sizeof c, &v);
 *
 * docs/portable.md shows what each macro becomes on each backend.
 */
#ifndef RT_COMMON_RT_H
#define RT_COMMON_RT_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "blocking.h"
#include "chan.h"
#include "clock.h"
#include "io.h"
#include "rt_poll.h"
#include "reactor.h"
#include "rt_select.h"
#include "sync.h"
#include "timer.h"

/* A task function: advances the task whose frame is `self`. Stackless: a
 * poll (RT_PENDING means "resume me later"); stackful: runs to the end and
 * returns RT_READY. Written with the macros, never by hand. */
typedef enum rt_poll (*rt_task_fn)(void *self);

/* Which leaf operation a frame is suspended in (for cancellation, and for
 * the deadlock report: it says what a stuck task waits on). */
enum rt__op {
    RT__OP_NONE,
    RT__OP_SLEEP,
    RT__OP_SEND,
    RT__OP_RECV,
    RT__OP_LOCK,
    RT__OP_SEM,
    RT__OP_COND,
    RT__OP_WG,
    RT__OP_BLOCKING,
    RT__OP_JOIN,
    RT__OP_CHILD,
    RT__OP_YIELD,
    RT__OP_RECV_UNTIL,
    RT__OP_NOTIFY,
    RT__OP_READ,
    RT__OP_READ_UNTIL,
    RT__OP_WRITE,
    RT__OP_ACCEPT,
    RT__OP_CONNECT,
    RT__OP_WRITE_UNTIL,
    RT__OP_SELECT,
};

#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
#include "rt_stackful.h"
#elif defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
#include "rt_stackless.h"
#else
#error \
    "rt.h needs a backend: link rt::portable (or rt_portable_stackful / rt_portable_stackless)"
#endif

/* The header of every task frame; see RT_FRAME. Fields are the macros'.
 * An IO await (read, write, accept, connect) keeps its fd in obj, stored
 * only when it parks, for the task dump (include/greenfut/dump.h).
 * The op and obj stores every RT_AWAIT_* makes are live on both backends:
 * a frame that ends without finishing (a dropped future on stackless, a
 * green thread torn down after -EDEADLK on stackful) is taken off what it
 * waits on by rt__frame_cancel (common/rt_cancel.h), which reads them; the
 * stackless deadlock report names the wait from op. */
struct rt_frame {
    RT__FRAME_BASE      /* stackless: the struct fut_future */
        unsigned state; /* stackless resume point; 0 before the start */
    unsigned op;        /* enum rt__op in flight */
    rt_task_fn fn;      /* the task function (set by spawn/call) */
    void *obj;          /* the channel/mutex/... of the op in flight */
    union {
        intptr_t ret; /* the task's result, once RT_RETURN has run */
        union {       /* the result of the op that just completed */
            ssize_t s;
            intptr_t p;
            int i;
        } r; /* (never both in use: a returning task awaits no more) */
    };
    union { /* the state of the op in flight */
        struct {
            struct rt_timer t;
            uint64_t deadline;
        } sleep;
        struct rt_chan_op chan;
        struct rt_waiter w;
        struct rt_cond_waiter cw;
        struct rt_blocking *job;
        struct rt_frame *child;
        struct rt_join *join;
        struct rt_select sel;
        int yielded;
    } u;
};

/* The first member of every task frame. */
#define RT_FRAME struct rt_frame rt

/* ---- Awaits (between RT_BEGIN and RT_END) ------------------------------
 * Each waits for its operation, parking the task meanwhile, then stores the
 * result in `res` (an lvalue; may be a local, used before the next await).
 * Results are those of the common poll functions named. */

/* Sleeps at least `ns` nanoseconds (rt_poll_sleep_until); a duration too
 * big for the clock sleeps until RT_DEADLINE_MAX, i.e. forever. */
#define RT_AWAIT_SLEEP(f, ns) \
    RT_AWAIT_SLEEP_UNTIL(f, rt_deadline_after((uint64_t)(ns)))

/* Sleeps until rt_now_ns() >= deadline_ (evaluated once, at the start). */
#define RT_AWAIT_SLEEP_UNTIL(f, deadline_)                               \
    do {                                                                 \
        rt__h->u.sleep.deadline = (deadline_);                           \
        rt_timer_init(&rt__h->u.sleep.t);                                \
        rt__h->op = RT__OP_SLEEP;                                        \
        RT__AWAIT(rt_poll_sleep_until(rt__reactor(), &rt__h->u.sleep.t,  \
                                      rt__h->u.sleep.deadline, rt__cx(), \
                                      &rt__h->r.i),                      \
                  "sleep");                                              \
        rt__h->op = RT__OP_NONE;                                         \
    } while (0)

/* res = bytes read, 0 at EOF, or -errno (rt_poll_read). */
#define RT_AWAIT_READ(f, res, fd, buf, len)                                    \
    do {                                                                       \
        rt__h->op = RT__OP_READ;                                               \
        RT__AWAIT_FD(rt_poll_read(rt__reactor(), (fd), (buf), (len), rt__cx(), \
                                  &rt__h->r.s),                                \
                     "read", (fd));                                            \
        rt__h->op = RT__OP_NONE;                                               \
        (res) = rt__h->r.s;                                                    \
    } while (0)

/* rt_poll_read_until: as RT_AWAIT_READ, but res = -ETIMEDOUT when no data
 * came before `deadline` (rt_now_ns scale; evaluated once, at the start). */
#define RT_AWAIT_READ_UNTIL(f, res, fd, buf, len, deadline_)                   \
    do {                                                                       \
        rt__h->u.sleep.deadline = (deadline_); /* evaluated once */            \
        rt_timer_init(&rt__h->u.sleep.t);                                      \
        rt__h->op = RT__OP_READ_UNTIL;                                         \
        RT__AWAIT_FD(rt_poll_read_until(                                       \
                         rt__reactor(), (fd), (buf), (len), &rt__h->u.sleep.t, \
                         rt__h->u.sleep.deadline, rt__cx(), &rt__h->r.s),      \
                     "read", (fd));                                            \
        rt__h->op = RT__OP_NONE;                                               \
        (res) = rt__h->r.s;                                                    \
    } while (0)

/* res = bytes written (maybe short) or -errno (rt_poll_write). */
#define RT_AWAIT_WRITE(f, res, fd, buf, len)                          \
    do {                                                              \
        rt__h->op = RT__OP_WRITE;                                     \
        RT__AWAIT_FD(rt_poll_write(rt__reactor(), (fd), (buf), (len), \
                                   rt__cx(), &rt__h->r.s),            \
                     "write", (fd));                                  \
        rt__h->op = RT__OP_NONE;                                      \
        (res) = rt__h->r.s;                                           \
    } while (0)

/* rt_poll_write_until: as RT_AWAIT_WRITE, but res = -ETIMEDOUT when the fd
 * took no byte before `deadline` (evaluated once, at the start). */
#define RT_AWAIT_WRITE_UNTIL(f, res, fd, buf, len, deadline_)                  \
    do {                                                                       \
        rt__h->u.sleep.deadline = (deadline_); /* evaluated once */            \
        rt_timer_init(&rt__h->u.sleep.t);                                      \
        rt__h->op = RT__OP_WRITE_UNTIL;                                        \
        RT__AWAIT_FD(rt_poll_write_until(                                      \
                         rt__reactor(), (fd), (buf), (len), &rt__h->u.sleep.t, \
                         rt__h->u.sleep.deadline, rt__cx(), &rt__h->r.s),      \
                     "write", (fd));                                           \
        rt__h->op = RT__OP_NONE;                                               \
        (res) = rt__h->r.s;                                                    \
    } while (0)

/* res = a new registered fd, or -errno (rt_poll_accept). */
#define RT_AWAIT_ACCEPT(f, res, fd)                                            \
    do {                                                                       \
        rt__h->op = RT__OP_ACCEPT;                                             \
        RT__AWAIT_FD(rt_poll_accept(rt__reactor(), (fd), NULL, NULL, rt__cx(), \
                                    &rt__h->r.i),                              \
                     "accept", (fd));                                          \
        rt__h->op = RT__OP_NONE;                                               \
        (res) = rt__h->r.i;                                                    \
    } while (0)

/* res = 0 or -errno (rt_poll_connect); fd must be registered. */
#define RT_AWAIT_CONNECT(f, res, fd, addr, alen)                          \
    do {                                                                  \
        rt__h->op = RT__OP_CONNECT;                                       \
        RT__AWAIT_FD(rt_poll_connect(rt__reactor(), (fd), (addr), (alen), \
                                     rt__cx(), &rt__h->r.i),              \
                     "connect", (fd));                                    \
        rt__h->op = RT__OP_NONE;                                          \
        (res) = rt__h->r.i;                                               \
    } while (0)

/* Sends *msg on channel ch; res = 0 or -EPIPE (rt_chan_poll_send). */
#define RT_AWAIT_SEND(f, res, ch, msg)                                     \
    do {                                                                   \
        rt_chan_op_init(&rt__h->u.chan);                                   \
        rt__h->obj = (ch);                                                 \
        rt__h->op = RT__OP_SEND;                                           \
        RT__AWAIT(rt_chan_poll_send((ch), &rt__h->u.chan, (msg), rt__cx(), \
                                    &rt__h->r.i),                          \
                  "channel send");                                         \
        rt__h->op = RT__OP_NONE;                                           \
        (res) = rt__h->r.i;                                                \
    } while (0)

/* Receives into *out; res = 1 (a message), 0 (closed), or -errno. */
#define RT_AWAIT_RECV(f, res, ch, out)                                     \
    do {                                                                   \
        rt_chan_op_init(&rt__h->u.chan);                                   \
        rt__h->obj = (ch);                                                 \
        rt__h->op = RT__OP_RECV;                                           \
        RT__AWAIT(rt_chan_poll_recv((ch), &rt__h->u.chan, (out), rt__cx(), \
                                    &rt__h->r.i),                          \
                  "channel recv");                                         \
        rt__h->op = RT__OP_NONE;                                           \
        (res) = rt__h->r.i;                                                \
    } while (0)

/* A receive racing a deadline (rt_chan_poll_recv_until): res = 1 (a
 * message), 0 (closed), -ETIMEDOUT (the deadline came first; nothing was
 * taken) or -errno. `timer_` points at a struct rt_timer in the frame, and
 * `deadline_` must be a frame field or a constant (rule 3). The loser is
 * cancelled either way; dropping the task cancels both. */
#define RT_AWAIT_RECV_UNTIL(f, res, ch, out, timer_, deadline_)                \
    do {                                                                       \
        rt_chan_op_init(&rt__h->u.chan);                                       \
        rt_timer_init(timer_);                                                 \
        /* A receiver's op never uses msg: it keeps the timer, for drop. */    \
        rt__h->u.chan.msg = (timer_);                                          \
        rt__h->obj = (ch);                                                     \
        rt__h->op = RT__OP_RECV_UNTIL;                                         \
        RT__AWAIT(rt_chan_poll_recv_until((ch), &rt__h->u.chan, (out),         \
                                          rt__reactor(), (timer_),             \
                                          (deadline_), rt__cx(), &rt__h->r.i), \
                  "channel recv with deadline");                               \
        rt__h->op = RT__OP_NONE;                                               \
        (res) = rt__h->r.i;                                                    \
    } while (0)

/* Locks rt_mutex m (unlock with rt_mutex_unlock). */
#define RT_AWAIT_LOCK(f, m)                                                    \
    do {                                                                       \
        rt_waiter_init(&rt__h->u.w);                                           \
        rt__h->obj = (m);                                                      \
        rt__h->op = RT__OP_LOCK;                                               \
        RT__AWAIT(rt_mutex_poll_lock((m), &rt__h->u.w, rt__cx(), &rt__h->r.i), \
                  "mutex");                                                    \
        rt__h->op = RT__OP_NONE;                                               \
    } while (0)

/* Takes a permit of rt_sem s (give it back with rt_sem_release). */
#define RT_AWAIT_SEM(f, s)                                                \
    do {                                                                  \
        rt_waiter_init(&rt__h->u.w);                                      \
        rt__h->obj = (s);                                                 \
        rt__h->op = RT__OP_SEM;                                           \
        RT__AWAIT(                                                        \
            rt_sem_poll_acquire((s), &rt__h->u.w, rt__cx(), &rt__h->r.i), \
            "semaphore");                                                 \
        rt__h->op = RT__OP_NONE;                                          \
    } while (0)

/* Waits for rt_notify_one on rt_notify n (rt_notify_poll_wait): res = 0,
 * or -EBUSY when another task already waits on n. */
#define RT_AWAIT_NOTIFIED(f, res, n)                                      \
    do {                                                                  \
        rt_waiter_init(&rt__h->u.w);                                      \
        rt__h->obj = (n);                                                 \
        rt__h->op = RT__OP_NOTIFY;                                        \
        RT__AWAIT(                                                        \
            rt_notify_poll_wait((n), &rt__h->u.w, rt__cx(), &rt__h->r.i), \
            "notify");                                                    \
        rt__h->op = RT__OP_NONE;                                          \
        (res) = rt__h->r.i;                                               \
    } while (0)

/* Waits on rt_cond c with rt_mutex m held; returns with m held. */
#define RT_AWAIT_COND(f, c, m)                                                \
    do {                                                                      \
        rt_cond_waiter_init(&rt__h->u.cw);                                    \
        rt__h->obj = (c);                                                     \
        rt__h->op = RT__OP_COND;                                              \
        RT__AWAIT(                                                            \
            rt_cond_poll_wait((c), (m), &rt__h->u.cw, rt__cx(), &rt__h->r.i), \
            "condition");                                                     \
        rt__h->op = RT__OP_NONE;                                              \
    } while (0)

/* Waits until rt_wg g's counter is zero. */
#define RT_AWAIT_WG(f, g)                                                   \
    do {                                                                    \
        rt_waiter_init(&rt__h->u.w);                                        \
        rt__h->obj = (g);                                                   \
        rt__h->op = RT__OP_WG;                                              \
        RT__AWAIT(rt_wg_poll_wait((g), &rt__h->u.w, rt__cx(), &rt__h->r.i), \
                  "wait group");                                            \
        rt__h->op = RT__OP_NONE;                                            \
    } while (0)

/* Runs fn(arg) on the blocking pool; res = its return value, or a negative
 * errno when it could not be submitted (rt_blocking_submit). */
#define RT_AWAIT_BLOCKING(f, res, fn, arg)                                   \
    do {                                                                     \
        /* r.p, not r.i: the whole word is the result when submit fails */   \
        rt__h->r.p =                                                         \
            rt_blocking_submit(rt__reactor(), (fn), (arg), &rt__h->u.job);   \
        if (rt__h->r.p == 0) {                                               \
            rt__h->op = RT__OP_BLOCKING;                                     \
            RT__AWAIT(rt_blocking_poll(rt__h->u.job, rt__cx(), &rt__h->r.p), \
                      "blocking pool");                                      \
            rt__h->op = RT__OP_NONE;                                         \
        }                                                                    \
        (res) = rt__h->r.p;                                                  \
    } while (0)

/* Waits for the first of the cases cases_[0..n_) to complete
 * (include/greenfut/rt_select.h): res = the index of the case that won,
 * whose own result is in cases_[res].res; every other case was withdrawn
 * (nothing received, sent, read or written by it). When several are ready
 * at once the winner is drawn at random, each ready case alike. res =
 * -EINVAL for a bad case array (rt_select_init). The cases, and the
 * buffers they name, live in the frame (rules 3 and 4); fill them with
 * rt_sel_recv, rt_sel_send, ... before the await. Dropping or cancelling
 * the task withdraws every case. */
#define RT_AWAIT_SELECT(f, res, cases_, n_) \
    RT__AWAIT_SELECT(f, res, cases_, n_, 0u)

/* RT_AWAIT_SELECT, but the cases are polled in index order: of the cases
 * ready at once, the first wins (tokio's `biased;`). */
#define RT_AWAIT_SELECT_BIASED(f, res, cases_, n_) \
    RT__AWAIT_SELECT(f, res, cases_, n_, RT_SELECT_BIASED)

#define RT__AWAIT_SELECT(f, res, cases_, n_, flags_)                          \
    do {                                                                      \
        rt__h->r.i = rt_select_init(&rt__h->u.sel, (cases_), (n_), (flags_)); \
        if (rt__h->r.i == 0) {                                                \
            rt__h->obj = &rt__h->u.sel;                                       \
            rt__h->op = RT__OP_SELECT;                                        \
            RT__AWAIT(rt_select_poll(&rt__h->u.sel, rt__reactor(), rt__cx(),  \
                                     &rt__h->r.i),                            \
                      "select");                                              \
            rt__h->op = RT__OP_NONE;                                          \
        }                                                                     \
        (res) = rt__h->r.i;                                                   \
    } while (0)

/* Ends the task with result `v` (what join returns). */
#define RT_RETURN(f, v)             \
    do {                            \
        rt__h->ret = (intptr_t)(v); \
        RT__FINISH();               \
    } while (0)

/* ---- Tasks -------------------------------------------------------------- */

/* Runs a scheduler of the selected backend on the calling thread: starts a
 * copy of `frame` (size bytes, first member RT_FRAME) as the root task
 * running fn, and returns when the root and every task spawned from it have
 * ended. *ret (if not NULL) gets the root's result. Returns 0, -EINVAL (fn
 * or frame NULL, size too small), -EBUSY (a scheduler already runs on this
 * thread), -ENOMEM (as rt_spawn: a size of 2 GiB or more is refused up
 * front), or -EDEADLK when tasks are stuck with nothing left that
 * could wake them (they are listed on stderr). */
int rt_run(rt_task_fn fn, const void *frame, size_t size, intptr_t *ret);

/* Options of rt_run_opts; zero-initialise, then set what you need (fields
 * may be added at the end). */
struct rt_opts {
    unsigned workers; /* worker OS threads of the scheduler, the caller's
                         included; 0: one per online CPU. At most
                         RT_WORKERS_MAX (256): more is -EINVAL */
};

/* rt_run with options: the tasks run on opts->workers OS threads that
 * share one reactor and steal work from one another (docs/multicore.md).
 * opts NULL is rt_run, whose worker count is the RT_WORKERS environment
 * variable when it is set (a positive number, or 0 for one per online
 * CPU), else 1. Returns what rt_run returns; -EINVAL also for a bad
 * RT_WORKERS or worker count, -EAGAIN when a worker thread cannot be
 * created. Every worker thread has been joined when it returns. */
int rt_run_opts(const struct rt_opts *opts, rt_task_fn fn, const void *frame,
                size_t size, intptr_t *ret);

/* Pins the calling task to the worker it runs on now: from then on it is
 * never stolen or resumed elsewhere, so thread-local state it keeps stays
 * its own (Go's LockOSThread). There is no unpin. Returns 0, or -EPERM
 * outside a task. */
int rt_pin(void);

/* The index (0 .. workers - 1) of the worker running the calling task, or
 * -EPERM outside a task. Read it again after every await: the task may
 * move. */
int rt_worker_index(void);

/* Spawns a copy of `frame` as a new task running fn; it starts after the
 * caller next waits. With `join` not NULL the task may be joined once
 * (RT_AWAIT_JOIN, by one task: while one task waits on the handle, another
 * that awaits it gets -ESRCH at once and the first still gets the result);
 * with NULL it is detached: its memory (its stack, its frame) is given
 * back when it ends, so a long run may spawn any number of them. A handle
 * that is never awaited (overwritten by the next spawn, or in a frame that
 * ended) leaks nothing: its task runs on, and what is left of it (its
 * result; a stackful task's stack, a stackless one's frame slot) is freed
 * when rt_run returns. Returns 0, -EINVAL, -ENOMEM (also, before
 * anything is read or allocated, for a size of 2 GiB or more), or -EPERM
 * (not inside rt_run). Never suspends the caller. */
int rt_spawn(rt_task_fn fn, const void *frame, size_t size,
             struct rt_join *join);

/* Asks the task of `join` to stop (docs/portable.md, "Cancellation"): the
 * await it is suspended in returns -ECANCELED, and so does every await it
 * starts from then on, until it ends; its code goes on, so it runs its own
 * cleanup (closing fds, unlocking, RT_RETURN) on the way out, without ever
 * waiting again. The wait it was in is withdrawn first (nothing is taken
 * from a channel, a lock or permit it had been handed is passed on); a
 * wait that had completed already keeps its result (a send whose message
 * was taken returns 0, a select one of whose sends was taken returns that
 * case). A child it awaits (RT_AWAIT_CALL) is cancelled with it: the
 * child's awaits are the ones refused. RT_AWAIT_JOIN on the handle then
 * returns 0 with the task's own result, whatever it returned.
 * Awaits without a result (sleep, lock, semaphore, condition, wait group,
 * yield) return early: after RT_AWAIT_LOCK, RT_AWAIT_SEM or RT_AWAIT_COND
 * in a cancelled task the lock or permit is NOT held (rt_cancelled tells).
 * An RT_AWAIT_JOIN of the cancelled task itself (waiting, or started
 * after) returns -ECANCELED and gives its handle up: the task it joined
 * runs on detached, and a later join of that handle returns -ESRCH. On
 * stackless with several workers, a task that is being polled or queued
 * when the cancel comes sees it from its next suspension on (the cancel
 * waits until no worker polls it; a small task of the runtime retries
 * meanwhile; one queued before it first ran is such a task). Cancelling
 * a task that has not run yet refuses all its awaits (but for that case);
 * one that has ended, or a second cancel, changes nothing. Not
 * concurrently with an RT_AWAIT_JOIN of the same handle in another task.
 * Returns 0, -ESRCH (empty, joined or detached handle), -ENOMEM
 * (stackless: the cancel's record) or -EPERM (not inside rt_run). Never
 * suspends the caller. */
int rt_cancel(struct rt_join *join);

/* True when the calling task has been cancelled (rt_cancel): its awaits
 * are refused from now on. False outside a task. */
int rt_cancelled(void);

/* Registers fd with the current scheduler's reactor (rt_reactor_register).
 * Needed once before reads and writes (accepted fds come registered). */
int rt_register(int fd);

/* Deregisters fd, waking its waiters, and closes it (rt_reactor_close). */
int rt_close(int fd);

/* The current scheduler's reactor, or NULL outside rt_run. */
struct rt_reactor *rt_reactor_current(void);

/* The backend's name: "stackful" or "stackless". */
const char *rt_backend_name(void);

#endif

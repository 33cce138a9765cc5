/* Futures: the stackless unit of work, and the macros that write them.
 *
 * A future is a frame struct whose FIRST member is a struct fut_future, i.e.
 * a pointer to its vtable. poll(self, cx, out) either finishes (RT_READY,
 * its output written to *out) or makes sure cx->waker will be woken when
 * polling again can make progress and returns RT_PENDING. It never blocks.
 *
 * Invariants a reader must keep in mind:
 * - Lazy: building a future (its *_init function) has no effect; all work
 *   happens inside poll.
 * - Pinned after the first poll: from the first poll until drop the frame
 *   must not move, because poll may have stored pointers into it (a timer
 *   node the reactor points at, a child's address). Before the first poll it
 *   may be copied freely (fut_spawn copies it into a task).
 *   Rust: this is what Pin<&mut Self> guarantees.
 * - Output convention: `out` points at storage of the future's declared
 *   output type (each *_init documents it), or is NULL when the caller does
 *   not want the output; every future accepts NULL. out is written only when
 *   poll returns RT_READY.
 * - After RT_READY a future must not be polled again (the FUT_ macros abort
 *   if it is). It must still be dropped.
 * - Drop (fut_drop) is valid in every state: never polled, pending, ready.
 *   It releases what the frame holds: armed timers are cancelled, children
 *   are dropped. A dropped future has vt == NULL and dropping it again is a
 *   no-op. Rust: this is Drop, which a select runs on its losers.
 */
#ifndef RT_STACKLESS_FUTURE_H
#define RT_STACKLESS_FUTURE_H

#include <stddef.h>

#include "rt_poll.h"

struct fut_future;

/* One per future type; usually a static const. */
struct fut_vtable {
    /* Advances the future. Returns RT_READY with the output in *out (when out
     * is not NULL) or RT_PENDING after arranging for cx->waker to be woken.
     * Never NULL. */
    enum rt_poll (*poll)(struct fut_future *self, struct rt_cx *cx, void *out);
    /* Releases what the frame holds (timers, children, wakers). Never frees
     * the frame itself: its memory belongs to whoever embeds it. NULL when
     * there is nothing to release. */
    void (*drop)(struct fut_future *self);
    /* A short name for diagnostics (the deadlock report); may be NULL. */
    const char *name;
};

/* Aborts with "file:line: future polled after it completed" (what FUT_END
 * does for a future polled again after RT_READY). Public because the FUT_*
 * macros expand to it in users' code. Never returns. */
_Noreturn void fut_polled_after_done(const char *file, int line);

/* Embedded first in every frame struct. */
struct fut_future {
    const struct fut_vtable *vt; /* NULL once dropped */
};

/* Polls `f` once. `f` must be live (not dropped) and not yet ready. */
static inline enum rt_poll fut_poll(struct fut_future *f, struct rt_cx *cx,
                                    void *out)
{
    return f->vt->poll(f, cx, out);
}

/* Drops `f` (see the invariants above) and marks it dropped (vt = NULL).
 * A no-op for NULL or an already dropped future. */
static inline void fut_drop(struct fut_future *f)
{
    if (!f || !f->vt)
        return;
    const struct fut_vtable *vt = f->vt;
    /* A relaxed atomic store (a plain move): with several workers a dump
     * may read the vtable of a task that ends meanwhile. */
    __atomic_store_n(&f->vt, NULL, __ATOMIC_RELAXED);
    if (vt->drop)
        vt->drop(f);
}

/* True when `f` has been dropped (or was never given a vtable). */
static inline int fut_dropped(const struct fut_future *f)
{
    return f->vt == NULL;
}

/* ---- Macros for hand-written state machines ----------------------------
 *
 * What Rust's compiler does to an async fn, written out: every local that
 * lives across an await becomes a field of the frame, and every await
 * becomes a resume point, a `case` of one switch on a `state` field.
 *
 *   struct sleeper {
 *       struct fut_future base;  // first
 *       unsigned state;          // resume point; 0 before the first poll
 *       struct fut_sleep nap;    // the child future, stored in the frame
 *       int i;                   // a local that lives across the await
 *   };
 *   static enum rt_poll sleeper_poll(struct fut_future *self,
 *                                    struct rt_cx *cx, void *out)
 *   {
 *       struct sleeper *f = (struct sleeper *)self;
 *       FUT_BEGIN(f->state);
 *       for (f->i = 0; f->i < 3; f->i++) {
 *           fut_sleep_for_init(&f->nap, 1000);
 *           FUT_AWAIT(&f->nap, NULL);
 *       }
 *       FUT_END;
 *   }
 *
 * Rules: the poll function's context parameter must be named `cx`; the
 * state field is an unsigned int that starts at 0; at most one FUT_AWAIT or
 * FUT_AWAIT_POLL per source line (the line number is the resume point); no
 * C local variable keeps its value across an await (store it in the frame);
 * write the output to *out (if out is not NULL) before FUT_RETURN/FUT_END.
 */

/* The state value of a frame that has returned RT_READY. */
#define FUT_STATE_DONE 0xffffffffu

/* Opens the body of a poll function; `state` is the frame's state field. */
#define FUT_BEGIN(state)             \
    unsigned *fut__state = &(state); \
    switch (*fut__state) {           \
    case 0:

/* Resume point around an arbitrary poll expression (e.g. a leaf poll
 * function from include/greenfut/io.h): evaluates `expr` now and again at every
 * later poll, and returns RT_PENDING upward while it is RT_PENDING. */
#define FUT_AWAIT_POLL(expr)      \
    do {                          \
        *fut__state = __LINE__;   \
        if (0) {                  \
        case __LINE__:;           \
        }                         \
        if ((expr) == RT_PENDING) \
            return RT_PENDING;    \
    } while (0)

/* Resume point that polls the child future `child` (a frame stored in this
 * frame) until it is ready, its output going to `out` (may be NULL). The
 * child is not dropped here; the frame's drop drops it. */
#define FUT_AWAIT(child, out) \
    FUT_AWAIT_POLL(fut_poll((struct fut_future *)(child), cx, (out)))

/* Returns RT_PENDING once and resumes here at the next poll. The caller must
 * have arranged a wake (or call rt_waker_wake_by_ref(cx->waker) first). */
#define FUT_SUSPEND()           \
    do {                        \
        *fut__state = __LINE__; \
        return RT_PENDING;      \
    case __LINE__:;             \
    } while (0)

/* Finishes the future: RT_READY now, and an abort if it is polled again. */
#define FUT_RETURN()                  \
    do {                              \
        *fut__state = FUT_STATE_DONE; \
        return RT_READY;              \
    } while (0)

/* Closes FUT_BEGIN; falling off the end is FUT_RETURN(). */
#define FUT_END                                    \
    *fut__state = FUT_STATE_DONE;                  \
    return RT_READY;                               \
    default:                                       \
        fut_polled_after_done(__FILE__, __LINE__); \
        }

#endif

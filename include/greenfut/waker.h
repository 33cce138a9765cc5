/* Waker: how a pending operation tells its owner "poll me again".
 *
 * A waker is a fat pointer: a vtable of four functions and an opaque data
 * word, exactly Rust's RawWaker/RawWakerVTable. The reactor, the timers and
 * every leaf operation only ever hold wakers; they never see a scheduler.
 * Each backend supplies one vtable (stackless: data is a task and clone/drop
 * move its reference count; stackful: data is a green thread).
 *
 * Ownership: a struct rt_waker value owns whatever its vtable's clone handed
 * out. rt_waker_wake and rt_waker_drop consume it; rt_waker_wake_by_ref does
 * not. A waker whose vt is NULL is "no waker": every helper here accepts it
 * and does nothing, so a slot can be reset by dropping it.
 *
 * Threads: wake and wake_by_ref may be called from any thread (a backend
 * routes a foreign-thread wake through rt_reactor_post). clone and drop
 * must be safe wherever the backend lets a waker travel (both backends: on
 * any thread, and a clone made on one thread may be dropped on another).
 *
 * Rust: struct rt_waker is `Waker`, the vtable is `RawWakerVTable`, and
 * `&dyn Trait` is the same {vtable, data} pair that C writes out by hand.
 */
#ifndef RT_COMMON_WAKER_H
#define RT_COMMON_WAKER_H

#include <stdbool.h>
#include <stddef.h>

struct rt_waker;

struct rt_waker_vtable {
    /* Returns a new waker for the same target (takes a reference). */
    struct rt_waker (*clone)(void *data);
    /* Wakes the target and releases this waker's reference. */
    void (*wake)(void *data);
    /* Wakes the target; the waker stays valid and owned by the caller. */
    void (*wake_by_ref)(void *data);
    /* Releases this waker's reference without waking. */
    void (*drop)(void *data);
};

struct rt_waker {
    const struct rt_waker_vtable *vt; /* NULL: no waker */
    void *data;
};

/* The empty waker (vt NULL); storing it means "nobody waits". */
#define RT_WAKER_NONE ((struct rt_waker){NULL, NULL})

/* True when `w` holds a waker. */
static inline bool rt_waker_is_set(const struct rt_waker *w)
{
    return w->vt != NULL;
}

/* Returns a clone of `w` (RT_WAKER_NONE for an empty one). */
static inline struct rt_waker rt_waker_clone(const struct rt_waker *w)
{
    return w->vt ? w->vt->clone(w->data) : RT_WAKER_NONE;
}

/* Wakes and consumes `*w`, leaving it empty. */
static inline void rt_waker_wake(struct rt_waker *w)
{
    const struct rt_waker_vtable *vt = w->vt;
    void *data = w->data;
    *w = RT_WAKER_NONE;
    if (vt)
        vt->wake(data);
}

/* Wakes without consuming: `*w` stays owned by the caller. */
static inline void rt_waker_wake_by_ref(const struct rt_waker *w)
{
    if (w->vt)
        w->vt->wake_by_ref(w->data);
}

/* Releases `*w` without waking, leaving it empty. */
static inline void rt_waker_drop(struct rt_waker *w)
{
    const struct rt_waker_vtable *vt = w->vt;
    void *data = w->data;
    *w = RT_WAKER_NONE;
    if (vt)
        vt->drop(data);
}

/* True when waking `a` and `b` would wake the same target (Rust's
 * Waker::will_wake): same vtable and same data. */
static inline bool rt_waker_will_wake(const struct rt_waker *a,
                                      const struct rt_waker *b)
{
    return a->vt == b->vt && a->data == b->data;
}

/* Makes `*slot` hold a waker for the same target as `w`: keeps the stored
 * one when it already will_wake the same target (no clone, no drop: the
 * common re-poll case), otherwise drops it and stores a clone of `w`. */
static inline void rt_waker_store(struct rt_waker *slot,
                                  const struct rt_waker *w)
{
    if (rt_waker_will_wake(slot, w))
        return;
    rt_waker_drop(slot);
    *slot = rt_waker_clone(w);
}

#endif

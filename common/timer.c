#include <greenfut/timer.h>

#include <errno.h>
#include <stdlib.h>

#include <greenfut/check.h>
#include "timer_internal.h"
#include "sys.h"

/* A 4-ary heap: children of i are 4i+1 .. 4i+4, the parent of i is
 * (i-1)/4. Compared with a binary heap it halves the depth, and the four
 * children sit next to each other in the array, so a sift-down reads one
 * cache line per level. Measured in bench/bench_timer_heap.c.
 *
 * Each heap entry holds its timer's deadline next to the pointer, so a sift
 * compares keys inside the array and touches a timer node only to move it
 * (its idx) or to break a tie (its seq). The nodes live in their owners'
 * frames and stacks, one per task, scattered over memory: comparing through
 * the pointers cost a cache miss per child looked at. */
#ifndef RT_TIMER_ARITY
#define RT_TIMER_ARITY 4 /* the bench builds a binary variant to compare */
#endif
#define ARITY RT_TIMER_ARITY

static bool before(const struct rt_timer_slot *a, const struct rt_timer_slot *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return a->t->seq < b->t->seq;
}

/* idx is atomic for rt_timer_armed's readers on other threads (timer.h);
 * the heap's own writes and reads need no ordering: relaxed. */
static size_t idx_of(const struct rt_timer *t)
{
    return atomic_load_explicit(&t->idx, memory_order_relaxed);
}

/* The sifts take the array and its length into locals: the compiler must
 * assume that an atomic store may change any memory it can reach, so with
 * h->heap and h->len read through `h` it would load them again after each
 * place (bench_timers under callgrind: unlink_timer 15% more instructions
 * than with a plain idx). */
static void place(struct rt_timer_slot *heap, size_t i, struct rt_timer_slot e)
{
    RT_DEBUG_ASSERT(e.deadline == e.t->deadline); /* the copy is the key */
    heap[i] = e;
    atomic_store_explicit(&e.t->idx, i, memory_order_relaxed);
}

#if defined(RT_DEBUG) && RT_DEBUG
/* The heap order where a sift just put an entry: its parent is not after
 * it and none of its children is before it. O(ARITY), debug builds only. */
static bool ordered_at(const struct rt_timers *h, size_t i)
{
    if (i > 0 && before(&h->heap[i], &h->heap[(i - 1) / ARITY]))
        return false;
    for (size_t c = i * ARITY + 1; c <= i * ARITY + ARITY && c < h->len; c++)
        if (before(&h->heap[c], &h->heap[i]))
            return false;
    return true;
}
#endif

static void sift_up(struct rt_timers *h, size_t i, struct rt_timer_slot e)
{
    struct rt_timer_slot *heap = h->heap;
    while (i > 0) {
        size_t parent = (i - 1) / ARITY;
        if (!before(&e, &heap[parent]))
            break;
        place(heap, i, heap[parent]);
        i = parent;
    }
    place(heap, i, e);
    RT_DEBUG_ASSERT(ordered_at(h, i));
}

static void sift_down(struct rt_timers *h, size_t i, struct rt_timer_slot e)
{
    struct rt_timer_slot *heap = h->heap;
    size_t len = h->len;
    for (;;) {
        size_t first = i * ARITY + 1;
        if (first >= len)
            break;
        size_t last = first + ARITY;
        if (last > len)
            last = len;
        size_t best = first;
        for (size_t c = first + 1; c < last; c++)
            if (before(&heap[c], &heap[best]))
                best = c;
        if (!before(&heap[best], &e))
            break;
        place(heap, i, heap[best]);
        i = best;
    }
    place(heap, i, e);
    RT_DEBUG_ASSERT(ordered_at(h, i));
}

/* Takes `t` out of the heap; it becomes idle and keeps its waker. The
 * release store of RT_TIMER_IDLE is the last access to `t` (the sift below
 * moves other nodes): an owner that reads idle may reuse the node. */
static void unlink_timer(struct rt_timers *h, struct rt_timer *t)
{
    size_t i = idx_of(t);
    RT_ASSERT(i < h->len && h->heap[i].t == t);
    struct rt_timer_slot last = h->heap[--h->len];
    atomic_store_explicit(&t->idx, RT_TIMER_IDLE, memory_order_release);
    if (last.t == t)
        return;
    /* The last entry fills the hole and moves whichever way it must. */
    if (i > 0 && before(&last, &h->heap[(i - 1) / ARITY]))
        sift_up(h, i, last);
    else
        sift_down(h, i, last);
}

void rt_timer_init(struct rt_timer *t)
{
    t->deadline = 0;
    t->seq = 0;
    atomic_init(&t->idx, RT_TIMER_IDLE);
    t->waker = RT_WAKER_NONE;
}

void rt_timers_init(struct rt_timers *h)
{
    h->heap = NULL;
    h->len = 0;
    h->cap = 0;
    h->seq = 0;
}

void rt_timers_fini(struct rt_timers *h)
{
    for (size_t i = 0; i < h->len; i++) {
        struct rt_timer *t = h->heap[i].t;
        atomic_store_explicit(&t->idx, RT_TIMER_IDLE, memory_order_release);
        rt_waker_drop(&t->waker);
    }
    free(h->heap);
    rt_timers_init(h);
}

/* rt_timers_arm, and rt__timers_arm_swap when `old` is not NULL: then the
 * waker that `w` replaces goes to *old instead of being dropped here. */
static inline int arm(struct rt_timers *h, struct rt_timer *t,
                      uint64_t deadline, const struct rt_waker *w,
                      struct rt_waker *old)
{
    if (!h || !t || !w || !rt_waker_is_set(w))
        return -EINVAL;
    if (rt_timer_armed(t)) {
        unlink_timer(h, t);
    } else if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        struct rt_timer_slot *heap =
            rt_sys_realloc(h->heap, cap * sizeof(*heap));
        if (!heap)
            return -ENOMEM;
        h->heap = heap;
        h->cap = cap;
    }
    if (old)
        *old = rt__waker_swap(&t->waker, w);
    else
        rt_waker_store(&t->waker, w);
    t->deadline = deadline;
    t->seq = h->seq++;
    sift_up(h, h->len++, (struct rt_timer_slot){deadline, t});
    return 0;
}

int rt_timers_arm(struct rt_timers *h, struct rt_timer *t, uint64_t deadline,
                  const struct rt_waker *w)
{
    return arm(h, t, deadline, w, NULL);
}

int rt__timers_arm_swap(struct rt_timers *h, struct rt_timer *t,
                        uint64_t deadline, const struct rt_waker *w,
                        struct rt_waker *old)
{
    *old = RT_WAKER_NONE;
    return arm(h, t, deadline, w, old);
}

struct rt_waker rt__timers_remove(struct rt_timers *h, struct rt_timer *t)
{
    if (!rt_timer_armed(t))
        return RT_WAKER_NONE;
    struct rt_waker w = t->waker;
    t->waker = RT_WAKER_NONE;
    unlink_timer(h, t); /* the last touch of t */
    return w;
}

void rt_timers_cancel(struct rt_timers *h, struct rt_timer *t)
{
    if (!h || !t || !rt_timer_armed(t))
        return;
    unlink_timer(h, t);
    rt_waker_drop(&t->waker);
}

uint64_t rt_timers_next(const struct rt_timers *h)
{
    return h->len ? h->heap[0].deadline : UINT64_MAX;
}

size_t rt_timers_expire(struct rt_timers *h, uint64_t now)
{
    uint64_t limit = h->seq; /* timers armed from here on wait a turn */
    size_t fired = 0;
    while (h->len) {
        struct rt_timer *t = h->heap[0].t;
        if (h->heap[0].deadline > now || t->seq >= limit)
            break;
        /* The timer is idle before its waker runs, so the waker may re-arm
         * it; the waker moves out of the node first, as the unlink is the
         * last touch of a node its owner may free once it reads idle. */
        struct rt_waker w = t->waker;
        RT_DEBUG_ASSERT(rt_waker_is_set(&w)); /* an armed timer owns one */
        t->waker = RT_WAKER_NONE;
        unlink_timer(h, t);
        rt_waker_wake(&w);
        fired++;
    }
    return fired;
}

size_t rt__timers_take(struct rt_timers *h, uint64_t now, uint64_t limit,
                       struct rt_waker *out, size_t max)
{
    size_t n = 0;
    while (n < max && h->len) {
        struct rt_timer *t = h->heap[0].t;
        if (h->heap[0].deadline > now || t->seq >= limit)
            break;
        out[n] = t->waker;
        RT_DEBUG_ASSERT(rt_waker_is_set(&out[n]));
        t->waker = RT_WAKER_NONE;
        unlink_timer(h, t); /* the last touch of t, as in rt_timers_expire */
        n++;
    }
    return n;
}

/* Green-thread lifetime: spawn (the control block at the top of the
 * thread's own stack, or on the heap for a copy-stack thread: copy.h), the
 * first frame, the references and the waker.
 *
 * Invariant: a block lives until its last reference is gone (the
 * scheduler's, the id's, one per waker clone; see gt_internal.h), and
 * only its owner OS thread frees it. Dependencies: sched.c -> thread.c ->
 * switch.h, runq.h (inline); nothing here calls into sched.c.
 */
#include "gt_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include "copy.h"
#include "fiber_san.h"
#include "owner.h"
#include "runq.h"
#include "switch.h"
#include "sys.h"
#include "watchdog_internal.h"

/* Cache-line offsets of thread blocks (see spawn); -DGT_COLOURS=1 for none. */
#ifndef GT_COLOURS
#define GT_COLOURS 16u
#endif

static const struct rt_waker_vtable waker_vt, waker_vt_mt;
static void unref(struct gt__thread *t);
static void unref_mt(struct gt__thread *t);

/* ---- lifetime */

void gt__describe(const struct gt__thread *t, char *buf, size_t len)
{
    char fn[128];
    rt__name_fn(t->entry, fn, sizeof(fn));
    snprintf(buf, len, "green thread %lld%s%s%s (%s)", (long long)t->id,
             t->name[0] ? " \"" : "", t->name, t->name[0] ? "\"" : "", fn);
}

void gt__thread_free(struct gt__thread *t)
{
    struct gt__sched *s = t->s;
    if (s->ws) {
        /* No queue holds it (a queued thread is live: the scheduler's
         * reference is still there). */
        rt_spin_lock_always(&s->threads_lock);
        rt_list_remove(&t->all);
        rt_spin_unlock(&s->threads_lock, true);
        unsigned st = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) & GT__STATE;
        if (st == GT__PARKED)
            count_add(&s->parked, -1);
        if (st != GT__DONE)
            count_add(&s->live, -1);
    } else {
        rt_list_remove(&t->all);
        if (rt_list_linked(&t->link)) {
            rt_list_remove(&t->link);
            s->w0.runnable--;
        }
        if (t->state == GT__PARKED)
            s->parked--;
        if (t->state != GT__DONE)
            s->live--;
    }
    gt__tsan_free(&t->san_fake);
    if (rt__watchdog_noting())
        rt__watchdog_forget(t);
    if (t->copy) { /* its save buffer, then the heap block */
        free(t->save);
        free(t);
        return;
    }
    if (s->ws)
        rt_spin_lock_always(&s->stacks_lock);
    gt__stack_free(&s->stacks, &t->stack, t->id, t->name, t->entry);
    if (s->ws)
        rt_spin_unlock(&s->stacks_lock, true);
}

/* The end of a thread with several workers: DONE, and its joiner woken,
 * under the id lock (the join handshake of sched.c's gt_join); the last
 * thread to end stops the workers. */
static __attribute__((noinline)) void finish_mt(struct gt__thread *self)
{
    struct gt__sched *s = self->s;
    rt_spin_lock_always(&s->ids_lock);
    __atomic_store_n(&self->state, GT__DONE, __ATOMIC_RELEASE);
    if (self->joiner)
        wake_mt(self->joiner);
    if (self->detached)
        rt_idtable_delete(&s->ids, gt__thread_find(s, self->id));
    rt_spin_unlock(&s->ids_lock, true);
    if (self->detached) /* the id's; the scheduler's keeps us until land */
        unref_mt(self);
    if (__atomic_sub_fetch(&s->live, 1, __ATOMIC_ACQ_REL) == 0)
        rt_workers_stop(s->ws, 0);
}

/* The first frame of every green thread (make_fcontext's entry): runs fn,
 * then switches away for good; the next context's land drops the
 * scheduler's reference. A copy-stack thread gives its worker's run stack
 * up first: its frames there need no save any more. */
_Noreturn void gt__thread_entry(transfer_t tr)
{
    struct gt__worker *wk = land(tr);
    struct gt__thread *self = wk->current;
    self->result = self->fn(self->arg);
    wk = gt__here(); /* fn may have parked: another worker, maybe */
    if (self->copy)
        wk->copy->owner = NULL;
    if (wk->rw) {
        finish_mt(self);
        switch_to(wk, self, pick_mt(wk, true));
    } else {
        struct gt__sched *s = wk->s;
        self->state = GT__DONE;
        s->live--;
        if (self->joiner)
            wake_local(self->joiner);
        if (self->detached) { /* as gt_join would: the id's reference */
            rt_idtable_delete(&s->ids, gt__thread_find(s, self->id));
            unref(self); /* the scheduler's keeps the stack until land */
        }
        switch_to(wk, self, pick(wk));
    }
    RT_UNREACHABLE(); /* nobody holds a handle to a DONE thread */
}

/* ---- the waker: data is the thread; clones count as references */

/* The ownership protocol (common/owner.h) over a green thread: the owner
 * is the scheduler's OS thread, a wake makes the thread runnable. */
static struct gt__thread *thread_of_node(struct rt_remote *node)
{
    return RT_CONTAINER_OF(node, struct gt__thread, remote);
}

static bool is_owner(struct rt_remote *node)
{
    struct gt__worker *wk = gt__here();
    return wk && wk->s == thread_of_node(node)->s;
}

static struct rt_reactor *reactor_of(struct rt_remote *node)
{
    return thread_of_node(node)->s->reactor;
}

/* A wake from another thread is applied like the owner's own. */
static void wake(struct rt_remote *node, bool foreign)
{
    (void)foreign;
    wake_local(thread_of_node(node));
}

static void free_node(struct rt_remote *node)
{
    gt__thread_free(thread_of_node(node));
}

static const struct rt_owner_ops thread_owner = {is_owner, reactor_of, wake,
                                                 free_node};

/* Several workers: references are atomic counts, and the last one frees
 * the block, on whichever thread drops it. */
static __attribute__((noinline)) void unref_mt(struct gt__thread *t)
{
    uint32_t left = __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
    RT_ASSERT(left != UINT32_MAX);
    if (left == 0)
        gt__thread_free(t);
}

/* Drops one reference; one worker: owner thread only. */
static void unref(struct gt__thread *t)
{
    if (t->s->ws) {
        unref_mt(t);
        return;
    }
    RT_ASSERT(gt__sched_here() == t->s);
    rt_owner_unref(&thread_owner, &t->remote, &t->refs);
}

/* Runs on the owner thread, called by the reactor's turn: what other
 * threads did to the thread since the last run (see gt_internal.h). */
static void remote_run(struct rt_remote *node)
{
    rt_owner_run(&thread_owner, node, &thread_of_node(node)->refs);
}

/* Two vtables, one per protocol: with one worker the owner-thread
 * protocol of owner.h (waker_vt), with several the atomic protocol of
 * gt_internal.h from any thread (waker_vt_mt). A thread's waker has one or
 * the other from its spawn (t->s->ws is fixed before any thread exists),
 * so no entry has to ask which. */
static struct rt_waker waker_clone(void *data)
{
    struct gt__thread *t = data;
    rt_owner_clone(&thread_owner, &t->remote, &t->refs);
    return (struct rt_waker){&waker_vt, t};
}

static void waker_wake(void *data)
{
    struct gt__thread *t = data;
    rt_owner_wake(&thread_owner, &t->remote, &t->refs);
}

static void waker_wake_by_ref(void *data)
{
    struct gt__thread *t = data;
    rt_owner_wake_by_ref(&thread_owner, &t->remote);
}

static void waker_drop(void *data)
{
    struct gt__thread *t = data;
    rt_owner_drop(&thread_owner, &t->remote, &t->refs);
}

static const struct rt_waker_vtable waker_vt = {
    .clone = waker_clone,
    .wake = waker_wake,
    .wake_by_ref = waker_wake_by_ref,
    .drop = waker_drop,
};

static struct rt_waker waker_clone_mt(void *data)
{
    struct gt__thread *t = data;
    __atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
    return (struct rt_waker){&waker_vt_mt, t};
}

static void waker_wake_mt(void *data)
{
    wake_mt(data);
    unref_mt(data);
}

static void waker_wake_by_ref_mt(void *data)
{
    wake_mt(data);
}

static void waker_drop_mt(void *data)
{
    unref_mt(data);
}

static const struct rt_waker_vtable waker_vt_mt = {
    .clone = waker_clone_mt,
    .wake = waker_wake_mt,
    .wake_by_ref = waker_wake_by_ref_mt,
    .drop = waker_drop_mt,
};

void gt__thread_unref(struct gt__thread *t)
{
    unref(t);
}

/* ---- spawn */

/* The colour of a stack (below): from its address, not from the thread,
 * so that a pooled stack taken again by the next spawn puts the block on
 * the same lines as before, still in cache; the pages' numbers are mixed
 * because stacks lie at a fixed stride. */
static inline size_t stack_colour(const struct gt__stack *st)
{
    uintptr_t p = (uintptr_t)st->lo >> 12;
    return (size_t)((p ^ (p >> 4) ^ (p >> 8) ^ (p >> 12)) % GT_COLOURS);
}

/* A new thread's block, every field set once in declaration order: no
 * memset, whose 312-byte `rep stos` (a microcoded loop with a start-up
 * cost) was a tenth of a spawn + join at one worker. A field added to
 * struct gt__thread needs its line here; the size check is the reminder. */
#if defined(__x86_64__)
_Static_assert(sizeof(struct gt__thread) == 312,
               "struct gt__thread changed: set the new field in thread_init");
#endif
static inline void thread_init(struct gt__thread *t, struct gt__sched *s,
                               int64_t id, void *(*fn)(void *), void *arg,
                               const struct gt__site *at,
                               const struct gt__stack *st, bool copy)
{
    t->ctx = NULL; /* made below, or at the first run in copy mode */
    rt_list_init(&t->link);
    t->all = (struct rt_list){NULL, NULL}; /* linked by the caller */
    t->s = s;
    t->state = GT__RUNNING; /* RUNNABLE once queued */
    t->notified = false;
    t->detached = at->detached;
    t->yielded = false;
    t->pin = 0;
    t->refs = 2; /* the scheduler's and the id's */
    t->id = id;
    t->fn = fn;
    t->entry = at->entry ? at->entry : (uintptr_t)fn;
    t->arg = arg;
    t->result = NULL;
    t->joiner = NULL;
    t->waiting = NULL;
    t->waiting_fd = -1;
    t->cancel = at->cancel;
    t->waker = (struct rt_waker){s->ws ? &waker_vt_mt : &waker_vt, t};
    rt_remote_init(&t->remote, remote_run);
    t->stack = *st;
    t->san_fake = NULL;
    t->san_bottom = NULL;
    t->san_size = 0;
    t->name[0] = '\0';
    t->joining = NULL;
    t->waiting_deadline = 0;
    t->portable_waker = &t->waker; /* until an rt_cancel */
    t->copy = copy;
    t->saved = 0;
    t->cap = 0;
    t->save = NULL;
}

int64_t gt__thread_spawn(struct gt__sched *s, void *(*fn)(void *), void *arg,
                         const struct gt_opts *opts, const struct gt__site *at)
{
    if (!fn)
        return -EINVAL;
    size_t size =
        opts && opts->stack_size ? opts->stack_size : (size_t)GT_STACK_DEFAULT;
    if (size < GT_STACK_MIN)
        return -EINVAL;
    size_t page = s->stacks.page;
    if (size > SIZE_MAX / 2)
        return -ENOMEM;
    size = (size + page - 1) & ~(page - 1);
    size_t arg_size = opts ? opts->arg_size : 0;
    if (arg_size > size / 4 || (arg_size && !arg))
        return -EINVAL;
    bool copy = false;
    if ((opts && opts->stack_mode != GT_STACK_MODE_SCHED) ||
        s->stacks.copy_default) { /* one test on the common path */
        int mode = opts ? (int)opts->stack_mode : GT_STACK_MODE_SCHED;
        if (mode < GT_STACK_MODE_SCHED || mode > GT_STACK_MODE_COPY)
            return -EINVAL;
        copy = mode == GT_STACK_MODE_COPY ||
               (mode == GT_STACK_MODE_SCHED && s->stacks.copy_default);
        if (copy) {
            int rc = gt__copy_ready(s);
            if (rc)
                return rc;
        }
    }
    /* One worker reserves the id's room first (nothing to undo after the
     * stack); several take the id under its lock, and the room with the
     * insert below, since another worker may fill the table meanwhile. */
    bool mt = s->ws != NULL;
    int64_t id;
    int rc;
    if (mt) {
        rt_spin_lock_always(&s->ids_lock);
        id = s->next_id++;
        rt_spin_unlock(&s->ids_lock, true);
    } else {
        rc = rt_idtable_reserve(&s->ids);
        if (rc)
            return rc;
        id = s->next_id++;
    }
    struct gt__stack st = {0};
    struct gt__thread *t;
    char *top;
    if (copy) {
        /* The block and the argument copy on the heap: the run stack is
         * everyone's. Its context is made at its first run (copy.c). */
        size_t cb = (sizeof(struct gt__thread) + 15) & ~(size_t)15;
        t = rt_sys_malloc(cb + arg_size);
        if (!t)
            return -ENOMEM;
        top = (char *)t + cb + arg_size;
    } else {
        if (mt)
            rt_spin_lock_always(&s->stacks_lock);
        rc = gt__stack_alloc(&s->stacks, size, &st);
        if (mt)
            rt_spin_unlock(&s->stacks_lock, true);
        if (rc)
            return rc;
        /* The block takes the top of the stack, lowered by 0..GT_COLOURS-1
         * cache lines by the stack's colour; frames start below it. Every stack
         * top has the same offset within its page, so without the colour every
         * thread's block and hottest frames would compete for the same few
         * cache sets when many threads take turns. bench_yield at N =
         * 1000: 22.5 ns without, 20.0 ns with (three runs of 3, middle
         * medians); none at N = 2 or in bench_park. Colouring whole pages
         * as well (extra guard pages below each stack) made N = 10000
         * slower (55 vs 35 ns) and was dropped. The bytes above the block
         * are never touched. The colour once came from the thread's id:
         * then a pooled stack's next block fell on lines that had never
         * been touched, a cache miss per spawn (bench_spawn 1e6, the two
         * builds interleaved, fastest run of two rounds: 1.02x and 1.11x
         * the time with the address's colour). */
        size_t cb = (sizeof(struct gt__thread) + 63) & ~(size_t)63;
        size_t colour = stack_colour(&st) * 64u;
        t = (struct gt__thread *)(void *)(st.lo + size - cb - colour);
        top = (char *)t;
    }
    thread_init(t, s, id, fn, arg, at, &st, copy);
    if (opts && opts->name) {
        strncpy(t->name, opts->name, GT_NAME_MAX);
        t->name[GT_NAME_MAX] = '\0';
    }
    /* A copied argument sits right below the block, 64-byte aligned; the
     * thread's first frame starts below it. In copy mode it follows the
     * block on the heap. */
    if (arg_size) {
        top = copy ? top - arg_size
                   : (char *)((uintptr_t)(top - arg_size) & ~(uintptr_t)63);
        memcpy(top, arg, arg_size);
        t->arg = top;
    }
    if (!copy)
        t->ctx = make_fcontext(top, (size_t)(top - st.lo), gt__thread_entry);
    /* Everything the thread needs before it first runs: with several
     * workers it may run, on another worker, as soon as it is queued. */
    if (at->init)
        at->init(t->arg, at->init_data);
    if (rt__watchdog_noting())
        rt__watchdog_spawned(t, at->site, t->entry);
    if (mt) {
        rt_spin_lock_always(&s->ids_lock);
        rc = rt_idtable_reserve(&s->ids);
        if (rc == 0)
            ((struct gt__slot *)rt_idtable_insert(&s->ids, (uint64_t)id))->t =
                t;
        rt_spin_unlock(&s->ids_lock, true);
        if (rc) {
            gt__tsan_free(&t->san_fake);
            if (rt__watchdog_noting())
                rt__watchdog_forget(t);
            if (copy) {
                free(t);
                return rc;
            }
            rt_spin_lock_always(&s->stacks_lock);
            gt__stack_free(&s->stacks, &st, id, NULL, 0);
            rt_spin_unlock(&s->stacks_lock, true);
            return rc;
        }
        rt_spin_lock_always(&s->threads_lock);
        rt_list_push_back(&s->threads, &t->all);
        rt_spin_unlock(&s->threads_lock, true);
        count_add(&s->live, 1);
        __atomic_fetch_add(&s->spawned, 1, __ATOMIC_RELAXED);
        t->state = GT__RUNNABLE;
        /* The LIFO slot (no notify) when nothing else is queued here, so
         * that a chain of spawns stays on this worker; else the ring,
         * where the others can take it. With the slot taken for every
         * spawn (tokio's rule), skynet's fan-outs of ten ran 15-20%
         * slower on two workers. */
        struct gt__worker *here = gt__here();
        queue_mt(t, here && here->s == s && rt_worker_empty(here->rw));
        /* from here on, t may already be gone */
        return id;
    }
    struct gt__slot *slot = rt_idtable_insert(&s->ids, (uint64_t)id);
    slot->t = t;
    rt_list_push_back(&s->threads, &t->all);
    s->live++;
    s->spawned++;
    make_runnable(&s->w0, t);
    return id;
}

int64_t gt__spawn_at(void *(*fn)(void *), void *arg, const struct gt_opts *opts,
                     const struct gt__site *at)
{
    struct gt__sched *s = gt__sched_here();
    if (!s)
        return -EPERM;
    return gt__thread_spawn(s, fn, arg, opts, at);
}

int64_t gt_spawn(void *(*fn)(void *), void *arg, const struct gt_opts *opts)
{
    struct gt__site at = {.site = (uintptr_t)__builtin_return_address(0)};
    return gt__spawn_at(fn, arg, opts, &at);
}

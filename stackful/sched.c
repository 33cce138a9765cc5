/* The green-thread scheduler: park, yield, sleep and join, the stats, and
 * gt_run's loop over the ready FIFO and the reactor.
 *
 * Handoffs are direct, task to task: a yielding or parking thread jumps
 * straight to the next runnable one. The scheduler's own context (s->main,
 * the stack gt_run was called on) gets control only when nothing is runnable
 * (it turns the reactor) or every BUDGET handoffs (it lets the reactor look
 * for IO without blocking, so yield loops cannot starve IO). bench_sf_switch
 * measured both: through the scheduler a handoff costs two jumps.
 *
 * With several workers each runs the same loop over the shared queues of
 * common/workers.h, and a thread goes on whichever worker takes it: park,
 * yield and the end hand the thread's new state to land() (switch.h) on
 * the next context, so that no worker resumes a context not yet saved.
 * Dependencies: sched.c -> thread.c (spawn, references) -> switch.h, runq.h.
 */
#include <greenfut/gt.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include <greenfut/clock.h>
#include <greenfut/coop.h>
#include "gt_internal.h"
#include <greenfut/io.h>
#include "park.h"
#include "runq.h"
#include "switch.h"
#include <greenfut/timer.h>
#include "dump_internal.h"
#include "sys.h"
#include "watchdog_internal.h"
#include "workers.h"

/* Handoffs between two looks at the reactor; -DGT_BUDGET=n to try others. */
#ifndef GT_BUDGET
#define GT_BUDGET 256u
#endif
#define BUDGET GT_BUDGET

_Thread_local struct gt__sched *gt__current_sched;
_Thread_local struct gt__worker *gt__cur_worker;

/* gt__here's portable form: a call that is never inlined, so no caller can
 * keep the thread-local's address across a switch. */
__attribute__((noinline)) struct gt__worker *gt__here_call(void)
{
    struct gt__worker *w = gt__cur_worker;
    __asm__ volatile("" ::: "memory");
    return w;
}

/* ---- blocking primitives */

/* gt_yield with several workers: the next queued thread (not the LIFO
 * slot's), else the worker's loop when the budget is spent or the reactor
 * has waiters; the yielder is queued by land, once saved. Its state stays
 * RUNNING (a wake meanwhile adds NOTIFIED, as for any RUNNING thread), so
 * a yield writes no shared word but the ring's: `yielded` tells land. */
static __attribute__((noinline)) void yield_mt(struct gt__worker *wk,
                                               struct gt__thread *self)
{
    struct gt__thread *to = pick_mt(wk, false);
    if (to == &wk->main && wk->budget != 0 &&
        !rt_reactor_has_waiters(wk->s->reactor))
        return; /* nobody else could run here */
    self->yielded = true;
    switch_to(wk, self, to);
}

/* gt_park with several workers: RUNNING -> PARKING here, PARKING ->
 * PARKED in land (gt_internal.h's protocol); a wake that came first is
 * consumed instead. */
__attribute__((noinline)) void gt__park_mt(struct gt__worker *wk,
                                           struct gt__thread *self,
                                           const char *what, const void *frame)
{
    unsigned st = GT__RUNNING;
    self->waiting = what; /* read by a dump only while it holds us */
    self->waiting_frame = frame;
    if (!__atomic_compare_exchange_n(&self->state, &st, GT__PARKING, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        /* RUNNING | NOTIFIED: no waker writes the state while NOTIFIED. */
        __atomic_store_n(&self->state, GT__RUNNING, __ATOMIC_RELEASE);
        self->waiting = NULL;
        self->waiting_frame = NULL;
        if (rt__coop_take_refusal())
            yield_mt(wk, self);
        return;
    }
    switch_to(wk, self, pick_mt(wk, true));
    self->waiting = NULL;
    self->waiting_frame = NULL;
}

void gt_park(const char *what)
{
    gt__park(what, NULL);
}

void gt_yield(void)
{
    struct gt__worker *wk = gt__here();
    if (!wk || wk->current == &wk->main)
        return;
    struct gt__thread *self = wk->current;
    if (wk->rw) {
        yield_mt(wk, self);
        return;
    }
    if (rt_list_empty(&wk->ready)) {
        if (!rt_reactor_has_waiters(wk->s->reactor))
            return;     /* nobody else could run */
        wk->budget = 0; /* let the scheduler look at the reactor */
    }
    make_runnable(wk, self);
    switch_to(wk, self, pick(wk));
}

int gt_pin(void)
{
    struct gt__worker *wk = gt__here();
    if (!wk || wk->current == &wk->main)
        return -EPERM;
    if (wk->rw) /* with one worker there is nowhere to move to */
        __atomic_store_n(&wk->current->pin, wk->rw->index + 1,
                         __ATOMIC_RELEASE);
    return 0;
}

int gt_worker(void)
{
    struct gt__worker *wk = gt__here();
    if (!wk || wk->current == &wk->main)
        return -EPERM;
    return wk->rw ? (int)wk->rw->index : 0;
}

int gt_sleep(uint64_t ns)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    if (ns == 0) {
        gt_yield();
        return 0;
    }
    /* The timer heap writes into a queued node: a copy-stack thread's
     * stack is not where it was while it is parked (copy.h). */
    struct rt_timer own, *tm = &own;
    if (self->copy && !(tm = malloc(sizeof(*tm))))
        return -ENOMEM;
    rt_timer_init(tm);
    /* now + ns must not wrap into the past (UINT64_MAX would return at
     * once): the sum saturates at RT_DEADLINE_MAX, which no clock reading
     * reaches, as the portable RT_AWAIT_SLEEP's does. */
    uint64_t deadline = rt_deadline_after(ns);
    struct rt_cx cx = {&self->waker};
    int res = 0;
    while (rt_poll_sleep_until(self->s->reactor, tm, deadline, &cx, &res) ==
           RT_PENDING) {
        self->waiting_deadline = deadline; /* for the dump's time left */
        gt_park("sleep");
    }
    self->waiting_deadline = 0;
    if (tm != &own)
        free(tm);
    return res;
}

/* Whether a join's caller is a portable task that rt_cancel stopped:
 * rt_cancel replaces the waker its awaits poll with (stackful/portable.c),
 * then wakes it. A native thread's stays its own waker. */
static bool join_cancelled(const struct gt__thread *self)
{
    return __atomic_load_n(&self->portable_waker, __ATOMIC_ACQUIRE) !=
           &self->waker;
}

/* The caller gives its join of t (id `id`) up, as a cancelled stackless
 * join drops its join future: it is no longer t's joiner, and the id's
 * reference goes to t's end (t is detached: its end ends the id, as for a
 * thread spawned detached) or, when t has ended, is ours to drop. Returns
 * whether it is: the caller unrefs t, after the id lock. A thread another
 * task joins stays theirs. Several workers: under ids_lock, which the end
 * takes to store DONE and read `joiner` and `detached`, so the end sees
 * either the join as it was or none. */
static bool join_give_up(struct gt__sched *s, struct gt__thread *self,
                         struct gt__thread *t, int64_t id)
{
    if (t->joiner && t->joiner != self)
        return false;
    t->joiner = NULL;
    if ((load_state(t) & GT__STATE) != GT__DONE) {
        t->detached = true;
        return false;
    }
    rt_idtable_delete(&s->ids, gt__thread_find(s, id));
    return true;
}

/* gt_join with several workers. The handshake with the thread's end
 * (thread.c's finish_mt) is under s->ids_lock: the end stores DONE and
 * wakes a joiner it finds there; the joiner registers there and takes the
 * lock again after it saw DONE, so the end's wake has returned before the
 * joiner can go on (and end, and be freed). A cancelled joiner takes the
 * lock again too, and gives the join up there (join_give_up) unless the end
 * came first; a wake the end sent it meanwhile only makes a later park of
 * it return early, which every park loop allows. */
static __attribute__((noinline)) int
join_mt(struct gt__sched *s, struct gt__thread *self, int64_t id, void **result)
{
    rt_spin_lock_always(&s->ids_lock);
    struct gt__slot *slot = gt__thread_find(s, id);
    /* A detached thread is nobody's to join: its end drops the id. */
    struct gt__thread *t = slot && !slot->t->detached ? slot->t : NULL;
    int rc = !t ? -ESRCH : t->joiner ? -EBUSY : 0;
    bool drop = false;
    if (t && join_cancelled(self)) {
        rc = -ECANCELED;
        drop = join_give_up(s, self, t, id);
    } else if (rc == 0) {
        t->joiner = self;
    }
    rt_spin_unlock(&s->ids_lock, true);
    if (rc) {
        if (drop)
            gt__thread_unref(t);
        return rc;
    }
    self->joining = t; /* for the dump: who we wait for */
    while ((load_state(t) & GT__STATE) != GT__DONE && !join_cancelled(self))
        gt_park("join");
    self->joining = NULL;
    rt_spin_lock_always(&s->ids_lock);
    if (join_cancelled(self)) {
        rc = -ECANCELED;
        drop = join_give_up(s, self, t, id);
    } else {
        rt_idtable_delete(&s->ids, gt__thread_find(s, id));
        drop = true;
    }
    rt_spin_unlock(&s->ids_lock, true);
    if (rc == 0 && result)
        *result = t->result;
    if (drop)
        gt__thread_unref(t);
    return rc;
}

int gt_join(int64_t id, void **result)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    if (id == self->id)
        return -EDEADLK;
    struct gt__sched *s = self->s;
    if (s->ws)
        return join_mt(s, self, id, result);
    struct gt__slot *slot = gt__thread_find(s, id);
    if (!slot || slot->t->detached) /* a detached one's end drops the id */
        return -ESRCH;
    struct gt__thread *t = slot->t;
    /* Cancelled (before the join or while it waits): the join is given up
     * whether or not t has ended, as on stackless, where a cancelled task's
     * join future is dropped without a poll. */
    if (!join_cancelled(self)) {
        if (t->joiner) /* one joiner per thread (docs/architecture.md) */
            return -EBUSY;
        t->joiner = self;
        self->joining = t; /* for the dump: who we wait for */
        while (t->state != GT__DONE && !join_cancelled(self))
            gt_park("join");
        self->joining = NULL;
    }
    if (join_cancelled(self)) {
        if (join_give_up(s, self, t, id))
            gt__thread_unref(t);
        return -ECANCELED;
    }
    if (result)
        *result = t->result;
    rt_idtable_delete(&s->ids, gt__thread_find(s, id)); /* it may have moved */
    gt__thread_unref(t);
    return 0;
}

int64_t gt_self(void)
{
    struct gt__thread *self = gt__self();
    return self ? self->id : 0;
}

struct rt_reactor *gt_reactor(void)
{
    struct gt__sched *s = gt__sched_here();
    return s ? s->reactor : NULL;
}

const struct rt_waker *gt_waker(void)
{
    /* Not through gt__self: every portable await calls this, and the
     * running context is never NULL (one test fewer). */
    struct gt__worker *wk = gt__here();
    if (!wk || wk->current == &wk->main)
        return NULL;
    return &wk->current->waker;
}

struct rt_cx gt_cx(void)
{
    return (struct rt_cx){gt_waker()};
}

/* ---- stats */

/* The bytes of `t`'s stack in use, and resident: for a copy-stack thread
 * its save buffer's (what it holds while parked). */
static size_t stack_used(struct gt__sched *s, const struct gt__thread *t)
{
    return t->copy ? t->saved : gt__stack_used(&s->stacks, &t->stack);
}

static size_t stack_resident(struct gt__sched *s, const struct gt__thread *t)
{
    return t->copy ? t->cap : gt__stack_resident(&s->stacks, &t->stack);
}

int64_t gt_stack_used(int64_t id)
{
    struct gt__sched *s = gt__sched_here();
    if (!s)
        return -EPERM;
    if (s->ws)
        rt_spin_lock_always(&s->ids_lock);
    struct gt__slot *slot = gt__thread_find(s, id);
    int64_t used = slot ? (int64_t)stack_used(s, slot->t) : -ESRCH;
    if (s->ws)
        rt_spin_unlock(&s->ids_lock, true);
    return used;
}

static size_t count_get(const size_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

int gt_stats(struct gt_stats *st)
{
    struct gt__sched *s = gt__sched_here();
    if (!st)
        return -EINVAL;
    if (!s)
        return -EPERM;
    memset(st, 0, sizeof(*st));
    bool mt = s->ws != NULL;
    st->threads_live = count_get(&s->live);
    st->threads_parked = count_get(&s->parked);
    st->threads_runnable = gt__runnable(s);
    for (unsigned i = 0; i < s->n; i++)
        st->switches += __atomic_load_n(&s->wk[i].switches, __ATOMIC_RELAXED);
    st->spawned = __atomic_load_n(&s->spawned, __ATOMIC_RELAXED);
    if (mt)
        rt_spin_lock_always(&s->stacks_lock);
    st->stacks_guarded = s->stacks.guarded_live;
    st->stacks_slab = s->stacks.slab_live;
    st->stacks_slab_guarded = s->stacks.slab_guarded_live;
    st->slab_mode = gt__slab_mode();
    st->slabs = s->stacks.slabs;
    st->stacks_pooled = s->stacks.pooled;
    st->stack_bytes_reserved = s->stacks.reserved;
    if (mt) {
        rt_spin_unlock(&s->stacks_lock, true);
        rt_spin_lock_always(&s->threads_lock);
    }
    for (struct rt_list *n = s->threads.next; n != &s->threads; n = n->next) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if ((load_state(t) & GT__STATE) == GT__DONE)
            continue;
        st->stack_bytes_touched += stack_resident(s, t);
        size_t used = stack_used(s, t);
        if (used > st->stack_high_water)
            st->stack_high_water = used;
    }
    if (mt)
        rt_spin_unlock(&s->threads_lock, true);
    return 0;
}

/* ---- the run loop */

_Atomic(gt__frame_wait_fn) gt__frame_wait;

/* The context worker `wk` runs, read while another worker may switch it:
 * switch_to stores it plainly, on the handoff path. An aligned pointer
 * load sees the old or the new value; the dump only compares it with the
 * threads it walks under threads_lock, never follows it, and says what it
 * saw as a snapshot. Not instrumented for TSan, whose report of this
 * deliberate race would be about a value nobody dereferences. */
__attribute__((no_sanitize("thread"))) static const void *
worker_current(const struct gt__worker *wk)
{
    return *(const void *const volatile *)&wk->current;
}

/* Where a saved context keeps its return address and its rbp, as offsets
 * from the saved pointer, for the dump's backtrace: fcontext.h's table
 * says 0x38 and 0x30, and this reads both from jump_fcontext's own first
 * instructions (`lea -0x38(%rsp),%rsp`, then `mov %rbp,0x30(%rsp)`; an
 * endbr64 may come first), so that a Boost that saves otherwise gives no
 * backtrace rather than a wrong one. Returns false when they could not be
 * read (another layout; not x86-64; an address that is a PLT entry, as in
 * a non-PIE program). Any thread; computed again by a racing first call,
 * to the same values. */
static bool fcontext_slots(unsigned *ra, unsigned *fp)
{
#if defined(__x86_64__) && !defined(__ILP32__)
    static atomic_uint known; /* ra << 8 | fp, 0: not yet, 1: none */
    unsigned k = atomic_load_explicit(&known, memory_order_relaxed);
    if (!k) {
        const unsigned char *c =
            (const unsigned char *)(uintptr_t)&jump_fcontext;
        static const unsigned char lea[] = {0x48, 0x8d, 0x64, 0x24};
        static const unsigned char mov_rbp[] = {0x48, 0x89, 0x6c, 0x24};
        unsigned at = 0, r = 0, f = 0;
        if (memcmp(c, "\xf3\x0f\x1e\xfa", 4) == 0)
            at = 4; /* endbr64 */
        if (memcmp(c + at, lea, 4) == 0 && (signed char)c[at + 4] < 0) {
            r = (unsigned)-(signed char)c[at + 4];
            for (unsigned i = at + 5; i < at + 48 && !f; i++)
                if (memcmp(c + i, mov_rbp, 4) == 0 && c[i + 4] < r)
                    f = c[i + 4];
        }
        k = r && f ? r << 8 | f : 1;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    if (k == 1)
        return false;
    *ra = k >> 8;
    *fp = k & 0xffu;
    return true;
#else
    (void)ra;
    (void)fp;
    return false;
#endif
}

/* The backtrace of parked thread `t` into d (rt__dump_fp_walk over its
 * saved context and stack), when the saved context's layout is known. It
 * names every frame only where the code was built with frame pointers
 * (-fno-omit-frame-pointer); a function without one is left out, and the
 * walk may end early. Not instrumented: the slots are read below as plain
 * memory of another stack. */
__attribute__((no_sanitize("address", "thread"))) static void
backtrace_of(const struct gt__thread *t, struct rt__dump_task *d)
{
    unsigned ra, fp;
    uintptr_t sp = (uintptr_t)t->ctx;
    uintptr_t lo = (uintptr_t)t->stack.lo, hi = lo + t->stack.size;
    if (!fcontext_slots(&ra, &fp) || sp < lo || sp + ra + 8 > hi)
        return;
    const volatile uintptr_t *pc = (const volatile uintptr_t *)(sp + ra);
    const volatile uintptr_t *rbp = (const volatile uintptr_t *)(sp + fp);
    unsigned n = rt__dump_fp_walk(*pc, *rbp, sp, hi, d->bt, RT__DUMP_BT_MAX);
    /* One frame is only the park itself (an optimised build's walk ends
     * there): the line already says what the thread waits on. */
    d->bt_depth = n > 1 ? n : 0;
}

/* With several workers: holds PARKED thread `t` for the dump, so that no
 * worker runs it while its line is written: PARKED -> PARKED | GT__HELD.
 * A wake meanwhile only adds NOTIFIED (runq.h's wake_mt), and
 * dump_release queues the thread then. False when `t` is no longer plainly
 * PARKED (a wake is under way). */
static bool dump_hold(struct gt__thread *t)
{
    unsigned st = GT__PARKED;
    return __atomic_compare_exchange_n(&t->state, &st, GT__PARKED | GT__HELD,
                                       false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static void dump_release(struct gt__thread *t)
{
    unsigned st = load_state(t), next;
    do
        next = st & GT__NOTIFIED ? GT__RUNNABLE : GT__PARKED;
    while (!__atomic_compare_exchange_n(&t->state, &st, next, true,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
    if (next == GT__RUNNABLE) /* the wake that came meanwhile */
        unpark_mt(t, false);
}

/* Fills the dump line of `t` (rt__dump_task_write's shape); a portable
 * task's wait names its object, fd and deadline (gt__frame_wait), a join
 * the thread joined, a sleep its deadline. `w` (n of them, NULL with one
 * worker) says which worker runs a running thread. */
static void describe(struct gt__sched *s, struct gt__thread *t,
                     struct rt__dump_task *d, const struct rt__dump_worker *w,
                     unsigned n, const struct rt__dump_queues *q)
{
    static const char *const states[] = {"running", "runnable", "parked",
                                         "done", "parking"};
    unsigned st = load_state(t) & GT__STATE;
    bool parked = st == GT__PARKED;
    /* With workers a parked thread is held for the line (dump_hold): its
     * wait notes, frame and stack stay as they are while they are read
     * (they are written by the thread itself, which cannot run meanwhile,
     * so plain accesses do). One that cannot be held is being woken:
     * described as runnable. */
    bool held = false;
    if (w && parked) {
        held = dump_hold(t);
        if (!held) {
            parked = false;
            st = GT__RUNNABLE;
        }
    }
    int on = w && st == GT__RUNNING ? rt__dump_worker_of(w, n, t) : -1;
    if (w && st == GT__RUNNING && on < 0)
        st = GT__RUNNABLE; /* a yielder queued again keeps RUNNING */
    *d = (struct rt__dump_task){
        .kind = "green thread",
        .id = t->id,
        .name = t->name,
        .fn = t->entry,
        .state = states[st <= GT__PARKING ? st : GT__RUNNING],
        .wait = parked ? (t->waiting ? t->waiting : "?") : NULL,
        .fd = parked ? t->waiting_fd : -1,
        .stack = (int64_t)stack_used(s, t),
        .key = t,
    };
    if (w && st == GT__RUNNING)
        d->worker = (unsigned)on + 1;
    if (q && st == GT__RUNNABLE) {
        int i = rt__dump_queued_on(q, &t->link);
        d->queued = i >= 0 ? (unsigned)i + 1 : 0;
    }
    if (!parked)
        return;
    d->deadline = t->waiting_deadline;
    const struct gt__thread *j = t->joining;
    if (j) { /* alive: the joiner holds its id's reference */
        d->join_id = j->id;
        d->join_name = j->name;
        d->join_fn = j->entry;
    }
    gt__frame_wait_fn fw =
        atomic_load_explicit(&gt__frame_wait, memory_order_relaxed);
    if (t->waiting_frame && fw)
        fw(t->waiting_frame, d);
    backtrace_of(t, d);
    if (held)
        dump_release(t);
}

/* rt_dump's source: with several workers each worker's line, then every
 * thread not DONE, in spawn order. With several workers, a snapshot the
 * other workers may change while it is taken. */
static void dump(void *ctx, FILE *out)
{
    struct gt__sched *s = ctx;
    size_t runnable = gt__runnable(s);
    fprintf(out, "stackful: %zu green thread(s): %zu runnable, %zu parked",
            count_get(&s->live), runnable, count_get(&s->parked));
    struct rt__dump_worker *w = NULL;
    const char **doing = NULL;
    struct rt__dump_queues *q = NULL;
    int self = -1;
    if (s->ws) {
        fprintf(out, "; %u workers", s->n);
        w = calloc(s->n, sizeof(*w));
        doing = calloc(s->n, sizeof(*doing));
    }
    fputc('\n', out);
    if (w && doing) {
        struct gt__worker *here = gt__here();
        for (unsigned i = 0; i < s->n; i++) {
            const void *cur = worker_current(&s->wk[i]);
            w[i].running = cur == &s->wk[i].main ? NULL : cur;
            doing[i] = rt__dump_worker_doing(s->ws, i);
            if (here == &s->wk[i] && !w[i].running)
                self = (int)i;
        }
        q = rt__dump_queues_take(s->ws);
    }
    if (s->ws)
        rt_spin_lock_always(&s->threads_lock);
    if (w && doing) {
        for (struct rt_list *n = s->threads.next; n != &s->threads;
             n = n->next) {
            struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
            int i = rt__dump_worker_of(w, s->n, t);
            if (i >= 0 && (load_state(t) & GT__STATE) == GT__RUNNING)
                w[i].id = t->id;
        }
        rt__dump_workers_write(out, "green thread", w, doing, s->n, self);
    }
    for (struct rt_list *n = s->threads.next; n != &s->threads; n = n->next) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if ((load_state(t) & GT__STATE) == GT__DONE)
            continue;
        struct rt__dump_task d;
        describe(s, t, &d, doing ? w : NULL, s->n, q);
        rt__dump_task_write(out, &d);
    }
    if (s->ws)
        rt_spin_unlock(&s->threads_lock, true);
    rt__dump_queues_free(q);
    free(w);
    free(doing);
}

static void report_deadlock(struct gt__sched *s)
{
    fprintf(stderr,
            "stackful: deadlock: %zu green thread(s) parked and nothing can "
            "wake them (no timer, IO waiter, remote wake or hold):\n",
            count_get(&s->parked));
    if (s->ws)
        rt_spin_lock_always(&s->threads_lock);
    for (struct rt_list *n = s->threads.next; n != &s->threads; n = n->next) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if ((load_state(t) & GT__STATE) != GT__PARKED)
            continue;
        struct rt__dump_task d;
        describe(s, t, &d, NULL, 0, NULL);
        rt__dump_task_write(stderr, &d);
    }
    if (s->ws)
        rt_spin_unlock(&s->threads_lock, true);
}

/* Phases: run what is ready (the reactor gets a non-blocking look when it
 * has waiters and was not just turned), else stop when all ended, else
 * declare a deadlock when nothing can wake anyone, else block in a turn. */
static int loop(struct gt__sched *s)
{
    struct gt__worker *wk = &s->w0;
    bool turned = false;
    for (;;) {
        if (!rt_list_empty(&wk->ready)) {
            if (!turned && rt_reactor_has_waiters(s->reactor)) {
                int rc = rt_reactor_turn(s->reactor, 0);
                if (rc < 0)
                    return rc;
                rt__dump_check();
            }
            turned = false;
            wk->budget = BUDGET;
            struct rt_list *n = rt_list_pop_front(&wk->ready);
            wk->runnable--;
            switch_to(wk, &wk->main,
                      RT_CONTAINER_OF(n, struct gt__thread, link));
            continue;
        }
        if (s->live == 0)
            return 0;
        if (!rt_reactor_has_waiters(s->reactor)) {
            report_deadlock(s);
            return -EDEADLK;
        }
        gt__stacks_trim(&s->stacks); /* idle: give a burst's stacks back */
        int rc = rt_reactor_turn(s->reactor, -1);
        if (rc < 0)
            return rc;
        rt__dump_check();
        turned = true;
    }
}

/* ---- several workers */

static size_t ops_live(void *ctx)
{
    struct gt__sched *s = ctx;
    return __atomic_load_n(&s->live, __ATOMIC_ACQUIRE);
}

static void ops_deadlock(void *ctx)
{
    report_deadlock(ctx);
}

static const struct rt_workers_ops workers_ops = {ops_live, ops_deadlock};

/* The loop of one worker, loop()'s phases over the shared queues: the
 * queues say what is next, rt_worker_idle parks, turns the reactor, and
 * finds the deadlock; the last thread to end stops the run. */
static void run_worker(struct gt__worker *wk)
{
    struct gt__sched *s = wk->s;
    struct rt_worker *rw = wk->rw;
    struct rt_workers *ws = s->ws;
    bool turned = false;
    while (!atomic_load_explicit(&ws->stop, memory_order_acquire)) {
        if (!turned && rt_reactor_has_waiters(s->reactor)) {
            int rc = rt_worker_poll_reactor(rw);
            if (rc < 0) {
                rt_workers_stop(ws, rc);
                break;
            }
            rt__dump_check();
        }
        turned = false;
        struct rt_list *n = rt_worker_next(rw, true);
        if (n) {
            wk->budget = BUDGET;
            switch_to(wk, &wk->main, take_mt(wk, n));
            continue;
        }
        /* Out of work: give a burst's stacks back (not a hot path), the
         * unmapping outside the lock, which spawns and ends on the other
         * workers take meanwhile. */
        struct gt__unmap u[16];
        size_t k;
        do {
            rt_spin_lock_always(&s->stacks_lock);
            k = gt__stacks_trim_some(&s->stacks, u, 16);
            rt_spin_unlock(&s->stacks_lock, true);
            gt__unmap(u, k);
        } while (k > 0);
        if (rt_worker_idle(rw) == RT_IDLE_STOP)
            break;
        rt__dump_check();
        turned = true;
    }
}

/* rt_workers_run's main on every worker. Worker 0 is gt_run's own thread,
 * set up by gt__run_at; every other one gets its thread-locals, its
 * overflow altstack and its watchdog here, and gives them back at its
 * end. */
static void worker_main(struct rt_worker *rw)
{
    struct gt__worker *wk = rw->ctx;
    if (rw->index == 0) {
        run_worker(wk);
        return;
    }
    gt__cur_worker = wk;
    gt__current_sched = wk->s;
    rt__coop_enter(&wk->switches);
    int rc = gt__overflow_init(&wk->altstack);
    if (rc) {
        rt_workers_stop(wk->s->ws, rc);
    } else {
        wk->watchdog = rt__watchdog_start("green thread");
        rt__dump_begin(dump, wk->s, wk->s->reactor); /* rt_dump here too */
        run_worker(wk);
        rt__dump_end();
        rt__watchdog_stop(wk->watchdog);
        wk->watchdog = NULL;
    }
    gt__overflow_fini(wk->altstack);
    wk->altstack = NULL;
    rt__coop_leave(NULL);
    gt__cur_worker = NULL;
    gt__current_sched = NULL;
}

/* The workers and their queues for n > 1 workers. Returns 0 or
 * -ENOMEM/-EINVAL; on failure nothing is left to free. */
static int workers_new(struct gt__sched *s, unsigned n)
{
    int rc = rt_reactor_share(s->reactor);
    if (rc)
        return rc;
    s->wk = rt_sys_calloc(n, sizeof(*s->wk));
    void **ctx = rt_sys_calloc(n, sizeof(*ctx));
    rc = s->wk && ctx ? 0 : -ENOMEM;
    for (unsigned i = 0; rc == 0 && i < n; i++)
        ctx[i] = &s->wk[i];
    if (rc == 0)
        rc = rt_workers_new(&s->ws, n, s->reactor, &workers_ops, s,
                            (void *const *)ctx);
    free(ctx);
    if (rc) {
        free(s->wk);
        s->wk = &s->w0;
        s->ws = NULL;
        return rc;
    }
    for (unsigned i = 0; i < n; i++)
        s->wk[i].rw = &s->ws->w[i];
    rt_spin_init(&s->ids_lock);
    rt_spin_init(&s->stacks_lock);
    rt_spin_init(&s->threads_lock);
    return 0;
}

static void worker_init(struct gt__sched *s, struct gt__worker *wk)
{
    wk->s = s;
    rt_list_init(&wk->ready);
    rt_list_init(&wk->main.link);
    rt_list_init(&wk->main.all);
    wk->main.s = s;
    wk->main.state = GT__RUNNING;
    wk->current = &wk->main;
}

/* After the run (every worker joined): nothing runs any more. */
static void teardown(struct gt__sched *s)
{
    if (s->ws)
        rt_workers_clear(s->ws); /* the threads still queued go below */
    /* Threads still parked hold waiters in their stacks, queued on objects
     * that may outlive the run (a global channel, a mutex): take them off
     * while the stacks and the reactor exist, as the stackless executor
     * drops its pending futures. A cancel may drop a waker clone or wake
     * another parked thread; neither frees a block (the scheduler's own
     * reference stays until the loop below). */
    for (struct rt_list *n = s->threads.next, *next; n != &s->threads;
         n = next) {
        next = n->next;
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if ((t->state & GT__STATE) != GT__DONE && t->cancel)
            t->cancel(t->arg);
    }
    /* Stored wakers go next: dropping them may free blocks. */
    rt_reactor_free(s->reactor);
    s->reactor = NULL;
    struct rt_list *n;
    while ((n = rt_list_pop_front(&s->threads))) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        rt_list_init(&t->all);
        if (s->ws)
            rt_list_init(&t->link); /* a cleared queue's node */
        gt__thread_free(t);
    }
    gt__stacks_fini(&s->stacks);
    rt_idtable_fini(&s->ids);
    if (s->ws) {
        rt_workers_free(s->ws);
        s->ws = NULL;
        free(s->wk);
        s->wk = &s->w0;
    }
}

int gt__run_at(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
               void **result, const struct gt__site *at)
{
    if (!fn)
        return -EINVAL;
    if (gt__here())
        return -EBUSY;
    struct gt_config def = {.pool_max = 64};
    if (!cfg)
        cfg = &def;
    int n = rt_workers_count(cfg->workers, false);
    if (n < 0)
        return n;
    struct gt__sched *s = rt_sys_calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int rc = rt_reactor_new(&s->reactor);
    if (rc) {
        free(s);
        return rc;
    }
    s->n = (unsigned)n;
    s->wk = &s->w0;
    rc = gt__stacks_init(&s->stacks, cfg->pool_max, cfg->guarded_max,
                         cfg->slab_bytes, cfg->slab_only != 0);
    if (rc == 0)
        rc = gt__stacks_mode(&s->stacks, (int)cfg->stack_mode);
    if (rc == 0 && n > 1)
        rc = workers_new(s, (unsigned)n);
    struct gt__worker *w0 = s->wk; /* worker 0: this OS thread */
    if (rc == 0)
        rc = gt__overflow_init(&w0->altstack);
    if (rc) {
        if (s->ws) {
            rt_workers_free(s->ws);
            free(s->wk);
        }
        gt__stacks_fini(&s->stacks);
        rt_reactor_free(s->reactor);
        free(s);
        return rc;
    }
    rt_list_init(&s->threads);
    for (unsigned i = 0; i < s->n; i++)
        worker_init(s, &s->wk[i]);
    s->next_id = 1;
    rt_idtable_init(&s->ids, sizeof(struct gt__slot));
    gt__cur_worker = w0;
    gt__current_sched = s;
    const uint64_t *coop_was = rt__coop_enter(&w0->switches);
    w0->watchdog = rt__watchdog_start("green thread");
    rt__dump_begin(dump, s, s->reactor);

    if (s->ws)
        rt__mt_count(1); /* before the root can reach a second worker */
    int64_t root =
        gt__thread_spawn(s, fn, arg, &(struct gt_opts){.name = "main"}, at);
    if (root < 0)
        rc = (int)root;
    else
        rc = s->ws ? rt_workers_run(s->ws, worker_main) : loop(s);
    if (s->ws)
        rt__mt_count(-1); /* every worker has been joined */
    if (result) {
        struct gt__slot *slot = rc == 0 ? gt__thread_find(s, root) : NULL;
        *result = slot ? slot->t->result : NULL;
    }
    rt__dump_end();
    rt__watchdog_stop(w0->watchdog);
    w0->watchdog = NULL;
    void *altstack = w0->altstack;
    rt__coop_leave(coop_was);
    teardown(s);
    gt__overflow_fini(altstack);
    gt__cur_worker = NULL;
    gt__current_sched = NULL;
    free(s);
    return rc;
}

int gt_run(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
           void **result)
{
    struct gt__site at = {.site = (uintptr_t)__builtin_return_address(0)};
    return gt__run_at(cfg, fn, arg, result, &at);
}

/* The green-thread scheduler: spawn, the one switch, park/wake, join, run.
 *
 * Invariant: switch_to is the only caller of jump_fcontext, and every
 * context that gets control again runs land() first, which stores the handle
 * of the context it came from (a handle is good for one jump) and releases a
 * thread that has just run for the last time.
 *
 * Handoffs are direct, task to task: a yielding or parking thread jumps
 * straight to the next runnable one. The scheduler's own context (s->main,
 * the stack gt_run was called on) gets control only when nothing is runnable
 * (it turns the reactor) or every BUDGET handoffs (it lets the reactor look
 * for IO without blocking, so yield loops cannot starve IO). bench_sf_switch
 * measured both: through the scheduler a handoff costs two jumps.
 */
#include <greenfut/gt.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include <greenfut/clock.h>
#include "fiber_san.h"
#include "gt_internal.h"
#include <greenfut/io.h>
#include <greenfut/timer.h>
#include "sys.h"
#include "watchdog_internal.h"

/* Cache-line offsets of thread blocks (see spawn); -DGT_COLOURS=1 for none. */
#ifndef GT_COLOURS
#define GT_COLOURS 16u
#endif

/* Handoffs between two looks at the reactor; -DGT_BUDGET=n to try others. */
#ifndef GT_BUDGET
#define GT_BUDGET 256u
#endif
#define BUDGET GT_BUDGET

_Thread_local struct gt__sched *gt__current_sched;
_Thread_local const struct rt_waker *gt__running_waker;

/* The blocking detector of this OS thread's gt_run, NULL when off. */
static _Thread_local struct rt_watchdog *watchdog;

static const struct rt_waker_vtable waker_vt;

/* ---- id table: open addressing, linear probing, backward-shift delete */

static size_t id_home(int64_t id, size_t mask)
{
    uint64_t h = (uint64_t)id * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & mask;
}

static struct gt__slot *ids_find(struct gt__sched *s, int64_t id)
{
    if (!s->nslots || id <= 0)
        return NULL;
    size_t mask = s->nslots - 1;
    for (size_t i = id_home(id, mask);; i = (i + 1) & mask) {
        if (s->slots[i].id == id)
            return &s->slots[i];
        if (s->slots[i].id == 0)
            return NULL;
    }
}

static void ids_insert(struct gt__sched *s, int64_t id, struct gt__thread *t)
{
    size_t mask = s->nslots - 1;
    size_t i = id_home(id, mask);
    while (s->slots[i].id != 0)
        i = (i + 1) & mask;
    s->slots[i].id = id;
    s->slots[i].t = t;
}

/* Makes room for one more id (load factor <= 1/2). Returns 0 or -ENOMEM. */
static int ids_reserve(struct gt__sched *s)
{
    if ((s->nids + 1) * 2 <= s->nslots)
        return 0;
    size_t n = s->nslots ? s->nslots * 2 : 64;
    struct gt__slot *old = s->slots;
    size_t oldn = s->nslots;
    s->slots = rt_sys_calloc(n, sizeof(*s->slots));
    if (!s->slots) {
        s->slots = old;
        return -ENOMEM;
    }
    s->nslots = n;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].id)
            ids_insert(s, old[i].id, old[i].t);
    free(old);
    return 0;
}

static void ids_delete(struct gt__sched *s, struct gt__slot *hole)
{
    size_t mask = s->nslots - 1;
    size_t i = (size_t)(hole - s->slots);
    for (size_t j = (i + 1) & mask; s->slots[j].id; j = (j + 1) & mask) {
        size_t home = id_home(s->slots[j].id, mask);
        /* Move j into the hole unless its home lies cyclically in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].id = 0;
    s->slots[i].t = NULL;
    s->nids--;
}

/* ---- lifetime */

void gt__describe(const struct gt__thread *t, char *buf, size_t len)
{
    char fn[128];
    rt__name_fn(t->entry, fn, sizeof(fn));
    snprintf(buf, len, "green thread %lld%s%s%s (%s)", (long long)t->id,
             t->name[0] ? " \"" : "", t->name, t->name[0] ? "\"" : "", fn);
}

/* Gives the block (and the stack it sits in) back; owner thread only. */
static void thread_free(struct gt__thread *t)
{
    struct gt__sched *s = t->s;
    rt_list_remove(&t->all);
    if (rt_list_linked(&t->link)) {
        rt_list_remove(&t->link);
        s->runnable--;
    }
    if (t->state == GT__PARKED)
        s->parked--;
    if (t->state != GT__DONE)
        s->live--;
    gt__tsan_free(&t->san_fake);
    if (rt__watchdog_noting())
        rt__watchdog_forget(t);
    gt__stack_free(&s->stacks, &t->stack, t->id, t->name, t->entry);
}

/* Frees `t` when no reference is left anywhere: none counted here, and
 * nothing in its remote word (a clone made by another thread and not yet
 * seen, or a queued node, keeps it: the node's run frees it later). */
static void free_if_unused(struct gt__thread *t)
{
    if (t->refs == 0 && rt_remote_idle(&t->remote))
        thread_free(t);
}

/* Drops one reference; owner thread only. */
static void unref(struct gt__thread *t)
{
    RT_ASSERT(gt__current_sched == t->s);
    if (t->refs == 0) /* a clone made elsewhere, not applied yet */
        t->refs =
            (uint32_t)((int64_t)t->refs - rt_remote_take_drops(&t->remote));
    RT_ASSERT(t->refs > 0);
    t->refs--;
    free_if_unused(t);
}

/* ---- the switch */

/* Runs first in every context that gets control: see the file comment. */
static void land(transfer_t tr)
{
    struct gt__sched *s = gt__current_sched;
    struct gt__thread *self = s->current;
    struct gt__thread *prev = tr.data;
    const void *bottom = NULL;
    size_t size = 0;
    gt__san_finish(self->san_fake, &bottom, &size);
    if (prev == &s->main) {
        s->main.san_bottom = bottom;
        s->main.san_size = size;
    }
    prev->ctx = tr.fctx;
    self->state = GT__RUNNING;
    gt__running_waker = &self->waker;
    if (prev->state == GT__DONE)
        unref(prev); /* the scheduler's reference: it never runs again */
}

/* jump_fcontext, entered without a `call`. The switch pops a return
 * address off the stack and jumps to the other context's; entered by
 * `call`, it leaves one entry on the CPU's return stack buffer that no `ret`
 * pops, so the first `ret` after every switch is mispredicted. Pushing the
 * address of the label below by hand and entering with `jmp` keeps calls
 * and rets paired on both sides: the resumed context continues at its own
 * label (it was suspended here too) and its later rets are predicted.
 * Boost's contract is unchanged: the same symbol, arguments (rdi, rsi) and
 * results (rax, rdx); callee-saved registers survive the switch, so only
 * the caller-saved ones are declared clobbered. The red zone below rsp is
 * skipped first, since a push would overwrite it. Elsewhere than x86-64
 * (x32 too: Boost packs the result into rax there), and with
 * -DRT_STACKFUL_PLAIN_CALL=ON, it is the plain call; bench_sf_switch
 * measures both (docs/stackful.md). */
#ifndef GT_PLAIN_CALL
#define GT_PLAIN_CALL 0
#endif
static inline transfer_t jump_balanced(fcontext_t to, void *data)
{
#if defined(__x86_64__) && !defined(__ILP32__) && !GT_PLAIN_CALL
    register void *rdi __asm__("rdi") = to;
    register void *rsi __asm__("rsi") = data;
    void *fctx, *vp;
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "push %%rax\n\t"
                     "jmp jump_fcontext@PLT\n"
                     "1:\n\t"
                     "lea 128(%%rsp), %%rsp"
                     : "=a"(fctx), "=d"(vp), "+D"(rdi), "+S"(rsi)
                     :
                     : "rcx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0",
                       "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                       "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)",
                       "st(4)", "st(5)", "st(6)", "st(7)");
    return (transfer_t){fctx, vp};
#else
    return jump_fcontext(to, data);
#endif
}

/* Suspends `from` (the running context) and resumes `to`. Allocates
 * nothing; returns when someone switches back to `from`, which has landed
 * by then. A context that has never run starts in entry(), which lands
 * first; every other one was suspended right here. */
static void switch_to(struct gt__sched *s, struct gt__thread *from,
                      struct gt__thread *to)
{
    s->current = to;
    s->switches++;
    if (watchdog) {
        if (to == &s->main)
            rt__watchdog_idle(watchdog);
        else
            rt__watchdog_resume(watchdog, to->id, to->name, to->entry, to);
    }
    gt__san_start(from->state == GT__DONE ? NULL : &from->san_fake,
                  to == &s->main ? s->main.san_bottom : to->stack.lo,
                  to == &s->main ? s->main.san_size : to->stack.size);
    gt__tsan_switch(from->state == GT__DONE ? NULL : &from->san_fake,
                    &to->san_fake);
    land(jump_balanced(to->ctx, from));
}

/* The next context to run: the head of the ready queue, or the scheduler
 * when the queue is empty or the handoff budget is spent. */
static struct gt__thread *pick(struct gt__sched *s)
{
    if (s->budget == 0 || rt_list_empty(&s->ready))
        return &s->main;
    s->budget--;
    struct rt_list *n = rt_list_pop_front(&s->ready);
    s->runnable--;
    return RT_CONTAINER_OF(n, struct gt__thread, link);
}

static void make_runnable(struct gt__sched *s, struct gt__thread *t)
{
    t->state = GT__RUNNABLE;
    rt_list_push_back(&s->ready, &t->link);
    s->runnable++;
}

static void wake_local(struct gt__thread *t)
{
    switch (t->state) {
    case GT__PARKED:
        t->s->parked--;
        make_runnable(t->s, t);
        break;
    case GT__DONE:
        break;
    case GT__RUNNING:
    case GT__RUNNABLE:
        t->notified = true; /* the next park returns at once */
        break;
    }
}

_Noreturn static void entry(transfer_t tr)
{
    land(tr);
    struct gt__sched *s = gt__current_sched;
    struct gt__thread *self = s->current;
    self->result = self->fn(self->arg);
    self->state = GT__DONE;
    s->live--;
    if (self->joiner)
        wake_local(self->joiner);
    switch_to(s, self, pick(s));
    RT_UNREACHABLE(); /* nobody holds a handle to a DONE thread */
}

/* ---- the waker: data is the thread; clones count as references */

static struct rt_waker w_clone(void *data)
{
    struct gt__thread *t = data;
    if (gt__current_sched == t->s)
        t->refs++;
    else /* seen by the owner before the reference we cloned from goes */
        rt_remote_add(&t->remote, 0u - RT_REMOTE_DROP);
    return (struct rt_waker){&waker_vt, t};
}

/* Runs on the owner thread, called by the reactor's turn: what other
 * threads did to the thread since the last run (see gt_internal.h). */
static void remote_run(struct rt_remote *n)
{
    struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, remote);
    unsigned word = n->taken;
    if (word & RT_REMOTE_WAKE)
        wake_local(t);
    int64_t refs = (int64_t)t->refs - rt_remote_drops(word);
    RT_ASSERT(refs >= 0);
    t->refs = (uint32_t)refs;
    free_if_unused(t);
}

/* Hands an operation on `t` from another OS thread to the owner (the
 * scheduler's lists are not ours to touch). The caller holds a reference
 * until the owner has applied it (a drop hands it over), so the block
 * stays alive until the node has run. */
static void post(struct gt__thread *t, unsigned add, unsigned set)
{
    (void)rt_reactor_post(t->s->reactor, &t->remote, add, set);
}

static void w_wake_by_ref(void *data)
{
    struct gt__thread *t = data;
    if (gt__current_sched == t->s)
        wake_local(t);
    else
        post(t, 0, RT_REMOTE_WAKE);
}

static void w_wake(void *data)
{
    struct gt__thread *t = data;
    if (gt__current_sched == t->s) {
        wake_local(t);
        unref(t);
    } else {
        post(t, RT_REMOTE_DROP, RT_REMOTE_WAKE);
    }
}

static void w_drop(void *data)
{
    struct gt__thread *t = data;
    if (gt__current_sched == t->s)
        unref(t);
    else
        post(t, RT_REMOTE_DROP, 0);
}

static const struct rt_waker_vtable waker_vt = {
    .clone = w_clone,
    .wake = w_wake,
    .wake_by_ref = w_wake_by_ref,
    .drop = w_drop,
};

/* ---- spawn */

static int64_t spawn(struct gt__sched *s, void *(*fn)(void *), void *arg,
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
    int rc = ids_reserve(s);
    if (rc)
        return rc;
    struct gt__stack st;
    rc = gt__stack_alloc(&s->stacks, size, &st);
    if (rc)
        return rc;
    /* The block takes the top of the stack, lowered by 0..GT_COLOURS-1
     * cache lines in turn; frames start below it. Every stack top has the
     * same offset within its page, so without the colour every thread's
     * block and hottest frames would compete for the same few cache sets
     * when many threads take turns. bench_yield at N = 1000: 22.5 ns
     * without, 20.0 ns with (three runs of 3, middle medians); none at
     * N = 2 or in bench_park. Colouring whole pages as well (extra guard
     * pages below each stack) made N = 10000 slower (55 vs 35 ns) and was
     * dropped. The bytes above the block are never touched. */
    size_t cb = (sizeof(struct gt__thread) + 63) & ~(size_t)63;
    size_t colour = (size_t)((uint64_t)s->next_id % GT_COLOURS) * 64u;
    struct gt__thread *t =
        (struct gt__thread *)(void *)(st.lo + size - cb - colour);
    memset(t, 0, sizeof(*t));
    t->stack = st;
    t->s = s;
    t->id = s->next_id++;
    t->fn = fn;
    t->entry = at->entry ? at->entry : (uintptr_t)fn;
    t->arg = arg;
    t->waiting_fd = -1;
    t->waker = (struct rt_waker){&waker_vt, t};
    t->refs = 2; /* the scheduler's and the id's */
    rt_remote_init(&t->remote, remote_run);
    rt_list_init(&t->link);
    if (opts && opts->name) {
        strncpy(t->name, opts->name, GT_NAME_MAX);
        t->name[GT_NAME_MAX] = '\0';
    }
    /* A copied argument sits right below the block, 64-byte aligned; the
     * thread's first frame starts below it. */
    char *top = (char *)t;
    if (arg_size) {
        top = (char *)((uintptr_t)(top - arg_size) & ~(uintptr_t)63);
        memcpy(top, arg, arg_size);
        t->arg = top;
    }
    t->ctx = make_fcontext(top, (size_t)(top - st.lo), entry);
    ids_insert(s, t->id, t);
    s->nids++;
    rt_list_push_back(&s->threads, &t->all);
    s->live++;
    s->spawned++;
    make_runnable(s, t);
    if (rt__watchdog_noting())
        rt__watchdog_spawned(t, at->site, t->entry);
    return t->id;
}

void gt__set_cancel(int64_t id, void (*cancel)(void *arg))
{
    struct gt__sched *s = gt__current_sched;
    struct gt__slot *slot = s ? ids_find(s, id) : NULL;
    if (slot)
        slot->t->cancel = cancel;
}

void *gt__spawned_arg(int64_t id)
{
    struct gt__sched *s = gt__current_sched;
    struct gt__slot *slot = s ? ids_find(s, id) : NULL;
    return slot ? slot->t->arg : NULL;
}

int64_t gt__spawn_at(void *(*fn)(void *), void *arg, const struct gt_opts *opts,
                     const struct gt__site *at)
{
    struct gt__sched *s = gt__current_sched;
    if (!s)
        return -EPERM;
    return spawn(s, fn, arg, opts, at);
}

int64_t gt_spawn(void *(*fn)(void *), void *arg, const struct gt_opts *opts)
{
    struct gt__site at = {(uintptr_t)__builtin_return_address(0), 0};
    return gt__spawn_at(fn, arg, opts, &at);
}

/* ---- blocking primitives */

void gt_park(const char *what)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return;
    if (self->notified) {
        self->notified = false;
        return;
    }
    struct gt__sched *s = self->s;
    self->state = GT__PARKED;
    self->waiting = what;
    s->parked++;
    switch_to(s, self, pick(s));
    self->waiting = NULL;
    self->notified = false; /* the wake that resumed us may also have set it */
}

void gt_yield(void)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return;
    struct gt__sched *s = self->s;
    if (rt_list_empty(&s->ready)) {
        if (!rt_reactor_has_waiters(s->reactor))
            return;    /* nobody else could run */
        s->budget = 0; /* let the scheduler look at the reactor */
    }
    make_runnable(s, self);
    switch_to(s, self, pick(s));
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
    struct rt_timer tm;
    rt_timer_init(&tm);
    /* now + ns must not wrap into the past (UINT64_MAX would return at
     * once): the sum saturates at RT_DEADLINE_MAX, which no clock reading
     * reaches, as the portable RT_AWAIT_SLEEP's does. */
    uint64_t deadline = rt_deadline_after(ns);
    struct rt_cx cx = {&self->waker};
    int res = 0;
    while (rt_poll_sleep_until(self->s->reactor, &tm, deadline, &cx, &res) ==
           RT_PENDING)
        gt_park("sleep");
    return res;
}

int gt_join(int64_t id, void **result)
{
    struct gt__thread *self = gt__self();
    if (!self)
        return -EPERM;
    if (id == self->id)
        return -EDEADLK;
    struct gt__sched *s = self->s;
    struct gt__slot *slot = ids_find(s, id);
    if (!slot)
        return -ESRCH;
    struct gt__thread *t = slot->t;
    if (t->joiner)
        return -EINVAL;
    t->joiner = self;
    while (t->state != GT__DONE)
        gt_park("join");
    if (result)
        *result = t->result;
    ids_delete(s, ids_find(s, id)); /* the table may have moved */
    unref(t);
    return 0;
}

int64_t gt_self(void)
{
    struct gt__thread *self = gt__self();
    return self ? self->id : 0;
}

struct rt_reactor *gt_reactor(void)
{
    struct gt__sched *s = gt__current_sched;
    return s ? s->reactor : NULL;
}

const struct rt_waker *gt_waker(void)
{
    struct gt__thread *self = gt__self();
    return self ? &self->waker : NULL;
}

struct rt_cx gt_cx(void)
{
    return (struct rt_cx){gt_waker()};
}

/* ---- stats */

int64_t gt_stack_used(int64_t id)
{
    struct gt__sched *s = gt__current_sched;
    if (!s)
        return -EPERM;
    struct gt__slot *slot = ids_find(s, id);
    if (!slot)
        return -ESRCH;
    return (int64_t)gt__stack_used(&s->stacks, &slot->t->stack);
}

int gt_stats(struct gt_stats *st)
{
    struct gt__sched *s = gt__current_sched;
    if (!st)
        return -EINVAL;
    if (!s)
        return -EPERM;
    memset(st, 0, sizeof(*st));
    st->threads_live = s->live;
    st->threads_parked = s->parked;
    st->threads_runnable = s->runnable;
    st->switches = s->switches;
    st->spawned = s->spawned;
    st->stacks_guarded = s->stacks.guarded_live;
    st->stacks_slab = s->stacks.slab_live;
    st->stacks_slab_guarded = s->stacks.slab_guarded_live;
    st->slab_mode = gt__slab_mode();
    st->slabs = s->stacks.slabs;
    st->stacks_pooled = s->stacks.pooled;
    st->stack_bytes_reserved = s->stacks.reserved;
    for (struct rt_list *n = s->threads.next; n != &s->threads; n = n->next) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if (t->state == GT__DONE)
            continue;
        st->stack_bytes_touched += gt__stack_resident(&s->stacks, &t->stack);
        size_t used = gt__stack_used(&s->stacks, &t->stack);
        if (used > st->stack_high_water)
            st->stack_high_water = used;
    }
    return 0;
}

/* ---- the run loop */

static void report_deadlock(struct gt__sched *s)
{
    fprintf(stderr,
            "stackful: deadlock: %zu green thread(s) parked and nothing can "
            "wake them (no timer, IO waiter, remote wake or hold):\n",
            s->parked);
    for (struct rt_list *n = s->threads.next; n != &s->threads; n = n->next) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if (t->state != GT__PARKED)
            continue;
        char who[GT_NAME_MAX + 192];
        gt__describe(t, who, sizeof(who));
        if (t->waiting_fd >= 0)
            fprintf(stderr, "  %s waiting on %s (fd %d)\n", who,
                    t->waiting ? t->waiting : "?", t->waiting_fd);
        else
            fprintf(stderr, "  %s waiting on %s\n", who,
                    t->waiting ? t->waiting : "?");
    }
}

/* Phases: run what is ready (the reactor gets a non-blocking look when it
 * has waiters and was not just turned), else stop when all ended, else
 * declare a deadlock when nothing can wake anyone, else block in a turn. */
static int loop(struct gt__sched *s)
{
    bool turned = false;
    for (;;) {
        if (!rt_list_empty(&s->ready)) {
            if (!turned && rt_reactor_has_waiters(s->reactor)) {
                int rc = rt_reactor_turn(s->reactor, 0);
                if (rc < 0)
                    return rc;
            }
            turned = false;
            s->budget = BUDGET;
            struct rt_list *n = rt_list_pop_front(&s->ready);
            s->runnable--;
            switch_to(s, &s->main, RT_CONTAINER_OF(n, struct gt__thread, link));
            continue;
        }
        if (s->live == 0)
            return 0;
        if (!rt_reactor_has_waiters(s->reactor)) {
            report_deadlock(s);
            return -EDEADLK;
        }
        int rc = rt_reactor_turn(s->reactor, -1);
        if (rc < 0)
            return rc;
        turned = true;
    }
}

static void teardown(struct gt__sched *s)
{
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
        if (t->state != GT__DONE && t->cancel)
            t->cancel(t->arg);
    }
    /* Stored wakers go next: dropping them may free blocks. */
    rt_reactor_free(s->reactor);
    s->reactor = NULL;
    struct rt_list *n;
    while ((n = rt_list_pop_front(&s->threads))) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        rt_list_init(&t->all);
        thread_free(t);
    }
    gt__stacks_fini(&s->stacks);
    free(s->slots);
}

int gt__run_at(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
               void **result, const struct gt__site *at)
{
    if (!fn)
        return -EINVAL;
    if (gt__current_sched)
        return -EBUSY;
    struct gt_config def = {.pool_max = 64};
    if (!cfg)
        cfg = &def;
    struct gt__sched *s = rt_sys_calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int rc = rt_reactor_new(&s->reactor);
    if (rc) {
        free(s);
        return rc;
    }
    rc = gt__stacks_init(&s->stacks, cfg->pool_max, cfg->guarded_max,
                         cfg->slab_bytes, cfg->slab_only != 0);
    void *altstack = NULL;
    if (rc == 0)
        rc = gt__overflow_init(&altstack);
    if (rc) {
        gt__stacks_fini(&s->stacks);
        rt_reactor_free(s->reactor);
        free(s);
        return rc;
    }
    rt_list_init(&s->ready);
    rt_list_init(&s->threads);
    rt_list_init(&s->main.link);
    rt_list_init(&s->main.all);
    s->main.s = s;
    s->main.state = GT__RUNNING;
    s->current = &s->main;
    s->next_id = 1;
    gt__current_sched = s;
    gt__running_waker = &s->main.waker; /* empty: no task runs */
    watchdog = rt__watchdog_start();

    int64_t root = spawn(s, fn, arg, &(struct gt_opts){.name = "main"}, at);
    rc = root < 0 ? (int)root : loop(s);
    if (result) {
        struct gt__slot *slot = rc == 0 ? ids_find(s, root) : NULL;
        *result = slot ? slot->t->result : NULL;
    }
    rt__watchdog_stop(watchdog);
    watchdog = NULL;
    teardown(s);
    gt__overflow_fini(altstack);
    gt__current_sched = NULL;
    gt__running_waker = NULL;
    free(s);
    return rc;
}

int gt_run(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
           void **result)
{
    struct gt__site at = {(uintptr_t)__builtin_return_address(0), 0};
    return gt__run_at(cfg, fn, arg, result, &at);
}

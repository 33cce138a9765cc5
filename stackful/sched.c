/* The green-thread scheduler: park, yield, sleep and join, the stats, and
 * gt_run's loop over the ready FIFO and the reactor.
 *
 * Handoffs are direct, task to task: a yielding or parking thread jumps
 * straight to the next runnable one. The scheduler's own context (s->main,
 * the stack gt_run was called on) gets control only when nothing is runnable
 * (it turns the reactor) or every BUDGET handoffs (it lets the reactor look
 * for IO without blocking, so yield loops cannot starve IO). bench_sf_switch
 * measured both: through the scheduler a handoff costs two jumps.
 * Dependencies: sched.c -> thread.c (spawn, references) -> switch.h, runq.h.
 */
#include <greenfut/gt.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include <greenfut/clock.h>
#include "gt_internal.h"
#include <greenfut/io.h>
#include "runq.h"
#include "switch.h"
#include <greenfut/timer.h>
#include "dump_internal.h"
#include "sys.h"
#include "watchdog_internal.h"

/* Handoffs between two looks at the reactor; -DGT_BUDGET=n to try others. */
#ifndef GT_BUDGET
#define GT_BUDGET 256u
#endif
#define BUDGET GT_BUDGET

_Thread_local struct gt__sched *gt__current_sched;
_Thread_local struct rt_watchdog *gt__watchdog;

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
    struct gt__slot *slot = gt__thread_find(s, id);
    if (!slot)
        return -ESRCH;
    struct gt__thread *t = slot->t;
    if (t->joiner) /* one joiner per thread (docs/architecture.md's table) */
        return -EBUSY;
    t->joiner = self;
    while (t->state != GT__DONE)
        gt_park("join");
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
    struct gt__slot *slot = gt__thread_find(s, id);
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

_Atomic(gt__frame_wait_fn) gt__frame_wait;

/* Fills the dump line of `t` (rt__dump_task_write's shape); a portable
 * task's wait names its object, fd and deadline (gt__frame_wait). */
static void describe(struct gt__sched *s, struct gt__thread *t,
                     struct rt__dump_task *d)
{
    static const char *const states[] = {"running", "runnable", "parked",
                                         "done"};
    bool parked = t->state == GT__PARKED;
    *d = (struct rt__dump_task){
        .kind = "green thread",
        .id = t->id,
        .name = t->name,
        .fn = t->entry,
        .state = states[t->state],
        .wait = parked ? (t->waiting ? t->waiting : "?") : NULL,
        .fd = parked ? t->waiting_fd : -1,
        .stack = (int64_t)gt__stack_used(&s->stacks, &t->stack),
        .key = t,
    };
    gt__frame_wait_fn fw =
        atomic_load_explicit(&gt__frame_wait, memory_order_relaxed);
    if (parked && t->waiting_frame && fw)
        fw(t->waiting_frame, d);
}

/* rt_dump's source: every thread not DONE, in spawn order. */
static void dump(void *ctx, FILE *out)
{
    struct gt__sched *s = ctx;
    fprintf(out, "stackful: %zu green thread(s): %zu runnable, %zu parked\n",
            s->live, s->runnable, s->parked);
    for (struct rt_list *n = s->threads.next; n != &s->threads; n = n->next) {
        struct gt__thread *t = RT_CONTAINER_OF(n, struct gt__thread, all);
        if (t->state == GT__DONE)
            continue;
        struct rt__dump_task d;
        describe(s, t, &d);
        rt__dump_task_write(out, &d);
    }
}

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
        struct rt__dump_task d;
        describe(s, t, &d);
        rt__dump_task_write(stderr, &d);
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
                rt__dump_check();
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
        rt__dump_check();
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
        gt__thread_free(t);
    }
    gt__stacks_fini(&s->stacks);
    rt_idtable_fini(&s->ids);
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
    rt_idtable_init(&s->ids, sizeof(struct gt__slot));
    gt__current_sched = s;
    gt__watchdog = rt__watchdog_start("green thread");
    rt__dump_begin(dump, s, s->reactor);

    int64_t root =
        gt__thread_spawn(s, fn, arg, &(struct gt_opts){.name = "main"}, at);
    rc = root < 0 ? (int)root : loop(s);
    if (result) {
        struct gt__slot *slot = rc == 0 ? gt__thread_find(s, root) : NULL;
        *result = slot ? slot->t->result : NULL;
    }
    rt__dump_end();
    rt__watchdog_stop(gt__watchdog);
    gt__watchdog = NULL;
    teardown(s);
    gt__overflow_fini(altstack);
    gt__current_sched = NULL;
    free(s);
    return rc;
}

int gt_run(const struct gt_config *cfg, void *(*fn)(void *), void *arg,
           void **result)
{
    struct gt__site at = {(uintptr_t)__builtin_return_address(0), 0};
    return gt__run_at(cfg, fn, arg, result, &at);
}

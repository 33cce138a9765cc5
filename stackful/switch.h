/* The switch: the one place that calls jump_fcontext (switch_to), and the
 * landing every resumed context runs first (land).
 *
 * Invariant: switch_to is the only caller of jump_fcontext, and every
 * context that gets control again runs land() first, which stores the handle
 * of the context it came from (a handle is good for one jump) and releases a
 * thread that has just run for the last time. The saved-register layout is
 * the table in fcontext.h.
 *
 * Header-only, static inline: every caller (sched.c's park, yield and loop,
 * thread.c's entry) is on the handoff path, and a call into another
 * translation unit there would cost bench_handoff a call per switch.
 * Depends on gt_internal.h and runq.h (gt__thread_unref is thread.c's);
 * with copy stacks (copy.h) every switch of the worker goes through
 * copy.c's gt__switch_copy instead, whose copier lands the context that
 * left as land() would.
 */
#ifndef RT_STACKFUL_SWITCH_H
#define RT_STACKFUL_SWITCH_H

#include <stddef.h>

#include "copy.h"
#include "fcontext.h"
#include "fiber_san.h"
#include "gt_internal.h"
#include "runq.h"
#include "watchdog_internal.h"

/* land's half with several workers, on the context that runs next, once
 * `prev` is saved: the transition `prev` started becomes visible to the
 * other workers only now. A park ends PARKED, or RUNNABLE and queued when a
 * wake came meanwhile; a yield is queued; a finished thread drops the
 * scheduler's reference. */
static __attribute__((noinline, unused)) void land_mt(struct gt__thread *prev)
{
    /* Once PARKED, a waker may queue the thread and another worker run it
     * to its end: read nothing of it after the CAS. */
    size_t *parked = &prev->s->parked;
    unsigned st = load_state(prev);
    switch (st & GT__STATE) {
    case GT__PARKING:
        count_add(parked, 1); /* first, so a waker's decrement comes after */
        if (st == GT__PARKING &&
            __atomic_compare_exchange_n(&prev->state, &st, GT__PARKED, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
        count_add(parked, -1);
        /* NOTIFIED came: the wake is consumed by running again. Nobody
         * else writes a PARKING thread's state but to add NOTIFIED. */
        __atomic_store_n(&prev->state, GT__RUNNABLE, __ATOMIC_RELEASE);
        queue_mt(prev, false);
        return;
    case GT__RUNNABLE:
        queue_mt(prev, false);
        return;
    case GT__DONE:
        gt__thread_unref(prev);
        return;
    case GT__RUNNING: /* a yield (gt__worker's own context: nothing) */
        if (prev->yielded) {
            prev->yielded = false;
            requeue_mt(prev);
        }
        return;
    default:
        return;
    }
}

/* Runs first in every context that gets control: see the file comment.
 * `tr.data` is the context that jumped here. The worker is read anew
 * (gt__here, through the thread pointer): it is the one this context runs
 * on from now on, returned so that callers need not read it again. */
static inline struct gt__worker *land(transfer_t tr)
{
    struct gt__worker *wk = gt__here();
    struct gt__thread *self = wk->current;
    struct gt__thread *prev = tr.data;
    const void *bottom = NULL;
    size_t size = 0;
    gt__san_finish(self->san_fake, &bottom, &size);
    if (GT__ASAN && prev == &wk->main) { /* what ASan said of its stack */
        wk->main.san_bottom = bottom;
        wk->main.san_size = size;
    }
    prev->ctx = tr.fctx;
    if (wk->rw) {
        land_mt(prev);
        return wk;
    }
    self->state = GT__RUNNING;
    if (prev->state == GT__DONE) /* drop the scheduler's reference: */
        gt__thread_unref(prev);  /* it never runs again */
    return wk;
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
/* What a jump clobbers, declared by every asm that enters jump_fcontext
 * (here and copy.c's): the caller-saved registers; the callee-saved ones
 * survive the switch. */
#define GT__JUMP_CLOBBERS                                                    \
    "rcx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", \
        "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",     \
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "st", "st(1)", "st(2)", \
        "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

#ifndef GT_PLAIN_CALL
#define GT_PLAIN_CALL 0
#endif
#if defined(__x86_64__) && !defined(__ILP32__) && !GT_PLAIN_CALL
#define GT__JUMP_ASM 1
#else
#define GT__JUMP_ASM 0
#endif

/* The body of a jump entered by `jmp` (GT__JUMP_ASM only), returning its
 * transfer_t: `skip` is asm run before the return address is pushed and
 * `back` after the landing ("" and "" for copy.c's jump, which must not
 * skip the red zone). One body for both, so the two cannot drift apart. */
#define GT__JUMP_BODY(to, data, skip, back)                           \
    register void *rdi_ __asm__("rdi") = (to);                        \
    register void *rsi_ __asm__("rsi") = (data);                      \
    void *fctx_, *vp_;                                                \
    __asm__ volatile(skip "lea 1f(%%rip), %%rax\n\t"                  \
                          "push %%rax\n\t"                            \
                          "jmp jump_fcontext@PLT\n"                   \
                          "1:" back                                   \
                     : "=a"(fctx_), "=d"(vp_), "+D"(rdi_), "+S"(rsi_) \
                     :                                                \
                     : GT__JUMP_CLOBBERS);                            \
    return (transfer_t)                                               \
    {                                                                 \
        fctx_, vp_                                                    \
    }

static inline transfer_t jump_balanced(fcontext_t to, void *data)
{
#if GT__JUMP_ASM
    GT__JUMP_BODY(to, data, "lea -128(%%rsp), %%rsp\n\t",
                  "\n\tlea 128(%%rsp), %%rsp");
#else
    return jump_fcontext(to, data);
#endif
}

/* What every switch does before its jump, on worker `wk` from `from` to
 * `to`; `via` is the context jumped to: `to` itself, or in copy-stack mode
 * maybe the worker's copier (copy.c). `to` becomes current, the switch is
 * counted, the watchdog told, and the sanitizers told of the stack that
 * runs next. */
static inline __attribute__((always_inline)) void
switch_notes(struct gt__worker *wk, struct gt__thread *from,
             struct gt__thread *to, struct gt__thread *via)
{
    wk->current = to;
    /* One writer; gt_stats may read it from another worker. It is also
     * the cooperative budget's clock (include/greenfut/coop.h): `to`'s run
     * starts here. */
    __atomic_store_n(&wk->switches, wk->switches + 1, __ATOMIC_RELAXED);
    if (wk->watchdog) {
        if (to == &wk->main)
            rt__watchdog_idle(wk->watchdog);
        else
            rt__watchdog_resume(wk->watchdog, to->id, to->name, to->entry, to);
    }
    /* Only the sanitizers need it (a relaxed atomic load is not dropped
     * when unused). */
    bool gone = (GT__ASAN || GT__TSAN) &&
                (__atomic_load_n(&from->state, __ATOMIC_RELAXED) & GT__STATE) ==
                    GT__DONE;
    gt__san_start(gone ? NULL : &from->san_fake,
                  via == &wk->main ? wk->main.san_bottom : via->stack.lo,
                  via == &wk->main ? wk->main.san_size : via->stack.size);
    gt__tsan_switch(gone ? NULL : &from->san_fake, &via->san_fake);
}

/* Suspends `from` (the running context) and resumes `to`, on worker `wk`
 * (the caller's). Allocates nothing; returns when someone switches back to
 * `from`, which has landed by then, with the worker it runs on now (with
 * several workers, maybe another). A context that has never run starts in
 * thread.c's entry(), which lands first; every other one was suspended
 * right here. */
static inline __attribute__((always_inline)) struct gt__worker *
switch_to(struct gt__worker *wk, struct gt__thread *from, struct gt__thread *to)
{
    /* The one test copy stacks add here: never true on a worker that has
     * run no copy-stack thread (a relaxed load is a plain mov). */
    if (__builtin_expect(__atomic_load_n(&wk->copy, __ATOMIC_RELAXED) != NULL,
                         0))
        return gt__switch_copy(wk, from, to);
    switch_notes(wk, from, to, to);
    return land(jump_balanced(to->ctx, from));
}

#endif

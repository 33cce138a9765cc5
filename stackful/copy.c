/* Copy stacks: each worker's run stack and copier, and the switch that
 * goes through the copier. The design and the run stack's picture are in
 * copy.h; the measured costs in docs/stackful.md.
 *
 * Invariant: only a worker's copier writes its run stack's bytes (saves
 * and restores), and the copier never runs on a run stack.
 */
#include "copy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
#include "fiber_san.h"
#include "runq.h"
#include "switch.h"
#include "watchdog_internal.h"

/* The copier's own stack. Its frames take a few hundred bytes (memcpy,
 * malloc); a sanitizer's take more, and 64 KiB is the default stack that
 * has held every green thread's frames under them. */
#define COPIER_STACK (64u * 1024u)

/* jump_balanced (switch.h) without its red-zone skip. A copy-stack
 * thread's saved bytes run from its saved stack pointer up, so 128 skipped
 * bytes would be copied out and back at every switch. Only the two
 * functions below call this, and both call other functions: x86-64
 * compilers keep data in the red zone of leaf functions only (GCC's
 * frame layout requires crtl->is_leaf, Clang's !hasCalls), so below their
 * stack pointer nothing is live when the return address is pushed. */
static inline transfer_t jump_copy(fcontext_t to, void *data)
{
#if GT__JUMP_ASM
    GT__JUMP_BODY(to, data, "", "");
#else
    return jump_fcontext(to, data);
#endif
}

/* What the tools must be told when frames move. Copying a parked thread's
 * frames out reads its ASan redzones: unpoison them first (they are
 * restored unpoisoned: ASan then misses an overflow of those locals, but
 * reports nothing false). Copying frames in: the run stack's shadow is the
 * last owner's, and Valgrind may hold part of it inaccessible (below a
 * stack pointer it saw rise); make it addressable first, and memcpy then
 * carries the saved bytes' definedness with them. Copying out leaves
 * Valgrind's bits alone, so the definedness saved is the true one. */
static void tools_copy_out(void *p, size_t len)
{
#if GT__ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, len);
#endif
    (void)p;
    (void)len;
}

static void tools_copy_in(void *p, size_t len)
{
    gt__san_unpoison(p, len);
}

/* Copies the used bytes of `t` (suspended on the run stack: its context is
 * saved there) into its save buffer, sized to fit: a buffer too small, or
 * more than twice too big, is replaced. A save cannot fail: with no memory
 * for the buffer the process aborts with a report. */
static void save(struct gt__copy_run *run, struct gt__thread *t)
{
    char *top = run->run.lo + run->run.size;
    char *sp = t->ctx;
    RT_ASSERT(sp >= run->run.lo && sp < top);
    size_t len = (size_t)(top - sp);
    if (len > t->cap || len < t->cap / 2) {
        free(t->save);
        t->save = malloc(len);
        if (!t->save) {
            char who[192];
            gt__describe(t, who, sizeof(who));
            fprintf(stderr,
                    "stackful: out of memory saving the %zu-byte stack of "
                    "%s (copy mode)\n",
                    len, who);
            abort();
        }
        t->cap = (uint32_t)len;
    }
    tools_copy_out(sp, len);
    memcpy(t->save, sp, len);
    t->saved = (uint32_t)len;
    run->saves++;
}

/* Copies the saved bytes of `t` back to where they were. */
static void restore(struct gt__copy_run *run, struct gt__thread *t)
{
    char *dst = run->run.lo + run->run.size - t->saved;
    RT_ASSERT(dst == (char *)t->ctx);
    tools_copy_in(dst, t->saved);
    memcpy(dst, t->save, t->saved);
    run->restores++;
}

/* The first run of copy-stack thread `t`, on worker `wk`: its home from
 * now on (pinned, as gt_pin pins), its first context at the run stack's
 * top. */
static void start(struct gt__worker *wk, struct gt__copy_run *run,
                  struct gt__thread *t)
{
    struct gt__stack *st = &t->stack;
    st->lo = run->run.lo;
    st->size = run->run.size;
    st->slab = run->run.slab;
    st->slot = run->run.slot;
    if (wk->rw)
        __atomic_store_n(&t->pin, wk->rw->index + 1, __ATOMIC_RELEASE);
    /* Frames that never returned (a finished thread's) left poison. */
    tools_copy_in(run->run.lo, run->run.size);
    t->ctx = make_fcontext(run->run.lo + run->run.size, run->run.size,
                           gt__thread_entry);
}

/* The copier: entered from the context that switches to a copy-stack
 * thread whose bytes are not on the run stack (wk->current is that
 * thread). It saves the owner, restores or starts the thread, finishes
 * what land() would have finished for the context that left (its
 * transition, with several workers; its last reference, when it ended),
 * and jumps on. The thread lands with the copier as the context it came
 * from, whose handle land stores like any other. */
_Noreturn static void copier_main(transfer_t tr)
{
    for (;;) {
        struct gt__worker *wk = gt__here();
        struct gt__copy_run *run = wk->copy;
        struct gt__thread *me = &run->copier;
        struct gt__thread *prev = tr.data;
        struct gt__thread *to = wk->current;
        const void *bottom = NULL;
        size_t size = 0;
        gt__san_finish(me->san_fake, &bottom, &size);
        if (GT__ASAN && prev == &wk->main) {
            wk->main.san_bottom = bottom;
            wk->main.san_size = size;
        }
        prev->ctx = tr.fctx;
        if (run->owner)
            save(run, run->owner);
        if (to->ctx)
            restore(run, to);
        else
            start(wk, run, to);
        run->owner = to;
        if (wk->rw)
            land_mt(prev);
        else if (prev->state == GT__DONE)
            gt__thread_unref(prev);
        gt__san_start(&me->san_fake, run->run.lo, run->run.size);
        gt__tsan_switch(&me->san_fake, &to->san_fake);
        tr = jump_copy(to->ctx, me);
    }
}

__attribute__((noinline)) struct gt__worker *
gt__switch_copy(struct gt__worker *wk, struct gt__thread *from,
                struct gt__thread *to)
{
    struct gt__copy_run *run = __atomic_load_n(&wk->copy, __ATOMIC_ACQUIRE);
    /* A copy-stack thread is either the owner (its frames are in place: a
     * plain jump) or goes through the copier. */
    struct gt__thread *via = to->copy && run->owner != to ? &run->copier : to;
    switch_notes(wk, from, to, via);
    return land(jump_copy(via->ctx, from));
}

/* Worker `wk`'s run stack and copier, published once ready. */
static int setup(struct gt__sched *s, struct gt__worker *wk)
{
    struct gt__stack cs = {0}, rs = {0}; /* gt__stack_alloc's contract */
    int rc = gt__stack_alloc_kept(&s->stacks, COPIER_STACK, &cs);
    if (rc == 0)
        rc = gt__stack_alloc_kept(&s->stacks, GT_COPY_STACK_SIZE, &rs);
    if (rc)
        return rc; /* a kept stack already made goes at the run's end */
    size_t cb = (sizeof(struct gt__copy_run) + 63) & ~(size_t)63;
    struct gt__copy_run *run = (void *)(cs.lo + cs.size - cb);
    memset(run, 0, sizeof(*run));
    run->run = rs;
    struct gt__thread *c = &run->copier;
    c->s = s;
    c->state = GT__RUNNING;
    c->waiting_fd = -1;
    c->stack = cs;
    rt_list_init(&c->link);
    rt_list_init(&c->all);
    memcpy(c->name, "copier", sizeof("copier"));
    c->ctx = make_fcontext(run, (size_t)((char *)run - cs.lo), copier_main);
    __atomic_store_n(&wk->copy, run, __ATOMIC_RELEASE);
    return 0;
}

int gt__copy_ready(struct gt__sched *s)
{
    /* The last worker is published last. */
    if (__atomic_load_n(&s->wk[s->n - 1].copy, __ATOMIC_ACQUIRE))
        return 0;
    bool mt = s->ws != NULL;
    if (mt)
        rt_spin_lock_always(&s->stacks_lock);
    int rc = 0;
    for (unsigned i = 0; i < s->n && rc == 0; i++)
        if (!__atomic_load_n(&s->wk[i].copy, __ATOMIC_ACQUIRE))
            rc = setup(s, &s->wk[i]);
    if (mt)
        rt_spin_unlock(&s->stacks_lock, true);
    return rc;
}

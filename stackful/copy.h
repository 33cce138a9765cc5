/* Copy stacks (libaco's design): the green threads of one worker that ask
 * for GT_STACK_MODE_COPY all run on that worker's one shared run stack.
 *
 * Invariant: at most one thread's frames are on a run stack, its owner
 * (running, or suspended there since); every other copy-stack thread of
 * the worker keeps its used bytes in its own save buffer. Bytes move only
 * on the worker's copier, a small context of its own, so that no code runs
 * on the run stack while it is rewritten:
 *
 *     A (owner, on the run stack) --switch--> copier --jump--> B
 *                          copier: save A's [sp, top) to A's buffer,
 *                                  copy B's buffer to [B's sp, top)
 *
 * A switch to the owner, or to a thread with a stack of its own, is a
 * plain jump: the owner's bytes stay where they are until another copy
 * thread needs the stack (the save is lazy, as libaco's). A thread's first
 * run on a worker starts it on that worker's run stack and pins it there:
 * its saved stack pointer and every pointer into its frames are addresses
 * of that stack.
 *
 * The run stack picture (the control block is on the heap, never here):
 *
 *     high  +---------------------------+ <- top (GT_COPY_STACK_SIZE)
 *           | the owner's frames        |    saved: [sp, top) at switch-out
 *           |            ...            | <- the owner's saved sp (ctx)
 *           | unused (MAP_NORESERVE)    |
 *           +---------------------------+ <- lo
 *           | guard, 64 KiB             |    overflow: the report names
 *     low   +---------------------------+    the owner, then abort
 *
 * Every state here belongs to the worker's OS thread (the copier and the
 * threads pinned to it); `copy` of gt__worker is published once by the
 * first spawn of a copy-stack thread (release) and read with acquire by
 * gt__switch_copy.
 */
#ifndef RT_STACKFUL_COPY_H
#define RT_STACKFUL_COPY_H

#include "fcontext.h"
#include "gt_internal.h"

/* One worker's copy-mode state; it sits at the top of its copier's stack
 * (a kept stack, so gt__stacks_fini frees it with the run stack). */
struct gt__copy_run {
    struct gt__stack run;     /* the shared run stack (kept) */
    struct gt__thread *owner; /* whose frames are on `run`, or NULL; the
                                 copier and a finishing owner write it */
    struct gt__thread copier; /* the copier's context (its `stack` is the
                                 copier's own kept stack) */
    uint64_t saves, restores; /* copies made, for the tests */
};

/* Sets up every worker's run stack and copier, once per scheduler: the
 * first spawn of a copy-stack thread calls it (several workers: under
 * s->stacks_lock, which it takes). Returns 0 or -ENOMEM. */
int gt__copy_ready(struct gt__sched *s);

/* switch_to (switch.h) once the worker has copy-mode state: the same
 * contract, through the copier when `to` is a copy-stack thread whose
 * bytes are not on the run stack. */
struct gt__worker *gt__switch_copy(struct gt__worker *wk,
                                   struct gt__thread *from,
                                   struct gt__thread *to);

/* The first frame of every green thread (thread.c): a copy-stack thread's
 * first context is made with it by the copier. */
_Noreturn void gt__thread_entry(transfer_t tr);

#endif

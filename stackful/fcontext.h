/* The C ABI of Boost.Context's prebuilt switch (libboost_context, Boost
 * 1.74-1.86 export these as plain C symbols; 1.87+ hide them, which
 * cmake/rt_boost.cmake checks at configure time). No other file declares
 * them; only stackful/switch.h (switch_to) calls jump_fcontext, and only
 * stackful/thread.c (spawn) make_fcontext.
 *
 * Contracts (Boost's, kept by switch.h and thread.c):
 * - make_fcontext(sp, size, fn): `sp` is the stack's TOP (highest address,
 *   stacks grow down), `size` the usable bytes below it. The new context
 *   starts in `fn` on its first jump.
 * - `fn` must never return: the assembly calls _exit(0) if it does.
 * - jump_fcontext(to, data) suspends the caller and resumes `to`. What the
 *   resumed side receives is {handle of the context it came from, data}.
 *   A handle is good for exactly one jump: the caller of jump_fcontext is
 *   resumed only through the handle that the other side received, so every
 *   receiver stores it at once.
 *
 * What one jump saves (x86-64 System V, jump_x86_64_sysv_elf_gas.S), pushed
 * on the suspended stack, lowest address first; the handle is this sp:
 *
 *   offset  content
 *   0x00    mxcsr (4 bytes) | x87 control word (2 bytes)   fpu state
 *   0x08    r12
 *   0x10    r13
 *   0x18    r14
 *   0x20    r15
 *   0x28    rbx
 *   0x30    rbp
 *   0x38    return address (rip to resume at)
 *
 * That is the whole callee-saved set of the ABI: caller-saved registers are
 * dead at a call, so a switch is a function call that returns on another
 * stack. Total 64 bytes and no syscall (no signal mask, unlike swapcontext).
 */
#ifndef RT_STACKFUL_FCONTEXT_H
#define RT_STACKFUL_FCONTEXT_H

#include <stddef.h>

/* A suspended context: the stack pointer it was saved at. Boost spells it
 * fcontext_t; the name is kept so that the declarations match its docs. */
typedef void *fcontext_t;

/* What a resumed context receives: the handle of the context that jumped
 * to it (store it: it is the only way back) and the data word passed. */
typedef struct {
    fcontext_t fctx;
    void *data;
} transfer_t;

/* Suspends the calling context and resumes `to`, passing `vp`. Returns when
 * some context jumps back to the handle the other side received. */
transfer_t jump_fcontext(fcontext_t const to, void *vp);

/* Prepares a context that will run `fn` on the stack whose top is `sp` and
 * that has `size` usable bytes below it. Allocates nothing. */
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

/* Resumes `to` and runs fn on top of it before it continues (unused here;
 * declared so the header is the library's whole C ABI). */
transfer_t ontop_fcontext(fcontext_t const to, void *vp,
                          transfer_t (*fn)(transfer_t));

#endif

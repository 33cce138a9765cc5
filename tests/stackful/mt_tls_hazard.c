/* The thread-local hazard, built apart with -O2 -fPIC and the
 * global-dynamic TLS model (tests/stackful/CMakeLists.txt): hz_keep reads
 * a thread-local before and after a call that may move the green thread to
 * another OS thread. The compiler computes the variable's address once
 * (__tls_get_addr, or its relaxed form %fs:0 plus an offset), and may keep
 * it in a callee-saved register across the call, which jump_fcontext
 * preserves: the second read then goes to the old OS thread's variable.
 * Nothing in C forbids it: a thread's thread-locals cannot move within a
 * function, as far as the language knows. */
#include "mt_tls_hazard.h"

_Thread_local int hz_slot;

void hz_keep(void (*call)(void *), void *arg, int *before, int *after)
{
    *before = hz_slot;
    call(arg);
    *after = hz_slot;
}

/* Never inlined, and an asm that clobbers memory: every call computes the
 * address anew, on the OS thread it runs on (the runtime's gt__here does
 * the same with two instructions). */
__attribute__((noinline)) int hz_fresh(void)
{
    __asm__ volatile("" ::: "memory");
    return hz_slot;
}

__attribute__((noinline)) void hz_set(int v)
{
    __asm__ volatile("" ::: "memory");
    hz_slot = v;
}

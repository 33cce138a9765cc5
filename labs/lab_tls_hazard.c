/* The thread-local hazard, built apart with -O2 -fPIC and the
 * global-dynamic TLS model (labs/CMakeLists.txt). tls_keep reads tls_slot,
 * awaits, and reads it again. The compiler computes the variable's address
 * once per call of the function (__tls_get_addr) and may keep it in a
 * callee-saved register for the second read: nothing in C says a thread's
 * thread-locals can move within a function.
 *
 * Stackful: RT_AWAIT_CALL is a plain call of the child, which parks the
 * green thread, and the park may resume it on another OS thread
 * (jump_fcontext restores the callee-saved registers, the kept address
 * among them): the second read then reaches the old thread's copy.
 * Stackless: tls_keep returns RT_PENDING at the await and is called again
 * to resume, on whichever worker polls it; each call computes the address
 * anew on its own thread, so the second read is always the right copy.
 * (The await is a child call because GCC reuses the address within a
 * straight run of code: a plain call is one, the loop of a leaf await on
 * stackful is not.) */
#include "lab_tls_hazard.h"

_Thread_local int tls_slot;

enum rt_poll tls_keep(void *self)
{
    struct tls_keep *f = self;
    RT_BEGIN(f);
    f->from = rt_worker_index();
    f->before = tls_slot;
    f->move = (struct tls_move){
        .target = f->target, .max_hops = f->max_hops, .back = f->back};
    RT_AWAIT_CALL(f, tls_move, &f->move);
    f->after = tls_slot;
    f->to = rt_worker_index(); /* the runtime's accessor: asks anew */
    f->fresh = tls_fresh();
    RT_END(f);
}

/* Never inlined, and an asm that clobbers memory: every call computes the
 * address on the OS thread it runs on. */
__attribute__((noinline)) int tls_fresh(void)
{
    __asm__ volatile("" ::: "memory");
    return tls_slot;
}

__attribute__((noinline)) void tls_set(int v)
{
    __asm__ volatile("" ::: "memory");
    tls_slot = v;
}

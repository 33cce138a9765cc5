#include <greenfut/mt.h>

#include <sched.h>

atomic_int rt__mt_live;

void rt__mt_count(int delta)
{
    atomic_fetch_add_explicit(&rt__mt_live, delta, memory_order_relaxed);
}

void rt__wait_zero(atomic_uint *a)
{
    /* Spin on plain loads (the line stays shared until the writer's
     * store), then give the CPU away: with two cores and a preempted
     * writer, spinning on would only burn the time slice the writer needs. */
    for (unsigned i = 0; atomic_load_explicit(a, memory_order_acquire); i++) {
        if (i >= 64)
            sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        else
            __builtin_ia32_pause();
#endif
    }
}

void rt__spin_wait(struct rt_spin *l)
{
    rt__wait_zero(&l->held);
}

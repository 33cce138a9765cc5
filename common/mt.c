#include <greenfut/mt.h>

#include <sched.h>

atomic_int rt__mt_live;

void rt__mt_count(int delta)
{
    atomic_fetch_add_explicit(&rt__mt_live, delta, memory_order_relaxed);
}

void rt__spin_wait(struct rt_spin *l)
{
    /* Spin on plain loads (the line stays shared until the holder's
     * release), then give the CPU away: with two cores and a preempted
     * holder, spinning on would only burn the time slice the holder needs. */
    for (unsigned i = 0; atomic_load_explicit(&l->held, memory_order_relaxed);
         i++) {
        if (i >= 64)
            sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        else
            __builtin_ia32_pause();
#endif
    }
}

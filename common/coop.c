#include <greenfut/coop.h>

_Thread_local unsigned rt__coop_left = UINT_MAX;
_Thread_local bool rt__coop_refused;

atomic_uint rt__coop_per_run = RT_COOP_BUDGET;

unsigned rt_coop_set(unsigned b)
{
    return atomic_exchange_explicit(&rt__coop_per_run, b, memory_order_relaxed);
}

__attribute__((noinline)) void rt__coop_begin_here(void)
{
    rt__coop_begin();
    __asm__ volatile("" ::: "memory"); /* not pure: never merged */
}

__attribute__((noinline)) bool rt__coop_take_refusal(void)
{
    bool was = rt__coop_refused;
    rt__coop_refused = false;
    __asm__ volatile("" ::: "memory");
    return was;
}

#include <greenfut/coop.h>

_Thread_local unsigned rt__coop_left = UINT_MAX;
_Thread_local bool rt__coop_refused;
_Thread_local const uint64_t *rt__coop_clock;
_Thread_local uint64_t rt__coop_run;

atomic_uint rt__coop_per_run = RT_COOP_BUDGET;

unsigned rt_coop_set(unsigned b)
{
    unsigned was = atomic_exchange_explicit(&rt__coop_per_run, b ? b : UINT_MAX,
                                            memory_order_relaxed);
    return was == UINT_MAX ? 0 : was;
}

__attribute__((noinline)) bool rt__coop_take_refusal(void)
{
    bool was = rt__coop_refused;
    rt__coop_refused = false;
    __asm__ volatile("" ::: "memory");
    return was;
}

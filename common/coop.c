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

bool rt__coop_spent(const struct rt_cx *cx)
{
    const uint64_t *clock = rt__coop_clock;
    unsigned budget = rt__coop_budget();
    if (budget == UINT_MAX || !clock || *clock != rt__coop_run) {
        /* Off, outside a scheduler, or a later run than the one the count
         * was filled in: this run has its whole budget, this operation
         * being its first unit. */
        if (clock)
            rt__coop_run = *clock;
        rt__coop_left = budget - 1;
        return true;
    }
    rt__coop_left = budget;
    rt__coop_refused = true;
    rt_waker_wake_by_ref(cx->waker);
    return false;
}

__attribute__((noinline)) bool rt__coop_take_refusal(void)
{
    bool was = rt__coop_refused;
    rt__coop_refused = false;
    __asm__ volatile("" ::: "memory");
    return was;
}

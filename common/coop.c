#include <greenfut/coop.h>

#include <stdatomic.h>

_Thread_local unsigned rt__coop_left = UINT_MAX;
_Thread_local bool rt__coop_refused;

/* The budget per run; 0 means off. Relaxed: a change only has to be seen
 * at some next run. */
static atomic_uint budget = RT_COOP_BUDGET;

unsigned rt_coop_set(unsigned b)
{
    return atomic_exchange_explicit(&budget, b, memory_order_relaxed);
}

unsigned rt__coop_budget(void)
{
    unsigned b = atomic_load_explicit(&budget, memory_order_relaxed);
    return b ? b : UINT_MAX;
}

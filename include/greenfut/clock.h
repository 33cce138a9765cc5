/* The runtime's only clock: CLOCK_MONOTONIC in nanoseconds. */
#ifndef RT_COMMON_CLOCK_H
#define RT_COMMON_CLOCK_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point; never goes backwards. Timer
 * deadlines are on this scale. */
uint64_t rt_now_ns(void);

/* The latest deadline a sleep is given: "never", in practice (584 years
 * from boot). UINT64_MAX itself stays free, since rt_timers_next uses it to
 * say "no timer armed". */
#define RT_DEADLINE_MAX (UINT64_MAX - 1)

/* base + ns, saturating at RT_DEADLINE_MAX: a huge duration means a far
 * deadline, never one that wrapped past zero into the past. */
static inline uint64_t rt_deadline_add(uint64_t base, uint64_t ns)
{
    return base >= RT_DEADLINE_MAX || ns > RT_DEADLINE_MAX - base
               ? RT_DEADLINE_MAX
               : base + ns;
}

/* The deadline `ns` nanoseconds from now, saturating (rt_deadline_add):
 * what every "sleep for" turns its duration into. */
static inline uint64_t rt_deadline_after(uint64_t ns)
{
    return rt_deadline_add(rt_now_ns(), ns);
}

#endif

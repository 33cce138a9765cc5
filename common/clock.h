/* The runtime's only clock: CLOCK_MONOTONIC in nanoseconds. */
#ifndef RT_COMMON_CLOCK_H
#define RT_COMMON_CLOCK_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point; never goes backwards. Timer
 * deadlines are on this scale. */
uint64_t rt_now_ns(void);

#endif

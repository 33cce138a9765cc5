#include <greenfut/clock.h>

#include <time.h>

#include <greenfut/check.h>

#if defined(RT_DEBUG) && RT_DEBUG
/* The last reading on this thread, to check "never goes backwards". */
static _Thread_local uint64_t last_ns;
#endif

uint64_t rt_now_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    int rc = clock_gettime(CLOCK_MONOTONIC, &ts);
    RT_DEBUG_ASSERT(rc == 0);
    (void)rc;
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#if defined(RT_DEBUG) && RT_DEBUG
    RT_DEBUG_ASSERT(ns >= last_ns);
    last_ns = ns;
#endif
    return ns;
}

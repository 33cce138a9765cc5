/* rt_deadline_add and rt_deadline_after saturate: a duration too big for
 * the clock gives RT_DEADLINE_MAX, never a deadline that wrapped into the
 * past, and never UINT64_MAX (which means "no timer"). */
#include <stdint.h>

#include "check.h"
#include <greenfut/clock.h>

int main(void)
{
    CHECK(rt_deadline_add(5, 7) == 12);
    CHECK(rt_deadline_add(0, RT_DEADLINE_MAX) == RT_DEADLINE_MAX);
    CHECK(rt_deadline_add(1, RT_DEADLINE_MAX) == RT_DEADLINE_MAX);
    CHECK(rt_deadline_add(1, UINT64_MAX) == RT_DEADLINE_MAX);
    CHECK(rt_deadline_add(UINT64_MAX, 0) == RT_DEADLINE_MAX);
    CHECK(rt_deadline_add(RT_DEADLINE_MAX - 3, 3) == RT_DEADLINE_MAX);
    CHECK(rt_deadline_add(RT_DEADLINE_MAX - 3, 2) == RT_DEADLINE_MAX - 1);
    uint64_t before = rt_now_ns();
    CHECK(rt_deadline_after(UINT64_MAX) == RT_DEADLINE_MAX);
    uint64_t d = rt_deadline_after(1000);
    CHECK(d >= before + 1000);
    return 0;
}

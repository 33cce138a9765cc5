/* The cooperative budget's before and after, for the channel and handoff
 * workloads.
 *
 *     bench_channel --coop-off --runs 5 0 1 1024
 *
 * runs every repetition twice, first with the budget on (RT_COOP_BUDGET,
 * the default; include/greenfut/coop.h) and then with it off
 * (rt_coop_set(0), as before it existed), and prints a second row per
 * parameter whose metric has the suffix "_coop_off". The two alternate
 * run by run, so that both see the same machine; the comparison runner
 * passes the flag (bench/compare.py), and docs/labs.md quotes both rows.
 */
#ifndef RT_BENCH_COOP_FLAG_H
#define RT_BENCH_COOP_FLAG_H

#include <stdbool.h>
#include <string.h>

#include <greenfut/coop.h>

/* The budgets a repetition runs with: index 0 on, 1 off. */
#define BENCH_COOP_VARIANTS 2

/* Takes "--coop-off" out of argv (moving the rest down, *argc updated).
 * Returns how many budgets each repetition runs with: 2 with the flag, 1
 * without. */
static inline int bench_coop_flag(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--coop-off") == 0) {
            memmove(&argv[i], &argv[i + 1],
                    (size_t)(*argc - i) * sizeof(*argv));
            (*argc)--;
            return BENCH_COOP_VARIANTS;
        }
    }
    return 1;
}

/* Sets the budget of variant v (0: on, the default; 1: off). */
static inline void bench_coop_use(int v)
{
    rt_coop_set(v == 0 ? RT_COOP_BUDGET : 0);
}

/* The metric suffix of variant v. */
static inline const char *bench_coop_suffix(int v)
{
    return v == 0 ? "" : "_coop_off";
}

#endif

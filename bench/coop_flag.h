/* The cooperative budget switch of the channel and handoff workloads.
 *
 *     bench_channel --coop-budget 0 --runs 5 0 1 1024
 *
 * runs the workload with rt_coop_set(N) (include/greenfut/coop.h; 0 turns
 * the budget off, as before it existed) and names its metric with a suffix
 * ("_coop_off" for 0, "_coop<N>" otherwise), so that one run of the
 * comparison runner holds the rows with the budget on (the default, no
 * flag) and off side by side (bench/compare.py, docs/labs.md).
 */
#ifndef RT_BENCH_COOP_FLAG_H
#define RT_BENCH_COOP_FLAG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/coop.h>

/* Takes "--coop-budget N" out of argv (moving the rest down, *argc
 * updated) and applies it; writes the metric suffix to suffix[0..cap)
 * ("" without the flag). Exits 2 on a bad N. */
static inline void bench_coop_flag(int *argc, char **argv, char *suffix,
                                   size_t cap)
{
    suffix[0] = '\0';
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--coop-budget") != 0)
            continue;
        char *end = NULL;
        unsigned long n = i + 1 < *argc ? strtoul(argv[i + 1], &end, 10) : 0;
        if (!end || *end || end == argv[i + 1] || n >= 1000000) {
            fprintf(stderr, "%s: --coop-budget takes 0..999999\n", argv[0]);
            exit(2);
        }
        rt_coop_set((unsigned)n);
        if (n == 0)
            snprintf(suffix, cap, "_coop_off");
        else
            snprintf(suffix, cap, "_coop%lu", n);
        memmove(&argv[i], &argv[i + 2],
                (size_t)(*argc - i - 2 + 1) * sizeof(*argv));
        *argc -= 2;
        return;
    }
}

#endif

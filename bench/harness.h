/* The benchmark harness: repetitions, medians with spread, CSV rows, and
 * memory measured from the kernel's own accounting.
 *
 * Every benchmark program prints rows in the comparison runner's format,
 *     workload,backend,param,metric,value,unit,runs,min,max
 * where value is the median of `runs` samples and min/max their spread; the
 * runner (bench/compare) collects them. Programs take
 *     --runs N      repetitions (default 5)
 *     PARAM ...     the parameters to run (each program documents them)
 */
#ifndef RT_BENCH_HARNESS_H
#define RT_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#define BH_MAX_RUNS   64
#define BH_MAX_PARAMS 16

struct bh_args {
    int runs;
    int nparams;
    long long params[BH_MAX_PARAMS];
};

/* Parses --runs N and integer parameters; with no parameter, `defaults`
 * (terminated by -1) is used. Exits with a message on bad input. */
void bh_parse(int argc, char **argv, const long long *defaults,
              struct bh_args *a);

/* Prints one CSV row; sorts samples[0..n) to find median, min, max. An
 * empty `param` is written for param < 0. */
void bh_row(const char *workload, const char *backend, long long param,
            const char *metric, const char *unit, double *samples, int n);

/* bh_row with the param column as text (for example "workers=2"); it must
 * hold no comma. */
void bh_row_named(const char *workload, const char *backend, const char *param,
                  const char *metric, const char *unit, double *samples, int n);

/* Resident set size of this process now, in bytes (/proc/self/statm). */
size_t bh_rss_bytes(void);

/* The kernel's memory that RSS does not show, in bytes: this process's
 * page tables (VmPTE in /proc/self/status) plus the kernel stacks of all
 * threads on the machine (KernelStack in /proc/meminfo; an OS thread owns
 * one). Take the difference of two readings around what is measured; on a
 * quiet machine the KernelStack share of the delta is this process's
 * threads. */
size_t bh_kernel_bytes(void);

/* Runs fn(param, out) in a forked child and copies its n results (n <=
 * BH_MAX_VALUES) back into out, as bh_in_child does for one. */
#define BH_MAX_VALUES 4
void bh_in_child_n(void (*fn)(long long param, double *out), long long param,
                   double *out, int n);

/* Runs fn(param) in a forked child and returns what it returned, so that
 * every memory measurement starts from a fresh process (freed memory is not
 * given back to the kernel, so a second run in the same process would see
 * no growth). Exits through bh_fail when the child fails. */
double bh_in_child(double (*fn)(long long param), long long param);

/* Monotonic nanoseconds. */
uint64_t bh_now_ns(void);

/* Prints "bench: <msg>" to stderr and exits 1: a workload whose own check
 * failed must not produce a figure. */
_Noreturn void bh_fail(const char *msg);

#endif

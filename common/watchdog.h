/* The blocking detector: an opt-in watchdog that names a task which has run
 * longer than a threshold without yielding (a busy loop, a blocking syscall
 * or a long computation on a scheduler thread stalls every other task).
 *
 * Invariant: the scheduler thread is the only writer of a watchdog's slot
 * and only ever stores into it (no lock, no syscall: a clock read and a few
 * atomic stores per resume); the watchdog thread only reads it, and checks
 * the slot's sequence number around its reads, so a torn read is dropped.
 *
 * Enabled by RT_WATCHDOG_MS=<threshold in ms> in the environment or by
 * rt_watchdog_set_ms(); then each scheduler (gt_run, fut_block_on/fut_run,
 * and so rt_run) starts one watchdog thread for its run. The report is one
 * line on stderr per stall:
 *
 *   rt watchdog: task 2 "spinner" has run 120 ms without yielding
 *   (threshold 20 ms); entry spin_fn (test_watchdog_stackful+0x1a2b)
 *
 * "entry" is the function the task runs, resolved with dladdr: stackful,
 * the function given to gt_spawn; stackless, the future's poll function. A
 * symbol name needs the executable linked with -rdynamic (CMake property
 * ENABLE_EXPORTS); without it the file+offset form works with addr2line.
 */
#ifndef RT_COMMON_WATCHDOG_H
#define RT_COMMON_WATCHDOG_H

#include <stdint.h>

struct rt_watchdog;

/* Sets the threshold, in milliseconds, for schedulers started from now on,
 * process-wide; it overrides RT_WATCHDOG_MS. 0 goes back to the
 * environment's value (unset or 0: no watchdog). Any thread. */
void rt_watchdog_set_ms(unsigned ms);

/* The threshold in ms that a scheduler starting now would use (0: off). */
unsigned rt_watchdog_ms(void);

/* For schedulers, at the start of a run: starts a watchdog thread when one
 * is enabled (rt_watchdog_ms() > 0). Returns the watchdog, or NULL when
 * disabled or when the thread could not start (said once on stderr: the run
 * goes on without). Never runs user code. */
struct rt_watchdog *rt__watchdog_start(void);

/* Stops and frees a watchdog from rt__watchdog_start (NULL is fine). Joins
 * its thread, so it may take up to half a threshold. */
void rt__watchdog_stop(struct rt_watchdog *wd);

/* For schedulers, right before a task gets the CPU: task `id` named `name`
 * (NULL or "" when unnamed; copied, at most 31 bytes) running `entry` (the
 * address of its function, for dladdr). Owner thread only. */
void rt__watchdog_resume(struct rt_watchdog *wd, int64_t id, const char *name,
                         uintptr_t entry);

/* For schedulers, when control is back in the scheduler itself (no task
 * runs: waiting in the reactor is not a stall). Owner thread only. */
void rt__watchdog_idle(struct rt_watchdog *wd);

#endif

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
 * line on stderr per stall, the task described in the words of the task
 * dump (dump.h; one formatter writes both):
 *
 *   rt watchdog: no yield for 120 ms (threshold 20 ms): green thread 2
 *   "spinner" (spin_fn) [running, spawned in spin_root
 *   (test_watchdog_stackful+0x1b40)]
 *
 * The function in parentheses is the one the task runs: the rt_task_fn
 * given to rt_spawn or rt_run, the function given to gt_spawn; a native
 * future is named by its vtable's name, as in the dump. "spawned in" is
 * the function that called the spawn, and its offset is that of the call
 * instruction (`addr2line -e <file> <offset>` names the line). Both are
 * resolved with dladdr: a symbol name needs the executable linked with
 * -rdynamic (CMake property ENABLE_EXPORTS); without it the file+offset
 * form still works with addr2line.
 *
 * Spawn sites are kept in a process-wide table, only while a watchdog is
 * enabled (rt_watchdog_ms() > 0 when the task was spawned): with the
 * watchdog off, a spawn or a free costs one relaxed load and a branch.
 */
#ifndef RT_COMMON_WATCHDOG_H
#define RT_COMMON_WATCHDOG_H

/* Sets the threshold, in milliseconds, for schedulers started from now on,
 * process-wide; it overrides RT_WATCHDOG_MS. 0 goes back to the
 * environment's value (unset or 0: no watchdog). Any thread. */
void rt_watchdog_set_ms(unsigned ms);

/* The threshold in ms that a scheduler starting now would use (0: off). */
unsigned rt_watchdog_ms(void);

#endif

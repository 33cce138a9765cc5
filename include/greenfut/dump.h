/* The task dump: one line per live task of the calling thread's scheduler
 * (either backend), saying what each task waits on, on demand or on SIGQUIT.
 *
 * Invariant: the dump is always written by the scheduler's own thread, from
 * a task or from the run loop, never from a signal handler: the SIGQUIT
 * handler only sets a flag and notifies the reactor (both async-signal-safe).
 */
#ifndef RT_GREENFUT_DUMP_H
#define RT_GREENFUT_DUMP_H

#include <stdio.h>

/* Writes the header line and one line per live task of the calling
 * thread's scheduler (gt_run, fut_block_on/fut_run, and so rt_run) to
 * `out`: id, name, function, state (running, runnable, parked), what it
 * waits on with the object of the wait (a channel's, mutex's or notify's
 * address, an IO wait's fd, the time left before a deadline, the task a
 * join waits for), and for a green thread the stack bytes in use and,
 * when the code has frame pointers, the backtrace of a parked one (one
 * line per frame); a future also names the innermost child frame it is
 * suspended in and its await chain, each frame's resume point as source
 * file:line. With several workers, first one line per worker (the task
 * it runs, or turning the reactor, parked, in its loop), a running task
 * names its worker, and a runnable one the worker whose queue holds it.
 * The spawn site is shown while the watchdog notes sites (watchdog.h).
 * The deadlock reports and the watchdog use the same formatter. Call it
 * from a task.
 * Returns 0, -EINVAL for a NULL `out`, or -EPERM outside a run.
 * Never switches and never runs user code. */
int rt_dump(FILE *out);

/* Turns the SIGQUIT dump on (nonzero) or off. With it on, and also when
 * RT_DUMP_SIGNAL=1 is in the environment at the start of a run, SIGQUIT
 * prints the dump of the running scheduler to stderr and the program goes
 * on (Go's SIGQUIT dumps and exits; here it is a look, not a kill). The
 * handler is installed at the start of a run and the previous disposition
 * restored at its end. */
void rt_dump_signal(int on);

/* How many SIGQUIT dumps this process has written to stderr so far (each
 * counted once it is complete and flushed). A dump is written by one of
 * the run's workers, not by the thread the signal interrupted, so a
 * program that raises SIGQUIT itself and must not end before the dump is
 * out (a test) waits for this count to move. Any thread; never fails. */
unsigned long rt_dump_signal_count(void);

#endif

/* Process set-up shared by the example programs: the shutdown signals as
 * an fd a task can wait on, and the fd limit. */
#ifndef EXAMPLE_UTIL_H
#define EXAMPLE_UTIL_H

/* Blocks SIGINT and SIGTERM for the process and returns a non-blocking
 * signalfd that becomes readable when either arrives (a task waits on it
 * with RT_AWAIT_READ after rt_register). Call before any thread starts.
 * Returns the fd or a negative errno. */
int example_stop_signals(void);

/* Raises the soft RLIMIT_NOFILE to the hard limit, so that thousands of
 * connections fit. Returns the new soft limit, or a negative errno. */
long example_raise_nofile(void);

#endif

/* The backends' side of the task dump (include/greenfut/dump.h): the one
 * line formatter shared by rt_dump and both deadlock reports, and the hooks
 * a run loop calls.
 *
 * Invariant: a source is registered only by the thread running the loop it
 * describes, for the length of that run, and only that thread calls it.
 */
#ifndef RT_COMMON_DUMP_INTERNAL_H
#define RT_COMMON_DUMP_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <greenfut/dump.h>
#include <greenfut/reactor.h>

/* What one line says about a task; the backend fills it in. */
struct rt__dump_task {
    const char *kind;  /* "green thread" or "task" */
    int64_t id;        /* the task's id */
    const char *name;  /* its given name, NULL or "" for none */
    uintptr_t fn;      /* its own function (not a wrapper), 0: unknown */
    const char *fname; /* a name to use when fn is 0 (a vtable's name) */
    uintptr_t inner;   /* stackless: innermost child frame's function */
    const char *state; /* "running", "runnable" or "parked" */
    const char *wait;  /* what it waits on, NULL when not parked/unknown */
    int fd;            /* fd of an IO wait, -1 otherwise */
    int64_t stack;     /* stackful: stack bytes in use, -1 otherwise */
    const void *key;   /* its key in the watchdog's site table */
    /* stackless: the await chain, outermost first, `depth` frames: each
     * frame's function and resume line; depth 0 for none. */
    const uintptr_t *chain;
    const unsigned *lines;
    unsigned depth;
};

/* Writes one line for `t`:
 *   "  green thread 2 \"n\" (fn) waiting on channel recv (fd 5) [parked,
 *    stack 1184 bytes, spawned in caller (prog+0x1b40)]"
 *   "  task 6 (fn, in child leaf) waiting on read [parked, awaits through
 *    fn:110 > mid:101 > leaf:92]"
 * A task that waits on nothing leaves out the "waiting on" part. */
void rt__dump_task_write(FILE *out, const struct rt__dump_task *t);

/* Writes every line of the calling thread's run to `out`. */
typedef void (*rt__dump_fn)(void *ctx, FILE *out);

/* Registers the calling thread's run (`fn` over `ctx`, on reactor `r`) for
 * rt_dump, and installs the SIGQUIT handler when the dump signal is on.
 * rt__dump_end undoes both. */
void rt__dump_begin(rt__dump_fn fn, void *ctx, struct rt_reactor *r);
void rt__dump_end(void);

/* Runs the dump to stderr when SIGQUIT asked for one since the last call.
 * For the run loops, after each reactor turn: one relaxed load otherwise. */
void rt__dump_check(void);

#endif

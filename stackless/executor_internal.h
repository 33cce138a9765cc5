/* The executor's entry points for the portable layer: spawning with the
 * watchdog's site, and the deadlock report's view of a frame. Not for use
 * outside stackless/.
 *
 * The invariant: everything here runs on the executor's thread.
 */
#ifndef RT_STACKLESS_EXECUTOR_INTERNAL_H
#define RT_STACKLESS_EXECUTOR_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <greenfut/task.h>

/* What the deadlock report says of a task beyond its vtable's name, for
 * frames whose vtable cannot say it alone (a portable task: one vtable for
 * every task function). */
#define FUT__ABOUT_DEPTH 8 /* await-chain frames a report names */

struct fut__about {
    uintptr_t fn;      /* code address naming the task (its function) */
    uintptr_t inner;   /* innermost child task's function, 0 for none */
    const char *waits; /* what it waits on, NULL when not known */
    const void *obj;   /* the object waited on, NULL for none */
    int fd;            /* the fd of an IO wait, -1 otherwise */
    uint64_t deadline; /* the wait's deadline, 0 for none */
    int64_t join_id;   /* a join: the joined task's id, 0 otherwise */
    uintptr_t join_fn; /* ... and its function, 0: unknown */
    /* The await chain, outermost (the task's own frame) first: each
     * frame's function and resume point (the __FILE__, NULL before its
     * first park, and __LINE__ of the await it is suspended in, 0 before
     * its start). `depth` frames, at most
     * FUT__ABOUT_DEPTH (a deeper chain keeps its outermost ones). */
    uintptr_t chain[FUT__ABOUT_DEPTH];
    const char *files[FUT__ABOUT_DEPTH];
    unsigned lines[FUT__ABOUT_DEPTH];
    unsigned depth;
};

/* Fills *out for `frame` and returns true, or returns false for a frame it
 * does not know. Set by the portable layer when it spawns; NULL before. */
typedef bool (*fut__about_fn)(const struct fut_future *frame,
                              struct fut__about *out);
extern fut__about_fn fut__about;

/* The portable layer's task function of `frame`, or 0 for a native
 * future: read from what the frame's spawn wrote and nothing since, so the
 * dump may ask it of a task another worker is polling. */
typedef uintptr_t (*fut__entry_fn)(const struct fut_future *frame);
extern fut__entry_fn fut__entry;

/* fut_frame_spawn with the site the watchdog names
 * (include/greenfut/watchdog.h): `site` is the return address of the public
 * spawn call, `entry` the function to name as the task's (0: the frame's poll
 * function). */
int fut__frame_spawn_at(struct fut_future *frame, struct fut_join *join,
                        uintptr_t site, uintptr_t entry);

#endif

/* Combinators: futures made of other futures.
 *
 * The children are frames the caller keeps (usually fields of the same
 * frame as the combinator, which makes that frame self-referential: one
 * more reason it must not move after its first poll). From *_init on, the
 * combinator OWNS its children's contents: it drops each child as soon as
 * the child is no longer needed and drops the remaining ones in its own
 * drop. Dropping a child is cancellation: its timers are cancelled, its
 * tasks' join handles detached, its children dropped (see leaf.h for what
 * an IO future leaves behind).
 *
 * Rust: fut_join_all is futures::future::join_all, fut_select is select!
 * with `biased;` (children are polled in index order), fut_timeout is
 * tokio::time::timeout.
 */
#ifndef RT_STACKLESS_COMBINATORS_H
#define RT_STACKLESS_COMBINATORS_H

#include <stddef.h>
#include <stdint.h>

#include "future.h"
#include "leaf.h"

/* All of N. Output: none; child i's output goes to outs[i]. */
struct fut_join_all {
    struct fut_future base;
    /* private */
    struct fut_future **futs; /* a child is done once it is dropped */
    void **outs;              /* NULL: every output discarded */
    size_t n;
    size_t left; /* children not yet ready */
};

/* Makes `j` wait for all of futs[0..n) (n may be 0: ready at once); outs
 * may be NULL, and so may any outs[i]. The futs and outs arrays must live
 * as long as `j`. Returns 0, or -EINVAL (j NULL, futs NULL with n > 0, a
 * NULL or already dropped child); on error nothing is taken over. */
int fut_join_all_init(struct fut_join_all *j, struct fut_future **futs,
                      void **outs, size_t n);

/* First of N. Output: size_t, the index of the child that finished first;
 * its output went to outs[index]. Every other child is dropped at that
 * moment (cancelled), and the winner too, having finished. */
struct fut_select {
    struct fut_future base;
    /* private */
    struct fut_future **futs;
    void **outs;
    size_t n;
};

/* Makes `s` race futs[0..n) (n >= 1). Arguments and errors as
 * fut_join_all_init (n == 0 is -EINVAL: it could never finish). */
int fut_select_init(struct fut_select *s, struct fut_future **futs, void **outs,
                    size_t n);

/* A future with a deadline. Output: int, 0 when `inner` finished in time
 * (its output went to inner_out), -ETIMEDOUT when the time ran out first
 * (inner was dropped unfinished). The clock starts at the first poll. */
struct fut_timeout {
    struct fut_future base;
    /* private */
    struct fut_future *inner;
    void *inner_out;
    struct fut_sleep sleep;
};

/* Makes `t` run `inner` for at most `ns` nanoseconds. Returns 0 or
 * -EINVAL (t or inner NULL, or inner already dropped). */
int fut_timeout_init(struct fut_timeout *t, struct fut_future *inner,
                     void *inner_out, uint64_t ns);

#endif

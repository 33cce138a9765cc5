/* What every lab program shares: its command line, the verdict of --check,
 * and a child process whose stderr and results come back to the parent.
 *
 * A lab is a portable program (include/greenfut/rt.h) built once per
 * backend. It prints its measurement as CSV rows in the comparison
 * runner's format (bench/harness.h); with --check it also verifies the
 * effect it demonstrates and exits 1, naming the comparison, when the
 * effect is absent. The check compares the lab's own variants (wrong
 * against right); it never compares with a fixed number.
 */
#ifndef RT_LABS_LAB_H
#define RT_LABS_LAB_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

struct lab_args {
    struct bh_args bh; /* --runs N and the integer parameters */
    bool check;        /* --check given */
};

/* Parses --check, --runs N and integer parameters (defaults: `defaults`,
 * terminated by -1). Exits with a message on bad input. */
void lab_parse(int argc, char **argv, const long long *defaults,
               struct lab_args *a);

/* Records one check of --check mode: prints "lab: ok: <what>" or
 * "lab: FAILED: <what>" on stderr. Returns ok. */
bool lab_expect(bool ok, const char *what);

/* The exit status of a lab: 1 when a lab_expect failed, else 0. */
int lab_status(void);

/* Runs fn(arg, shared) in a forked child whose stderr goes to a pipe.
 * `shared` is a zeroed MAP_SHARED area of `shared_len` bytes that the
 * child writes its results into; it is copied to *out (shared_len bytes,
 * caller-owned) when the child has ended, however it ended (a crash keeps
 * what was written before it). Up to cap-1 bytes of the child's stderr go to
 * err (NUL-terminated). Returns the raw wait status; exits 1 when fork, pipe or
 * mmap fail. */
int lab_child(int (*fn)(void *arg, void *shared), void *arg, void *out,
              size_t shared_len, char *err, size_t cap);

/* The p-th percentile (0-100) of v[0..n), which it sorts; 0 for n == 0. */
double lab_percentile(double *v, size_t n, double p);

#endif

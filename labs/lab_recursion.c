/* Lab: recursion, and await nesting.
 *
 * Part 1, plain recursion inside a task: a function with a 1 KiB frame
 * calls itself until the stack runs out, in a child process.
 *   stackful: the task's own stack (64 KiB by default) ends in a guard
 *     page; the overflow reporter names the green thread and its entry
 *     function, then aborts.
 *   stackless: a poll runs on the thread that polls it, so the recursion
 *     uses the OS thread's stack (8 MiB by default): many more levels, and
 *     then a plain SIGSEGV that names nobody.
 * Part 2, await nesting: a task suspended D levels deep (each level awaits
 * the next with RT_AWAIT_CALL; the frames are one heap array).
 *   stack_bytes_per_level: machine stack per level, measured from the
 *     addresses of a local at the top and at the bottom. Stackful: on the
 *     task's stack for as long as it is suspended. Stackless: on the OS
 *     thread's stack, during each resume only; the same bytes bound how
 *     deep a future may nest.
 *   ns_per_resume: two such tasks yield at the bottom in turn. Stackless
 *     re-enters every level at each resume; stackful switches stacks once.
 * Rows: lab_recursion,<backend>,1024,overflow_depth (levels reached) and
 * overflow_named (1 when the report named the task);
 * lab_recursion,<backend>,D,stack_bytes_per_level and ns_per_resume.
 * --check: stackful dies by SIGABRT with the task named, stackless by
 * SIGSEGV after more levels than 64 KiB holds; resuming at depth D costs
 * more than at depth 1 on stackless. Params: D values (default 1 256).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lab.h"
#include <greenfut/rt.h>

#define FRAME_BYTES 1024
#define YIELDS      20000L
#define GREEN_STACK (64 * 1024) /* the stackful default (GT_STACK_DEFAULT) */

/* ---- Part 1: recursion until the stack ends ----------------------------- */

static volatile long *depth_out;           /* the child's shared counter */
static volatile long depth_max = 1L << 40; /* never reached: the stack ends */

/* noinline and the use of buf after the call keep one real frame per level. */
__attribute__((noinline)) static unsigned recurse(long depth)
{
    volatile unsigned char buf[FRAME_BYTES - 64];
    buf[0] = (unsigned char)depth;
    buf[sizeof(buf) - 1] = 1;
    *depth_out = depth;
    unsigned sum = depth < depth_max ? recurse(depth + 1) : 0;
    return sum + buf[0] + buf[sizeof(buf) - 1];
}

struct deep {
    RT_FRAME;
};

/* The entry the overflow report names: not static, and the program is
 * linked with -rdynamic. */
enum rt_poll recursing_task(void *self);

enum rt_poll recursing_task(void *self)
{
    struct deep *f = self;
    RT_BEGIN(f);
    RT_RETURN(f, recurse(1));
    RT_END(f);
}

struct spawner {
    RT_FRAME;
    struct rt_join j;
    int rc;
};

static enum rt_poll spawner(void *self)
{
    struct spawner *f = self;
    RT_BEGIN(f);
    {
        struct deep d = {0};
        if (rt_spawn(recursing_task, &d, sizeof(d), &f->j) < 0)
            bh_fail("lab_recursion: spawn failed");
    }
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    RT_END(f);
}

static int overflow_child(void *arg, void *shared)
{
    (void)arg;
    depth_out = shared;
    struct spawner s = {0};
    rt_run(spawner, &s, sizeof(s), NULL);
    return 3; /* not reached: the stack runs out first */
}

/* ---- Part 2: await nesting ---------------------------------------------- */

static uintptr_t top_sp, bottom_sp; /* set by the first task's first poll */

struct level {
    RT_FRAME;
    struct level *below; /* the next level's frame; NULL at the bottom */
    long d;              /* levels from here down, this one included */
    long i;
};

static enum rt_poll level(void *self)
{
    struct level *f = self;
    volatile char mark = 0; /* where this level's machine frame is */
    RT_BEGIN(f);
    if (!top_sp)
        top_sp = (uintptr_t)&mark;
    if (f->below) {
        *f->below = (struct level){.below = f->d > 2 ? f->below + 1 : NULL,
                                   .d = f->d - 1};
        RT_AWAIT_CALL(f, level, f->below);
        RT_RETURN(f, f->below->rt.ret);
    }
    if (!bottom_sp)
        bottom_sp = (uintptr_t)&mark;
    for (f->i = 0; f->i < YIELDS; f->i++)
        RT_AWAIT_YIELD(f);
    RT_RETURN(f, f->i + mark);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long d;
    int i;
    int rc;
    struct level *below[2];
    struct rt_join j[2];
    uint64_t t0;
};

static enum rt_poll root_task(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < 2; f->i++) {
        struct level top = {.below = f->below[f->i], .d = f->d};
        if (rt_spawn(level, &top, sizeof(top), &f->j[f->i]) < 0)
            bh_fail("lab_recursion: spawn failed");
    }
    f->t0 = rt_now_ns();
    for (f->i = 0; f->i < 2; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != YIELDS)
            bh_fail("lab_recursion: a task did not finish as expected");
    }
    RT_RETURN(f, rt_now_ns() - f->t0);
    RT_END(f);
}

/* One run at depth d: ns per resume; *per_level gets the stack bytes. */
static double nest(long d, double *per_level)
{
    struct root r = {.d = d};
    for (int i = 0; i < 2; i++) {
        r.below[i] = d > 1 ? calloc((size_t)d - 1, sizeof(struct level)) : NULL;
        if (d > 1 && !r.below[i])
            bh_fail("lab_recursion: out of memory");
    }
    top_sp = bottom_sp = 0;
    intptr_t ns = 0;
    if (rt_run(root_task, &r, sizeof(r), &ns) != 0)
        bh_fail("lab_recursion: rt_run failed");
    free(r.below[0]);
    free(r.below[1]);
    *per_level = d > 1 ? (double)(top_sp - bottom_sp) / (double)(d - 1) : 0;
    return (double)ns / (2.0 * YIELDS);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {1, 256, -1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    const char *b = rt_backend_name();
#if defined(__SANITIZE_ADDRESS__)
    /* ASan takes SIGSEGV for itself and changes every frame's size. */
    fprintf(stderr, "lab_recursion: skipped under AddressSanitizer\n");
    return 77;
#endif
    static char err[1 << 14];
    double depth[BH_MAX_RUNS], named[BH_MAX_RUNS];
    int sig = 0;
    for (int r = 0; r < a.bh.runs; r++) {
        long reached = 0;
        int st = lab_child(overflow_child, NULL, &reached, sizeof(reached), err,
                           sizeof(err));
        if (r == 0)
            fputs(err, stderr); /* the report, if any */
        sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        depth[r] = (double)reached;
        named[r] =
            strstr(err, "stack overflow in") && strstr(err, "recursing_task");
    }
    bh_row("lab_recursion", b, FRAME_BYTES, "overflow_depth", "count", depth,
           a.bh.runs);
    bh_row("lab_recursion", b, FRAME_BYTES, "overflow_named", "count", named,
           a.bh.runs);
    double ns[BH_MAX_PARAMS][BH_MAX_RUNS], per[BH_MAX_PARAMS][BH_MAX_RUNS];
    for (int p = 0; p < a.bh.nparams; p++) {
        long d = (long)a.bh.params[p];
        if (d < 1 || d > 1024)
            bh_fail("lab_recursion: D must be 1..1024");
        for (int r = 0; r < a.bh.runs; r++)
            ns[p][r] = nest(d, &per[p][r]);
        if (d > 1)
            bh_row("lab_recursion", b, d, "stack_bytes_per_level", "bytes",
                   per[p], a.bh.runs);
        bh_row("lab_recursion", b, d, "ns_per_resume", "ns", ns[p], a.bh.runs);
    }
    if (a.check) {
        /* bh_row sorted the samples: [0] is the least. */
#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
        lab_expect(sig == SIGABRT && named[0] == 1,
                   "stackful: the guard page stops the recursion and the "
                   "report names recursing_task");
#else
        lab_expect(sig == SIGSEGV && named[a.bh.runs - 1] == 0,
                   "stackless: the OS thread's stack ends in a plain "
                   "SIGSEGV that names no task");
        lab_expect(depth[0] * FRAME_BYTES > GREEN_STACK,
                   "stackless: the recursion went deeper than a green "
                   "thread's 64 KiB stack allows");
        if (a.bh.nparams >= 2)
            lab_expect(ns[a.bh.nparams - 1][0] > ns[0][a.bh.runs - 1],
                       "stackless: a resume at the deepest D costs more "
                       "than at the shallowest");
#endif
    }
    return lab_status();
}

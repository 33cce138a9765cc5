/* Lab: a local kept across an await.
 *
 * N tasks each remember their own id across one yield and return it. The
 * wrong version keeps the id in a local of the task function, declared
 * without an initialiser (so gcc's -Wjump-misses-init cannot see it); the
 * right one keeps it in the frame (rule 3 of include/greenfut/rt.h).
 *   stackful: the task function runs once, on the task's own stack, and
 *     the local lives there across the yield: the wrong version works by
 *     accident (it breaks the day the code is built stackless).
 *   stackless: the task function returns at the yield and is called again
 *     to resume; the local is a new one, in a stack slot that the other
 *     tasks' polls used meanwhile: the wrong version reads their ids.
 * The local is volatile so that the compiler keeps it in that slot (at -O2
 * a plain int could sit in a register or be folded; its value is
 * indeterminate either way). labs/locals_caught.c is the form the warning
 * does catch (an initialised local); a CTest entry compiles it.
 * Rows: lab_locals,<backend>,N,wrong_mismatches and right_mismatches (tasks
 * whose result is not their id). --check: the right version never
 * mismatches; the wrong one does on stackless and does not on stackful.
 * Params: N (default 64).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lab.h"
#include <greenfut/rt.h>

#define MAX_TASKS 4096

struct task {
    RT_FRAME;
    int id;
    int mine; /* the right version's copy: in the frame */
};

static enum rt_poll wrong(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    volatile int mine; /* WRONG: a local that must survive the yield */
    mine = f->id;
    RT_AWAIT_YIELD(f);
    RT_RETURN(f, mine);
    RT_END(f);
}

static enum rt_poll right(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    f->mine = f->id; /* right: the frame outlives every resume */
    RT_AWAIT_YIELD(f);
    RT_RETURN(f, f->mine);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int n;
    int i;
    int use_wrong;
    int mismatches;
    int rc;
    struct rt_join j[MAX_TASKS];
};

static enum rt_poll root_task(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < f->n; f->i++) {
        struct task t = {.id = 1000 + f->i};
        if (rt_spawn(f->use_wrong ? wrong : right, &t, sizeof(t), &f->j[f->i]) <
            0)
            bh_fail("lab_locals: spawn failed");
    }
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != 1000 + f->i)
            f->mismatches++;
    }
    RT_RETURN(f, f->mismatches);
    RT_END(f);
}

static int count_mismatches(int n, int use_wrong)
{
    static struct root r; /* big: static, not a local (rt.h, rule 7) */
    r = (struct root){.n = n, .use_wrong = use_wrong};
    intptr_t ret = -1;
    if (rt_run(root_task, &r, sizeof(r), &ret) != 0)
        bh_fail("lab_locals: rt_run failed");
    return (int)ret;
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {64, -1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    int n = (int)a.bh.params[0];
    if (n < 2 || n > MAX_TASKS)
        bh_fail("lab_locals: N must be 2..4096");
    const char *b = rt_backend_name();
    double w[BH_MAX_RUNS], r[BH_MAX_RUNS];
    for (int i = 0; i < a.bh.runs; i++) {
        w[i] = count_mismatches(n, 1);
        r[i] = count_mismatches(n, 0);
    }
    bh_row("lab_locals", b, n, "wrong_mismatches", "count", w, a.bh.runs);
    bh_row("lab_locals", b, n, "right_mismatches", "count", r, a.bh.runs);
    if (a.check) {
        /* bh_row sorted the samples: [0] is the least, [runs-1] the most. */
        lab_expect(r[a.bh.runs - 1] == 0,
                   "the right version returns every task's own id");
#if defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
        lab_expect(w[0] > 0, "stackless: the wrong version reads a value "
                             "other than the task's id");
#else
        lab_expect(w[a.bh.runs - 1] == 0,
                   "stackful: the wrong version works by accident");
#endif
    }
    return lab_status();
}

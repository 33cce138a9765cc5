/* rt_cancel across two workers, on either backend: a task that runs on
 * the other worker when it is cancelled (it spins with no await) has its
 * next await refused, the one it parks in, whether the cancel came while
 * it spun or as it went into the park; and a join that is cancelled just
 * as the task it joins ends returns that task's result or -ECANCELED, and
 * either way leaves nothing behind (the handle joined, or given up and
 * its task freed when it ends).
 *
 * Not run under valgrind (tests/portable/CMakeLists.txt): it needs both
 * workers' threads running at once, and valgrind runs one at a time. */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include <greenfut/rt.h>

/* ---- tasks on two workers ---------------------------------------------- */

#define RUNS 100

/* What the root and the runner share (in the root's frame). */
struct run_shared {
    struct rt_chan empty, ready; /* ready holds one message */
    atomic_int started;          /* the runner is in its loop */
    atomic_int go;               /* the runner may leave its loop */
    atomic_int worker;           /* the worker it spins on */
    /* Run i's ender may end (one each: a given-up ender may still wait
     * when the next run starts). */
    struct rt_notify end[RUNS];
    atomic_int ended; /* enders past their wait */
};

/* Waits for *end, then returns 7: the task a race_joiner joins. */
struct ender {
    RT_FRAME;
    struct rt_notify *end;
    atomic_int *ended;
    int rc;
};

static enum rt_poll ender(void *self)
{
    struct ender *f = self;
    RT_BEGIN(f);
    RT_AWAIT_NOTIFIED(f, f->rc, f->end);
    CHECK_OK(f->rc);
    atomic_fetch_add(f->ended, 1);
    RT_RETURN(f, 7);
    RT_END(f);
}

/* Joins *j: returns the joined task's result, or the join's error. */
struct race_joiner {
    RT_FRAME;
    struct rt_join *j;
    int rc;
};

static enum rt_poll race_joiner(void *self)
{
    struct race_joiner *f = self;
    RT_BEGIN(f);
    RT_AWAIT_JOIN(f, f->rc, f->j);
    RT_RETURN(f, f->rc == 0 ? f->j->ret : f->rc);
    RT_END(f);
}

struct runner {
    RT_FRAME;
    struct run_shared *sh;
    intptr_t first, second;
    int in;
};

/* Spins with no await until `go`, then waits on `empty` (which nothing
 * fills: only the cancel ends that wait) and receives from `ready`. Both
 * are refused, whether the cancel came while it spun or while it went into
 * its park. Returns 9. */
static enum rt_poll runner(void *self)
{
    struct runner *f = self;
    RT_BEGIN(f);
    atomic_store(&f->sh->worker, rt_worker_index());
    atomic_store(&f->sh->started, 1);
    /* sched_yield lets the OS, and valgrind, which runs one thread at a
     * time, run the other worker; no await, so the task stays running. */
    while (!atomic_load(&f->sh->go))
        sched_yield();
    RT_AWAIT_RECV(f, f->first, &f->sh->empty, &f->in);
    CHECK_EQ(f->first, -ECANCELED);
    RT_AWAIT_RECV(f, f->second, &f->sh->ready, &f->in);
    CHECK_EQ(f->second, -ECANCELED);
    CHECK(rt_cancelled());
    RT_RETURN(f, 9);
    RT_END(f);
}

struct running {
    RT_FRAME;
    struct run_shared sh;
    struct rt_join j, t;
    int i, rc, msg;
    int joined; /* race joins that got the result, not -ECANCELED */
};

/* On two workers: a runner spins on one while this task, on the other,
 * cancels it; even runs cancel it before letting it go on to its await,
 * odd ones let it go first, so that the cancel meets it anywhere on its
 * way into the park. */
static enum rt_poll running(void *self)
{
    struct running *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->sh.empty, sizeof(int), 1));
    CHECK_OK(rt_chan_init(&f->sh.ready, sizeof(int), 1));
    for (f->i = 0; f->i < RUNS; f->i++)
        rt_notify_init(&f->sh.end[f->i]);
    f->msg = 8;
    RT_AWAIT_SEND(f, f->rc, &f->sh.ready, &f->msg);
    CHECK_OK(f->rc);
    for (f->i = 0; f->i < RUNS; f->i++) {
        atomic_store(&f->sh.started, 0);
        atomic_store(&f->sh.go, 0);
        {
            struct runner r = {.sh = &f->sh};
            CHECK_OK(rt_spawn(runner, &r, sizeof r, &f->j));
        }
        /* Until it spins: then it is on the other worker, as this task
         * runs too. */
        while (!atomic_load(&f->sh.started)) {
            sched_yield(); /* as the runner's loop */
            RT_AWAIT_YIELD(f);
        }
        CHECK(atomic_load(&f->sh.worker) != rt_worker_index());
        if (f->i % 2 == 0) {
            CHECK_OK(rt_cancel(&f->j));
            atomic_store(&f->sh.go, 1);
        } else {
            atomic_store(&f->sh.go, 1);
            CHECK_OK(rt_cancel(&f->j));
        }
        RT_AWAIT_JOIN(f, f->rc, &f->j);
        CHECK_OK(f->rc);
        CHECK_EQ(f->j.ret, 9);
        CHECK_EQ(rt_chan_len(&f->sh.ready), 1); /* the refused receive */
    }
    /* A join cancelled as the task it joins ends, on the other worker or
     * this one: it returns that task's result or -ECANCELED, and either
     * way the handle is done with (joined, or given up and the task freed
     * at its end). */
    for (f->i = 0; f->i < RUNS; f->i++) {
        {
            struct ender e = {.end = &f->sh.end[f->i], .ended = &f->sh.ended};
            CHECK_OK(rt_spawn(ender, &e, sizeof e, &f->t));
            struct race_joiner rj = {.j = &f->t};
            CHECK_OK(rt_spawn(race_joiner, &rj, sizeof rj, &f->j));
        }
        if (f->i % 2)
            RT_AWAIT_YIELD(f);
        rt_notify_one(&f->sh.end[f->i]);
        CHECK_OK(rt_cancel(&f->j));
        RT_AWAIT_JOIN(f, f->rc, &f->j);
        CHECK_OK(f->rc);
        CHECK(f->j.ret == 7 || f->j.ret == -ECANCELED);
        f->joined += f->j.ret == 7;
        RT_AWAIT_JOIN(f, f->rc, &f->t);
        CHECK_EQ(f->rc, -ESRCH);
    }
    fprintf(stderr, "join races: %d of %d joined, the rest cancelled\n",
            f->joined, RUNS);
    /* The given-up enders run on detached: each ends (its notify, in this
     * frame, is done with before this task ends). */
    while (atomic_load(&f->sh.ended) != RUNS)
        RT_AWAIT_YIELD(f);
    rt_chan_fini(&f->sh.empty); /* asserts that no waiter is left */
    rt_chan_fini(&f->sh.ready);
    RT_RETURN(f, 1);
    RT_END(f);
}

int main(void)
{
    struct running *r = calloc(1, sizeof *r);
    CHECK(r != NULL);
    intptr_t v = 0;
    CHECK_OK(rt_run_opts(&(struct rt_opts){.workers = 2}, running, r, sizeof *r,
                         &v));
    CHECK_EQ(v, 1);
    free(r);
    return 0;
}

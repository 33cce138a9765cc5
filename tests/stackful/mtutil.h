/* Helpers of the multi-worker tests: a gate a green thread parks on until
 * another thread opens it, and one "agent" green thread pinned to each
 * worker, through which a thread can move itself to a chosen worker (the
 * agent wakes it, so it goes to that worker's LIFO slot and runs there
 * next). Everything here is made of gt_park and wakers only, so the tests
 * need no channel or timer. */
#ifndef TESTS_STACKFUL_MTUTIL_H
#define TESTS_STACKFUL_MTUTIL_H

#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include <greenfut/gt.h>

#define MT_WORKERS 2

/* A one-shot wait: the waiter parks until `open` is set. */
struct gate {
    atomic_int open;
    struct rt_waker w; /* the waiter's clone, set before it first parks */
};

static inline void gate_init(struct gate *g)
{
    atomic_init(&g->open, 0);
    g->w = rt_waker_clone(gt_waker());
}

static inline void gate_wait(struct gate *g, const char *what)
{
    while (!atomic_load(&g->open))
        gt_park(what);
}

/* Any thread; consumes the waiter's clone. */
static inline void gate_pass(struct gate *g)
{
    struct rt_waker w = g->w;
    atomic_store(&g->open, 1);
    rt_waker_wake(&w);
}

/* An agent: pinned to its worker, wakes whoever asks. */
struct agent {
    _Atomic(struct gate *) req; /* one request at a time */
    atomic_int bell;
    const struct rt_waker *w; /* the agent's own waker */
    atomic_int ready, quit;
    int64_t id;
};

static struct agent agents[MT_WORKERS];
static atomic_int agents_claimed;

static inline void *agent_serve(struct agent *a)
{
    a->w = gt_waker();
    atomic_store(&a->ready, 1);
    for (;;) {
        while (!atomic_exchange(&a->bell, 0))
            gt_park("agent bell");
        struct gate *g = atomic_exchange(&a->req, NULL);
        if (g)
            gate_pass(g);
        if (atomic_load(&a->quit) && !atomic_load(&a->req))
            return NULL;
    }
}

/* Spawned a few times: each yields until the worker it runs on has no
 * agent, then pins itself there and serves. A seeker that runs on another
 * worker than its spawner's got there by being stolen. */
static inline void *seeker(void *arg)
{
    (void)arg;
    for (;;) {
        if (atomic_load(&agents_claimed) == MT_WORKERS)
            return NULL;
        int k = gt_worker();
        CHECK(k >= 0 && k < MT_WORKERS);
        int zero = 0;
        if (atomic_compare_exchange_strong(&agents[k].ready, &zero, 2)) {
            CHECK_OK(gt_pin());
            atomic_fetch_add(&agents_claimed, 1);
            return agent_serve(&agents[k]);
        }
        gt_yield();
    }
}

/* Starts an agent on every worker; returns when all serve. */
static inline void agents_start(void)
{
    enum { SEEKERS = 8 };
    for (int i = 0; i < SEEKERS; i++)
        CHECK_GT(gt_spawn(seeker, NULL, NULL), 0);
    for (int k = 0; k < MT_WORKERS; k++)
        while (atomic_load(&agents[k].ready) != 1)
            gt_yield();
}

static inline void agents_stop(void)
{
    for (int k = 0; k < MT_WORKERS; k++) {
        atomic_store(&agents[k].quit, 1);
        atomic_store(&agents[k].bell, 1);
        rt_waker_wake_by_ref(agents[k].w);
    }
}

/* Parks the caller until agent k wakes it: it resumes on worker k, unless
 * a thief took it from there first. */
static inline void agent_hop(int k)
{
    struct agent *a = &agents[k];
    struct gate g;
    gate_init(&g);
    struct gate *none = NULL;
    while (!atomic_compare_exchange_weak(&a->req, &none, &g)) {
        none = NULL;
        gt_yield();
    }
    atomic_store(&a->bell, 1);
    rt_waker_wake_by_ref(a->w);
    gate_wait(&g, "hop");
}

/* Moves the caller to worker k (retrying when a thief was faster). */
static inline void move_to(int k)
{
    while (gt_worker() != k)
        agent_hop(k);
}

#endif

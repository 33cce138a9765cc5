/* Lab: thread-locals and migration.
 *
 * Two workers. Each worker's OS thread keeps its index + 1 in its own copy
 * of the thread-local tls_slot. A mover task then runs tls_keep
 * (lab_tls_hazard.c, built at -O2 -fPIC), which reads tls_slot, awaits a
 * wake that an agent task pinned to the other worker sends, and reads
 * tls_slot again: ROUNDS times, each to the other worker. Then the mover
 * pins itself (rt_pin) and does the same ROUNDS times: the wakes still
 * come from the other worker, but it stays on its own.
 *
 * Stackful: the await parks the green thread inside tls_keep's one call,
 * and it resumes on the other OS thread; when the compiler kept the
 * variable's address in a register across the park (GCC 12 on x86-64
 * does), the second read is the old thread's copy. The runtime's accessor
 * (rt_worker_index) and a fresh read (tls_fresh, not inlined) name the new
 * worker. Stackless: tls_keep returns at the await and is polled again on
 * the new worker, which computes the address anew: the same source reads
 * the right copy every time.
 *
 * Rows: lab_tls,<backend>,2 (workers): moves (rounds that changed worker),
 * stale_reads (moves whose second read returned the old worker's copy),
 * fresh_right (moves where rt_worker_index() and a fresh read both name
 * the new worker), pinned_moves (pinned rounds that changed worker) and
 * pinned_stale (pinned rounds whose reads were not its worker's).
 * --check, in every run: some rounds moved; the accessor and the fresh
 * read are right after every move; the pinned task never moved and always
 * read its own copy; stackless never reads a stale copy; stackful reads one
 * after every move where the hazard is known to appear (GCC on x86-64, no
 * sanitizer, whose instrumentation changes the code; elsewhere the count
 * is printed, since no standard makes the compiler keep the address).
 * No params.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "lab_tls_hazard.h"
#include <greenfut/rt.h>

#define WORKERS 2
#define ROUNDS  8
#define HOPS    1000 /* wakes per move at most */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Where the stackful hazard is asserted rather than only printed. */
#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL &&             \
    defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !SANITIZED
#define HAZARD_EXPECTED 1
#else
#define HAZARD_EXPECTED 0
#endif

/* An agent: a task pinned to one worker that notifies, from there, what
 * it is asked to. `state` goes 0 (free) -> 1 (claimed by a seeker) -> 2
 * (pinned, tls_slot set: serving); `req` is written by the one asker at a
 * time (the mover waits for each answer before it asks again) and taken
 * by the agent; `quit` is set by the root at the end. */
struct agent {
    struct rt_notify bell; /* rings the agent */
    _Atomic(struct rt_notify *) req;
    atomic_int state, quit;
};
static struct agent agents[WORKERS];

/* What the mover saw, for main; written by the mover only. */
static struct {
    int moves, stale, fresh_right, before_wrong;
    int pinned_moves, pinned_stale;
    struct tls_keep first; /* the first round that moved */
} seen;

enum rt_poll tls_move(void *self)
{
    struct tls_move *f = self;
    RT_BEGIN(f);
    /* Again while a thief takes it back before it runs where it was woken
     * (bounded: a scheduler that never lets it move fails the check). */
    for (f->hops = 0; f->hops < f->max_hops && rt_worker_index() != f->target;
         f->hops++) {
        atomic_store(&agents[f->target].req, f->back);
        rt_notify_one(&agents[f->target].bell);
        RT_AWAIT_NOTIFIED(f, f->rc, f->back);
    }
    RT_END(f);
}

/* Claims the agent of the worker the caller runs on: pins the caller
 * there and sets that thread's tls_slot. Returns the worker, or -1 when
 * its agent is taken. */
static int claim(void)
{
    int k = rt_worker_index();
    int free_ = 0;
    if (k < 0 || k >= WORKERS ||
        !atomic_compare_exchange_strong(&agents[k].state, &free_, 1))
        return -1;
    if (rt_pin() != 0)
        bh_fail("lab_tls: rt_pin failed");
    tls_set(k + 1);
    atomic_store(&agents[k].state, 2);
    return k;
}

static bool all_serving(void)
{
    for (int k = 0; k < WORKERS; k++)
        if (atomic_load(&agents[k].state) != 2)
            return false;
    return true;
}

/* Takes agent k's request and answers it; returns whether to stop. */
static bool answer(int k)
{
    struct rt_notify *n = atomic_exchange(&agents[k].req, NULL);
    if (n)
        rt_notify_one(n);
    return atomic_load(&agents[k].quit);
}

/* Spawned a few times: yields until it runs on a worker whose agent is
 * free, or every agent is taken; the one that claims a worker serves. */
struct seeker {
    RT_FRAME;
    int k, rc;
};

static enum rt_poll seeker(void *self)
{
    struct seeker *f = self;
    RT_BEGIN(f);
    for (f->k = claim(); f->k < 0 && !all_serving(); f->k = claim())
        RT_AWAIT_YIELD(f);
    while (f->k >= 0) {
        RT_AWAIT_NOTIFIED(f, f->rc, &agents[f->k].bell);
        if (answer(f->k))
            break;
    }
    RT_END(f);
}

static void note_move(const struct tls_keep *k)
{
    seen.before_wrong += k->before != k->from + 1;
    if (k->to == k->from)
        return; /* no move to look at */
    if (seen.moves++ == 0)
        seen.first = *k;
    seen.stale += k->after == k->from + 1;
    seen.fresh_right += k->fresh == k->to + 1;
}

static void note_pinned(const struct tls_keep *k, int mine)
{
    seen.pinned_moves += k->from != mine || k->to != mine;
    seen.pinned_stale += k->before != mine + 1 || k->after != mine + 1;
}

struct mover {
    RT_FRAME;
    struct rt_notify back;
    struct tls_keep keep;
    int r, mine;
};

static enum rt_poll mover(void *self)
{
    struct mover *f = self;
    RT_BEGIN(f);
    rt_notify_init(&f->back);
    for (f->r = 0; f->r < ROUNDS; f->r++) {
        f->keep = (struct tls_keep){.target = 1 - rt_worker_index(),
                                    .max_hops = HOPS,
                                    .back = &f->back};
        RT_AWAIT_CALL(f, tls_keep, &f->keep);
        note_move(&f->keep);
    }
    /* Pinned: woken from the other worker, it stays. */
    if (rt_pin() != 0)
        bh_fail("lab_tls: rt_pin failed");
    f->mine = rt_worker_index();
    for (f->r = 0; f->r < ROUNDS; f->r++) {
        f->keep = (struct tls_keep){
            .target = 1 - f->mine, .max_hops = 1, .back = &f->back};
        RT_AWAIT_CALL(f, tls_keep, &f->keep);
        note_pinned(&f->keep, f->mine);
    }
    RT_END(f);
}

static void stop_agents(void)
{
    for (int k = 0; k < WORKERS; k++) {
        atomic_store(&agents[k].quit, 1);
        rt_notify_one(&agents[k].bell);
    }
}

struct root {
    RT_FRAME;
    struct rt_join m;
    int i, rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < 4 * WORKERS; f->i++) {
        struct seeker s = {0};
        if (rt_spawn(seeker, &s, sizeof(s), NULL) < 0)
            bh_fail("lab_tls: spawn failed");
    }
    while (!all_serving())
        RT_AWAIT_YIELD(f);
    {
        struct mover m = {0};
        if (rt_spawn(mover, &m, sizeof(m), &f->m) < 0)
            bh_fail("lab_tls: spawn failed");
    }
    RT_AWAIT_JOIN(f, f->rc, &f->m);
    stop_agents();
    RT_END(f);
}

static void run(void)
{
    memset(&seen, 0, sizeof(seen));
    for (int k = 0; k < WORKERS; k++) {
        rt_notify_init(&agents[k].bell);
        atomic_store(&agents[k].req, NULL);
        atomic_store(&agents[k].state, 0);
        atomic_store(&agents[k].quit, 0);
    }
    struct root r = {0};
    if (rt_run_opts(&(struct rt_opts){.workers = WORKERS}, root, &r, sizeof(r),
                    NULL) != 0)
        bh_fail("lab_tls: rt_run failed");
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {-1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    const char *b = rt_backend_name();
    double moves[BH_MAX_RUNS], stale[BH_MAX_RUNS], right[BH_MAX_RUNS];
    double pmoves[BH_MAX_RUNS], pstale[BH_MAX_RUNS];
    bool moved = true, accessor = true, pinned = true, hazard = true;
    bool clean = true;
    for (int r = 0; r < a.bh.runs; r++) {
        run();
        const struct tls_keep *k = &seen.first;
        if (r == 0 && seen.moves)
            fprintf(stderr,
                    "lab_tls: %s: moved from worker %d to %d: tls_keep read "
                    "%d before and %d after the move; rt_worker_index() says "
                    "%d, a fresh read %d\n",
                    b, k->from, k->to, k->before, k->after, k->to, k->fresh);
        moves[r] = seen.moves;
        stale[r] = seen.stale;
        right[r] = seen.fresh_right;
        pmoves[r] = seen.pinned_moves;
        pstale[r] = seen.pinned_stale;
        moved &= seen.moves > 0;
        accessor &= seen.fresh_right == seen.moves && !seen.before_wrong;
        pinned &= !seen.pinned_moves && !seen.pinned_stale;
        hazard &= seen.stale == seen.moves;
        clean &= seen.stale == 0;
    }
    fprintf(stderr, "lab_tls: %s: %s\n", b,
            hazard  ? "every move read the old OS thread's copy"
            : clean ? "no move read the old OS thread's copy"
                    : "some moves read the old OS thread's copy");
    bh_row("lab_tls", b, WORKERS, "moves", "count", moves, a.bh.runs);
    bh_row("lab_tls", b, WORKERS, "stale_reads", "count", stale, a.bh.runs);
    bh_row("lab_tls", b, WORKERS, "fresh_right", "count", right, a.bh.runs);
    bh_row("lab_tls", b, WORKERS, "pinned_moves", "count", pmoves, a.bh.runs);
    bh_row("lab_tls", b, WORKERS, "pinned_stale", "count", pstale, a.bh.runs);
    if (a.check) {
        lab_expect(moved, "the mover changed worker in every run");
        lab_expect(accessor, "after every move, rt_worker_index() and a "
                             "fresh read name the new worker");
        lab_expect(pinned, "the pinned mover stayed on its worker and read "
                           "its own copy");
#if defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
        lab_expect(clean, "stackless: no read after a move reached the old "
                          "thread's copy");
#elif HAZARD_EXPECTED
        lab_expect(hazard, "stackful, GCC on x86-64: every read after a "
                           "move reached the old thread's copy");
#endif
    }
    return lab_status();
}

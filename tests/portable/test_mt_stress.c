/* Tokens around a ring of channels, on two workers and on one: RELAYS tasks
 * each receive from their channel and send to the next one's; every token
 * goes HOPS hops, then is retired under a mutex. Half the relays receive
 * with a short deadline, so deadlines race the sends all the time. A
 * semaphore keeps at most RELAYS * CAP tokens in flight, which keeps the
 * ring from filling up (a relay holding a token can always hand it on:
 * were every relay holding one and waiting on a full channel, the ring
 * would hold more than RELAYS * CAP tokens).
 *
 * Checked: every token is retired exactly once, with all its hops; the
 * sums of the ids and of the hops match; the mutex-protected counters were
 * never entered by two tasks at once; with two workers, tasks ran on both
 * workers. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <greenfut/rt.h>

#define RELAYS 64
#define CAP    2
#define TOKENS 4000
#define HOPS   16

struct token {
    int id;
    int hops;
};

static struct rt_chan ring[RELAYS];
static struct rt_sem in_flight;
static struct rt_mutex mu;
static int retired_once[TOKENS]; /* under mu */
static long id_sum, hop_sum;     /* under mu */
static int retired;              /* under mu */
static atomic_int inside;        /* tasks inside mu: at most 1 */
static atomic_uint workers_seen; /* bit i: a relay ran on worker i */
static atomic_long timeouts;

static void note_worker(void)
{
    int w = rt_worker_index();
    CHECK(w >= 0 && w < 32);
    atomic_fetch_or(&workers_seen, 1u << w);
}

struct relay {
    RT_FRAME;
    int i, res;
    struct token t;
    struct rt_timer tm;
    uint64_t deadline;
};

static enum rt_poll relay(void *self)
{
    struct relay *f = self;
    RT_BEGIN(f);
    for (;;) {
        note_worker();
        if (f->i % 2) {
            f->deadline = rt_deadline_after(20000); /* 20 us */
            RT_AWAIT_RECV_UNTIL(f, f->res, &ring[f->i], &f->t, &f->tm,
                                f->deadline);
            if (f->res == -ETIMEDOUT) {
                atomic_fetch_add(&timeouts, 1);
                continue;
            }
        } else {
            RT_AWAIT_RECV(f, f->res, &ring[f->i], &f->t);
        }
        if (f->res == 0)
            break; /* closed: every token is retired */
        CHECK_EQ(f->res, 1);
        if (++f->t.hops < HOPS) {
            RT_AWAIT_SEND(f, f->res, &ring[(f->i + 1) % RELAYS], &f->t);
            CHECK_EQ(f->res, 0);
            continue;
        }
        RT_AWAIT_LOCK(f, &mu);
        CHECK_EQ(atomic_fetch_add(&inside, 1), 0);
        CHECK(f->t.id >= 0 && f->t.id < TOKENS);
        retired_once[f->t.id]++;
        id_sum += f->t.id;
        hop_sum += f->t.hops;
        int all = ++retired == TOKENS;
        atomic_fetch_sub(&inside, 1);
        rt_mutex_unlock(&mu);
        rt_sem_release(&in_flight);
        if (all)
            for (int k = 0; k < RELAYS; k++)
                rt_chan_close(&ring[k]);
    }
    RT_END(f);
}

struct root {
    RT_FRAME;
    int i, res;
    struct token t;
    struct rt_join joins[RELAYS];
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < RELAYS; f->i++) {
        struct relay r = {.i = f->i};
        CHECK_OK(rt_spawn(relay, &r, sizeof r, &f->joins[f->i]));
    }
    for (f->i = 0; f->i < TOKENS; f->i++) {
        RT_AWAIT_SEM(f, &in_flight);
        f->t = (struct token){f->i, 0};
        RT_AWAIT_SEND(f, f->res, &ring[f->i % RELAYS], &f->t);
        CHECK_EQ(f->res, 0);
    }
    for (f->i = 0; f->i < RELAYS; f->i++) {
        RT_AWAIT_JOIN(f, f->res, &f->joins[f->i]);
        CHECK_EQ(f->res, 0);
    }
    RT_END(f);
}

static void run(unsigned workers)
{
    for (int k = 0; k < RELAYS; k++)
        CHECK_OK(rt_chan_init(&ring[k], sizeof(struct token), CAP));
    rt_sem_init(&in_flight, RELAYS * CAP);
    rt_mutex_init(&mu);
    memset(retired_once, 0, sizeof(retired_once));
    id_sum = hop_sum = 0;
    retired = 0;
    atomic_store(&workers_seen, 0);
    struct root r = {0};
    CHECK_OK(rt_run_opts(&(struct rt_opts){.workers = workers}, root, &r,
                         sizeof r, NULL));
    CHECK_EQ(retired, TOKENS);
    for (int i = 0; i < TOKENS; i++)
        CHECK_EQ(retired_once[i], 1);
    CHECK_EQ(id_sum, (long)TOKENS * (TOKENS - 1) / 2);
    CHECK_EQ(hop_sum, (long)TOKENS * HOPS);
    /* The relays ran on more than one worker; not asked of copy stacks,
     * whose threads stay on the worker they first ran on (here, most
     * often the root's). */
    const char *mode = getenv("RT_STACK_MODE");
    bool pinned = mode && strcmp(mode, "copy") == 0;
    if (workers > 1 && !pinned)
        CHECK(atomic_load(&workers_seen) & ~1u);
    else if (workers > 1)
        CHECK(atomic_load(&workers_seen) != 0);
    else
        CHECK_EQ(atomic_load(&workers_seen), 1u);
    for (int k = 0; k < RELAYS; k++)
        rt_chan_fini(&ring[k]);
}

int main(void)
{
    run(1);
    run(2);
    printf("%s: %ld receive deadlines expired while tokens circulated\n",
           rt_backend_name(), atomic_load(&timeouts));
    return 0;
}

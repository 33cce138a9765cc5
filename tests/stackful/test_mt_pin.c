/* gt_pin with two workers: a pinned thread stays on its worker's OS thread
 * through parks woken from the other worker, through yields among
 * unpinned yielders that do move, and the portable rt_pin and
 * rt_worker_index say the same. Outside a green thread both are -EPERM. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "mtutil.h"

#define ROUNDS 200

static atomic_int stop_yielders;
static atomic_uint yielder_mask;

static void *yielder(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_yielders)) {
        atomic_fetch_or(&yielder_mask, 1u << gt_worker());
        gt_yield();
    }
    return NULL;
}

static void *pinned(void *arg)
{
    (void)arg;
    CHECK_OK(gt_pin());
    CHECK_OK(gt_pin()); /* again: no change */
    int mine = gt_worker();
    pthread_t me = pthread_self();
    for (int r = 0; r < ROUNDS; r++) {
        agent_hop(1 - mine); /* woken from the other worker */
        CHECK_EQ(gt_worker(), mine);
        CHECK(pthread_equal(me, pthread_self()));
        gt_yield(); /* among the yielders */
        CHECK_EQ(gt_worker(), mine);
        CHECK(pthread_equal(me, pthread_self()));
    }
    return (void *)(uintptr_t)(mine + 1);
}

static void *pinned_one(void *arg)
{
    (void)arg;
    CHECK_OK(gt_pin());
    CHECK_EQ(gt_worker(), 0);
    gt_yield();
    CHECK_EQ(gt_worker(), 0);
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    agents_start();
    int64_t ys[8];
    for (int i = 0; i < 8; i++)
        CHECK_GT(ys[i] = gt_spawn(yielder, NULL, NULL), 0);
    int64_t p[2];
    for (int i = 0; i < 2; i++)
        CHECK_GT(p[i] = gt_spawn(pinned, NULL, NULL), 0);
    for (int i = 0; i < 2; i++) {
        void *res = NULL;
        CHECK_OK(gt_join(p[i], &res));
        CHECK((uintptr_t)res == 1 || (uintptr_t)res == 2);
    }
    /* Unpinned yielders do move: stolen onto both workers (without
     * stealing this wait never ends and the test times out). */
    while (atomic_load(&yielder_mask) != 3u)
        gt_yield();
    atomic_store(&stop_yielders, 1);
    for (int i = 0; i < 8; i++)
        CHECK_OK(gt_join(ys[i], NULL));
    agents_stop();
    return NULL;
}

int main(void)
{
    CHECK_EQ(gt_pin(), -EPERM);
    CHECK_EQ(gt_worker(), -EPERM);
    struct gt_config cfg = {.pool_max = 64, .workers = MT_WORKERS};
    CHECK_OK(gt_run(&cfg, root, NULL, NULL));
    /* One worker: pinning is allowed and changes nothing. */
    CHECK_OK(gt_run(NULL, pinned_one, NULL, NULL));
    return 0;
}

/* Deadlock and shutdown with two workers: threads parked for good, the last
 * of them having run on each worker, and the root waiting to join one.
 * Every worker goes idle, the reactor can wake nobody, so gt_run prints
 * the stuck threads and returns -EDEADLK; its teardown, after both workers
 * were joined, frees the threads parked on each worker (leak checkers see
 * it: the run is repeated in this process). A scheduler runs again after. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "check.h"
#include "child.h"
#include "mtutil.h"

static atomic_int parked_on[MT_WORKERS];

static void *stuck(void *arg)
{
    int k = (int)(intptr_t)arg;
    move_to(k);
    atomic_store(&parked_on[k], 1);
    for (;;)
        gt_park(k == 0 ? "a gate on worker 0" : "a gate on worker 1");
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    agents_start();
    int64_t ids[MT_WORKERS];
    for (int k = 0; k < MT_WORKERS; k++)
        CHECK_GT(ids[k] = gt_spawn(stuck, (void *)(intptr_t)k,
                                   &(struct gt_opts){.name = "stuck"}),
                 0);
    gt_join(ids[0], NULL); /* never returns */
    return NULL;
}

static void *ok_root(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)7;
}

static int deadlock_child(void)
{
    memset(agents, 0, sizeof(agents));
    atomic_store(&agents_claimed, 0);
    struct gt_config cfg = {.pool_max = 64, .workers = MT_WORKERS};
    int rc = gt_run(&cfg, root, NULL, NULL);
    if (rc != -EDEADLK)
        return 1;
    for (int k = 0; k < MT_WORKERS; k++)
        if (!atomic_load(&parked_on[k]))
            return 2;
    void *res = NULL;
    if (gt_run(&cfg, ok_root, NULL, &res) != 0 || res != (void *)(intptr_t)7)
        return 3;
    return 0;
}

int main(void)
{
    char err[8192];
    int st = run_child(deadlock_child, err, sizeof(err));
    fprintf(stderr, "child said:\n%s", err);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    /* root, two stuck threads, two agents */
    CHECK(strstr(err, "deadlock: 5 green thread(s) parked") != NULL);
    CHECK(strstr(err, "green thread 1 \"main\" (") != NULL);
    CHECK(strstr(err, ") waiting on join") != NULL);
    CHECK(strstr(err, ") waiting on a gate on worker 0") != NULL);
    CHECK(strstr(err, ") waiting on a gate on worker 1") != NULL);
    CHECK(strstr(err, ") waiting on agent bell") != NULL);
    CHECK_EQ(deadlock_child(), 0);
    return 0;
}

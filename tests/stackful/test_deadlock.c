/* Deadlock detection: every thread parked and nothing can wake them, so
 * gt_run returns -EDEADLK and names each stuck thread and its wait. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "child.h"
#include <greenfut/gt.h>

static void *gate(void *arg)
{
    (void)arg;
    gt_park("a gate nobody opens");
    return NULL;
}

static void *waiter(void *arg)
{
    gt_join(*(int64_t *)arg, NULL);
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    static int64_t g, w;
    g = gt_spawn(gate, NULL, &(struct gt_opts){.name = "gatekeeper"});
    w = gt_spawn(waiter, &g, &(struct gt_opts){.name = "joiner"});
    gt_join(w, NULL);
    return NULL;
}

static int deadlock_child(void)
{
    int rc = gt_run(NULL, root, NULL, NULL);
    return rc == -EDEADLK ? 0 : 1;
}

int main(void)
{
    char err[4096];
    int st = run_child(deadlock_child, err, sizeof(err));
    fprintf(stderr, "child said:\n%s", err);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(strstr(err, "deadlock: 3 green thread(s) parked") != NULL);
    /* Each line names the thread's function between the name and the
     * wait (tests/stackful/test_report_names.c checks that part). */
    CHECK(strstr(err, "green thread 1 \"main\" (") != NULL);
    CHECK(strstr(err, "green thread 2 \"gatekeeper\" (") != NULL);
    CHECK(strstr(err, ") waiting on a gate nobody opens") != NULL);
    CHECK(strstr(err, "green thread 3 \"joiner\" (") != NULL);
    CHECK(strstr(err, ") waiting on join") != NULL);
    /* And in this process too, so leak checkers see the teardown. */
    CHECK_EQ(deadlock_child(), 0);
    return 0;
}

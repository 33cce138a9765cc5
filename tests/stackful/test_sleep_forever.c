/* A huge gt_sleep sleeps: UINT64_MAX ns (where now + ns wraps to the past),
 * UINT64_MAX - 1, and just past INT64_MAX ns (no wrap, but farther than a
 * signed nanosecond count reaches) all leave their threads parked on an
 * armed timer while another thread sleeps short naps and lets the reactor
 * turn. Nothing ends those sleepers, so the run happens in a child process
 * that reports what it saw by its exit status and leaves with _exit. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include <greenfut/gt.h>

static const uint64_t huge[] = {UINT64_MAX, UINT64_MAX - 1,
                                (uint64_t)INT64_MAX + 1000u};
#define SLEEPERS (sizeof(huge) / sizeof(huge[0]))

static int woke[SLEEPERS];

static void *sleeper(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    int rc = gt_sleep(huge[i]);
    woke[i] = rc == 0 ? 1 : 2;
    return NULL;
}

/* Exit codes: 0 = all still asleep; 10 + i = sleeper i woke. */
static void *root(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < SLEEPERS; i++)
        CHECK_GT(gt_spawn(sleeper, (void *)(uintptr_t)i, NULL), 0);
    for (int nap = 0; nap < 3; nap++) /* each nap ends in a reactor turn */
        CHECK_OK(gt_sleep(1000000));
    for (size_t i = 0; i < SLEEPERS; i++)
        if (woke[i])
            _exit(10 + (int)i);
    struct gt_stats st;
    CHECK_OK(gt_stats(&st));
    CHECK_EQ(st.threads_parked, SLEEPERS);
    struct rt_reactor_stats rs;
    CHECK_OK(rt_reactor_stats(gt_reactor(), &rs));
    CHECK_EQ(rs.timers, SLEEPERS); /* each still on an armed timer */
    _exit(0);
}

static int child(void)
{
    gt_run(NULL, root, NULL, NULL);
    return 3; /* not reached: the sleepers never end */
}

int main(void)
{
    char err[4096];
    int st = run_child(child, err, sizeof(err));
    fprintf(stderr, "child said: %s", err);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    return 0;
}

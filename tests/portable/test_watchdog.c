/* The blocking detector (common/watchdog.h) on this test's backend: a task
 * that spins for five thresholds without yielding is named on stderr, once,
 * with its id, name and entry function. The spin runs in a child process
 * whose stderr is a pipe; the watchdog is enabled once through the
 * environment (RT_WATCHDOG_MS) and once through rt_watchdog_set_ms. Around
 * the spin, a portable task sleeps: a parked task is not a stall.
 *
 * Portable tasks carry no name, so the spinner is spawned with the
 * backend's native API (a named green thread, a future whose vtable is
 * named), the one place this file differs between backends. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "rt.h"
#include "watchdog.h"

#define THRESHOLD_MS 50u
#define SPIN_NS      (5u * THRESHOLD_MS * 1000000u)

/* Busy for SPIN_NS of wall time, never yielding. */
static void spin(void)
{
    uint64_t end = rt_now_ns() + SPIN_NS;
    while (rt_now_ns() < end)
        continue;
}

#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
#include "gt.h"

static void *spinner(void *arg)
{
    (void)arg;
    spin();
    return NULL;
}

static void *spin_root(void *arg)
{
    (void)arg;
    int64_t id = gt_spawn(spinner, NULL, &(struct gt_opts){.name = "spinner"});
    CHECK_GT(id, 0);
    CHECK_OK(gt_join(id, NULL));
    return NULL;
}

static void run_spinner(void)
{
    CHECK_OK(gt_run(NULL, spin_root, NULL, NULL));
}
#else
#include "task.h"

struct spinner {
    struct fut_future base;
};

static enum rt_poll spinner_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    spin();
    return RT_READY;
}

static const struct fut_vtable spinner_vt = {spinner_poll, NULL, "spinner"};

static void run_spinner(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct spinner s = {{&spinner_vt}};
    CHECK_OK(fut_spawn(&s.base, sizeof(s), 0, NULL));
    CHECK_OK(fut_run());
    fut_executor_free(ex);
}
#endif

struct sleeper {
    RT_FRAME;
};

static enum rt_poll sleeper(void *self)
{
    struct sleeper *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 3u * THRESHOLD_MS * 1000000u);
    RT_RETURN(f, 1);
    RT_END(f);
}

static int child(void)
{
    struct sleeper s = {0};
    intptr_t ret = 0;
    CHECK_OK(rt_run(sleeper, &s, sizeof s, &ret));
    CHECK_EQ(ret, 1);
    run_spinner();
    return 0;
}

static int child_env(void)
{
    CHECK_EQ(setenv("RT_WATCHDOG_MS", "50", 1), 0);
    CHECK_EQ(rt_watchdog_ms(), THRESHOLD_MS);
    return child();
}

static int child_api(void)
{
    CHECK_EQ(unsetenv("RT_WATCHDOG_MS"), 0);
    CHECK_EQ(rt_watchdog_ms(), 0);
    rt_watchdog_set_ms(THRESHOLD_MS);
    CHECK_EQ(rt_watchdog_ms(), THRESHOLD_MS);
    return child();
}

/* Checks the child's stderr: exactly one report of the spinner. */
static void check_report(const char *err)
{
    const char *line = strstr(err, "\"spinner\" has run ");
    CHECK(line != NULL);
    CHECK(strstr(line + 1, "\"spinner\" has run ") == NULL);
    const char *start = line;
    while (start > err && start[-1] != '\n')
        start--;
    CHECK(strncmp(start, "rt watchdog: task ", 18) == 0);
    unsigned long ms = strtoul(line + strlen("\"spinner\" has run "), NULL, 10);
    CHECK_GE(ms, THRESHOLD_MS); /* reported only past the threshold */
    const char *tail = strstr(line, " ms without yielding (threshold 50 ms); "
                                    "entry ");
    const char *eol = strchr(line, '\n');
    CHECK(tail != NULL && eol != NULL && tail < eol);
}

int main(void)
{
    static char err[1 << 16];
    /* Off unless asked: no thread, nothing reported. */
    CHECK_EQ(unsetenv("RT_WATCHDOG_MS"), 0);
    CHECK_EQ(rt_watchdog_ms(), 0);

    int st = run_child(child_env, err, sizeof(err));
    fprintf(stderr, "env child said:\n%s", err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    check_report(err);

    st = run_child(child_api, err, sizeof(err));
    fprintf(stderr, "api child said:\n%s", err);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    check_report(err);

    printf("%s: ok\n", rt_backend_name());
    return 0;
}

/* The blocking detector (include/greenfut/watchdog.h) on this test's backend: a
 * task that spins for five thresholds without yielding is named on stderr,
 * once, in the task dump's words (its id, name, function and the function
 * that spawned it). The
 * spins run in a child process whose stderr is a pipe; the watchdog is
 * enabled once through the environment (RT_WATCHDOG_MS) and once through
 * rt_watchdog_set_ms. Before the spins, a portable task sleeps: a parked
 * task is not a stall.
 *
 * Two spinners: a portable task (no name; its entry must be its own
 * function, not the backend's wrapper) and a named one spawned with the
 * backend's native API (a green thread, a future whose vtable is named),
 * the one place this file differs between backends. The functions the
 * report names are not static, and the test is linked with -rdynamic, so
 * that dladdr finds them. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include <greenfut/rt.h>
#include <greenfut/watchdog.h>

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
#include <greenfut/gt.h>

#define NATIVE_SPAWNER "spin_root"
#define NATIVE_KIND    ": green thread "
/* As the dump names it: its name and its function. */
#define NATIVE_SPINNER "\"spinner\" (spinner)"

void *spinner(void *arg);
void *spin_root(void *arg);

void *spinner(void *arg)
{
    (void)arg;
    spin();
    return NULL;
}

void *spin_root(void *arg)
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
#include <greenfut/task.h>

#define NATIVE_SPAWNER "run_spinner"
#define NATIVE_KIND    ": task "
/* As the dump names a native future: by its vtable's name. */
#define NATIVE_SPINNER "(spinner)"

struct spinner {
    struct fut_future base;
};

void run_spinner(void);
enum rt_poll spinner_poll(struct fut_future *self, struct rt_cx *cx, void *out);

enum rt_poll spinner_poll(struct fut_future *self, struct rt_cx *cx, void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    spin();
    return RT_READY;
}

static const struct fut_vtable spinner_vt = {spinner_poll, NULL, "spinner"};

void run_spinner(void)
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

/* The portable spinner and the task that spawns it. */
struct portable_spinner {
    RT_FRAME;
};

enum rt_poll portable_spin(void *self);
enum rt_poll portable_spawner(void *self);

enum rt_poll portable_spin(void *self)
{
    struct portable_spinner *f = self;
    RT_BEGIN(f);
    spin();
    RT_RETURN(f, 2);
    RT_END(f);
}

struct spawner {
    RT_FRAME;
    struct rt_join j;
    int rc;
};

enum rt_poll portable_spawner(void *self)
{
    struct spawner *f = self;
    RT_BEGIN(f);
    { /* the template's scope ends before the await (rt.h, rule 3) */
        struct portable_spinner s = {0};
        CHECK_OK(rt_spawn(portable_spin, &s, sizeof s, &f->j));
    }
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_OK(f->rc);
    RT_RETURN(f, f->j.ret);
    RT_END(f);
}

static int child(void)
{
    struct sleeper s = {0};
    intptr_t ret = 0;
    CHECK_OK(rt_run(sleeper, &s, sizeof s, &ret));
    CHECK_EQ(ret, 1);
    run_spinner();
    struct spawner sp = {0};
    CHECK_OK(rt_run(portable_spawner, &sp, sizeof sp, &ret));
    CHECK_EQ(ret, 2);
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

/* The line of `err` that contains `what`, checked to be the only one; its
 * end is stored in *eol. */
static const char *only_line(const char *err, const char *what,
                             const char **eol)
{
    const char *hit = strstr(err, what);
    CHECK(hit != NULL);
    CHECK(strstr(hit + 1, what) == NULL);
    const char *start = hit;
    while (start > err && start[-1] != '\n')
        start--;
    *eol = strchr(hit, '\n');
    CHECK(*eol != NULL);
    return start;
}

/* Checks that [line, eol) contains `what`. */
static void check_has(const char *line, const char *eol, const char *what)
{
    const char *hit = strstr(line, what);
    if (!hit || hit > eol)
        fprintf(stderr, "missing \"%s\" in: %.*s\n", what, (int)(eol - line),
                line);
    CHECK(hit != NULL && hit < eol);
}

/* Checks one report line: the prefix, a stall past the threshold, and the
 * task described as the dump describes it (common/dump.c's formatter):
 * its function, running, and the function that spawned it. */
static void check_line(const char *line, const char *eol, const char *entry,
                       const char *site)
{
    CHECK(strncmp(line, "rt watchdog: no yield for ", 26) == 0);
    unsigned long ms = strtoul(line + 26, NULL, 10);
    CHECK_GE(ms, THRESHOLD_MS); /* reported only past the threshold */
    check_has(line, eol, " ms (threshold 50 ms): ");
    check_has(line, eol, entry);
    check_has(line, eol, site);
}

/* Checks the child's stderr: exactly one report of each spinner. (Nothing
 * is asserted about the sleeper: on a loaded machine its first run may
 * itself pass the threshold.) */
static void check_report(const char *err)
{
    const char *eol;
    const char *line = only_line(err, NATIVE_SPINNER " [running", &eol);
    check_line(line, eol, NATIVE_KIND, ", spawned in " NATIVE_SPAWNER " (");
    line = only_line(err, "(portable_spin) [running", &eol);
    check_line(line, eol, NATIVE_KIND, ", spawned in portable_spawner (");
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

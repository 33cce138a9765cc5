/* RT_AWAIT_SLEEP with a huge duration (UINT64_MAX ns) sleeps "forever": the
 * deadline saturates instead of wrapping past zero, which would make the
 * sleep return at once. A watcher task sleeps a short real deadline, sees
 * that the sleeper is still parked with its timer armed, and then ends the
 * test from inside the run (_exit, in a forked child, since nothing can end
 * a task that sleeps forever); the parent checks the child's status. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

#include "check.h"
#include <greenfut/rt.h>

enum { ST_PARKED = 10, ST_WOKE_EARLY, ST_NO_TIMER, ST_RUN_ENDED };

static int woke; /* the sleeper came back */

struct sleeper {
    RT_FRAME;
};

static enum rt_poll sleeper(void *self)
{
    struct sleeper *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, UINT64_MAX);
    woke = 1;
    RT_END(f);
}

struct watcher {
    RT_FRAME;
    int i;
};

static enum rt_poll watcher(void *self)
{
    struct watcher *f = self;
    RT_BEGIN(f);
    /* Until the sleeper has armed its timer (with two workers it may run
     * on the other one, later than this). */
    for (;;) {
        struct rt_reactor_stats st;
        CHECK_OK(rt_reactor_stats(rt_reactor_current(), &st));
        if (st.timers == 1)
            break;
        RT_AWAIT_YIELD(f);
    }
    RT_AWAIT_SLEEP(f, 2000000); /* real time passes: it must sleep on */
    if (woke)
        _exit(ST_WOKE_EARLY);
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(rt_reactor_current(), &st));
    if (st.timers != 1)
        _exit(ST_NO_TIMER);
    /* With the far timer the only one, a yield makes the scheduler look at
     * the reactor without blocking: the huge deadline must not read as
     * "block forever" then (a hang fails through the CTest timeout). */
    for (f->i = 0; f->i < 3; f->i++)
        RT_AWAIT_YIELD(f);
    _exit(ST_PARKED);
    RT_END(f);
}

struct root {
    RT_FRAME;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(
        rt_spawn(sleeper, &(struct sleeper){0}, sizeof(struct sleeper), NULL));
    CHECK_OK(
        rt_spawn(watcher, &(struct watcher){0}, sizeof(struct watcher), NULL));
    RT_END(f);
}

int main(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK_GE(pid, 0);
    if (pid == 0) {
        (void)rt_run(root, &(struct root){0}, sizeof(struct root), NULL);
        _exit(ST_RUN_ENDED);
    }
    int st = 0;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), ST_PARKED);
    return 0;
}

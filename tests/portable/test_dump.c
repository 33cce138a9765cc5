/* rt_dump lists every live task with its function and its wait, on both
 * backends, called from a task and on SIGQUIT (RT_DUMP_SIGNAL's opt-in,
 * here through rt_dump_signal): the tasks of tests/parked_tasks.h, parked
 * on a pipe read (its fd named), a sleep (the time left), a channel
 * receive and a mutex (their addresses), a join, and a child await three
 * levels deep (each frame's resume point as file:line, on stackless).
 * Each run happens in a child whose stderr is a pipe; the task functions are
 * exported (-rdynamic) so that dladdr names them. */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "parked_tasks.h"
#include <greenfut/dump.h>
#include <greenfut/rt.h>

static int use_signal;

struct root {
    RT_FRAME;
    int i;
    unsigned long written; /* rt_dump_signal_count before the signal */
};

/* Whether every task but the root is parked, as a dump shows it. With
 * several workers (RT_WORKERS) a task may still be running or queued on
 * another worker after the root's yields; its line then has no wait. */
static int settled(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK(m != NULL);
    CHECK_OK(rt_dump(m));
    fclose(m);
    int busy = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, "(dump_root") &&
            (strstr(line, "[running") || strstr(line, "[runnable")))
            busy++;
    free(buf);
    return busy == 0;
}

enum rt_poll dump_root(void *self);

enum rt_poll dump_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(parked_spawn_all());
    fprintf(stderr, "pipe fd %d\n", parked_pipe[0]); /* for check_dump */
    /* Let every task run to its first await. */
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    for (f->i = 0; f->i < 1000000 && !settled(); f->i++)
        RT_AWAIT_YIELD(f);
    if (use_signal) {
        f->written = rt_dump_signal_count();
        CHECK_OK(raise(SIGQUIT));
        /* The handler ran inside raise(): the notify is pending, so the
         * first reactor turn after this park returns at once and a worker
         * dumps. With one worker that is before the root runs again; with
         * two the other worker may still be writing when the root wakes,
         * so the root waits for the dump to be out before it exits. */
        RT_AWAIT_SLEEP(f, 1000000u);
        for (f->i = 0; f->i < 1000000 && rt_dump_signal_count() == f->written;
             f->i++)
            RT_AWAIT_YIELD(f);
        CHECK(rt_dump_signal_count() > f->written);
    } else {
        CHECK_OK(rt_dump(stderr));
    }
    fflush(stderr);
    _exit(0); /* the parked tasks would keep the run alive */
    RT_END(f);
}

static int dump_run(void)
{
    CHECK_OK(parked_init());
    if (use_signal)
        rt_dump_signal(1);
    (void)rt_run(dump_root, &(struct root){0}, sizeof(struct root), NULL);
    return 1; /* the root exits the process */
}

/* The dump has a line that names `who` and, after it on the same line,
 * `what`. */
static void expect_line(const char *dump, const char *who, const char *what)
{
    const char *line = strstr(dump, who);
    if (!line)
        fprintf(stderr, "no line for %s\n", who);
    CHECK(line != NULL);
    const char *end = strchr(line, '\n');
    const char *w = strstr(line, what);
    if (!w || (end && w > end))
        fprintf(stderr, "the line of %s lacks %s\n", who, what);
    CHECK(w != NULL && (!end || w < end));
}

/* "waiting on <what> <address of obj>" */
static const char *on_obj(char *buf, size_t len, const char *what,
                          const void *obj)
{
    snprintf(buf, len, "waiting on %s %p [", what, obj);
    return buf;
}

static void check_dump(const char *buf)
{
    char want[128];
    int fd = -1;
    const char *p = strstr(buf, "pipe fd ");
    CHECK(p != NULL);
    CHECK_EQ(sscanf(p, "pipe fd %d", &fd), 1);
    snprintf(want, sizeof want, "waiting on read (fd %d) [", fd);
    expect_line(buf, "(parked_reader", want);
    /* An hour's sleep, a moment old: between 3500 s and 3600 s left. */
    /* (The joiner's line names the sleeper it joins: start at the
     * sleeper's own.) */
    expect_line(buf, "(parked_sleeper) waiting", "waiting on sleep, 3");
    expect_line(buf, "(parked_sleeper) waiting", ".");
    expect_line(buf, "(parked_sleeper) waiting", " s left [parked");
    const char *sl = strstr(buf, "(parked_sleeper) waiting on sleep, ");
    CHECK(sl != NULL);
    double left =
        strtod(sl + strlen("(parked_sleeper) waiting on sleep, "), NULL);
    CHECK(left > 3500.0 && left <= 3600.0);
    expect_line(buf, "(parked_receiver",
                on_obj(want, sizeof want, "channel recv", &parked_empty));
    expect_line(buf, "(parked_locker",
                on_obj(want, sizeof want, "mutex", &parked_held));
    expect_line(buf, "(parked_joiner", "waiting on join");
    /* ... of the sleeper, by id and function. */
    const char *jl = strstr(buf, "(parked_joiner) waiting on join of ");
    CHECK(jl != NULL);
    jl += strlen("(parked_joiner) waiting on join of ");
    jl += strcspn(jl, "0123456789"); /* past "green thread " or "task " */
    long long jid = strtoll(jl, NULL, 10);
    CHECK(jid > 0);
    char sid[64];
    snprintf(sid, sizeof sid, " %lld (parked_sleeper) waiting on sleep", jid);
    expect_line(buf, "(parked_joiner", "(parked_sleeper) [parked");
    CHECK(strstr(buf, sid) != NULL);
    expect_line(buf, "(parked_level1",
                on_obj(want, sizeof want, "channel recv", &parked_deep));
    expect_line(buf, "(parked_reader", "[parked");
    /* rt_dump is called by the root. SIGQUIT's dump runs at the first
     * turn after the root parks in its short sleep, which (on a slow run,
     * valgrind) may have expired by then: parked or runnable, not running. */
    expect_line(buf, "(dump_root", use_signal ? "]" : "[running");
    /* With several workers the root may be running on another one while
     * the worker that took the signal's notify dumps. */
    if (use_signal && one_worker())
        CHECK(strstr(buf, "(dump_root) [running") == NULL);
    if (!one_worker()) {
        /* A line per worker; the root runs on one of them (rt_dump's
         * call), or the dump comes from a worker's own loop (SIGQUIT's). */
        CHECK(strstr(buf, " workers\n  ") != NULL);
        CHECK(strstr(buf, "\n  worker 0: ") != NULL);
        CHECK(strstr(buf, "\n  worker 1: ") != NULL);
        if (use_signal)
            CHECK(strstr(buf, ": in its loop, writing this dump\n") != NULL);
        else
            expect_line(buf, "(dump_root", "[running on worker ");
    } else {
        CHECK(strstr(buf, "worker 0") == NULL);
    }
    if (strcmp(rt_backend_name(), "stackful") == 0) {
        expect_line(buf, "(parked_reader", "bytes");
#ifndef NDEBUG
        /* Unoptimised (every function keeps its frame pointer): a parked
         * thread's backtrace follows its line, innermost first, three task
         * calls deep. An optimised library leaves out its own frames and
         * the walk may stop early: gdb's green-thread is the tool there. */
        const char *bt = strstr(buf, "(parked_level1) waiting");
        CHECK(bt != NULL);
        bt = strchr(bt, '\n');
        CHECK(bt != NULL && strncmp(bt, "\n      #0 ", 10) == 0);
        const char *end = strstr(bt, "\n  green thread");
        const char *l3 = strstr(bt, " parked_level3 (");
        const char *l2 = strstr(bt, " parked_level2 (");
        const char *l1 = strstr(bt, " parked_level1 (");
        CHECK(l3 && l2 && l1 && l3 < l2 && l2 < l1);
        CHECK(!end || l1 < end);
#endif
    } else {
        /* A future names the innermost frame it is suspended in. */
        expect_line(buf, "(parked_level1, in child parked_level3",
                    "channel recv");
        /* ... and the async backtrace: each frame's resume point as
         * source file:line. */
        snprintf(want, sizeof want, "> parked_level3 at parked_tasks.h:%d]",
                 PARKED_DEEP_LINE);
        expect_line(buf, "(parked_level1",
                    "awaits through parked_level1 at parked_tasks.h:");
        expect_line(buf, "(parked_level1",
                    "> parked_level2 at parked_tasks.h:");
        expect_line(buf, "(parked_level1", want);
    }
}

int main(void)
{
    char buf[8192];
    CHECK_EQ(rt_dump(stderr), -EPERM); /* outside a run */
    CHECK_EQ(rt_dump(NULL), -EINVAL);
    for (use_signal = 0; use_signal < 2; use_signal++) {
        int st = run_child(dump_run, buf, sizeof buf);
        fprintf(stderr, "%s dump:\n%s", use_signal ? "SIGQUIT" : "rt_dump",
                buf);
        CHECK(WIFEXITED(st));
        CHECK_EQ(WEXITSTATUS(st), 0);
        check_dump(buf);
    }
    return 0;
}

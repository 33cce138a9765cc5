/* rt_dump lists every live task with its function and its wait, on both
 * backends, called from a task and on SIGQUIT (RT_DUMP_SIGNAL's opt-in,
 * here through rt_dump_signal): tasks parked on a pipe read, a sleep, a
 * channel receive, a mutex, a join, and a child await three levels deep.
 * Each run happens in a child whose stderr is a pipe; the task functions are
 * exported (-rdynamic) so that dladdr names them. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include <greenfut/dump.h>
#include <greenfut/rt.h>

static struct rt_chan empty; /* nobody sends */
static struct rt_chan deep;  /* nobody sends either */
static struct rt_mutex held; /* the root holds it */
static int pipefd[2];
static int use_signal;

struct leaf {
    RT_FRAME;
    char buf[8];
    int msg;
    intptr_t rc;
    struct rt_join j;
};

enum rt_poll dump_reader(void *self);
enum rt_poll dump_sleeper(void *self);
enum rt_poll dump_receiver(void *self);
enum rt_poll dump_locker(void *self);
enum rt_poll dump_joiner(void *self);
enum rt_poll dump_level1(void *self);
enum rt_poll dump_level2(void *self);
enum rt_poll dump_level3(void *self);
enum rt_poll dump_root(void *self);

enum rt_poll dump_reader(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_READ(f, f->rc, pipefd[0], f->buf, sizeof f->buf);
    RT_END(f);
}

enum rt_poll dump_sleeper(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 3600ull * 1000000000ull);
    RT_END(f);
}

enum rt_poll dump_receiver(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &empty, &f->msg);
    RT_END(f);
}

enum rt_poll dump_locker(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_LOCK(f, &held);
    rt_mutex_unlock(&held);
    RT_END(f);
}

enum rt_poll dump_joiner(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    CHECK_OK(
        rt_spawn(dump_sleeper, &(struct leaf){0}, sizeof(struct leaf), &f->j));
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    RT_END(f);
}

struct nest {
    RT_FRAME;
    struct leaf child;
};

struct nest2 {
    RT_FRAME;
    struct nest child;
};

/* The resume line the stackless dump must name for the deep await. */
enum { DEEP_LINE = __LINE__ + 6 };

enum rt_poll dump_level3(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &deep, &f->msg);
    RT_END(f);
}

enum rt_poll dump_level2(void *self)
{
    struct nest *f = self;
    RT_BEGIN(f);
    f->child = (struct leaf){0};
    RT_AWAIT_CALL(f, dump_level3, &f->child);
    RT_END(f);
}

enum rt_poll dump_level1(void *self)
{
    struct nest2 *f = self;
    RT_BEGIN(f);
    f->child = (struct nest){0};
    RT_AWAIT_CALL(f, dump_level2, &f->child);
    RT_END(f);
}

struct root {
    RT_FRAME;
};

enum rt_poll dump_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(pipe(pipefd));
    CHECK_OK(rt_register(pipefd[0]));
    CHECK_OK(rt_mutex_try_lock(&held) ? 0 : -1);
    CHECK_OK(
        rt_spawn(dump_reader, &(struct leaf){0}, sizeof(struct leaf), NULL));
    CHECK_OK(
        rt_spawn(dump_receiver, &(struct leaf){0}, sizeof(struct leaf), NULL));
    CHECK_OK(
        rt_spawn(dump_locker, &(struct leaf){0}, sizeof(struct leaf), NULL));
    CHECK_OK(
        rt_spawn(dump_joiner, &(struct leaf){0}, sizeof(struct leaf), NULL));
    CHECK_OK(
        rt_spawn(dump_level1, &(struct nest2){0}, sizeof(struct nest2), NULL));
    /* Let every task run to its first await. */
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    if (use_signal) {
        CHECK_OK(raise(SIGQUIT));
        /* The handler ran inside raise(): the notify is pending, so the
         * first reactor turn after this park returns at once and the loop
         * dumps before the root runs again. */
        RT_AWAIT_SLEEP(f, 1000000u);
    } else {
        CHECK_OK(rt_dump(stderr));
    }
    fflush(stderr);
    _exit(0); /* the parked tasks would keep the run alive */
    RT_END(f);
}

static int dump_run(void)
{
    CHECK_OK(rt_chan_init(&empty, sizeof(int), 0));
    CHECK_OK(rt_chan_init(&deep, sizeof(int), 0));
    rt_mutex_init(&held);
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

static void check_dump(const char *buf)
{
    expect_line(buf, "(dump_reader", "waiting on read");
    expect_line(buf, "(dump_sleeper", "waiting on sleep");
    expect_line(buf, "(dump_receiver", "waiting on channel recv");
    expect_line(buf, "(dump_locker", "waiting on mutex");
    expect_line(buf, "(dump_joiner", "waiting on join");
    expect_line(buf, "(dump_level1", "waiting on channel recv");
    expect_line(buf, "(dump_reader", "[parked");
    /* rt_dump is called by the root. SIGQUIT's dump runs at the first
     * turn after the root parks in its short sleep, which (on a slow run,
     * valgrind) may have expired by then: parked or runnable, not running. */
    expect_line(buf, "(dump_root", use_signal ? "]" : "[running");
    if (use_signal)
        CHECK(strstr(buf, "(dump_root) [running") == NULL);
    if (strcmp(rt_backend_name(), "stackful") == 0) {
        expect_line(buf, "(dump_reader", "bytes");
    } else {
        /* A future names the innermost frame it is suspended in. */
        expect_line(buf, "(dump_level1, in child dump_level3", "channel recv");
        /* ... and the async backtrace: each frame's resume line. */
        char deep_at[64];
        snprintf(deep_at, sizeof deep_at, "> dump_level3:%d]", DEEP_LINE);
        expect_line(buf, "(dump_level1", "awaits through dump_level1:");
        expect_line(buf, "(dump_level1", "> dump_level2:");
        expect_line(buf, "(dump_level1", deep_at);
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

/* The deadlock report names each stuck portable task by its own function
 * (not the backend's wrapper) and says what it waits on, in every build.
 * The run happens in a child whose stderr is a pipe. The task functions
 * are not static and the test is linked with -rdynamic, so that dladdr
 * finds them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "check.h"
#include "child.h"
#include <greenfut/rt.h>

static struct rt_chan never; /* unbuffered, nobody sends */

struct stuck {
    RT_FRAME;
    int msg;
    int rc;
};

enum rt_poll stuck_in_recv(void *self);
enum rt_poll stuck_parent(void *self);
enum rt_poll stuck_root(void *self);

enum rt_poll stuck_in_recv(void *self)
{
    struct stuck *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &never, &f->msg);
    RT_END(f);
}

/* Stuck in a child task's frame: the report names both functions. */
struct parent {
    RT_FRAME;
    struct stuck child;
};

enum rt_poll stuck_parent(void *self)
{
    struct parent *f = self;
    RT_BEGIN(f);
    f->child = (struct stuck){0};
    RT_AWAIT_CALL(f, stuck_in_recv, &f->child);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join j;
    int rc;
};

enum rt_poll stuck_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_spawn(stuck_in_recv, &(struct stuck){0}, sizeof(struct stuck),
                      &f->j));
    CHECK_OK(rt_spawn(stuck_parent, &(struct parent){0}, sizeof(struct parent),
                      NULL));
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    RT_END(f);
}

static int deadlocked_run(void)
{
    CHECK_OK(rt_chan_init(&never, sizeof(int), 0));
    int rc = rt_run(stuck_root, &(struct root){0}, sizeof(struct root), NULL);
    return rc == -EDEADLK ? 0 : 1;
}

/* The report has a line that names `who` and, after it on the same line,
 * `what`. */
static void expect_line(const char *report, const char *who, const char *what)
{
    const char *line = strstr(report, who);
    CHECK(line != NULL);
    const char *end = strchr(line, '\n');
    const char *w = strstr(line, what);
    CHECK(w != NULL && (!end || w < end));
}

int main(void)
{
    char buf[8192];
    int st = run_child(deadlocked_run, buf, sizeof buf);
    fputs(buf, stderr); /* keep it visible in the test log */
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(strstr(buf, "deadlock") != NULL);
    /* One line per task: its function, then what it waits on. */
    /* (The root's join may name stuck_in_recv first: start at its own.) */
    expect_line(buf, "(stuck_in_recv) waiting", "channel recv");
    expect_line(buf, "stuck_parent", "channel recv");
    expect_line(buf, "stuck_root", "join");
    /* A stackless parent also names the child frame it is suspended in
     * (on stackful the child is a plain call on the same stack). */
    if (strcmp(rt_backend_name(), "stackless") == 0)
        expect_line(buf, "stuck_parent, in child stuck_in_recv",
                    "channel recv");
    return 0;
}

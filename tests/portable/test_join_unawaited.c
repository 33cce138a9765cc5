/* A join handle that is never awaited must not keep its task, nor the
 * scheduler, alive past rt_run: the task is detached when rt_run ends (on
 * stackful, gt_run frees threads never joined). Two shapes: a frame that
 * holds two handles is dropped while awaiting one of them (the run ends in
 * a deadlock), and one handle is reused for many spawns before one join.
 * The ASan build (LeakSanitizer) and the valgrind run catch a leaked task;
 * every build checks that the stackless executor says nothing about tasks
 * still referenced when it is freed. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/rt.h>

#define REUSES 1000

static struct rt_chan never;  /* unbuffered, nobody sends: a stuck receive */
static atomic_int quick_runs; /* tasks may run on two workers */

struct quick {
    RT_FRAME;
    int v;
};

static enum rt_poll quick(void *self)
{
    struct quick *f = self;
    RT_BEGIN(f);
    quick_runs++;
    RT_RETURN(f, f->v);
    RT_END(f);
}

struct stuck {
    RT_FRAME;
    int msg;
    int rc;
};

static enum rt_poll stuck(void *self)
{
    struct stuck *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &never, &f->msg);
    RT_END(f);
}

/* Holds two handles and awaits the one whose task never ends. */
struct two {
    RT_FRAME;
    struct rt_join a, b;
    int rc;
};

static enum rt_poll two(void *self)
{
    struct two *f = self;
    RT_BEGIN(f);
    CHECK_OK(
        rt_spawn(quick, &(struct quick){.v = 1}, sizeof(struct quick), &f->b));
    CHECK_OK(rt_spawn(stuck, &(struct stuck){0}, sizeof(struct stuck), &f->a));
    RT_AWAIT_JOIN(f, f->rc, &f->a);
    RT_END(f);
}

/* Spawns REUSES tasks into one handle, then joins the last. */
struct reuse {
    RT_FRAME;
    struct rt_join j;
    int i;
    int rc;
};

static enum rt_poll reuse(void *self)
{
    struct reuse *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < REUSES; f->i++)
        CHECK_OK(rt_spawn(quick, &(struct quick){.v = f->i},
                          sizeof(struct quick), &f->j));
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->rc, 0);
    RT_RETURN(f, f->j.ret);
    RT_END(f);
}

/* Runs one rt_run with stderr captured into buf; returns its rc. */
static int captured(rt_task_fn fn, const void *frame, size_t size,
                    intptr_t *ret, char *buf, size_t len)
{
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    fflush(stderr);
    int saved = dup(2);
    CHECK_OK(saved);
    CHECK_OK(dup2(fileno(tmp), 2));
    int rc = rt_run(fn, frame, size, ret);
    fflush(stderr);
    CHECK_OK(dup2(saved, 2));
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, len - 1, tmp);
    buf[n] = 0;
    fclose(tmp);
    fputs(buf, stderr); /* keep it visible in the test log */
    return rc;
}

int main(void)
{
    char buf[8192];
    CHECK_OK(rt_chan_init(&never, sizeof(int), 0));
    CHECK_EQ(captured(two, &(struct two){0}, sizeof(struct two), NULL, buf,
                      sizeof buf),
             -EDEADLK);
    CHECK_EQ(quick_runs, 1);
    CHECK(strstr(buf, "still referenced") == NULL);

    quick_runs = 0;
    intptr_t ret = -1;
    CHECK_EQ(captured(reuse, &(struct reuse){0}, sizeof(struct reuse), &ret,
                      buf, sizeof buf),
             0);
    CHECK_EQ(ret, REUSES - 1);
    CHECK_EQ(quick_runs, REUSES);
    CHECK(strstr(buf, "still referenced") == NULL);
    return 0;
}

/* Stackful overflow and deadlock reports name the task's own function: a
 * portable task by its rt_task_fn (not the wrapper that runs it on a green
 * thread), a native thread by the function given to gt_spawn, next to what
 * it waits on. The functions are not static and the test is linked with
 * -rdynamic, so dladdr can name them. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "child.h"
#include <greenfut/gt.h>
#include <greenfut/rt.h>

enum rt_poll names_waiter(void *self);
enum rt_poll names_overflower(void *self);
enum rt_poll names_root(void *self);
void *names_native(void *arg);

static struct rt_chan chan;

struct task {
    RT_FRAME;
    int msg;
    int res;
};

enum rt_poll names_waiter(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->res, &chan, &f->msg); /* nobody ever sends */
    RT_END(f);
}

void *names_native(void *arg)
{
    (void)arg;
    struct rt_cx cx = gt_cx();
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int msg, res;
    while (rt_chan_poll_recv(&chan, &op, &msg, &cx, &res) == RT_PENDING)
        gt_park("native recv");
    return NULL;
}

/* noinline and the use after the call keep one 4 KiB frame per level. */
__attribute__((noinline)) static unsigned deep(unsigned depth)
{
    volatile unsigned char buf[4096];
    buf[0] = (unsigned char)depth;
    buf[sizeof(buf) - 1] = 1;
    unsigned sum = depth ? deep(depth - 1) : 0;
    return sum + buf[0] + buf[sizeof(buf) - 1];
}

enum rt_poll names_overflower(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    f->res = (int)deep(1000); /* 4 MiB on a 64 KiB stack */
    RT_END(f);
}

struct root {
    RT_FRAME;
    int overflow;
};

enum rt_poll names_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    struct task t = {0};
    if (f->overflow) {
        CHECK_OK(rt_spawn(names_overflower, &t, sizeof(t), NULL));
    } else {
        CHECK_OK(rt_spawn(names_waiter, &t, sizeof(t), NULL));
        CHECK_GT(
            gt_spawn(names_native, NULL, &(struct gt_opts){.name = "native"}),
            0);
    }
    RT_END(f);
}

static int deadlock_child(void)
{
    CHECK_OK(rt_chan_init(&chan, sizeof(int), 0));
    struct root r = {.overflow = 0};
    /* The channel is not finished: the native thread's waiter is still
     * queued on it (a portable task's is cancelled at teardown). */
    return rt_run(names_root, &r, sizeof(r), NULL) == -EDEADLK ? 0 : 3;
}

static int overflow_child(void)
{
    struct root r = {.overflow = 1};
    (void)rt_run(names_root, &r, sizeof(r), NULL);
    return 3; /* not reached: the overflow aborts */
}

int main(void)
{
    char err[4096];
    int st = run_child(deadlock_child, err, sizeof(err));
    fprintf(stderr, "deadlock child said: %s", err);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK(strstr(err, "green thread 2 (names_waiter) waiting on channel "
                      "recv") != NULL);
    CHECK(strstr(err, "green thread 3 \"native\" (names_native) waiting on "
                      "native recv") != NULL);

    st = run_child(overflow_child, err, sizeof(err));
    fprintf(stderr, "overflow child said: %s", err);
    CHECK(WIFSIGNALED(st));
    CHECK_EQ(WTERMSIG(st), SIGABRT);
    CHECK(strstr(err, "stack overflow in green thread 2 (names_overflower)") !=
          NULL);
    return 0;
}

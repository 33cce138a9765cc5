/* The program tests/gdb/test_gdb.py looks at: the same portable tasks on
 * either backend, each parked in a different await (a pipe read, a sleep, a
 * channel receive, a mutex, a join, and a child await three levels deep),
 * then "ready" on stdout and a long sleep until the test kills it. Built
 * -O0 with frame pointers so every call of the chain is a frame to see. */
#include <stdio.h>
#include <unistd.h>

#include <greenfut/rt.h>

static struct rt_chan empty; /* nobody sends */
static struct rt_chan deep;  /* nobody sends either */
static struct rt_mutex held; /* the root holds it */
static int pipefd[2];

struct leaf {
    RT_FRAME;
    char buf[8];
    int msg;
    intptr_t rc;
    struct rt_join j;
};

struct nest {
    RT_FRAME;
    struct leaf child;
};

struct nest2 {
    RT_FRAME;
    struct nest child;
};

enum rt_poll parked_reader(void *self);
enum rt_poll parked_sleeper(void *self);
enum rt_poll parked_receiver(void *self);
enum rt_poll parked_locker(void *self);
enum rt_poll parked_joiner(void *self);
enum rt_poll parked_level1(void *self);
enum rt_poll parked_level2(void *self);
enum rt_poll parked_level3(void *self);
enum rt_poll parked_root(void *self);

enum rt_poll parked_reader(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_READ(f, f->rc, pipefd[0], f->buf, sizeof f->buf);
    RT_END(f);
}

enum rt_poll parked_sleeper(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 3600ull * 1000000000ull);
    RT_END(f);
}

enum rt_poll parked_receiver(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &empty, &f->msg);
    RT_END(f);
}

enum rt_poll parked_locker(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_LOCK(f, &held);
    rt_mutex_unlock(&held);
    RT_END(f);
}

enum rt_poll parked_joiner(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    if (rt_spawn(parked_sleeper, &(struct leaf){0}, sizeof(struct leaf),
                 &f->j) < 0)
        _exit(2);
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    RT_END(f);
}

enum rt_poll parked_level3(void *self)
{
    struct leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &deep, &f->msg); /* gdb: the deep await */
    RT_END(f);
}

enum rt_poll parked_level2(void *self)
{
    struct nest *f = self;
    RT_BEGIN(f);
    f->child = (struct leaf){0};
    RT_AWAIT_CALL(f, parked_level3, &f->child);
    RT_END(f);
}

enum rt_poll parked_level1(void *self)
{
    struct nest2 *f = self;
    RT_BEGIN(f);
    f->child = (struct nest){0};
    RT_AWAIT_CALL(f, parked_level2, &f->child);
    RT_END(f);
}

struct root {
    RT_FRAME;
};

static void spawn(rt_task_fn fn, const void *frame, size_t size)
{
    if (rt_spawn(fn, frame, size, NULL) < 0)
        _exit(2);
}

enum rt_poll parked_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (pipe(pipefd) < 0 || rt_register(pipefd[0]) < 0 ||
        !rt_mutex_try_lock(&held))
        _exit(2);
    spawn(parked_reader, &(struct leaf){0}, sizeof(struct leaf));
    spawn(parked_receiver, &(struct leaf){0}, sizeof(struct leaf));
    spawn(parked_locker, &(struct leaf){0}, sizeof(struct leaf));
    spawn(parked_joiner, &(struct leaf){0}, sizeof(struct leaf));
    spawn(parked_level1, &(struct nest2){0}, sizeof(struct nest2));
    /* Let every task run to its first await. */
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    printf("ready\n");
    fflush(stdout);
    RT_AWAIT_SLEEP(f, 3600ull * 1000000000ull);
    RT_END(f);
}

int main(void)
{
    if (rt_chan_init(&empty, sizeof(int), 0) < 0 ||
        rt_chan_init(&deep, sizeof(int), 0) < 0)
        return 2;
    rt_mutex_init(&held);
    return rt_run(parked_root, &(struct root){0}, sizeof(struct root), NULL)
               ? 1
               : 0;
}

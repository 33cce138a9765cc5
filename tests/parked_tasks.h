/* Portable tasks that park in every kind of await, shared by the task dump's
 * test (tests/portable/test_dump.c) and the gdb extension's test program
 * (tests/gdb/parked.c): a pipe read, a sleep, a channel receive, a mutex, a
 * join (of a sleeper), and a channel receive three task calls deep.
 *
 * Include it from exactly one source file of a program: it defines the
 * tasks (not static, so that dladdr and gdb name them) and their objects.
 * Call parked_init() before the run and parked_spawn_all() from the root
 * task; then two RT_AWAIT_YIELDs of the root let every task reach its
 * await. The tasks never end: the program exits from its root.
 */
#ifndef RT_TESTS_PARKED_TASKS_H
#define RT_TESTS_PARKED_TASKS_H

#include <errno.h>
#include <unistd.h>

#include <greenfut/rt.h>

static struct rt_chan parked_empty; /* nobody sends */
static struct rt_chan parked_deep;  /* nobody sends either */
static struct rt_mutex parked_held; /* the root holds it */
static int parked_pipe[2];          /* nobody writes */

/* How long the sleepers sleep: an hour, far past any test. */
#define PARKED_SLEEP_NS (3600ull * 1000000000ull)

struct parked_leaf {
    RT_FRAME;
    char buf[8];
    int msg;
    intptr_t rc;
    struct rt_join j;
};

struct parked_nest {
    RT_FRAME;
    struct parked_leaf child;
};

struct parked_nest2 {
    RT_FRAME;
    struct parked_nest child;
};

enum rt_poll parked_reader(void *self);
enum rt_poll parked_sleeper(void *self);
enum rt_poll parked_receiver(void *self);
enum rt_poll parked_locker(void *self);
enum rt_poll parked_joiner(void *self);
enum rt_poll parked_level1(void *self);
enum rt_poll parked_level2(void *self);
enum rt_poll parked_level3(void *self);

enum rt_poll parked_reader(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_READ(f, f->rc, parked_pipe[0], f->buf, sizeof f->buf);
    RT_END(f);
}

enum rt_poll parked_sleeper(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, PARKED_SLEEP_NS);
    RT_END(f);
}

enum rt_poll parked_receiver(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &parked_empty, &f->msg);
    RT_END(f);
}

enum rt_poll parked_locker(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_LOCK(f, &parked_held);
    rt_mutex_unlock(&parked_held);
    RT_END(f);
}

enum rt_poll parked_joiner(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    f->rc = rt_spawn(parked_sleeper, &(struct parked_leaf){0},
                     sizeof(struct parked_leaf), &f->j);
    if (f->rc == 0)
        RT_AWAIT_JOIN(f, f->rc, &f->j);
    RT_END(f);
}

/* The source line of the deep await, the resume point the stackless dump
 * and `future N` must name for parked_level1's innermost frame. */
enum { PARKED_DEEP_LINE = __LINE__ + 6 };

enum rt_poll parked_level3(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &parked_deep, &f->msg);
    RT_END(f);
}

enum rt_poll parked_level2(void *self)
{
    struct parked_nest *f = self;
    RT_BEGIN(f);
    f->child = (struct parked_leaf){0};
    RT_AWAIT_CALL(f, parked_level3, &f->child);
    RT_END(f);
}

enum rt_poll parked_level1(void *self)
{
    struct parked_nest2 *f = self;
    RT_BEGIN(f);
    f->child = (struct parked_nest){0};
    RT_AWAIT_CALL(f, parked_level2, &f->child);
    RT_END(f);
}

/* The two channels and the mutex, before the run. Returns 0 or -errno. */
static inline int parked_init(void)
{
    int rc = rt_chan_init(&parked_empty, sizeof(int), 0);
    if (rc == 0)
        rc = rt_chan_init(&parked_deep, sizeof(int), 0);
    if (rc == 0)
        rt_mutex_init(&parked_held);
    return rc;
}

/* From the root task: makes the pipe, takes the mutex and spawns the five
 * tasks (the joiner spawns the sixth, a sleeper). Returns 0 or -errno. */
static inline int parked_spawn_all(void)
{
    if (pipe(parked_pipe) < 0)
        return -errno;
    int rc = rt_register(parked_pipe[0]);
    if (rc < 0)
        return rc;
    if (!rt_mutex_try_lock(&parked_held))
        return -EBUSY;
    static const struct {
        rt_task_fn fn;
        size_t size;
    } tasks[] = {
        {parked_reader, sizeof(struct parked_leaf)},
        {parked_receiver, sizeof(struct parked_leaf)},
        {parked_locker, sizeof(struct parked_leaf)},
        {parked_joiner, sizeof(struct parked_leaf)},
        {parked_level1, sizeof(struct parked_nest2)},
    };
    static const struct parked_nest2 zero; /* the biggest frame, zeroed */
    for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++) {
        rc = rt_spawn(tasks[i].fn, &zero, tasks[i].size, NULL);
        if (rc < 0)
            return rc;
    }
    return 0;
}

#endif

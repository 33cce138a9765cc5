/* Deadlock: tasks pending, nothing runnable, nobody the reactor could wake.
 * fut_run and fut_block_on return -EDEADLK and name the stuck tasks on
 * stderr instead of hanging. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/task.h>

/* Pending forever, and keeps no waker: nothing can ever wake it. */
static enum rt_poll never_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    return RT_PENDING;
}

static const struct fut_vtable never_vt = {never_poll, NULL, "never"};

/* Awaits the join handle of a task that never ends. */
struct waiter {
    struct fut_future base;
    unsigned state;
    struct fut_join j;
};

static enum rt_poll waiter_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct waiter *f = (struct waiter *)self;
    (void)out;
    FUT_BEGIN(f->state);
    {
        struct fut_future n = {&never_vt};
        CHECK_OK(fut_spawn(&n, sizeof(n), 0, &f->j));
    }
    FUT_AWAIT(&f->j, NULL);
    FUT_END;
}

static void waiter_drop(struct fut_future *self)
{
    fut_drop(&((struct waiter *)self)->j.base);
}

static const struct fut_vtable waiter_vt = {waiter_poll, waiter_drop, "waiter"};

/* Runs fn with stderr captured into buf. */
static int captured(int (*fn)(void), char *buf, size_t len)
{
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    fflush(stderr);
    int saved = dup(2);
    CHECK_OK(saved);
    CHECK_OK(dup2(fileno(tmp), 2));
    int rc = fn();
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

static int run(void)
{
    return fut_run();
}

static int block_on_never(void)
{
    struct fut_future n = {&never_vt};
    return fut_block_on(&n, NULL);
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct waiter w = {.base = {&waiter_vt}};
    CHECK_OK(fut_spawn(&w.base, sizeof(w), 0, NULL));
    char buf[4096];
    CHECK_EQ(captured(run, buf, sizeof(buf)), -EDEADLK);
    CHECK(strstr(buf, "deadlock") != NULL);
    CHECK(strstr(buf, "task 1 (waiter)") != NULL);
    CHECK(strstr(buf, "task 2 (never)") != NULL);
#if defined(RT_DEBUG) && RT_DEBUG
    CHECK(strstr(buf, "task 1 (waiter) waiting on join") != NULL);
#endif
    /* The root future is reported too. */
    CHECK_EQ(captured(block_on_never, buf, sizeof(buf)), -EDEADLK);
    CHECK(strstr(buf, "root future (never)") != NULL);
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, 2);
    /* Freeing the executor drops the stuck tasks: nothing leaks. */
    fut_executor_free(ex);
    return 0;
}

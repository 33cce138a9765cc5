/* Bad input gets the documented negative errno, never a crash; the one
 * exception, polling a finished state machine again, aborts on purpose. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/combinators.h>
#include <greenfut/leaf.h>
#include <greenfut/task.h>

static enum rt_poll ready_poll(struct fut_future *self, struct rt_cx *cx,
                               void *out)
{
    (void)self;
    (void)cx;
    if (out)
        *(int *)out = 42;
    return RT_READY;
}

static const struct fut_vtable ready_vt = {ready_poll, NULL, "ready"};

/* Tries to re-enter the executor from inside a poll. */
static int inner_rc[2];

static enum rt_poll reenter_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    struct fut_future r = {&ready_vt};
    inner_rc[0] = fut_block_on(&r, NULL);
    inner_rc[1] = fut_run();
    return RT_READY;
}

static const struct fut_vtable reenter_vt = {reenter_poll, NULL, "reenter"};

static int init_fails(struct fut_future *frame, void *arg)
{
    (void)frame;
    (void)arg;
    return -EMFILE;
}

static int init_forgets_vt(struct fut_future *frame, void *arg)
{
    (void)frame;
    (void)arg;
    return 0;
}

/* A macro state machine, for the polled-after-done abort. */
struct once {
    struct fut_future base;
    unsigned state;
};

static enum rt_poll once_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct once *f = (struct once *)self;
    (void)cx;
    (void)out;
    FUT_BEGIN(f->state);
    FUT_END;
}

static const struct fut_vtable once_vt = {once_poll, NULL, "once"};

static void no_executor(void)
{
    struct fut_future r = {&ready_vt};
    struct fut_join j;
    struct fut_stats st;
    CHECK(fut_executor_current() == NULL);
    CHECK(fut_reactor() == NULL);
    CHECK_EQ(fut_spawn(&r, sizeof(r), 0, &j), -EPERM);
    CHECK_EQ(fut_spawn_with(sizeof(r), 0, init_fails, NULL, NULL), -EPERM);
    CHECK(fut_frame_alloc(sizeof(r), 0) == NULL);
    CHECK_EQ(fut_run(), -EPERM);
    CHECK_EQ(fut_stats(&st), -EPERM);
    CHECK_EQ(fut_register(0), -EPERM);
    CHECK_EQ(fut_close(-1), -EPERM);
    CHECK_EQ(fut_executor_new(NULL), -EINVAL);
    fut_executor_free(NULL);
}

int main(void)
{
    no_executor();

    struct fut_executor *ex, *ex2;
    CHECK_OK(fut_executor_new(&ex));
    CHECK_EQ(fut_executor_new(&ex2), -EBUSY);
    CHECK(ex2 == NULL);

    /* NULL future / vtable / sizes. */
    struct fut_future r = {&ready_vt};
    struct fut_future novt = {NULL};
    struct fut_join j;
    CHECK_EQ(fut_block_on(NULL, NULL), -EINVAL);
    CHECK_EQ(fut_block_on(&novt, NULL), -EINVAL);
    CHECK_EQ(fut_spawn(NULL, sizeof(r), 0, &j), -EINVAL);
    CHECK_EQ(fut_spawn(&novt, sizeof(novt), 0, &j), -EINVAL);
    CHECK_EQ(fut_spawn(&r, 1, 0, &j), -EINVAL);
    CHECK_EQ(fut_spawn(&r, sizeof(r), 70000, &j), -EINVAL);
    CHECK_EQ(fut_spawn_with(sizeof(r), 0, NULL, NULL, NULL), -EINVAL);
    CHECK_EQ(fut_spawn_with(sizeof(r), 0, init_fails, NULL, NULL), -EMFILE);
    CHECK_EQ(fut_spawn_with(sizeof(r), 0, init_forgets_vt, NULL, NULL),
             -EINVAL);
    CHECK_EQ(fut_frame_spawn(NULL, NULL), -EINVAL);
    CHECK(fut_frame_alloc(1, 0) == NULL);
    struct fut_future *fr = fut_frame_alloc(sizeof(r), 0);
    CHECK(fr != NULL);
    fr->vt = NULL;
    CHECK_EQ(fut_frame_spawn(fr, NULL), -EINVAL);
    fut_frame_discard(fr);
    fut_frame_discard(NULL);
    struct fut_stats st;
    CHECK_EQ(fut_stats(NULL), -EINVAL);
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_allocated, 0); /* failed spawns freed everything */

    /* Join handles: empty, twice, after drop, NULL. */
    int v = 0;
    CHECK_EQ(fut_join(NULL, &v), -EINVAL);
    fut_join_init(&j);
    CHECK_EQ(fut_join(&j, &v), -ESRCH);
    CHECK_OK(fut_spawn(&r, sizeof(r), sizeof(int), &j));
    CHECK_OK(fut_join(&j, &v));
    CHECK_EQ(v, 42);
    CHECK_EQ(fut_join(&j, &v), -ESRCH);
    CHECK_EQ(fut_block_on(&j.base, &v), 0); /* as a future: ready ... */
    CHECK_EQ(fut_join_error(&j), -ESRCH);   /* ... with the error */
    fut_drop(&j.base);
    fut_drop(&j.base); /* dropping twice is a no-op */
    CHECK_EQ(fut_join(&j, &v), -EINVAL);

    /* Re-entering the executor from a poll. */
    struct fut_future re = {&reenter_vt};
    CHECK_OK(fut_block_on(&re, NULL));
    CHECK_EQ(inner_rc[0], -EBUSY);
    CHECK_EQ(inner_rc[1], -EBUSY);

    /* Combinators. */
    struct fut_future *futs[2] = {&r, NULL};
    struct fut_join_all ja;
    struct fut_select sel;
    struct fut_timeout to;
    CHECK_EQ(fut_join_all_init(NULL, futs, NULL, 1), -EINVAL);
    CHECK_EQ(fut_join_all_init(&ja, NULL, NULL, 1), -EINVAL);
    CHECK_EQ(fut_join_all_init(&ja, futs, NULL, 2), -EINVAL);
    CHECK_OK(fut_join_all_init(&ja, NULL, NULL, 0));
    CHECK_OK(fut_block_on(&ja.base, NULL)); /* all of nothing: ready */
    CHECK_EQ(fut_select_init(&sel, futs, NULL, 0), -EINVAL);
    CHECK_EQ(fut_select_init(&sel, futs, NULL, 2), -EINVAL);
    futs[1] = &novt;
    CHECK_EQ(fut_select_init(&sel, futs, NULL, 2), -EINVAL);
    CHECK_EQ(fut_timeout_init(&to, NULL, NULL, 1), -EINVAL);
    CHECK_EQ(fut_timeout_init(&to, &novt, NULL, 1), -EINVAL);
    CHECK_EQ(fut_timeout_init(NULL, &r, NULL, 1), -EINVAL);

    /* IO on an fd that is not registered, and registration errors. */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    char c;
    ssize_t n = 0;
    struct fut_read rd;
    fut_read_init(&rd, sv[0], &c, 1);
    CHECK_OK(fut_block_on(&rd.base, &n));
    CHECK_EQ(n, -EBADF);
    CHECK_EQ(fut_register(-1), -EBADF);
    CHECK_OK(fut_register(sv[0]));
    CHECK_EQ(fut_register(sv[0]), -EEXIST);
    CHECK_OK(fut_close(sv[0]));
    CHECK_EQ(fut_close(sv[0]), -EBADF);
    close(sv[1]);
    int cres = 0;
    struct fut_connect con;
    fut_connect_init(&con, sv[1], NULL, 4096);
    CHECK_OK(fut_block_on(&con.base, &cres));
    CHECK_EQ(cres, -EINVAL); /* address too long */

    /* Polling a finished state machine again aborts (in a child). */
    fflush(NULL);
    pid_t pid = fork();
    CHECK_OK(pid);
    if (pid == 0) {
        struct once o = {{&once_vt}, 0};
        struct rt_waker w = {NULL, NULL};
        struct rt_cx cx = {&w};
        (void)fut_poll(&o.base, &cx, NULL);
        (void)fut_poll(&o.base, &cx, NULL);
        _exit(0);
    }
    int status = 0;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);

    fut_executor_free(ex);
    return 0;
}

/* Reactor: edges wake the stored waker once each, notify from another
 * thread ends a blocked turn, remote nodes run on the reactor thread,
 * deregistration wakes waiters, and bad input gets the documented errors. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/socket.h>

#include "check.h"
#include <greenfut/io.h>
#include <greenfut/reactor.h>
#include "testwaker.h"

static void test_edge_wakes_once(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(rt_reactor_register(r, sv[0]));
    CHECK_EQ(rt_reactor_register(r, sv[0]), -EEXIST);
    CHECK(fcntl(sv[0], F_GETFL) & O_NONBLOCK);

    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_cx cx = {&w};
    char buf[16];
    ssize_t res = 0;
    /* Drain the registration's initial edge, then park. */
    while (rt_reactor_turn(r, 0) > 0)
        ;
    CHECK_EQ(rt_poll_read(r, sv[0], buf, sizeof buf, &cx, &res), RT_PENDING);
    CHECK_EQ(atomic_load(&tw.live), 1);
    CHECK_EQ(rt_reactor_readiness(r, sv[0]) & RT_IO_READABLE, 0);

    for (int edge = 1; edge <= 3; edge++) {
        CHECK_EQ(write(sv[1], "x", 1), 1);
        int woken = 0;
        while (woken == 0) {
            woken = rt_reactor_turn(r, -1);
            CHECK_OK(woken);
        }
        CHECK_EQ(woken, 1);
        CHECK_EQ(atomic_load(&tw.wakes), edge);
        /* No second wake for the same edge: nobody stored a waker. */
        CHECK_EQ(rt_reactor_turn(r, 0), 0);
        CHECK_EQ(atomic_load(&tw.wakes), edge);
        CHECK(rt_reactor_readiness(r, sv[0]) & RT_IO_READABLE);
        CHECK_EQ(rt_poll_read(r, sv[0], buf, sizeof buf, &cx, &res), RT_READY);
        CHECK_EQ(res, 1);
        CHECK_EQ(rt_poll_read(r, sv[0], buf, sizeof buf, &cx, &res),
                 RT_PENDING);
    }
    /* Re-polling with the same waker stores no second clone. */
    CHECK_EQ(rt_poll_read(r, sv[0], buf, sizeof buf, &cx, &res), RT_PENDING);
    CHECK_EQ(atomic_load(&tw.live), 1);

    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(r, &st));
    CHECK_EQ(st.fds, 1);
    CHECK_EQ(st.io_waiters, 1);

    /* Deregistration wakes the stored waker; the next poll says EBADF. */
    CHECK_OK(rt_reactor_deregister(r, sv[0]));
    CHECK_EQ(atomic_load(&tw.wakes), 4);
    CHECK_EQ(atomic_load(&tw.live), 0);
    CHECK_EQ(rt_poll_read(r, sv[0], buf, sizeof buf, &cx, &res), RT_READY);
    CHECK_EQ(res, -EBADF);
    CHECK_EQ(rt_reactor_deregister(r, sv[0]), -EBADF);
    CHECK(!rt_reactor_has_waiters(r));
    close(sv[0]);
    close(sv[1]);
    rt_reactor_free(r);
}

/* An fd closed without deregistering, then reused: register notices and
 * wakes the old waiter instead of leaving it asleep forever. */
static void test_stale_registration(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(rt_reactor_register(r, sv[0]));
    struct tw tw;
    struct rt_waker w = tw_init(&tw);
    struct rt_cx cx = {&w};
    char c;
    ssize_t res;
    CHECK_EQ(rt_poll_read(r, sv[0], &c, 1, &cx, &res), RT_PENDING);
    CHECK_EQ(atomic_load(&tw.live), 1);
    int fd = sv[0];
    close(fd);
    int again = dup(sv[1]); /* takes the lowest free number: fd */
    CHECK_EQ(again, fd);
    CHECK_OK(rt_reactor_register(r, again));
    CHECK_EQ(atomic_load(&tw.wakes), 1);
    CHECK_EQ(atomic_load(&tw.live), 0);
    CHECK_OK(rt_reactor_close(r, again));
    close(sv[1]);
    rt_reactor_free(r);
}

static void *notifier(void *arg)
{
    struct rt_reactor *r = arg;
    CHECK_OK(rt_reactor_notify(r));
    return NULL;
}

static void test_notify_from_thread(void)
{
    struct rt_reactor *r;
    CHECK_OK(rt_reactor_new(&r));
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, notifier, r), 0);
    /* Nothing else can end this turn: no fd, no timer. If notify were lost
     * the test would hang and CTest's timeout would fail it. */
    CHECK_EQ(rt_reactor_turn(r, -1), 0);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(rt_reactor_turn(r, 0), 0);
    rt_reactor_free(r);
}

struct job {
    struct rt_remote node;
    struct rt_reactor *r;
    pthread_t owner;
    atomic_int runs;
    int on_owner;
};

static void job_run(struct rt_remote *n)
{
    struct job *j = (struct job *)(void *)n;
    atomic_fetch_add(&j->runs, 1);
    j->on_owner = pthread_equal(pthread_self(), j->owner);
}

#define REMOTE_N 100000
static void *remote_sender(void *arg)
{
    struct job *j = arg;
    for (int i = 0; i < REMOTE_N; i++)
        CHECK_OK(rt_reactor_remote(j->r, &j->node));
    rt_reactor_release(j->r);
    return NULL;
}

static void test_remote(void)
{
    struct job j;
    CHECK_OK(rt_reactor_new(&j.r));
    rt_remote_init(&j.node, job_run);
    j.owner = pthread_self();
    atomic_init(&j.runs, 0);
    j.on_owner = 0;
    CHECK_EQ(rt_reactor_remote(j.r, NULL), -EINVAL);
    rt_reactor_hold(j.r);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, remote_sender, &j), 0);
    /* Turn until the sender let go of its hold and nothing is queued. */
    while (rt_reactor_has_waiters(j.r))
        CHECK_OK(rt_reactor_turn(j.r, -1));
    CHECK_EQ(pthread_join(th, NULL), 0);
    int runs = atomic_load(&j.runs);
    CHECK_GE(runs, 1);
    CHECK_LE(runs, REMOTE_N); /* coalesced while queued */
    CHECK(j.on_owner);
    rt_reactor_free(j.r);
}

static void test_bad_input(void)
{
    struct rt_reactor *r;
    CHECK_EQ(rt_reactor_new(NULL), -EINVAL);
    CHECK_OK(rt_reactor_new(&r));
    CHECK_EQ(rt_reactor_register(NULL, 0), -EINVAL);
    CHECK_EQ(rt_reactor_register(r, -1), -EBADF);
    CHECK_EQ(rt_reactor_register(r, 100000), -EBADF); /* not open */
    CHECK_EQ(rt_reactor_deregister(r, 5000), -EBADF);
    CHECK_EQ(rt_reactor_deregister(r, -3), -EBADF);
    CHECK_EQ(rt_reactor_readiness(r, 7), -EBADF);
    CHECK_EQ(rt_reactor_turn(NULL, 0), -EINVAL);
    CHECK_EQ(rt_reactor_notify(NULL), -EINVAL);
    CHECK_EQ(rt_reactor_stats(r, NULL), -EINVAL);
    /* A regular file cannot be watched by epoll. */
    FILE *f = tmpfile();
    CHECK(f != NULL);
    CHECK_EQ(rt_reactor_register(r, fileno(f)), -EPERM);
    fclose(f);
    rt_reactor_free(NULL);
    rt_reactor_free(r);
}

int main(void)
{
    test_edge_wakes_once();
    test_stale_registration();
    test_notify_from_thread();
    test_remote();
    test_bad_input();
    return 0;
}

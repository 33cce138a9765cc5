/* Futures are lazy: building, spawning or dropping a future that was never
 * polled has no effect (no poll, no timer, no syscall). */
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/leaf.h>
#include <greenfut/task.h>

static int polls, drops;

static enum rt_poll effect_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    polls++;
    return RT_READY;
}

static void effect_drop(struct fut_future *self)
{
    (void)self;
    drops++;
}

static const struct fut_vtable effect_vt = {effect_poll, effect_drop, "effect"};

static size_t armed_timers(void)
{
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(fut_reactor(), &st));
    return st.timers;
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));

    /* A sleep that is built and dropped arms nothing. */
    struct fut_sleep s;
    fut_sleep_for_init(&s, 1000000000);
    CHECK_EQ(armed_timers(), 0);
    fut_drop(&s.base);
    CHECK_EQ(armed_timers(), 0);

    /* IO futures built but not polled do no IO. */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(fut_register(sv[0]));
    CHECK_OK(fut_register(sv[1]));
    struct fut_write w;
    fut_write_init(&w, sv[0], "x", 1);
    char c;
    CHECK_EQ(recv(sv[1], &c, 1, MSG_DONTWAIT), -1); /* nothing was sent */
    CHECK_EQ(write(sv[1], "y", 1), 1);
    struct fut_read rd;
    fut_read_init(&rd, sv[0], &c, 1);
    fut_drop(&rd.base);
    CHECK_EQ(recv(sv[0], &c, 1, MSG_PEEK | MSG_DONTWAIT), 1); /* unread */
    fut_drop(&w.base);

    /* Spawning queues the task but does not poll it. */
    struct fut_future e = {&effect_vt};
    CHECK_OK(fut_spawn(&e, sizeof(e), 0, NULL));
    CHECK_EQ(polls, 0);
    CHECK_OK(fut_run());
    CHECK_EQ(polls, 1);
    CHECK_EQ(drops, 1);

    /* A task freed with its executor before any poll is dropped, never
     * polled. */
    CHECK_OK(fut_spawn(&e, sizeof(e), 0, NULL));
    CHECK_OK(fut_close(sv[0]));
    CHECK_OK(fut_close(sv[1]));
    fut_executor_free(ex);
    CHECK_EQ(polls, 1);
    CHECK_EQ(drops, 2);
    return 0;
}

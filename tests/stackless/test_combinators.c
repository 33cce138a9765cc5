/* join_all, select and timeout, and cancellation by drop: a select's losers
 * and a timed-out future are dropped at once, so their timers are cancelled
 * and nothing they would have done happens later; nothing leaks. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/combinators.h>
#include <greenfut/leaf.h>
#include <greenfut/task.h>

#define MS 1000000ull

static int fired;   /* bombs that went off */
static int dropped; /* bombs dropped */

/* Sleeps, then "goes off" (fired++). */
struct bomb {
    struct fut_future base;
    unsigned state;
    struct fut_sleep nap;
};

static enum rt_poll bomb_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct bomb *f = (struct bomb *)self;
    (void)out;
    FUT_BEGIN(f->state);
    FUT_AWAIT(&f->nap, NULL);
    fired++;
    FUT_END;
}

static void bomb_drop(struct fut_future *self)
{
    struct bomb *f = (struct bomb *)self;
    dropped++;
    fut_drop(&f->nap.base);
}

static const struct fut_vtable bomb_vt = {bomb_poll, bomb_drop, "bomb"};

static void bomb_init(struct bomb *b, uint64_t ns)
{
    b->base.vt = &bomb_vt;
    b->state = 0;
    fut_sleep_for_init(&b->nap, ns);
}

static size_t armed_timers(void)
{
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(fut_reactor(), &st));
    return st.timers;
}

/* The test body as one root future, so each step awaits the last. */
struct root {
    struct fut_future base;
    unsigned state;
    struct fut_sleep s[3];
    struct fut_yield y;
    struct bomb b;
    struct fut_read rd;
    struct fut_future *futs[3];
    void *outs[3];
    int res[3];
    ssize_t nread;
    char c;
    size_t idx;
    int rc;
    struct fut_join_all ja;
    struct fut_select sel;
    struct fut_timeout to;
    struct fut_sleep after;
    int sv[2];
};

static enum rt_poll root_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct root *f = (struct root *)self;
    (void)out;
    FUT_BEGIN(f->state);

    /* join_all: three sleeps of different lengths. */
    for (int i = 0; i < 3; i++) {
        fut_sleep_for_init(&f->s[i], (uint64_t)(3 - i) * MS);
        f->futs[i] = &f->s[i].base;
        f->res[i] = -1;
        f->outs[i] = &f->res[i];
    }
    CHECK_OK(fut_join_all_init(&f->ja, f->futs, f->outs, 3));
    FUT_AWAIT(&f->ja, NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(f->res[i], 0);
        CHECK(fut_dropped(f->futs[i]));
    }
    CHECK_EQ(armed_timers(), 0);

    /* select: a yield beats a bomb (300 ms: far more than the two polls a
     * yield takes, even under valgrind on a loaded machine, where 20 ms was
     * seen to lose) and a long sleep; the losers are dropped at once, their
     * timers cancelled. */
    bomb_init(&f->b, 300 * MS);
    fut_yield_init(&f->y);
    fut_sleep_for_init(&f->s[0], 10000 * MS);
    f->futs[0] = &f->b.base;
    f->futs[1] = &f->y.base;
    f->futs[2] = &f->s[0].base;
    CHECK_OK(fut_select_init(&f->sel, f->futs, NULL, 3));
    f->idx = 99;
    FUT_AWAIT(&f->sel, &f->idx);
    CHECK_EQ(f->idx, 1);
    CHECK_EQ(dropped, 1);
    CHECK_EQ(armed_timers(), 0);
    /* ... and the bomb never goes off, even well after its deadline. */
    fut_sleep_for_init(&f->after, 320 * MS);
    FUT_AWAIT(&f->after, NULL);
    CHECK_EQ(fired, 0);

    /* select where IO loses: the dropped read withdraws its waker from the
     * fd's slot; data arriving later is left for the next reader. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, f->sv));
    CHECK_OK(fut_register(f->sv[0]));
    CHECK_OK(fut_register(f->sv[1]));
    fut_read_init(&f->rd, f->sv[0], &f->c, 1);
    fut_sleep_for_init(&f->s[0], 1 * MS);
    f->futs[0] = &f->rd.base;
    f->futs[1] = &f->s[0].base;
    CHECK_OK(fut_select_init(&f->sel, f->futs, NULL, 2));
    FUT_AWAIT(&f->sel, &f->idx);
    CHECK_EQ(f->idx, 1);
    CHECK_EQ(write(f->sv[1], "z", 1), 1);
    fut_sleep_for_init(&f->after, 1 * MS);
    FUT_AWAIT(&f->after, NULL);
    CHECK_EQ(recv(f->sv[0], &f->c, 1, MSG_DONTWAIT), 1); /* still unread */
    CHECK_EQ(f->c, 'z');

    /* timeout: the inner future loses and is dropped (cancelled). */
    bomb_init(&f->b, 10000 * MS);
    CHECK_OK(fut_timeout_init(&f->to, &f->b.base, NULL, 1 * MS));
    FUT_AWAIT(&f->to, &f->rc);
    CHECK_EQ(f->rc, -ETIMEDOUT);
    CHECK_EQ(dropped, 2);
    CHECK_EQ(fired, 0);
    CHECK_EQ(armed_timers(), 0);

    /* timeout: the inner future wins; its output comes through. */
    fut_read_init(&f->rd, f->sv[0], &f->c, 1);
    CHECK_EQ(write(f->sv[1], "q", 1), 1);
    CHECK_OK(fut_timeout_init(&f->to, &f->rd.base, &f->nread, 10000 * MS));
    FUT_AWAIT(&f->to, &f->rc);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->nread, 1);
    CHECK_EQ(f->c, 'q');
    CHECK_EQ(armed_timers(), 0);

    /* timeout of a bomb that fires in time. */
    bomb_init(&f->b, 1 * MS);
    CHECK_OK(fut_timeout_init(&f->to, &f->b.base, NULL, 10000 * MS));
    FUT_AWAIT(&f->to, &f->rc);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(fired, 1);
    CHECK_EQ(armed_timers(), 0);

    CHECK_OK(fut_close(f->sv[0]));
    CHECK_OK(fut_close(f->sv[1]));
    FUT_END;
}

static void root_drop(struct fut_future *self)
{
    struct root *f = (struct root *)self;
    fut_drop(&f->sel.base);
    fut_drop(&f->to.base);
    fut_drop(&f->ja.base);
}

static const struct fut_vtable root_vt = {root_poll, root_drop, "root"};

/* Dropping a pending future from outside: a task whose frame holds a bomb
 * is freed with its executor; the bomb is dropped, its timer cancelled. */
static void drop_pending_task(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct bomb b;
    bomb_init(&b, 10000 * MS);
    struct fut_join j;
    CHECK_OK(fut_spawn(&b.base, sizeof(b), 0, &j));
    struct fut_sleep s;
    fut_sleep_for_init(&s, 1 * MS);
    CHECK_OK(fut_block_on(&s.base, NULL));
    CHECK_EQ(armed_timers(), 1); /* the bomb's */
    fut_drop(&j.base);           /* detach */
    int before = dropped;
    fut_executor_free(ex);
    CHECK_EQ(dropped, before + 1);
    CHECK_EQ(fired, 1);
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct root r = {.base = {&root_vt}};
    CHECK_OK(fut_block_on(&r.base, NULL));
    fut_drop(&r.base);
    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_allocated, 0);
    fut_executor_free(ex);
    drop_pending_task();
    return 0;
}

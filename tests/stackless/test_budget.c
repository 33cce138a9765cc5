/* Cooperative budget: a task that wakes itself forever cannot starve the
 * reactor. It spins until a timer (then a socket) wakes another task, which
 * only the reactor can do; without the budget's reactor turns the test
 * would never end. */
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/leaf.h>
#include <greenfut/task.h>

static int stop;
static uint64_t spins;

/* Wakes itself and returns RT_PENDING until `stop`. */
static enum rt_poll spinner_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    (void)self;
    (void)out;
    if (stop)
        return RT_READY;
    spins++;
    rt_waker_wake_by_ref(cx->waker);
    return RT_PENDING;
}

static const struct fut_vtable spinner_vt = {spinner_poll, NULL, "spinner"};

/* Awaits a sleep, then sets `stop`. `sleep_pended` says whether it ever
 * returned RT_PENDING: under valgrind a millisecond can pass within its
 * first poll, and then the sleep is over without any reactor look. */
static int sleep_pended;

struct sleeper {
    struct fut_future base;
    int started;
    struct fut_sleep s;
};

static enum rt_poll sleeper_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct sleeper *f = (struct sleeper *)self;
    (void)out;
    if (!f->started) {
        fut_sleep_for_init(&f->s, 1000000);
        f->started = 1;
    }
    if (fut_poll(&f->s.base, cx, NULL) == RT_PENDING) {
        sleep_pended = 1;
        return RT_PENDING;
    }
    stop = 1;
    return RT_READY;
}

static const struct fut_vtable sleeper_vt = {sleeper_poll, NULL, "sleeper"};

/* Awaits one byte on fd, then sets `stop`. */
struct reader {
    struct fut_future base;
    unsigned state;
    int fd;
    char c;
    ssize_t n;
    struct fut_read r;
};

static enum rt_poll reader_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct reader *f = (struct reader *)self;
    (void)out;
    FUT_BEGIN(f->state);
    fut_read_init(&f->r, f->fd, &f->c, 1);
    FUT_AWAIT(&f->r, &f->n);
    CHECK_EQ(f->n, 1);
    stop = 1;
    FUT_END;
}

static const struct fut_vtable reader_vt = {reader_poll, NULL, "reader"};

/* Writes one byte to fd after the reader parked (one yield later). */
struct writer {
    struct fut_future base;
    unsigned state;
    int fd;
    ssize_t n;
    struct fut_yield y;
    struct fut_write w;
};

static enum rt_poll writer_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct writer *f = (struct writer *)self;
    (void)out;
    FUT_BEGIN(f->state);
    fut_yield_init(&f->y);
    FUT_AWAIT(&f->y, NULL);
    fut_write_init(&f->w, f->fd, "!", 1);
    FUT_AWAIT(&f->w, &f->n);
    CHECK_EQ(f->n, 1);
    FUT_END;
}

static const struct fut_vtable writer_vt = {writer_poll, NULL, "writer"};

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    struct fut_future spin = {&spinner_vt};
    struct fut_stats st0, st1;

    /* A timer is served while the spinner keeps waking itself. */
    CHECK_OK(fut_stats(&st0));
    struct sleeper sl = {.base = {&sleeper_vt}};
    CHECK_OK(fut_spawn(&spin, sizeof(spin), 0, NULL));
    CHECK_OK(fut_spawn(&sl.base, sizeof(sl), 0, NULL));
    CHECK_OK(fut_run());
    CHECK_OK(fut_stats(&st1));
    /* While the spinner is always ready, only the budget's reactor looks
     * can fire the timer. */
    CHECK(!sleep_pended || st1.yields > st0.yields);
    CHECK_GT(spins, 0);

    /* A socket wake is served while the spinner keeps waking itself. */
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(fut_register(sv[0]));
    CHECK_OK(fut_register(sv[1]));
    stop = 0;
    spins = 0;
    struct reader rd = {.base = {&reader_vt}, .fd = sv[0]};
    struct writer wr = {.base = {&writer_vt}, .fd = sv[1]};
    CHECK_OK(fut_spawn(&rd.base, sizeof(rd), 0, NULL));
    CHECK_OK(fut_spawn(&spin, sizeof(spin), 0, NULL));
    CHECK_OK(fut_spawn(&wr.base, sizeof(wr), 0, NULL));
    CHECK_OK(fut_run());
    CHECK_GT(spins, 0);
    CHECK_OK(fut_close(sv[0]));
    CHECK_OK(fut_close(sv[1]));
    fut_executor_free(ex);
    return 0;
}

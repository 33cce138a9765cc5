/* Lab: cancellation, and what it leaves behind.
 *
 * Three ways a wait ends without its event, each followed by a look at
 * every counter the wait could have left changed:
 *   deadline  (portable, both backends) a read on a silent socket, a write
 *             on a full one and a channel receive, each with a deadline
 *             (RT_AWAIT_READ_UNTIL, _WRITE_UNTIL, RECV_UNTIL) that passes
 *             first. Counters: the reactor's registered fds, stored IO
 *             wakers, armed timers and holds, and the channel's length,
 *             before and after each wait.
 *   teardown  (portable, both backends) tasks stuck for good in a channel
 *             send, a channel receive, a mutex, a semaphore, a condition,
 *             a wait group and a notification: rt_run returns -EDEADLK and
 *             the backend cancels each wait (stackless: it drops the
 *             futures; stackful: it unwinds nothing, but takes each parked
 *             thread's wait off its object). Then each object is used
 *             again, and each probe says whether the object still holds a
 *             dead waiter: a send and a receive meet only each other, the
 *             unlocked mutex and the released permit are free, notify_all
 *             wakes nobody, the wait group's done finds its counter, a
 *             notification reaches a new waiter.
 *   drop      (stackless only) a future dropped in the middle of its wait:
 *             fut_timeout over a read, a write and a sleep, each losing to
 *             a 5 ms deadline. Counters as for deadline. A green thread
 *             cannot be dropped: its wait is in the middle of a stack that
 *             only running it to the end can unwind (docs/labs.md).
 * Rows: lab_cancel,<backend>,,<path>_counters (counters compared) and
 * <path>_changed (those that differ). --check: none differs, on every path.
 * No params.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab.h"
#include <greenfut/rt.h>

#define DEADLINE_NS 5000000u

static int compared, changed; /* of the path being run */

static void same(size_t before, size_t after, const char *what)
{
    compared++;
    if (before != after) {
        changed++;
        fprintf(stderr, "lab_cancel: %s changed: %zu -> %zu\n", what, before,
                after);
    }
}

static void same_stats(const struct rt_reactor_stats *a,
                       const struct rt_reactor_stats *b)
{
    same(a->fds, b->fds, "registered fds");
    same(a->io_waiters, b->io_waiters, "stored IO wakers");
    same(a->timers, b->timers, "armed timers");
    same(a->holds, b->holds, "reactor holds");
}

static void reactor_stats(struct rt_reactor_stats *st)
{
    if (rt_reactor_stats(rt_reactor_current(), st) != 0)
        bh_fail("lab_cancel: rt_reactor_stats failed");
}

/* ---- deadline ------------------------------------------------------------ */

struct deadline {
    RT_FRAME;
    int fds[2];
    struct rt_chan ch;
    struct rt_timer t;
    uint64_t deadline;
    struct rt_reactor_stats before, after;
    char buf[4096];
    ssize_t n;
    int msg, rc;
};

static enum rt_poll deadline_task(void *self)
{
    struct deadline *f = self;
    RT_BEGIN(f);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, f->fds) != 0 ||
        rt_register(f->fds[0]) < 0 || rt_register(f->fds[1]) < 0 ||
        rt_chan_init(&f->ch, sizeof(int), 0) < 0)
        bh_fail("lab_cancel: setup failed");
    reactor_stats(&f->before);
    RT_AWAIT_READ_UNTIL(f, f->n, f->fds[0], f->buf, sizeof(f->buf),
                        rt_now_ns() + DEADLINE_NS);
    if (f->n != -ETIMEDOUT)
        bh_fail("lab_cancel: the read did not time out");
    reactor_stats(&f->after);
    same_stats(&f->before, &f->after);
    while (write(f->fds[1], f->buf, sizeof(f->buf)) > 0)
        continue; /* until the kernel takes no more */
    reactor_stats(&f->before);
    RT_AWAIT_WRITE_UNTIL(f, f->n, f->fds[1], f->buf, sizeof(f->buf),
                         rt_now_ns() + DEADLINE_NS);
    if (f->n != -ETIMEDOUT)
        bh_fail("lab_cancel: the write did not time out");
    reactor_stats(&f->after);
    same_stats(&f->before, &f->after);
    reactor_stats(&f->before);
    f->deadline = rt_now_ns() + DEADLINE_NS;
    RT_AWAIT_RECV_UNTIL(f, f->rc, &f->ch, &f->msg, &f->t, f->deadline);
    if (f->rc != -ETIMEDOUT)
        bh_fail("lab_cancel: the receive did not time out");
    reactor_stats(&f->after);
    same_stats(&f->before, &f->after);
    same(0, rt_chan_len(&f->ch), "channel length");
    rt_chan_fini(&f->ch);
    rt_close(f->fds[0]);
    rt_close(f->fds[1]);
    RT_END(f);
}

/* ---- teardown ------------------------------------------------------------ */

enum kind { SEND, RECV, LOCK, SEM, COND, WG, NOTIFY, KINDS };

static struct rt_chan ch_send, ch_recv; /* unbuffered, one side only */
static struct rt_mutex mu, mu_cond;
static struct rt_sem sem;
static struct rt_cond cond;
static struct rt_wg wg;
static struct rt_notify note;

struct stuck {
    RT_FRAME;
    int kind;
    int msg, res;
};

enum rt_poll stuck_task(void *self); /* named in the deadlock report */

enum rt_poll stuck_task(void *self)
{
    struct stuck *f = self;
    RT_BEGIN(f);
    if (f->kind == SEND) {
        RT_AWAIT_SEND(f, f->res, &ch_send, &f->msg);
    } else if (f->kind == RECV) {
        RT_AWAIT_RECV(f, f->res, &ch_recv, &f->msg);
    } else if (f->kind == LOCK) {
        RT_AWAIT_LOCK(f, &mu);
    } else if (f->kind == SEM) {
        RT_AWAIT_SEM(f, &sem);
    } else if (f->kind == COND) {
        RT_AWAIT_LOCK(f, &mu_cond);
        RT_AWAIT_COND(f, &cond, &mu_cond);
    } else if (f->kind == WG) {
        RT_AWAIT_WG(f, &wg);
    } else {
        RT_AWAIT_NOTIFIED(f, f->res, &note);
    }
    bh_fail("lab_cancel: a stuck task was woken");
    RT_END(f);
}

struct stuck_root {
    RT_FRAME;
    int k;
};

static enum rt_poll stuck_root(void *self)
{
    struct stuck_root *f = self;
    RT_BEGIN(f);
    if (!rt_mutex_try_lock(&mu)) /* held for good: the locker waits */
        bh_fail("lab_cancel: mutex busy");
    rt_wg_add(&wg, 1);
    for (f->k = 0; f->k < KINDS; f->k++) {
        struct stuck s = {.kind = f->k, .msg = 1};
        if (rt_spawn(stuck_task, &s, sizeof(s), NULL) < 0)
            bh_fail("lab_cancel: spawn failed");
    }
    RT_END(f);
}

/* The probes, in a second run over the same objects. */
struct sender {
    RT_FRAME;
    struct rt_chan *ch;
    int msg, res;
};

static enum rt_poll sender_task(void *self)
{
    struct sender *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SEND(f, f->res, f->ch, &f->msg);
    RT_RETURN(f, f->res);
    RT_END(f);
}

struct probe {
    RT_FRAME;
    struct rt_join j;
    int msg, res, rc, i;
};

static enum rt_poll probe_task(void *self)
{
    struct probe *f = self;
    RT_BEGIN(f);
    /* Channels: a new sender and a new receiver meet only each other (a
     * dead waiter left queued would take the message or hand a stale one). */
    for (f->i = 0; f->i < 2; f->i++) {
        {
            struct sender s = {.ch = f->i ? &ch_recv : &ch_send, .msg = 7};
            if (rt_spawn(sender_task, &s, sizeof(s), &f->j) < 0)
                bh_fail("lab_cancel: spawn failed");
        }
        f->msg = 0;
        RT_AWAIT_RECV(f, f->res, f->i ? &ch_recv : &ch_send, &f->msg);
        RT_AWAIT_JOIN(f, f->rc, &f->j);
        same(1, f->res == 1 && f->msg == 7 && f->rc == 0 && f->j.ret == 0,
             f->i ? "the receive channel's queues"
                  : "the send channel's queues");
    }
    rt_mutex_unlock(&mu); /* a dead locker must not have been handed it */
    same(1, rt_mutex_try_lock(&mu), "the mutex's owner");
    rt_sem_release(&sem);
    same(1, rt_sem_try_acquire(&sem), "the semaphore's permits");
    same(0, (size_t)rt_cond_notify_all(&cond), "the condition's waiters");
    same(0, (size_t)-rt_wg_done(&wg), "the wait group's counter");
    rt_notify_one(&note);
    RT_AWAIT_NOTIFIED(f, f->res, &note); /* -EBUSY if a dead one waits */
    same(0, (size_t)-f->res, "the notification's waiter");
    RT_END(f);
}

static void teardown_path(void)
{
    if (rt_chan_init(&ch_send, sizeof(int), 0) < 0 ||
        rt_chan_init(&ch_recv, sizeof(int), 0) < 0)
        bh_fail("lab_cancel: channel");
    rt_mutex_init(&mu);
    rt_mutex_init(&mu_cond);
    rt_sem_init(&sem, 0);
    rt_cond_init(&cond);
    rt_wg_init(&wg);
    rt_notify_init(&note);
    struct stuck_root r = {0};
    /* The deadlock report lists the stuck tasks on stderr. */
    if (rt_run(stuck_root, &r, sizeof(r), NULL) != -EDEADLK)
        bh_fail("lab_cancel: the stuck run did not end in -EDEADLK");
    struct probe p = {0};
    if (rt_run(probe_task, &p, sizeof(p), NULL) != 0)
        bh_fail("lab_cancel: the probe run failed");
    rt_chan_fini(&ch_send);
    rt_chan_fini(&ch_recv);
}

/* ---- drop (stackless) ---------------------------------------------------- */

#if defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
#include <greenfut/combinators.h>

static void drop_one(struct fut_future *inner)
{
    struct rt_reactor_stats before, after;
    struct fut_timeout t;
    int out = 0;
    if (rt_reactor_stats(fut_reactor(), &before) != 0 ||
        fut_timeout_init(&t, inner, NULL, DEADLINE_NS) != 0 ||
        fut_block_on(&t.base, &out) != 0 || out != -ETIMEDOUT)
        bh_fail("lab_cancel: a timeout did not fire");
    fut_drop(&t.base); /* inner was dropped when the deadline won */
    if (rt_reactor_stats(fut_reactor(), &after) != 0)
        bh_fail("lab_cancel: rt_reactor_stats failed");
    same_stats(&before, &after);
}

static void drop_path(void)
{
    struct fut_executor *ex;
    int fds[2];
    static char buf[4096];
    if (fut_executor_new(&ex) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 ||
        fut_register(fds[0]) < 0 || fut_register(fds[1]) < 0)
        bh_fail("lab_cancel: setup failed");
    struct fut_read rd;
    fut_read_init(&rd, fds[0], buf, sizeof(buf));
    drop_one(&rd.base);
    while (write(fds[1], buf, sizeof(buf)) > 0)
        continue;
    struct fut_write wr;
    fut_write_init(&wr, fds[1], buf, sizeof(buf));
    drop_one(&wr.base);
    struct fut_sleep sl;
    fut_sleep_for_init(&sl, 10u * 1000000000u);
    drop_one(&sl.base);
    fut_close(fds[0]);
    fut_close(fds[1]);
    fut_executor_free(ex);
}
#endif

int main(int argc, char **argv)
{
    static const long long defaults[] = {-1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    const char *b = rt_backend_name();
    static const char *const paths[] = {"deadline", "teardown", "drop"};
    int npaths = 2;
#if defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
    npaths = 3;
#endif
    for (int p = 0; p < npaths; p++) {
        double cmp[BH_MAX_RUNS], chg[BH_MAX_RUNS];
        for (int r = 0; r < a.bh.runs; r++) {
            compared = changed = 0;
            if (p == 0) {
                struct deadline d = {0};
                if (rt_run(deadline_task, &d, sizeof(d), NULL) != 0)
                    bh_fail("lab_cancel: the deadline run failed");
            } else if (p == 1) {
                teardown_path();
            } else {
#if defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
                drop_path();
#endif
            }
            cmp[r] = compared;
            chg[r] = changed;
        }
        char metric[32];
        snprintf(metric, sizeof(metric), "%s_counters", paths[p]);
        bh_row("lab_cancel", b, -1, metric, "count", cmp, a.bh.runs);
        snprintf(metric, sizeof(metric), "%s_changed", paths[p]);
        bh_row("lab_cancel", b, -1, metric, "count", chg, a.bh.runs);
        if (a.check) {
            char what[96];
            snprintf(what, sizeof(what),
                     "%s: every counter is as it was before (%d compared)",
                     paths[p], (int)cmp[0]);
            lab_expect(chg[a.bh.runs - 1] == 0 && cmp[0] > 0, what);
        }
    }
    return lab_status();
}

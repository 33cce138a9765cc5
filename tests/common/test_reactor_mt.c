/* A shared reactor (rt_reactor_share) under several threads acting as the
 * workers of one scheduler: they arm, re-arm and cancel timers, register
 * socketpairs and wait to read them while writer threads write, post
 * remote nodes and read the stats, while whichever of them holds the turn
 * token turns the reactor (as the workers core hands the turn around).
 * Checks: every timer fires exactly once, a cancelled timer never fires,
 * every IO wait completes with every byte, and the reactor ends empty.
 * Also: a turn blocked in epoll wakes for a timer armed on another thread
 * earlier than the deadline it sleeps until.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "testwaker.h"
#include <greenfut/clock.h>
#include <greenfut/io.h>
#include <greenfut/reactor.h>
#include "reactor_internal.h" /* rt__reactor_sleep_until */

#define WORKERS 4
#define WRITERS 2
#define ROUNDS  200
#define NEAR    6  /* timers per round that fire */
#define FAR     3  /* timers per round that are cancelled */
#define BYTES   40 /* written to each round's socketpair, a byte a write */
#define HOUR    3600000000000ull

static struct rt_reactor *r;

/* The turn token: whoever holds it may turn. A waiting thread that cannot
 * take it sleeps until the turner reports progress (a generation bump),
 * so no thread spins and no wake is missed: the generation is read before
 * the try, and the turner bumps it after releasing the token. */
static pthread_mutex_t token = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prog_cond = PTHREAD_COND_INITIALIZER;
static uint64_t prog_gen;

static void progress(void)
{
    pthread_mutex_lock(&prog_lock);
    prog_gen++;
    pthread_cond_broadcast(&prog_cond);
    pthread_mutex_unlock(&prog_lock);
}

/* Turns the reactor (taking the token) or waits for the turner until
 * done(arg). Everything a waiter waits for is delivered by a turn. */
static void wait_until(bool (*done)(void *), void *arg)
{
    for (;;) {
        pthread_mutex_lock(&prog_lock);
        uint64_t g = prog_gen;
        pthread_mutex_unlock(&prog_lock);
        if (done(arg))
            return;
        if (pthread_mutex_trylock(&token) == 0) {
            /* Looked at again with the token held: the last turner may
             * have delivered the wake between the look above and the
             * trylock, and then no later turn would (a turn that blocks
             * forever for nothing). Every wake comes from a turn, so with
             * the token held none can arrive unseen. */
            if (done(arg)) {
                pthread_mutex_unlock(&token);
                return;
            }
            int n = rt_reactor_turn(r, -1);
            pthread_mutex_unlock(&token);
            CHECK(n >= 0);
            progress();
            continue;
        }
        pthread_mutex_lock(&prog_lock);
        while (prog_gen == g)
            pthread_cond_wait(&prog_cond, &prog_lock);
        pthread_mutex_unlock(&prog_lock);
    }
}

struct count_at_least {
    atomic_int *v;
    int n;
};

static bool reached(void *arg)
{
    struct count_at_least *c = arg;
    return atomic_load(c->v) >= c->n;
}

static void wait_count(atomic_int *v, int n)
{
    struct count_at_least c = {v, n};
    wait_until(reached, &c);
}

/* The writers' queue: write ends of socketpairs, each to be written BYTES
 * bytes (0, 1, 2, ...) one write at a time, then closed. */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static int q_fds[WORKERS];
static int q_len;
static int q_open = WORKERS; /* workers not yet finished */

static void q_push(int fd)
{
    pthread_mutex_lock(&q_lock);
    CHECK_LT(q_len, WORKERS);
    q_fds[q_len++] = fd;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

static void *writer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        while (q_len == 0 && q_open > 0)
            pthread_cond_wait(&q_cond, &q_lock);
        if (q_len == 0) {
            pthread_mutex_unlock(&q_lock);
            return NULL;
        }
        int fd = q_fds[--q_len];
        pthread_mutex_unlock(&q_lock);
        for (int i = 0; i < BYTES; i++) {
            unsigned char b = (unsigned char)i;
            CHECK_EQ(write(fd, &b, 1), 1);
        }
        CHECK_OK(close(fd) == 0 ? 0 : -errno);
    }
}

/* A remote node per worker: its run (on whichever thread turns) adds the
 * posts it took to `ran`. */
struct counted {
    struct rt_remote node;
    atomic_uint ran;
};

static struct counted remotes[WORKERS];

static void counted_run(struct rt_remote *node)
{
    struct counted *c = (struct counted *)node;
    atomic_fetch_add(&c->ran, node->taken / RT_REMOTE_UNIT);
}

/* The test wakers. A waker's wake may still be running on the turning
 * thread when its waiter sees the wake count move (testwaker.c counts the
 * wake before the release), so each outlives its round, and their `live`
 * counts are checked once every thread has been joined. */
static struct tw far_tw[WORKERS]; /* cancelled timers: never woken */
static struct tw near_tws[WORKERS][ROUNDS][NEAR];
static struct tw sleep_tws[WORKERS][ROUNDS];
static struct tw io_tws[WORKERS];

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Reads the round's socketpair to EOF: every byte, in order. */
static void read_all(int fd, struct tw *io_tw, const struct rt_waker *w)
{
    unsigned char buf[16];
    int got = 0;
    for (;;) {
        struct rt_cx cx = {w};
        ssize_t n = 0;
        int seen = atomic_load(&io_tw->wakes);
        if (rt_poll_read(r, fd, buf, sizeof(buf), &cx, &n) == RT_PENDING) {
            wait_count(&io_tw->wakes, seen + 1);
            continue;
        }
        CHECK_GE(n, 0);
        if (n == 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            CHECK_EQ(buf[i], (unsigned char)(got + i));
        got += (int)n;
    }
    CHECK_EQ(got, BYTES);
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t rnd = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    struct rt_waker far_w = tw_init(&far_tw[id]);
    struct tw *io_tw = &io_tws[id];
    struct rt_waker io_w = tw_init(io_tw);
    for (int round = 0; round < ROUNDS; round++) {
        /* Timers that fire: deadlines up to 0.2 ms ahead, some already
         * past; the first is armed an hour ahead and then re-armed near,
         * which must fire it once, at the near deadline. */
        struct rt_timer near[NEAR];
        struct tw *near_tw = near_tws[id][round];
        uint64_t now = rt_now_ns();
        for (int j = 0; j < NEAR; j++) {
            struct rt_waker w = tw_init(&near_tw[j]);
            rt_timer_init(&near[j]);
            uint64_t dl = now + next_rand(&rnd) % 200000u;
            if (j == 1)
                dl = now - 1;
            if (j == 0)
                CHECK_OK(rt_reactor_timer_arm(r, &near[j], now + HOUR, &w));
            CHECK_OK(rt_reactor_timer_arm(r, &near[j], dl, &w));
        }
        /* Timers that are cancelled before they could fire. */
        struct rt_timer far[FAR];
        for (int j = 0; j < FAR; j++) {
            rt_timer_init(&far[j]);
            CHECK_OK(rt_reactor_timer_arm(r, &far[j], now + HOUR, &far_w));
        }
        /* A sleep through the leaf poll (its locked re-wake path). */
        struct rt_timer st;
        rt_timer_init(&st);
        struct tw *sleep_tw = &sleep_tws[id][round];
        struct rt_waker sleep_w = tw_init(sleep_tw);
        uint64_t sleep_dl = now + next_rand(&rnd) % 100000u;

        int sv[2];
        CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0
                     ? 0
                     : -errno);
        CHECK_OK(rt_reactor_register(r, sv[0]));
        q_push(sv[1]);
        rt_reactor_hold(r);
        CHECK_EQ(rt_reactor_post(r, &remotes[id].node, RT_REMOTE_UNIT, 0) < 0,
                 0);

        rt_reactor_timer_cancel(r, &far[0]);
        read_all(sv[0], io_tw, &io_w);
        for (int j = 1; j < FAR; j++)
            rt_reactor_timer_cancel(r, &far[j]);
        for (int j = 0; j < FAR; j++)
            CHECK(!rt_timer_armed(&far[j]));

        for (;;) {
            struct rt_cx cx = {&sleep_w};
            int res = -1;
            int seen = atomic_load(&sleep_tw->wakes);
            if (rt_poll_sleep_until(r, &st, sleep_dl, &cx, &res) == RT_READY) {
                CHECK_EQ(res, 0);
                break;
            }
            wait_count(&sleep_tw->wakes, seen + 1);
        }
        CHECK(!rt_timer_armed(&st));

        struct rt_reactor_stats s;
        CHECK_OK(rt_reactor_stats(r, &s));
        CHECK_GE(s.holds, 1u);
        CHECK(rt_reactor_has_waiters(r));
        rt_reactor_release(r);

        /* Every near timer fires exactly once. */
        for (int j = 0; j < NEAR; j++)
            wait_count(&near_tw[j].wakes, 1);
        for (int j = 0; j < NEAR; j++) {
            CHECK(!rt_timer_armed(&near[j]));
            CHECK_EQ(atomic_load(&near_tw[j].wakes), 1);
        }
        CHECK_EQ(atomic_load(&far_tw[id].wakes), 0);
        CHECK_OK(rt_reactor_close(r, sv[0]));
    }
    pthread_mutex_lock(&q_lock);
    q_open--;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
    /* Whoever waits may need this thread's turn no longer; let it look. */
    progress();
    return NULL;
}

static void test_workers(void)
{
    for (int i = 0; i < WORKERS; i++) {
        rt_remote_init(&remotes[i].node, counted_run);
        atomic_init(&remotes[i].ran, 0);
    }
    pthread_t w[WORKERS], wr[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        CHECK_EQ(pthread_create(&wr[i], NULL, writer, NULL), 0);
    for (int i = 0; i < WORKERS; i++)
        CHECK_EQ(pthread_create(&w[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < WORKERS; i++)
        CHECK_EQ(pthread_join(w[i], NULL), 0);
    for (int i = 0; i < WRITERS; i++)
        CHECK_EQ(pthread_join(wr[i], NULL), 0);
    /* Posts still queued run at the next turn. */
    CHECK_GE(rt_reactor_turn(r, 0), 0);
    for (int i = 0; i < WORKERS; i++) {
        CHECK_EQ(atomic_load(&remotes[i].ran), (unsigned)ROUNDS);
        CHECK_EQ(atomic_load(&far_tw[i].wakes), 0);
        CHECK_EQ(atomic_load(&far_tw[i].live), 0);
        CHECK_EQ(atomic_load(&far_tw[i].clones), atomic_load(&far_tw[i].drops));
        CHECK_EQ(atomic_load(&io_tws[i].live), 0);
        for (int k = 0; k < ROUNDS; k++) {
            CHECK_EQ(atomic_load(&sleep_tws[i][k].live), 0);
            for (int j = 0; j < NEAR; j++) {
                CHECK_EQ(atomic_load(&near_tws[i][k][j].wakes), 1);
                CHECK_EQ(atomic_load(&near_tws[i][k][j].live), 0);
            }
        }
    }
    struct rt_reactor_stats s;
    CHECK_OK(rt_reactor_stats(r, &s));
    CHECK_EQ(s.fds, 0u);
    CHECK_EQ(s.io_waiters, 0u);
    CHECK_EQ(s.timers, 0u);
    CHECK_EQ(s.holds, 0u);
    CHECK(!rt_reactor_has_waiters(r));
}

/* A lone turner blocks; another thread arms an earlier timer. */
static struct tw kick_tw;

static bool kicked(void *arg)
{
    (void)arg;
    return atomic_load(&kick_tw.wakes) > 0;
}

static void *lone_turner(void *arg)
{
    (void)arg;
    while (!kicked(NULL))
        CHECK_GE(rt_reactor_turn(r, -1), 0);
    return NULL;
}

static void test_earlier_arm_wakes_turn(bool with_far)
{
    struct tw far;
    struct rt_waker far_w = tw_init(&far);
    struct rt_waker kick_w = tw_init(&kick_tw);
    struct rt_timer tf, tk;
    rt_timer_init(&tf);
    rt_timer_init(&tk);
    uint64_t now = rt_now_ns();
    if (with_far)
        CHECK_OK(rt_reactor_timer_arm(r, &tf, now + HOUR, &far_w));
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, lone_turner, NULL), 0);
    /* Until the turn has computed its wait (then it blocks in epoll, or is
     * about to: either way the arm below must reach it). */
    uint64_t until;
    while ((until = rt__reactor_sleep_until(r)) == 0)
        sched_yield();
    CHECK(until > now + HOUR / 2); /* the far deadline, or no limit */
    if (!with_far)
        CHECK(until == UINT64_MAX);
    /* Without the notify the turn would sleep for an hour (or forever),
     * and the join below would hang until ctest's timeout. */
    CHECK_OK(rt_reactor_timer_arm(r, &tk, rt_now_ns() + 1000000u, &kick_w));
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&kick_tw.wakes), 1);
    CHECK_EQ(atomic_load(&far.wakes), 0);
    rt_reactor_timer_cancel(r, &tf);
    CHECK_EQ(atomic_load(&far.live), 0);
    CHECK_EQ(atomic_load(&kick_tw.live), 0);
}

/* The edge a clear of readiness could erase. The reader announces each
 * read before it makes it, and the writer writes its next byte at once,
 * racing the read: the byte lands before the read's syscall, between its
 * EAGAIN (or short read) and its park, or after the park. In the middle
 * case the turn applies the edge while no waker is stored; a clear that
 * ignored it would leave the reader parked with a byte unread, and since
 * the writer waits for the next announcement, nothing would ever come:
 * the test would hang. */
#define PINGS 4000

static pthread_mutex_t ping_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ping_cond = PTHREAD_COND_INITIALIZER;
static int ping_want; /* bytes the reader has asked for */
static atomic_bool ping_stop;

static void *ping_writer(void *arg)
{
    int fd = (int)(intptr_t)arg;
    for (int i = 0; i < PINGS; i++) {
        pthread_mutex_lock(&ping_lock);
        while (ping_want <= i)
            pthread_cond_wait(&ping_cond, &ping_lock);
        pthread_mutex_unlock(&ping_lock);
        unsigned char b = (unsigned char)i;
        CHECK_EQ(write(fd, &b, 1), 1);
    }
    return NULL;
}

static bool ping_stopped(void *arg)
{
    (void)arg;
    return atomic_load(&ping_stop);
}

static void *ping_turner(void *arg)
{
    (void)arg;
    wait_until(ping_stopped, NULL);
    return NULL;
}

static void test_edge_not_lost(void)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0
                 ? 0
                 : -errno);
    CHECK_OK(rt_reactor_register(r, sv[0]));
    struct tw io_tw;
    struct rt_waker w = tw_init(&io_tw);
    pthread_t tw_thread, tt;
    CHECK_EQ(pthread_create(&tt, NULL, ping_turner, NULL), 0);
    CHECK_EQ(
        pthread_create(&tw_thread, NULL, ping_writer, (void *)(intptr_t)sv[1]),
        0);
    unsigned char buf[8];
    for (int got = 0; got < PINGS;) {
        pthread_mutex_lock(&ping_lock);
        if (ping_want == got) {
            ping_want = got + 1;
            pthread_cond_signal(&ping_cond);
        }
        pthread_mutex_unlock(&ping_lock);
        struct rt_cx cx = {&w};
        ssize_t n = 0;
        int seen = atomic_load(&io_tw.wakes);
        if (rt_poll_read(r, sv[0], buf, sizeof(buf), &cx, &n) == RT_PENDING) {
            wait_count(&io_tw.wakes, seen + 1);
            continue;
        }
        CHECK_EQ(n, 1); /* one byte asked for, one written */
        CHECK_EQ(buf[0], (unsigned char)got);
        got++;
    }
    CHECK_EQ(pthread_join(tw_thread, NULL), 0);
    atomic_store(&ping_stop, true);
    CHECK_OK(rt_reactor_notify(r));
    CHECK_EQ(pthread_join(tt, NULL), 0);
    CHECK_OK(rt_reactor_close(r, sv[0]));
    CHECK_EQ(close(sv[1]), 0);
    CHECK_EQ(atomic_load(&io_tw.live), 0);
}

/* Accept, connect, write and read through the shared paths: one thread
 * accepts and answers each "ping" with "pong", two connect and ask. */
#define CONNS 16

static int listen_fd;
static struct sockaddr_in listen_sa;

/* Polls an op until ready, waiting for its waker between polls. */
#define POLL_UNTIL(tw_, call_)                  \
    for (;;) {                                  \
        int seen_ = atomic_load(&(tw_)->wakes); \
        if ((call_) == RT_READY)                \
            break;                              \
        wait_count(&(tw_)->wakes, seen_ + 1);   \
    }

static void exchange(int fd, struct tw *t, const struct rt_waker *w,
                     const char *say, const char *expect)
{
    struct rt_cx cx = {w};
    ssize_t n = 0;
    POLL_UNTIL(t, rt_poll_write(r, fd, say, 4, &cx, &n));
    CHECK_EQ(n, 4);
    char buf[4];
    size_t got = 0;
    while (got < 4) {
        POLL_UNTIL(t, rt_poll_read(r, fd, buf + got, 4 - got, &cx, &n));
        CHECK_GT(n, 0);
        got += (size_t)n;
    }
    CHECK(memcmp(buf, expect, 4) == 0);
}

static struct tw net_tws[4];

/* Connects `fd` to `sa`: the first poll starts it, the later ones wait. */
static int connect_until(int fd, const struct sockaddr_in *sa, struct tw *t,
                         const struct rt_waker *w)
{
    struct rt_cx cx = {w};
    int rc = 1;
    const struct sockaddr *addr = (const struct sockaddr *)sa;
    for (;;) {
        int seen = atomic_load(&t->wakes);
        if (rt_poll_connect(r, fd, addr, sizeof(*sa), &cx, &rc) == RT_READY)
            return rc;
        addr = NULL;
        wait_count(&t->wakes, seen + 1);
    }
}

static void *acceptor(void *arg)
{
    (void)arg;
    struct rt_waker w = tw_init(&net_tws[0]);
    struct rt_cx cx = {&w};
    for (int i = 0; i < CONNS; i++) {
        int fd = -1;
        POLL_UNTIL(&net_tws[0],
                   rt_poll_accept(r, listen_fd, NULL, NULL, &cx, &fd));
        CHECK_OK(fd);
        char buf[4];
        ssize_t n = 0;
        size_t got = 0;
        while (got < 4) {
            POLL_UNTIL(&net_tws[0],
                       rt_poll_read(r, fd, buf + got, 4 - got, &cx, &n));
            CHECK_GT(n, 0);
            got += (size_t)n;
        }
        CHECK(memcmp(buf, "ping", 4) == 0);
        POLL_UNTIL(&net_tws[0], rt_poll_write(r, fd, "pong", 4, &cx, &n));
        CHECK_EQ(n, 4);
        CHECK_OK(rt_reactor_close(r, fd));
    }
    progress();
    return NULL;
}

static void *connector(void *arg)
{
    struct tw *t = &net_tws[(intptr_t)arg];
    struct rt_waker w = tw_init(t);
    for (int i = 0; i < CONNS / 2; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK_OK(fd < 0 ? -errno : 0);
        CHECK_OK(rt_reactor_register(r, fd));
        CHECK_EQ(connect_until(fd, &listen_sa, t, &w), 0);
        exchange(fd, t, &w, "ping", "pong");
        CHECK_OK(rt_reactor_close(r, fd));
    }
    progress();
    return NULL;
}

static void test_accept_connect(void)
{
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_OK(listen_fd < 0 ? -errno : 0);
    listen_sa = (struct sockaddr_in){.sin_family = AF_INET,
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof(listen_sa);
    CHECK_OK(bind(listen_fd, (struct sockaddr *)&listen_sa, slen));
    CHECK_OK(listen(listen_fd, CONNS));
    CHECK_OK(getsockname(listen_fd, (struct sockaddr *)&listen_sa, &slen));
    CHECK_OK(rt_reactor_register(r, listen_fd));
    pthread_t a, c[2];
    CHECK_EQ(pthread_create(&a, NULL, acceptor, NULL), 0);
    for (intptr_t i = 0; i < 2; i++)
        CHECK_EQ(pthread_create(&c[i], NULL, connector, (void *)(i + 1)), 0);
    CHECK_EQ(pthread_join(a, NULL), 0);
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(c[i], NULL), 0);
    CHECK_OK(rt_reactor_close(r, listen_fd));

    /* Refused: the listener is gone. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_OK(rt_reactor_register(r, fd));
    struct rt_waker w = tw_init(&net_tws[3]);
    CHECK_EQ(connect_until(fd, &listen_sa, &net_tws[3], &w), -ECONNREFUSED);
    CHECK_OK(rt_reactor_close(r, fd));
    for (int i = 0; i < 4; i++)
        CHECK_EQ(atomic_load(&net_tws[i].live), 0);
}

int main(void)
{
    CHECK_OK(rt_reactor_new(&r));
    CHECK_EQ(rt_reactor_share(NULL), -EINVAL);
    CHECK_OK(rt_reactor_share(r));
    CHECK_OK(rt_reactor_share(r)); /* a no-op */
    test_earlier_arm_wakes_turn(true);
    test_earlier_arm_wakes_turn(false);
    test_edge_not_lost();
    test_accept_connect();
    test_workers();
    rt_reactor_free(r);
    return 0;
}

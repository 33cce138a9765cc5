/* The shared primitives driven by several OS threads at once, as the
 * workers of a multi-worker scheduler drive them. rt__mt_count(1) first,
 * so that the objects' locks are live; then each thread calls the poll
 * functions directly with a blocking test waker (tw_park) and, whenever a
 * poll is RT_PENDING, waits for that waker to fire before polling again.
 *
 * Checked: a ring of channels passing tokens (exactly-once delivery, the
 * final sums); several senders and receivers on buffered and rendezvous
 * channels (each message once, each sender's in order); close with
 * parked senders and receivers, and close racing traffic (a send reported
 * done is received, one reported -EPIPE is not); mutual exclusion of the
 * mutex; the semaphore's permits conserved; the wait group; the condition
 * variable; notify; and cancels racing completions (no permit,
 * notification or message lost or duplicated), and a wake given up by
 * a cancel going on to the next waiter. Every waker clone is consumed by
 * the end. A lost wake-up shows as a hang, which the CTest timeout turns
 * into a failure. Runs in the TSan stage (label tsan) and under ASan. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <greenfut/chan.h>
#include <greenfut/mt.h>
#include <greenfut/reactor.h>
#include <greenfut/sync.h>
#include <greenfut/timer.h>
#include "check.h"
#include "testwaker.h"

/* ---- Driving threads ---------------------------------------------------- */

#define NT 6 /* threads a test starts, at most */

/* One driving thread (drv[NT] is the main thread's). Static: a wake taken
 * out of a waiter may reach its waker after the op completed (waitq.h),
 * so the wakers outlive every thread until all have been joined. */
struct drv {
    struct tw_park park;
    struct rt_waker waker;
    struct rt_cx cx;
    unsigned index;
    pthread_t thread;
    void *(*fn)(void *); /* what the thread runs, once the test says go */
    unsigned go_at;      /* ... which is when go_gate reaches this */
};

static struct drv drv[NT + 1];
static struct drv *const me = &drv[NT]; /* the main thread */

/* Polls `expr` until it is RT_READY, waiting for d's waker in between. */
#define DRIVE(d, expr)                \
    do {                              \
        while ((expr) == RT_PENDING)  \
            tw_park_wait(&(d)->park); \
    } while (0)

static void drv_begin(void)
{
    for (unsigned i = 0; i <= NT; i++) {
        drv[i].waker = tw_park_init(&drv[i].park);
        drv[i].cx.waker = &drv[i].waker;
        drv[i].index = i;
    }
}

/* After every thread has been joined: no clone left unconsumed. */
static void drv_end(void)
{
    for (unsigned i = 0; i <= NT; i++) {
        CHECK_EQ(atomic_load(&drv[i].park.counts.live), 0);
        tw_park_fini(&drv[i].park);
    }
}

static void start(unsigned from, unsigned to, void *(*fn)(void *));

static void join(unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        CHECK_EQ(pthread_join(drv[i].thread, NULL), 0);
}

/* A counter another thread can wait on reaching a value (no sleeping). */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned n; /* lock's */
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->n = 0;
}

static void gate_add(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->n++;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void gate_wait(struct gate *g, unsigned n)
{
    pthread_mutex_lock(&g->lock);
    while (g->n < n)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_fini(struct gate *g)
{
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
}

/* Threads start together, so that they overlap (a thread created last
 * could otherwise find the others finished): each waits for go(). */
static struct gate go_gate;
static unsigned go_count; /* main's: go() calls so far */

static void *trampoline(void *arg)
{
    struct drv *d = arg;
    gate_wait(&go_gate, d->go_at);
    return d->fn(d);
}

static void start(unsigned from, unsigned to, void *(*fn)(void *))
{
    for (unsigned i = from; i < to; i++) {
        drv[i].fn = fn;
        drv[i].go_at = go_count + 1;
        CHECK_EQ(pthread_create(&drv[i].thread, NULL, trampoline, &drv[i]), 0);
    }
}

/* Lets every thread started since the last go() run. */
static void go(void)
{
    gate_add(&go_gate);
    go_count++;
}

/* Inside a critical section: sometimes give the CPU away, so that other
 * threads queue behind the holder (on two cores they rarely would). */
static void linger(unsigned k)
{
    if (k % 8 == 0)
        sched_yield();
}

/* Blocking sends and receives for the threads that only move messages. */
static int send_on(struct drv *d, struct rt_chan *ch, const void *msg)
{
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int res;
    DRIVE(d, rt_chan_poll_send(ch, &op, msg, &d->cx, &res));
    return res;
}

static int recv_on(struct drv *d, struct rt_chan *ch, void *out)
{
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int res;
    DRIVE(d, rt_chan_poll_recv(ch, &op, out, &d->cx, &res));
    return res;
}

/* ---- A ring of channels ------------------------------------------------- */

#define RING_K 4 /* threads, one channel each */
/* Tokens in flight. A ring of bounded channels can only jam when every
 * thread holds a token it cannot send and every slot is full: K + the sum
 * of the capacities (4 + 7) tokens, so 8 (with the main thread holding
 * one while it injects) cannot. */
#define RING_TOKENS 8
#define RING_HOPS   1000

struct token {
    unsigned id;
    unsigned hops;
    uint64_t sum; /* the index of each thread that received it */
};

static struct rt_chan ring[RING_K];
static const size_t ring_cap[RING_K] = {0, 1, 2, 4};
static atomic_uint ring_seen[RING_TOKENS];
static atomic_uint ring_home;
static atomic_ulong ring_recvs;
static atomic_ullong ring_sum;

static void *ring_node(void *arg)
{
    struct drv *d = arg;
    unsigned i = d->index;
    for (;;) {
        struct token t;
        int res = recv_on(d, &ring[i], &t);
        if (res == 0)
            return NULL; /* closed: every token is home */
        CHECK_EQ(res, 1);
        atomic_fetch_add(&ring_recvs, 1);
        t.sum += i;
        if (++t.hops < RING_HOPS) {
            CHECK_EQ(send_on(d, &ring[(i + 1) % RING_K], &t), 0);
            continue;
        }
        CHECK_EQ(atomic_fetch_add(&ring_seen[t.id], 1), 0); /* once */
        atomic_fetch_add(&ring_sum, t.sum);
        if (atomic_fetch_add(&ring_home, 1) + 1 == RING_TOKENS)
            for (unsigned k = 0; k < RING_K; k++)
                rt_chan_close(&ring[k]);
    }
}

static void test_ring(void)
{
    drv_begin();
    for (unsigned k = 0; k < RING_K; k++)
        CHECK_OK(rt_chan_init(&ring[k], sizeof(struct token), ring_cap[k]));
    start(0, RING_K, ring_node);
    go();
    uint64_t want = 0;
    for (unsigned id = 0; id < RING_TOKENS; id++) {
        struct token t = {id, 0, 0};
        unsigned first = id % RING_K;
        for (unsigned h = 0; h < RING_HOPS; h++)
            want += (first + h) % RING_K;
        CHECK_EQ(send_on(me, &ring[first], &t), 0);
    }
    join(0, RING_K);
    for (unsigned id = 0; id < RING_TOKENS; id++)
        CHECK_EQ(atomic_load(&ring_seen[id]), 1);
    CHECK_EQ(atomic_load(&ring_recvs), RING_TOKENS * RING_HOPS);
    CHECK_EQ(atomic_load(&ring_sum), want);
    for (unsigned k = 0; k < RING_K; k++) {
        CHECK_EQ(rt_chan_len(&ring[k]), 0);
        rt_chan_fini(&ring[k]);
    }
    drv_end();
}

/* ---- Several senders and receivers ---------------------------------------
 * Senders send ids s * MP_N + k in order of k; receivers take until the
 * channel is closed (after every sender has been joined). */

#define MP_S 3
#define MP_R 3
#define MP_N 3000

static struct rt_chan mp;
static atomic_uint mp_seen[MP_S * MP_N];
static atomic_ullong mp_sum;

static void *mp_sender(void *arg)
{
    struct drv *d = arg;
    for (unsigned k = 0; k < MP_N; k++) {
        unsigned v = d->index * MP_N + k;
        CHECK_EQ(send_on(d, &mp, &v), 0);
    }
    return NULL;
}

static void *mp_receiver(void *arg)
{
    struct drv *d = arg;
    long last[MP_S];
    for (unsigned s = 0; s < MP_S; s++)
        last[s] = -1;
    unsigned v;
    int res;
    while ((res = recv_on(d, &mp, &v)) == 1) {
        CHECK_LT(v, MP_S * MP_N);
        /* One receiver sees each sender's messages in the order sent. */
        CHECK_GT((long)(v % MP_N), last[v / MP_N]);
        last[v / MP_N] = v % MP_N;
        CHECK_EQ(atomic_fetch_add(&mp_seen[v], 1), 0);
        atomic_fetch_add(&mp_sum, v);
    }
    CHECK_EQ(res, 0);
    return NULL;
}

static void test_mpmc(size_t cap)
{
    drv_begin();
    CHECK_OK(rt_chan_init(&mp, sizeof(unsigned), cap));
    for (unsigned v = 0; v < MP_S * MP_N; v++)
        atomic_store(&mp_seen[v], 0);
    atomic_store(&mp_sum, 0);
    start(0, MP_S, mp_sender);
    start(MP_S, MP_S + MP_R, mp_receiver);
    go();
    join(0, MP_S);
    rt_chan_close(&mp);
    join(MP_S, MP_S + MP_R);
    for (unsigned v = 0; v < MP_S * MP_N; v++)
        CHECK_EQ(atomic_load(&mp_seen[v]), 1);
    uint64_t n = MP_S * MP_N;
    CHECK_EQ(atomic_load(&mp_sum), n * (n - 1) / 2);
    rt_chan_fini(&mp);
    drv_end();
}

/* ---- Close -------------------------------------------------------------- */

static struct rt_chan cl;
static struct gate cl_gate;

/* Parks on an empty channel, says so, and must be told "closed". */
static void *cl_parked_receiver(void *arg)
{
    struct drv *d = arg;
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int v, res;
    CHECK_EQ(rt_chan_poll_recv(&cl, &op, &v, &d->cx, &res), RT_PENDING);
    gate_add(&cl_gate);
    DRIVE(d, rt_chan_poll_recv(&cl, &op, &v, &d->cx, &res));
    CHECK_EQ(res, 0);
    return NULL;
}

/* Parks on a full channel, says so, and must be refused. */
static void *cl_parked_sender(void *arg)
{
    struct drv *d = arg;
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int v = 100 + (int)d->index, res;
    CHECK_EQ(rt_chan_poll_send(&cl, &op, &v, &d->cx, &res), RT_PENDING);
    gate_add(&cl_gate);
    DRIVE(d, rt_chan_poll_send(&cl, &op, &v, &d->cx, &res));
    CHECK_EQ(res, -EPIPE);
    return NULL;
}

static void test_close_parked(void)
{
    /* Receivers parked on a rendezvous channel. */
    drv_begin();
    gate_init(&cl_gate);
    CHECK_OK(rt_chan_init(&cl, sizeof(int), 0));
    start(0, NT, cl_parked_receiver);
    go();
    gate_wait(&cl_gate, NT);
    rt_chan_close(&cl);
    join(0, NT);
    rt_chan_fini(&cl);
    gate_fini(&cl_gate);
    drv_end();

    /* Senders parked on a full channel: refused; the buffered messages are
     * still delivered, then "closed". */
    drv_begin();
    gate_init(&cl_gate);
    CHECK_OK(rt_chan_init(&cl, sizeof(int), 2));
    for (int v = 1; v <= 2; v++)
        CHECK_EQ(send_on(me, &cl, &v), 0);
    start(0, NT, cl_parked_sender);
    go();
    gate_wait(&cl_gate, NT);
    rt_chan_close(&cl);
    join(0, NT);
    for (int want = 1; want <= 2; want++) {
        int v = 0;
        CHECK_EQ(recv_on(me, &cl, &v), 1);
        CHECK_EQ(v, want);
    }
    int v;
    CHECK_EQ(recv_on(me, &cl, &v), 0);
    rt_chan_fini(&cl);
    gate_fini(&cl_gate);
    drv_end();
}

/* Close racing traffic: senders send fresh ids until refused, receivers
 * take until closed; the main thread closes once some have gone through. */
#define CR_S   3
#define CR_R   3
#define CR_MAX 65536u /* ids per sender; close comes long before */

static atomic_uchar cr_sent[CR_S * CR_MAX], cr_got[CR_S * CR_MAX];

static void *cr_sender(void *arg)
{
    struct drv *d = arg;
    for (unsigned k = 0; k < CR_MAX; k++) {
        unsigned v = d->index * CR_MAX + k;
        int res = send_on(d, &cl, &v);
        if (res == -EPIPE)
            return NULL;
        CHECK_EQ(res, 0);
        atomic_store(&cr_sent[v], 1);
    }
    return NULL;
}

static void *cr_receiver(void *arg)
{
    struct drv *d = arg;
    unsigned v;
    int res;
    while ((res = recv_on(d, &cl, &v)) == 1) {
        CHECK_LT(v, CR_S * CR_MAX);
        CHECK_EQ(atomic_fetch_add(&cr_got[v], 1), 0);
        gate_add(&cl_gate);
    }
    CHECK_EQ(res, 0);
    return NULL;
}

static void test_close_racing(size_t cap)
{
    drv_begin();
    gate_init(&cl_gate);
    memset(cr_sent, 0, sizeof(cr_sent));
    memset(cr_got, 0, sizeof(cr_got));
    CHECK_OK(rt_chan_init(&cl, sizeof(unsigned), cap));
    start(0, CR_S, cr_sender);
    start(CR_S, CR_S + CR_R, cr_receiver);
    go();
    gate_wait(&cl_gate, 500);
    rt_chan_close(&cl);
    join(0, CR_S + CR_R);
    unsigned sent = 0;
    for (unsigned v = 0; v < CR_S * CR_MAX; v++) {
        /* Received exactly when the sender was told it was sent. */
        CHECK_EQ(atomic_load(&cr_got[v]), atomic_load(&cr_sent[v]));
        sent += atomic_load(&cr_sent[v]);
    }
    CHECK_GE(sent, 500);
    rt_chan_fini(&cl);
    gate_fini(&cl_gate);
    drv_end();
}

/* ---- Channel cancels racing completions ----------------------------------
 * Senders give up some sends (at once, or after their wake) and retry the
 * same id until a send is reported done (READY with 0, or a cancel that
 * returns true); receivers give up some receives (a cancel, or a deadline
 * already past through rt_chan_poll_recv_until) and fall back to a plain
 * receive. Every id must arrive exactly once. */

#define CC_S 3
#define CC_R 3
#define CC_N 2000

static struct rt_chan cc;
static struct rt_reactor *cc_reactor;
static atomic_uint cc_seen[CC_S * CC_N];
static atomic_uint cc_cancel_won, cc_timeouts;

static bool cc_try_send(struct drv *d, unsigned v, unsigned how)
{
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    int res;
    if (how == 2) {
        CHECK_EQ(send_on(d, &cc, &v), 0);
        return true;
    }
    if (rt_chan_poll_send(&cc, &op, &v, &d->cx, &res) == RT_READY) {
        CHECK_EQ(res, 0);
        return true;
    }
    if (how == 1)
        tw_park_wait(&d->park); /* woken: a receiver took it (or late) */
    bool done = rt_chan_op_cancel(&cc, &op);
    if (done)
        atomic_fetch_add(&cc_cancel_won, 1);
    return done;
}

static void *cc_sender(void *arg)
{
    struct drv *d = arg;
    for (unsigned k = 0; k < CC_N; k++) {
        unsigned v = d->index * CC_N + k;
        unsigned how = k % 3;
        while (!cc_try_send(d, v, how))
            how = (how + 1) % 3; /* the retry is another kind */
    }
    return NULL;
}

static void cc_got(unsigned v)
{
    CHECK_LT(v, CC_S * CC_N);
    CHECK_EQ(atomic_fetch_add(&cc_seen[v], 1), 0);
}

static void *cc_receiver(void *arg)
{
    struct drv *d = arg;
    unsigned mode = d->index % 3;
    for (unsigned k = 0;; k++) {
        struct rt_chan_op op;
        rt_chan_op_init(&op);
        unsigned v;
        int res;
        if (mode == 1 && k % 2 == 0) { /* one poll, then give up */
            if (rt_chan_poll_recv(&cc, &op, &v, &d->cx, &res) == RT_PENDING) {
                (void)rt_chan_op_cancel(&cc, &op);
                continue;
            }
        } else if (mode == 2 && k % 2 == 0) { /* a deadline already past */
            struct rt_timer t;
            rt_timer_init(&t);
            DRIVE(d, rt_chan_poll_recv_until(&cc, &op, &v, cc_reactor, &t, 0,
                                             &d->cx, &res));
            CHECK(!rt_timer_armed(&t));
            if (res == -ETIMEDOUT) {
                atomic_fetch_add(&cc_timeouts, 1);
                continue;
            }
        } else {
            res = recv_on(d, &cc, &v);
        }
        if (res == 0)
            return NULL;
        CHECK_EQ(res, 1);
        cc_got(v);
    }
}

static void test_chan_cancels(size_t cap)
{
    drv_begin();
    CHECK_OK(rt_chan_init(&cc, sizeof(unsigned), cap));
    for (unsigned v = 0; v < CC_S * CC_N; v++)
        atomic_store(&cc_seen[v], 0);
    start(0, CC_S, cc_sender);
    start(CC_S, CC_S + CC_R, cc_receiver);
    go();
    join(0, CC_S);
    rt_chan_close(&cc);
    join(CC_S, CC_S + CC_R);
    for (unsigned v = 0; v < CC_S * CC_N; v++)
        CHECK_EQ(atomic_load(&cc_seen[v]), 1);
    rt_chan_fini(&cc);
    drv_end();
}

/* A wake given up must go on. Each round PO_K receivers park on an empty
 * channel; the odd ones give up as soon as they are woken, without
 * polling; two messages are sent and must reach the two others with
 * nothing more done (a wake lost with a cancel strands a message: the test
 * hangs until its timeout). */
#define PO_K      4
#define PO_ROUNDS 200

static struct rt_chan po;
static struct gate po_parked, po_got;

static void *po_receiver(void *arg)
{
    struct drv *d = arg;
    struct rt_chan_op op;
    rt_chan_op_init(&op);
    unsigned v;
    int res;
    CHECK_EQ(rt_chan_poll_recv(&po, &op, &v, &d->cx, &res), RT_PENDING);
    gate_add(&po_parked);
    if (d->index % 2) {
        tw_park_wait(&d->park);
        CHECK(!rt_chan_op_cancel(&po, &op)); /* a receive never completes */
        return NULL;
    }
    DRIVE(d, rt_chan_poll_recv(&po, &op, &v, &d->cx, &res));
    if (res == 1)
        gate_add(&po_got);
    else
        CHECK_EQ(res, 0);
    return NULL;
}

static void test_chan_pass_on(void)
{
    for (unsigned r = 0; r < PO_ROUNDS; r++) {
        drv_begin();
        gate_init(&po_parked);
        gate_init(&po_got);
        CHECK_OK(rt_chan_init(&po, sizeof(unsigned), 2));
        start(0, PO_K, po_receiver);
        go();
        gate_wait(&po_parked, PO_K);
        for (unsigned v = 0; v < 2; v++)
            CHECK_EQ(send_on(me, &po, &v), 0);
        gate_wait(&po_got, 2);
        CHECK_EQ(rt_chan_len(&po), 0);
        rt_chan_close(&po);
        join(0, PO_K);
        rt_chan_fini(&po);
        gate_fini(&po_parked);
        gate_fini(&po_got);
        drv_end();
    }
}

/* ---- Mutex -------------------------------------------------------------- */

#define MU_T 4
#define MU_N 3000

static struct rt_mutex mu;
static atomic_int mu_inside;
static long mu_count; /* plain: only the mutex orders its updates */

static void *mu_worker(void *arg)
{
    struct drv *d = arg;
    for (unsigned k = 0; k < MU_N; k++) {
        struct rt_waiter w;
        rt_waiter_init(&w);
        int res;
        if (k % 5 == 4) {
            /* A lock given up while the unlocker may be handing it over:
             * either way nobody ends up holding it. */
            if (rt_mutex_poll_lock(&mu, &w, &d->cx, &res) == RT_PENDING) {
                if (k % 10 == 9)
                    tw_park_wait(&d->park); /* handed over, most likely */
                rt_mutex_cancel(&mu, &w);
                continue;
            }
        } else if (k % 5 != 3 || !rt_mutex_try_lock(&mu)) {
            DRIVE(d, rt_mutex_poll_lock(&mu, &w, &d->cx, &res));
            CHECK_EQ(res, 0);
        }
        CHECK_EQ(atomic_fetch_add(&mu_inside, 1), 0); /* alone in here */
        mu_count++;
        linger(k);
        CHECK_EQ(atomic_fetch_sub(&mu_inside, 1), 1);
        rt_mutex_unlock(&mu);
    }
    return NULL;
}

static void test_mutex(void)
{
    drv_begin();
    rt_mutex_init(&mu);
    start(0, MU_T, mu_worker);
    go();
    join(0, MU_T);
    /* Each thread's cancelled attempts did not count; the rest did. */
    CHECK_LE(mu_count, MU_T * MU_N);
    CHECK_GE(mu_count, MU_T * (MU_N - MU_N / 5));
    /* Nothing was lost or left held: the mutex is free, once. */
    CHECK(rt_mutex_try_lock(&mu));
    CHECK(!rt_mutex_try_lock(&mu));
    rt_mutex_unlock(&mu);
    drv_end();
}

/* ---- Semaphore ---------------------------------------------------------- */

#define SEM_P 2
#define SEM_T 5
#define SEM_N 2000

static struct rt_sem sem;
static atomic_int sem_in_use;
static atomic_uint sem_taken;

static void *sem_worker(void *arg)
{
    struct drv *d = arg;
    for (unsigned k = 0; k < SEM_N; k++) {
        struct rt_waiter w;
        rt_waiter_init(&w);
        int res;
        unsigned how = (k + d->index) % 4;
        if (how == 0) { /* give up at once */
            if (rt_sem_poll_acquire(&sem, &w, &d->cx, &res) == RT_PENDING) {
                rt_sem_cancel(&sem, &w);
                continue;
            }
        } else if (how == 1) { /* give up once woken: handed a permit */
            if (rt_sem_poll_acquire(&sem, &w, &d->cx, &res) == RT_PENDING) {
                tw_park_wait(&d->park);
                rt_sem_cancel(&sem, &w);
                continue;
            }
        } else if (how != 2 || !rt_sem_try_acquire(&sem)) {
            DRIVE(d, rt_sem_poll_acquire(&sem, &w, &d->cx, &res));
            CHECK_EQ(res, 0);
        }
        int in = atomic_fetch_add(&sem_in_use, 1);
        CHECK_LT(in, SEM_P);
        atomic_fetch_add(&sem_taken, 1);
        linger(k);
        atomic_fetch_sub(&sem_in_use, 1);
        rt_sem_release(&sem);
    }
    return NULL;
}

static void test_sem(void)
{
    drv_begin();
    rt_sem_init(&sem, SEM_P);
    start(0, SEM_T, sem_worker);
    go();
    join(0, SEM_T);
    CHECK_GE(atomic_load(&sem_taken), SEM_T * SEM_N / 2);
    /* Every permit is back, and no extra one appeared. */
    for (int i = 0; i < SEM_P; i++)
        CHECK(rt_sem_try_acquire(&sem));
    CHECK(!rt_sem_try_acquire(&sem));
    drv_end();
}

/* ---- Wait group --------------------------------------------------------
 * Rounds: thread 0 adds WG_W, WG_W threads do their work and done, the
 * others wait (some giving up and waiting again) and must see all work. */

#define WG_W      3
#define WG_ROUNDS 300

static struct rt_wg wg;
static pthread_barrier_t wg_bar;
static atomic_uint wg_work;

static void *wg_thread(void *arg)
{
    struct drv *d = arg;
    for (unsigned r = 0; r < WG_ROUNDS; r++) {
        if (d->index == 0) {
            atomic_store(&wg_work, 0);
            rt_wg_add(&wg, WG_W);
        }
        pthread_barrier_wait(&wg_bar);
        if (d->index < WG_W) {
            atomic_fetch_add(&wg_work, 1);
            CHECK_OK(rt_wg_done(&wg));
        } else {
            struct rt_waiter w;
            rt_waiter_init(&w);
            int res;
            if ((r + d->index) % 3 == 0 &&
                rt_wg_poll_wait(&wg, &w, &d->cx, &res) == RT_PENDING)
                rt_wg_cancel(&wg, &w); /* then wait again */
            DRIVE(d, rt_wg_poll_wait(&wg, &w, &d->cx, &res));
            CHECK_EQ(res, 0);
            CHECK_EQ(atomic_load(&wg_work), WG_W);
        }
        pthread_barrier_wait(&wg_bar);
    }
    return NULL;
}

static void test_wg(void)
{
    drv_begin();
    rt_wg_init(&wg);
    CHECK_EQ(pthread_barrier_init(&wg_bar, NULL, NT), 0);
    start(0, NT, wg_thread);
    go();
    join(0, NT);
    CHECK_EQ(rt_wg_done(&wg), -EINVAL); /* back at zero */
    pthread_barrier_destroy(&wg_bar);
    drv_end();
}

/* ---- Condition variable -------------------------------------------------
 * Producers add items under the mutex and notify one; consumers wait for
 * items (some waits given up, then the mutex taken again); at the end the
 * main thread sets `finished` and notifies all. */

#define CV_P 2
#define CV_C 3
#define CV_N 2000

static struct rt_mutex cv_mu;
static struct rt_cond cv;
static unsigned cv_items, cv_consumed; /* cv_mu's */
static bool cv_finished;               /* cv_mu's */

static void cv_lock(struct drv *d)
{
    struct rt_waiter w;
    rt_waiter_init(&w);
    int res;
    DRIVE(d, rt_mutex_poll_lock(&cv_mu, &w, &d->cx, &res));
    CHECK_EQ(res, 0);
}

static void *cv_producer(void *arg)
{
    struct drv *d = arg;
    for (unsigned k = 0; k < CV_N; k++) {
        cv_lock(d);
        cv_items++;
        linger(k);
        if (k % 7 == 0)
            rt_cond_notify_all(&cv);
        else
            rt_cond_notify_one(&cv);
        rt_mutex_unlock(&cv_mu);
    }
    return NULL;
}

/* One wait on the condition, cv_mu held before and after. Every fourth
 * is given up after its first poll (while queued, or notified already),
 * every fourth after its wake and a second poll (notified, maybe queued
 * for the mutex by then): a notify it had is passed on, a mutex handed to
 * it is let go, and the mutex is taken again. */
static void cv_wait(struct drv *d, unsigned n)
{
    struct rt_cond_waiter cw;
    rt_cond_waiter_init(&cw);
    int res;
    if (n % 4 == 3 || n % 4 == 1) {
        if (rt_cond_poll_wait(&cv, &cv_mu, &cw, &d->cx, &res) == RT_READY)
            return;
        if (n % 4 == 1) {
            tw_park_wait(&d->park);
            if (rt_cond_poll_wait(&cv, &cv_mu, &cw, &d->cx, &res) == RT_READY)
                return;
        }
        rt_cond_cancel(&cv, &cw);
        cv_lock(d);
        return;
    }
    DRIVE(d, rt_cond_poll_wait(&cv, &cv_mu, &cw, &d->cx, &res));
    CHECK_EQ(res, 0);
}

static void *cv_consumer(void *arg)
{
    struct drv *d = arg;
    unsigned waits = 0;
    cv_lock(d);
    for (;;) {
        while (cv_items == 0 && !cv_finished)
            cv_wait(d, waits++);
        if (cv_items == 0)
            break; /* finished and drained */
        cv_items--;
        cv_consumed++;
    }
    rt_mutex_unlock(&cv_mu);
    return NULL;
}

static void test_cond(void)
{
    drv_begin();
    rt_mutex_init(&cv_mu);
    rt_cond_init(&cv);
    start(0, CV_P, cv_producer);
    start(CV_P, CV_P + CV_C, cv_consumer);
    go();
    join(0, CV_P);
    cv_lock(me);
    cv_finished = true;
    rt_cond_notify_all(&cv);
    rt_mutex_unlock(&cv_mu);
    join(CV_P, CV_P + CV_C);
    CHECK_EQ(cv_consumed, CV_P * CV_N);
    CHECK_EQ(cv_items, 0);
    CHECK(rt_mutex_try_lock(&cv_mu));
    rt_mutex_unlock(&cv_mu);
    CHECK(!rt_cond_notify_one(&cv)); /* nobody left queued */
    drv_end();
}

/* The condition's version of test_chan_pass_on: PO_K waiters, the odd
 * ones give up once notified, two notify_one must reach the two others. */
static struct rt_mutex pc_mu;
static struct rt_cond pc;

static void *pc_waiter(void *arg)
{
    struct drv *d = arg;
    struct rt_waiter w;
    rt_waiter_init(&w);
    int res;
    DRIVE(d, rt_mutex_poll_lock(&pc_mu, &w, &d->cx, &res));
    struct rt_cond_waiter cw;
    rt_cond_waiter_init(&cw);
    CHECK_EQ(rt_cond_poll_wait(&pc, &pc_mu, &cw, &d->cx, &res), RT_PENDING);
    gate_add(&po_parked); /* queued, and the mutex let go */
    if (d->index % 2) {
        tw_park_wait(&d->park);
        rt_cond_cancel(&pc, &cw);
        return NULL;
    }
    DRIVE(d, rt_cond_poll_wait(&pc, &pc_mu, &cw, &d->cx, &res));
    CHECK_EQ(res, 0);
    gate_add(&po_got);
    rt_mutex_unlock(&pc_mu);
    return NULL;
}

static void test_cond_pass_on(void)
{
    for (unsigned r = 0; r < PO_ROUNDS; r++) {
        drv_begin();
        gate_init(&po_parked);
        gate_init(&po_got);
        rt_mutex_init(&pc_mu);
        rt_cond_init(&pc);
        start(0, PO_K, pc_waiter);
        go();
        gate_wait(&po_parked, PO_K);
        CHECK(rt_cond_notify_one(&pc));
        CHECK(rt_cond_notify_one(&pc));
        gate_wait(&po_got, 2);
        rt_cond_notify_all(&pc); /* the odd ones not notified yet */
        join(0, PO_K);
        CHECK(rt_mutex_try_lock(&pc_mu));
        rt_mutex_unlock(&pc_mu);
        gate_fini(&po_parked);
        gate_fini(&po_got);
        drv_end();
    }
}

/* ---- Notify ------------------------------------------------------------- */

#define NO_ROUNDS 5000

static struct rt_notify to_a, to_b;
static unsigned no_turn; /* plain: the notifications order its updates */

static void *no_ping(void *arg)
{
    struct drv *d = arg;
    for (unsigned r = 0; r < NO_ROUNDS; r++) {
        no_turn = 2 * r + 1;
        rt_notify_one(&to_b);
        struct rt_waiter w;
        rt_waiter_init(&w);
        int res;
        DRIVE(d, rt_notify_poll_wait(&to_a, &w, &d->cx, &res));
        CHECK_EQ(res, 0);
        CHECK_EQ(no_turn, 2 * r + 2);
    }
    return NULL;
}

static void *no_pong(void *arg)
{
    struct drv *d = arg;
    for (unsigned r = 0; r < NO_ROUNDS; r++) {
        struct rt_waiter w;
        rt_waiter_init(&w);
        int res;
        DRIVE(d, rt_notify_poll_wait(&to_b, &w, &d->cx, &res));
        CHECK_EQ(res, 0);
        CHECK_EQ(no_turn, 2 * r + 1);
        no_turn = 2 * r + 2;
        rt_notify_one(&to_a);
    }
    return NULL;
}

/* One notification per round against a wait that may be given up: the
 * wait either got it or left it as the permit, never both, never none. */
static pthread_barrier_t no_bar;
static atomic_uint no_got;

static void *no_waiter(void *arg)
{
    struct drv *d = arg;
    for (unsigned r = 0; r < NO_ROUNDS; r++) {
        pthread_barrier_wait(&no_bar);
        struct rt_waiter w;
        rt_waiter_init(&w);
        int res;
        unsigned got = 0;
        if (rt_notify_poll_wait(&to_a, &w, &d->cx, &res) == RT_READY) {
            CHECK_EQ(res, 0);
            got = 1;
        } else {
            if (r % 2)
                tw_park_wait(&d->park); /* delivered to us: cancel hands
                                           it back as the permit */
            rt_notify_cancel(&to_a, &w);
        }
        pthread_barrier_wait(&no_bar); /* the notifier is done */
        rt_waiter_init(&w);
        if (rt_notify_poll_wait(&to_a, &w, &d->cx, &res) == RT_READY)
            got++; /* the permit */
        else
            rt_notify_cancel(&to_a, &w);
        CHECK_EQ(got, 1);
        atomic_fetch_add(&no_got, got);
    }
    return NULL;
}

static void *no_notifier(void *arg)
{
    (void)arg;
    for (unsigned r = 0; r < NO_ROUNDS; r++) {
        pthread_barrier_wait(&no_bar);
        rt_notify_one(&to_a);
        pthread_barrier_wait(&no_bar);
    }
    return NULL;
}

static void test_notify(void)
{
    drv_begin();
    rt_notify_init(&to_a);
    rt_notify_init(&to_b);
    start(0, 1, no_ping);
    start(1, 2, no_pong);
    go();
    join(0, 2);
    CHECK_EQ(no_turn, 2 * NO_ROUNDS);

    CHECK_EQ(pthread_barrier_init(&no_bar, NULL, 2), 0);
    start(0, 1, no_waiter);
    start(1, 2, no_notifier);
    go();
    join(0, 2);
    CHECK_EQ(atomic_load(&no_got), NO_ROUNDS);
    pthread_barrier_destroy(&no_bar);
    drv_end();
}

int main(void)
{
    rt__mt_count(1); /* as a multi-worker scheduler does: locks are live */
    CHECK(rt_mt());
    gate_init(&go_gate);
    CHECK_OK(rt_reactor_new(&cc_reactor));
    test_ring();
    test_mpmc(0);
    test_mpmc(3);
    test_close_parked();
    test_close_racing(0);
    test_close_racing(2);
    test_chan_cancels(0);
    test_chan_cancels(1);
    test_chan_pass_on();
    test_mutex();
    test_sem();
    test_wg();
    test_cond();
    test_cond_pass_on();
    test_notify();
    rt_reactor_free(cc_reactor);
    gate_fini(&go_gate);
    rt__mt_count(-1);
    return 0;
}

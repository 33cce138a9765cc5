/* The workers of a multi-worker scheduler (workers.h): rings, the inject
 * queue, stealing, parking and the reactor turn.
 *
 * The ring is single-producer (its owner pushes at the tail) and
 * multi-consumer (its owner and thieves take from the head with a CAS), a
 * simplification of tokio's queue.rs: the owner pops with a CAS too, which
 * costs it one locked instruction per item, in exchange for one protocol
 * for every consumer. A slot is read before the CAS that claims it; the
 * producer never overwrites a slot the head has not passed (it checks
 * tail - head < RT_RING against a head it read, which can only be behind
 * the real one), so a successful CAS means the value read was the item.
 *
 * Going idle, without lost wake-ups: a worker that found nothing announces
 * itself (idle count, parked list), then looks for work again, and only
 * then sleeps; a pusher makes its item visible, then reads the idle count.
 * Both sides use sequentially consistent operations on those words, so at
 * least one of them sees the other.
 */
#include "workers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>

#include <greenfut/check.h>
#include "sys.h"

static _Thread_local struct rt_worker *self_worker;

static bool yq_register(void); /* the yield queue's, below */

/* Out of line with an empty asm inside, so that the compiler treats every
 * call as reading memory anew: the value is never carried across a switch,
 * nor is the thread-local's address (see workers.h). */
__attribute__((noinline)) struct rt_worker *rt_worker_self(void)
{
    struct rt_worker *w = self_worker;
    __asm__ volatile("" ::: "memory");
    return w;
}

void rt__worker_set(struct rt_worker *w)
{
    self_worker = w;
}

int rt_workers_count(unsigned asked, bool zero_is_cpus)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned cpus = online < 1                ? 1u
                    : online > RT_WORKERS_MAX ? RT_WORKERS_MAX
                                              : (unsigned)online;
    if (asked == RT_WORKERS_CPUS)
        return (int)cpus;
    if (asked > RT_WORKERS_MAX)
        return -EINVAL;
    if (asked > 0)
        return (int)asked;
    if (zero_is_cpus)
        return (int)cpus;
    const char *env = getenv("RT_WORKERS");
    if (!env || !*env)
        return 1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(env, &end, 10);
    if (errno || *end || env[0] == '-' || v > RT_WORKERS_MAX)
        return -EINVAL;
    return v == 0 ? (int)cpus : (int)v;
}

int rt_workers_new(struct rt_workers **out, unsigned n, struct rt_reactor *r,
                   const struct rt_workers_ops *ops, void *ctx,
                   void *const *worker_ctx)
{
    if (!out || n < 2 || n > RT_WORKERS_MAX || !r || !ops || !ops->live ||
        !ops->deadlock)
        return -EINVAL;
    struct rt_workers *ws;
    size_t bytes = sizeof(*ws) + n * sizeof(ws->w[0]);
    if (posix_memalign((void **)&ws, 64, bytes))
        return -ENOMEM;
    memset(ws, 0, bytes);
    ws->n = n;
    ws->reactor = r;
    ws->ops = ops;
    ws->ctx = ctx;
    rt_spin_init(&ws->inject_lock);
    rt_list_init(&ws->inject);
    pthread_mutex_init(&ws->park_lock, NULL);
    pthread_cond_init(&ws->go_cond, NULL);
    for (unsigned i = 0; i < n; i++) {
        struct rt_worker *w = &ws->w[i];
        w->ws = ws;
        w->index = i;
        w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
        w->ctx = worker_ctx ? worker_ctx[i] : NULL;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        rt_spin_init(&w->inbox_lock);
        rt_list_init(&w->inbox);
        rt_list_init(&w->yq);
        rt_spin_init(&w->yq_thief);
    }
    ws->yq_on = yq_register();
    *out = ws;
    return 0;
}

void rt_workers_free(struct rt_workers *ws)
{
    if (!ws)
        return;
    for (unsigned i = 0; i < ws->n; i++) {
        pthread_mutex_destroy(&ws->w[i].lock);
        pthread_cond_destroy(&ws->w[i].cond);
    }
    pthread_mutex_destroy(&ws->park_lock);
    pthread_cond_destroy(&ws->go_cond);
    free(ws);
}

/* ---- the inject queue */

static void inject_locked(struct rt_workers *ws, struct rt_list *node)
{
    rt_list_push_back(&ws->inject, node);
    atomic_fetch_add_explicit(&ws->inject_len, 1, memory_order_seq_cst);
}

void rt_workers_inject(struct rt_workers *ws, struct rt_list *node)
{
    rt_spin_lock_always(&ws->inject_lock);
    inject_locked(ws, node);
    rt_spin_unlock(&ws->inject_lock, true);
    rt_workers_notify(ws);
}

static struct rt_list *inject_pop(struct rt_workers *ws)
{
    if (atomic_load_explicit(&ws->inject_len, memory_order_acquire) == 0)
        return NULL;
    rt_spin_lock_always(&ws->inject_lock);
    struct rt_list *n = rt_list_pop_front(&ws->inject);
    if (n)
        atomic_fetch_sub_explicit(&ws->inject_len, 1, memory_order_relaxed);
    rt_spin_unlock(&ws->inject_lock, true);
    return n;
}

void rt_worker_send(struct rt_worker *to, struct rt_list *node)
{
    rt_spin_lock_always(&to->inbox_lock);
    rt_list_push_back(&to->inbox, node);
    atomic_fetch_add_explicit(&to->inbox_len, 1, memory_order_seq_cst);
    rt_spin_unlock(&to->inbox_lock, true);
    rt_worker_wake(to);
}

static struct rt_list *inbox_pop(struct rt_worker *w)
{
    if (atomic_load_explicit(&w->inbox_len, memory_order_acquire) == 0)
        return NULL;
    rt_spin_lock_always(&w->inbox_lock);
    struct rt_list *n = rt_list_pop_front(&w->inbox);
    if (n)
        atomic_fetch_sub_explicit(&w->inbox_len, 1, memory_order_relaxed);
    rt_spin_unlock(&w->inbox_lock, true);
    return n;
}

void rt_workers_clear(struct rt_workers *ws)
{
    rt_list_init(&ws->inject);
    atomic_store(&ws->inject_len, 0);
    for (unsigned i = 0; i < ws->n; i++) {
        struct rt_worker *w = &ws->w[i];
        w->lifo = NULL;
        atomic_store(&w->head, atomic_load(&w->tail));
        rt_list_init(&w->yq);
        atomic_store(&w->yq_len, 0);
        rt_list_init(&w->inbox);
        atomic_store(&w->inbox_len, 0);
    }
}

/* ---- the ring */

static unsigned ring_len(struct rt_worker *w)
{
    unsigned h = atomic_load_explicit(&w->head, memory_order_acquire);
    unsigned t = atomic_load_explicit(&w->tail, memory_order_acquire);
    return t - h;
}

/* Owner: moves half of a full ring (head `h`), plus `node`, to the inject
 * queue. False when a consumer moved the head first (there is room now). */
static bool ring_overflow(struct rt_worker *w, unsigned h, struct rt_list *node)
{
    const unsigned half = RT_RING / 2;
    if (!atomic_compare_exchange_strong_explicit(
            &w->head, &h, h + half, memory_order_acq_rel, memory_order_relaxed))
        return false;
    struct rt_workers *ws = w->ws;
    rt_spin_lock_always(&ws->inject_lock);
    for (unsigned i = 0; i < half; i++)
        inject_locked(ws, atomic_load_explicit(&w->ring[(h + i) % RT_RING],
                                               memory_order_relaxed));
    inject_locked(ws, node);
    rt_spin_unlock(&ws->inject_lock, true);
    return true;
}

/* Owner: appends `node`. The tail's store is seq_cst: with the read of
 * the idle count in rt_workers_notify after it, it is one half of a
 * Dekker pair whose other half is park's (its comment). */
static void ring_push(struct rt_worker *w, struct rt_list *node)
{
    unsigned t = atomic_load_explicit(&w->tail, memory_order_relaxed);
    for (;;) {
        unsigned h = atomic_load_explicit(&w->head, memory_order_acquire);
        if (t - h < RT_RING) {
            atomic_store_explicit(&w->ring[t % RT_RING], node,
                                  memory_order_relaxed);
            atomic_store_explicit(&w->tail, t + 1, memory_order_seq_cst);
            return;
        }
        if (ring_overflow(w, h, node))
            return;
    }
}

/* Owner: takes the head item, or NULL. */
static struct rt_list *ring_pop(struct rt_worker *w)
{
    unsigned h = atomic_load_explicit(&w->head, memory_order_acquire);
    for (;;) {
        unsigned t = atomic_load_explicit(&w->tail, memory_order_relaxed);
        if (h == t)
            return NULL;
        struct rt_list *n =
            atomic_load_explicit(&w->ring[h % RT_RING], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&w->head, &h, h + 1,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire))
            return n;
    }
}

/* Thief `w` (its ring empty) takes half of `v`'s ring, rounded up: the
 * last item taken is returned, the others go to w's ring. */
static struct rt_list *steal(struct rt_worker *w, struct rt_worker *v)
{
    unsigned mine = atomic_load_explicit(&w->tail, memory_order_relaxed);
    unsigned h = atomic_load_explicit(&v->head, memory_order_acquire);
    for (;;) {
        unsigned t = atomic_load_explicit(&v->tail, memory_order_acquire);
        unsigned len = t - h;
        if (len == 0 || len > RT_RING)
            return NULL; /* empty, or a torn read: try another victim */
        unsigned k = len - len / 2;
        for (unsigned i = 0; i < k; i++)
            atomic_store_explicit(
                &w->ring[(mine + i) % RT_RING],
                atomic_load_explicit(&v->ring[(h + i) % RT_RING],
                                     memory_order_relaxed),
                memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&v->head, &h, h + k,
                                                  memory_order_acq_rel,
                                                  memory_order_acquire)) {
            struct rt_list *last = atomic_load_explicit(
                &w->ring[(mine + k - 1) % RT_RING], memory_order_relaxed);
            if (k > 1)
                atomic_store_explicit(&w->tail, mine + k - 1,
                                      memory_order_seq_cst);
            w->stolen += k;
            return last;
        }
    }
}

/* ---- the yield queue
 *
 * A task that its own worker queues again right after running it (a
 * yield) brings no new work, and through the ring each such turn costs
 * two locked instructions, the tail's seq_cst store and the head's CAS:
 * with a few nanoseconds of work per yield, at two workers they were most
 * of its time, and two workers took longer than one. So a yield goes to
 * a list of the worker's own instead, which its owner pushes to and takes
 * from with plain loads and stores, and which another worker takes from
 * only when it has nothing else to run (the owner may be stuck in a long
 * task, or blocked in a system call, with yielders queued behind it).
 *
 * The owner and a thief exclude each other by an asymmetric Dekker pair.
 * The owner writes yq_busy = 1, then reads yq_revoke, with only a compiler
 * barrier between the two; a thief writes yq_revoke = 1, then runs
 * membarrier(2)'s private expedited barrier, which makes every running
 * thread of the process execute a full memory barrier before it returns,
 * then waits for yq_busy to read 0. Either the owner's yq_busy = 1 came
 * before that barrier on its CPU, and the thief sees it and waits, or it
 * came after, and so does the owner's read of yq_revoke, which then sees 1:
 * the owner backs off until the thief is done. The owner's operations are
 * a few loads and stores and never span a task, so a thief waits for
 * nanoseconds; the owner pays for the exclusion only the two plain stores.
 * membarrier(2) was made for this pattern; without it (a kernel before
 * 4.14, a seccomp filter that refuses it) yields go to the ring.
 *
 * Waking: a push that makes the queue non-empty publishes the length, then
 * a seq_cst fence, then reads the idle count (rt_workers_notify), the same
 * pair as the ring's tail store with park's announcement: a worker about
 * to park sees the queue non-empty, or the pusher sees it idle and wakes
 * it. A push onto a non-empty queue needs neither: a parking worker's
 * seq_cst read of the length, after its announcement, returns that of the
 * last push that made the queue non-empty or a later one, so it is zero
 * only when the queue really was empty at some point since, and the next
 * push after that is one that makes it non-empty. */

/* Owner, slow path of yq_enter: a thief holds the queue; waits until it
 * is done, then enters again. */
static __attribute__((noinline, cold)) void yq_wait_thief(struct rt_worker *w)
{
    do {
        atomic_store_explicit(&w->yq_busy, 0, memory_order_release);
        rt__wait_zero(&w->yq_revoke);
        atomic_store_explicit(&w->yq_busy, 1, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);
    } while (atomic_load_explicit(&w->yq_revoke, memory_order_acquire));
}

/* Owner: enters its yield queue (above). */
static inline void yq_enter(struct rt_worker *w)
{
    atomic_store_explicit(&w->yq_busy, 1, memory_order_relaxed);
    /* The compiler's half of the pair; the thief's membarrier is the
     * CPU's. */
    atomic_signal_fence(memory_order_seq_cst);
    if (__builtin_expect(
            atomic_load_explicit(&w->yq_revoke, memory_order_acquire), 0))
        yq_wait_thief(w);
}

static void yq_leave(struct rt_worker *w)
{
    atomic_store_explicit(&w->yq_busy, 0, memory_order_release);
}

/* Registers the process for the thieves' barrier; false when the kernel
 * refuses it (then the yield queues stay off). */
static bool yq_register(void)
{
    int cmds = rt_sys_membarrier(MEMBARRIER_CMD_QUERY);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
        return false;
    return rt_sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

/* The thieves' barrier. It cannot fail once the process is registered
 * (membarrier(2)); if it did, taking from the queue would not be safe. */
static void yq_barrier(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0u) != 0)
        rt_panic(__FILE__, __LINE__, "membarrier failed after registration");
}

/* A thief (or the dump): takes worker v's yield queue from its owner
 * (above), and gives it back. */
static void yq_take(struct rt_worker *v)
{
    rt_spin_lock_always(&v->yq_thief);
    atomic_store_explicit(&v->yq_revoke, 1, memory_order_relaxed);
    yq_barrier();
    rt__wait_zero(&v->yq_busy);
}

static void yq_give_back(struct rt_worker *v)
{
    atomic_store_explicit(&v->yq_revoke, 0, memory_order_release);
    rt_spin_unlock(&v->yq_thief, true);
}

/* Owner: claims every item of its ring with one CAS of the head, or
 * none; returns the old head and sets *k to the count. The claimed slots
 * stay as they are until the owner pushes past them, so it reads them
 * after the CAS. */
static unsigned ring_claim_all(struct rt_worker *w, unsigned *k)
{
    unsigned h = atomic_load_explicit(&w->head, memory_order_acquire);
    for (;;) {
        unsigned t = atomic_load_explicit(&w->tail, memory_order_relaxed);
        *k = t - h;
        if (*k == 0 ||
            atomic_compare_exchange_weak_explicit(
                &w->head, &h, t, memory_order_acq_rel, memory_order_acquire))
            return h;
    }
}

void rt_worker_requeue(struct rt_worker *w, struct rt_list *node)
{
    if (!w->ws->yq_on) {
        rt_worker_push(w, node, false);
        return;
    }
    /* A yield lets every task that was ready on this worker run first:
     * the ring's items (none in the steady state of a yield loop) move to
     * the yield queue ahead of it, in order, where an idle worker can
     * still take them. */
    unsigned k;
    unsigned h = ring_claim_all(w, &k);
    yq_enter(w);
    unsigned n = atomic_load_explicit(&w->yq_len, memory_order_relaxed);
    for (unsigned i = 0; i < k; i++)
        rt_list_push_back(&w->yq,
                          atomic_load_explicit(&w->ring[(h + i) % RT_RING],
                                               memory_order_relaxed));
    rt_list_push_back(&w->yq, node);
    atomic_store_explicit(&w->yq_len, n + k + 1, memory_order_relaxed);
    yq_leave(w);
    if (n == 0) {
        atomic_thread_fence(memory_order_seq_cst);
        rt_workers_notify(w->ws);
    }
}

/* Owner: takes the yield queue's first item, or NULL. */
static inline struct rt_list *yq_pop(struct rt_worker *w)
{
    /* Only a thief lowers the length behind the owner's back: a 0 here is
     * an empty queue. */
    if (atomic_load_explicit(&w->yq_len, memory_order_relaxed) == 0)
        return NULL;
    yq_enter(w);
    unsigned n = atomic_load_explicit(&w->yq_len, memory_order_relaxed);
    struct rt_list *l = NULL;
    if (n) {
        l = rt_list_pop_front(&w->yq);
        atomic_store_explicit(&w->yq_len, n - 1, memory_order_relaxed);
    }
    yq_leave(w);
    return l;
}

/* Thief `w` (its ring empty) takes half of `v`'s yield queue, rounded up
 * and at most half a ring: the first item taken is returned, the others
 * go to w's ring. */
static struct rt_list *yq_steal(struct rt_worker *w, struct rt_worker *v)
{
    if (atomic_load_explicit(&v->yq_len, memory_order_relaxed) == 0)
        return NULL;
    yq_take(v);
    unsigned len = atomic_load_explicit(&v->yq_len, memory_order_relaxed);
    unsigned k = len - len / 2;
    if (k > RT_RING / 2)
        k = RT_RING / 2;
    struct rt_list *first = NULL;
    for (unsigned i = 0; i < k; i++) {
        struct rt_list *l = rt_list_pop_front(&v->yq);
        if (!first)
            first = l;
        else
            ring_push(w, l);
    }
    atomic_store_explicit(&v->yq_len, len - k, memory_order_relaxed);
    yq_give_back(v);
    w->stolen += k;
    return first;
}

unsigned rt_worker_yq_snapshot(struct rt_worker *w, const struct rt_list **out,
                               unsigned max)
{
    bool own = rt_worker_self() == w;
    if (atomic_load_explicit(&w->yq_len, memory_order_relaxed) == 0)
        return 0;
    if (own)
        yq_enter(w);
    else
        yq_take(w);
    unsigned n = 0;
    for (const struct rt_list *l = w->yq.next; l != &w->yq && n < max;
         l = l->next)
        out[n++] = l;
    if (own)
        yq_leave(w);
    else
        yq_give_back(w);
    return n;
}

/* ---- pushing and taking */

void rt_worker_push(struct rt_worker *w, struct rt_list *node, bool lifo)
{
    if (lifo) {
        struct rt_list *prev = w->lifo;
        w->lifo = node;
        if (!prev) {
            /* The owner takes the slot when it is next free; others only
             * need waking for what is in the ring. */
            return;
        }
        node = prev;
    }
    ring_push(w, node);
    rt_workers_notify(w->ws);
}

bool rt_worker_empty(struct rt_worker *w)
{
    return !w->lifo && ring_len(w) == 0 &&
           atomic_load_explicit(&w->yq_len, memory_order_relaxed) == 0;
}

static uint64_t next_rand(struct rt_worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

/* A worker may search only while fewer than half the workers do (tokio's
 * rule): more would only contend on the same victims. */
static bool start_searching(struct rt_worker *w)
{
    if (w->searching)
        return true;
    struct rt_workers *ws = w->ws;
    unsigned s = atomic_load_explicit(&ws->searching, memory_order_seq_cst);
    if (2 * s >= ws->n)
        return false;
    atomic_fetch_add_explicit(&ws->searching, 1, memory_order_seq_cst);
    w->searching = true;
    return true;
}

/* Stops searching; the last searcher to find work wakes another worker, so
 * that someone keeps looking while work may remain. */
static void stop_searching(struct rt_worker *w, bool found)
{
    if (!w->searching)
        return;
    w->searching = false;
    struct rt_workers *ws = w->ws;
    unsigned left =
        atomic_fetch_sub_explicit(&ws->searching, 1, memory_order_seq_cst) - 1;
    if (found && left == 0)
        rt_workers_notify(ws);
}

static struct rt_list *steal_any(struct rt_worker *w)
{
    struct rt_workers *ws = w->ws;
    if (!start_searching(w))
        return NULL;
    unsigned start = (unsigned)(next_rand(w) % ws->n);
    for (unsigned i = 0; i < ws->n; i++) {
        struct rt_worker *v = &ws->w[(start + i) % ws->n];
        if (v == w)
            continue;
        struct rt_list *n = steal(w, v);
        if (n) {
            stop_searching(w, true);
            return n;
        }
    }
    struct rt_list *n = inject_pop(ws);
    for (unsigned i = 0; !n && i < ws->n; i++) {
        struct rt_worker *v = &ws->w[(start + i) % ws->n];
        if (v != w)
            n = yq_steal(w, v);
    }
    stop_searching(w, n != NULL);
    return n;
}

/* The ring and the yield queue, which take turns while both have items,
 * so that neither starves behind the other. */
static inline struct rt_list *take_local(struct rt_worker *w)
{
    struct rt_list *n;
    if (w->yq_first && (n = yq_pop(w))) {
        w->yq_first = false;
        return n;
    }
    if ((n = ring_pop(w))) {
        w->yq_first = true;
        return n;
    }
    if ((n = yq_pop(w)))
        w->yq_first = false;
    return n;
}

static inline struct rt_list *took(struct rt_worker *w, struct rt_list *n)
{
    /* A relaxed store (a plain mov): fut_stats may read it mid-run. */
    __atomic_store_n(&w->taken, w->taken + 1, __ATOMIC_RELAXED);
    return n;
}

/* rt_worker_next when its fast path does not apply: the whole order. */
static __attribute__((noinline)) struct rt_list *next_slow(struct rt_worker *w,
                                                           bool lifo_ok)
{
    struct rt_list *n;
    if ((n = inbox_pop(w)))
        goto got;
    w->tick++;
    if (w->tick % RT_INJECT_EVERY == 0 && (n = inject_pop(w->ws)))
        goto got;
    if (w->lifo) {
        n = w->lifo;
        w->lifo = NULL;
        if (lifo_ok && w->lifo_run < RT_LIFO_MAX) {
            w->lifo_run++;
            return took(w, n);
        }
        /* The cap keeps the ring's items from starving behind the slot.
         * With nothing in the ring, the yield queue or the inject queue
         * there is nobody to starve, and the slot's item would come straight
         * back out of the ring, only stealable (and a notify) on the way: a
         * chain of spawns or a ping-pong pair would move to another core at
         * every cap. So it runs here, and the count starts again. */
        if (lifo_ok && ring_len(w) == 0 &&
            atomic_load_explicit(&w->yq_len, memory_order_relaxed) == 0 &&
            atomic_load_explicit(&w->ws->inject_len, memory_order_relaxed) ==
                0) {
            w->lifo_run = 1;
            return took(w, n);
        }
        /* The cap is reached (or a yield asked): the slot's item goes
         * behind the ring's, which take their turn first. */
        ring_push(w, n);
        /* Stealable now: if this worker next runs something long (or
         * blocking), an idle one must come for it. */
        rt_workers_notify(w->ws);
    }
    if ((n = take_local(w)) || (n = inject_pop(w->ws)) || (n = steal_any(w)))
        goto got;
    return NULL;
got:
    w->lifo_run = 0;
    return took(w, n);
}

struct rt_list *rt_worker_next(struct rt_worker *w, bool lifo_ok)
{
    atomic_store_explicit(&w->kicked, false, memory_order_relaxed);
    /* The fast path: nothing in the inbox or the LIFO slot, not the turn
     * of the inject queue, and an item in the ring or the yield queue. */
    if (atomic_load_explicit(&w->inbox_len, memory_order_relaxed) ||
        (w->tick + 1) % RT_INJECT_EVERY == 0 || w->lifo)
        return next_slow(w, lifo_ok);
    struct rt_list *n = take_local(w);
    if (!n)
        return next_slow(w, lifo_ok);
    w->tick++;
    w->lifo_run = 0;
    return took(w, n);
}

/* ---- waking and parking */

/* Some item is queued where worker `w` could take it. */
static bool any_work(struct rt_workers *ws)
{
    if (atomic_load_explicit(&ws->inject_len, memory_order_seq_cst))
        return true;
    for (unsigned i = 0; i < ws->n; i++)
        if (ring_len(&ws->w[i]) ||
            atomic_load_explicit(&ws->w[i].yq_len, memory_order_seq_cst))
            return true;
    return false;
}

/* any_work, or work for one worker alone: for the deadlock test. */
static bool anything_queued(struct rt_workers *ws)
{
    if (any_work(ws))
        return true;
    for (unsigned i = 0; i < ws->n; i++)
        if (atomic_load_explicit(&ws->w[i].inbox_len, memory_order_seq_cst) ||
            rt_worker_kicked(&ws->w[i]))
            return true;
    return false;
}

/* What a worker stores in ws->turner while it turns: its index + 1, so
 * that the dump can say which worker is in the reactor. */
static int turn_token(const struct rt_worker *w)
{
    return (int)w->index + 1;
}

static bool stopping(struct rt_workers *ws)
{
    return atomic_load_explicit(&ws->stop, memory_order_acquire) != 0;
}

/* Removes worker `i` from the parked list if it is there; park_lock held. */
static void unlist(struct rt_workers *ws, unsigned i)
{
    for (unsigned k = 0; k < ws->nparked; k++)
        if (ws->parked_ix[k] == i) {
            ws->parked_ix[k] = ws->parked_ix[--ws->nparked];
            return;
        }
}

void rt_workers_notify(struct rt_workers *ws)
{
    if (atomic_load_explicit(&ws->searching, memory_order_seq_cst) != 0)
        return; /* a searcher will find it */
    if (atomic_load_explicit(&ws->idle, memory_order_seq_cst) == 0)
        return; /* everyone is busy and will look */
    pthread_mutex_lock(&ws->park_lock);
    if (ws->nparked == 0) {
        pthread_mutex_unlock(&ws->park_lock);
        /* The idle worker is the one in the reactor. */
        (void)rt_reactor_notify(ws->reactor);
        return;
    }
    struct rt_worker *w = &ws->w[ws->parked_ix[--ws->nparked]];
    pthread_mutex_unlock(&ws->park_lock);
    pthread_mutex_lock(&w->lock);
    w->parked = false;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void rt_worker_wake(struct rt_worker *w)
{
    atomic_store_explicit(&w->kicked, true, memory_order_seq_cst);
    pthread_mutex_lock(&w->lock);
    bool was = w->parked;
    w->parked = false;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    if (!was) /* it may be the one blocked in the reactor */
        (void)rt_reactor_notify(w->ws->reactor);
}

void rt_workers_stop(struct rt_workers *ws, int rc)
{
    int expected = 0;
    pthread_mutex_lock(&ws->park_lock);
    if (atomic_compare_exchange_strong(&ws->stop, &expected, 1))
        ws->rc = rc;
    pthread_mutex_unlock(&ws->park_lock);
    for (unsigned i = 0; i < ws->n; i++) {
        struct rt_worker *w = &ws->w[i];
        pthread_mutex_lock(&w->lock);
        w->parked = false;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    (void)rt_reactor_notify(ws->reactor);
}

int rt_worker_poll_reactor(struct rt_worker *w)
{
    struct rt_workers *ws = w->ws;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&ws->turner, &expected, turn_token(w)))
        return 0;
    int rc = rt_reactor_turn(ws->reactor, 0);
    atomic_store(&ws->turner, 0);
    return rc;
}

/* The reactor turn of an idle worker: blocks until something is due or a
 * notify, unless work is already queued. */
static int idle_turn(struct rt_worker *w)
{
    struct rt_workers *ws = w->ws;
    struct rt_reactor *r = ws->reactor;
    atomic_fetch_add_explicit(&ws->idle, 1, memory_order_seq_cst);
    int rc = 0;
    if (!any_work(ws) && !stopping(ws) && !rt_worker_kicked(w)) {
        if (ws->ops->live(ws->ctx) == 0) {
            rt_workers_stop(ws, 0);
        } else if (!rt_reactor_has_waiters(r)) {
            /* Every other worker parked after finding nothing, nothing is
             * queued, and the reactor can wake nobody: no task can ever
             * run again. Otherwise a busy worker may still wake someone:
             * wait for its push's notify. Both are read under park_lock: a
             * listed worker that was woken leaves the list (under that
             * lock) before it clears its kicked flag or takes from its
             * inbox, so while the lock is held the reason it was woken
             * stays visible to anything_queued. */
            pthread_mutex_lock(&ws->park_lock);
            bool dead = ws->nparked == ws->n - 1 && !anything_queued(ws);
            pthread_mutex_unlock(&ws->park_lock);
            if (dead) {
                ws->ops->deadlock(ws->ctx);
                rt_workers_stop(ws, -EDEADLK);
            } else {
                rc = rt_reactor_turn(r, -1);
            }
        } else {
            rc = rt_reactor_turn(r, -1);
        }
    } else {
        rc = rt_reactor_turn(r, 0);
    }
    atomic_fetch_sub_explicit(&ws->idle, 1, memory_order_seq_cst);
    return rc;
}

static void park(struct rt_worker *w)
{
    struct rt_workers *ws = w->ws;
    pthread_mutex_lock(&w->lock);
    w->parked = true;
    pthread_mutex_lock(&ws->park_lock);
    ws->parked_ix[ws->nparked++] = w->index;
    bool last = ws->nparked == ws->n - 1;
    pthread_mutex_unlock(&ws->park_lock);
    atomic_fetch_add_explicit(&ws->idle, 1, memory_order_seq_cst);
    /* Look again after announcing: a push that missed the announcement
     * made its item visible before reading the idle count. The reactor's
     * turn is free again: take it instead of sleeping. */
    if (any_work(ws) || stopping(ws) || rt_worker_kicked(w) ||
        atomic_load_explicit(&ws->turner, memory_order_seq_cst) == 0)
        w->parked = false;
    else if (last)
        /* Every worker but the one in the reactor sleeps now: let that one
         * check for a deadlock. */
        (void)rt_reactor_notify(ws->reactor);
    while (w->parked)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    pthread_mutex_lock(&ws->park_lock);
    unlist(ws, w->index);
    pthread_mutex_unlock(&ws->park_lock);
    atomic_fetch_sub_explicit(&ws->idle, 1, memory_order_seq_cst);
}

int rt_worker_idle(struct rt_worker *w)
{
    struct rt_workers *ws = w->ws;
    if (stopping(ws))
        return RT_IDLE_STOP;
    int expected = 0;
    if (atomic_compare_exchange_strong(&ws->turner, &expected, turn_token(w))) {
        int rc = idle_turn(w);
        atomic_store(&ws->turner, 0);
        if (rc < 0)
            rt_workers_stop(ws, rc);
    } else {
        park(w);
    }
    return stopping(ws) ? RT_IDLE_STOP : RT_IDLE_AGAIN;
}

/* ---- running */

static void *thread_main(void *arg)
{
    struct rt_worker *w = arg;
    struct rt_workers *ws = w->ws;
    pthread_mutex_lock(&ws->park_lock);
    while (!ws->go)
        pthread_cond_wait(&ws->go_cond, &ws->park_lock);
    bool failed = ws->failed;
    pthread_mutex_unlock(&ws->park_lock);
    if (!failed) {
        rt__worker_set(w);
        ws->main(w);
        rt__worker_set(NULL);
    }
    return NULL;
}

int rt_workers_run(struct rt_workers *ws, void (*main)(struct rt_worker *w))
{
    if (!ws || !main)
        return -EINVAL;
    ws->main = main;
    unsigned started = 1;
    int rc = 0;
    for (; started < ws->n; started++) {
        int e = pthread_create(&ws->w[started].thread, NULL, thread_main,
                               &ws->w[started]);
        if (e) {
            rc = e == EAGAIN ? -EAGAIN : -e;
            break;
        }
    }
    pthread_mutex_lock(&ws->park_lock);
    ws->failed = rc != 0;
    ws->go = true;
    pthread_cond_broadcast(&ws->go_cond);
    pthread_mutex_unlock(&ws->park_lock);
    if (rc == 0) {
        rt__worker_set(&ws->w[0]);
        main(&ws->w[0]);
        rt__worker_set(NULL);
    }
    for (unsigned i = 1; i < started; i++)
        pthread_join(ws->w[i].thread, NULL);
    return rc ? rc : ws->rc;
}

/* What the workers of a multi-worker scheduler share: the worker-count
 * limits, the lock of an object that they share (a channel, a mutex, a
 * join handshake), and the switch that says whether any such scheduler
 * runs.
 *
 * One worker is the default and the fast path: while no multi-worker
 * scheduler runs in the process, rt_spin_lock takes nothing (one relaxed
 * load of a process-wide counter) and every primitive keeps its
 * single-threaded cost. While one runs, the lock is a test-and-test-and-set
 * spinlock that yields the CPU after a short spin, held only for the few
 * instructions of an operation on the object (never across a park, a
 * switch or user code).
 *
 * Lock order (every user keeps it, so no cycle can form): a primitive's
 * own lock, then the reactor's, then the scheduler's leaf locks (run
 * queues, inject queue, slab, id table). A waker's wake, clone and drop
 * take leaf locks only, so they may be called while holding any of the
 * others.
 */
#ifndef RT_COMMON_MT_H
#define RT_COMMON_MT_H

#include <stdatomic.h>
#include <stdbool.h>

/* The most workers a scheduler may have. */
#define RT_WORKERS_MAX 256u

/* gt_config.workers and fut_config.workers: one worker per online CPU. */
#define RT_WORKERS_CPUS (~0u)

/* Multi-worker schedulers running in the process; written by the
 * schedulers as they start (before their second worker exists) and end
 * (after every worker has been joined). Read with rt_mt(). */
extern atomic_int rt__mt_live;

/* True while a multi-worker scheduler runs: shared objects must be locked. */
static inline bool rt_mt(void)
{
    return atomic_load_explicit(&rt__mt_live, memory_order_relaxed) != 0;
}

/* Counts a multi-worker scheduler in (+1) or out (-1). For the schedulers. */
void rt__mt_count(int delta);

struct rt_spin {
    /* private: 1 while held */
    atomic_uint held;
};

#define RT_SPIN_INIT \
    {                \
        0            \
    }

static inline void rt_spin_init(struct rt_spin *l)
{
    atomic_init(&l->held, 0);
}

/* Returns once *a reads 0 (acquire): spins on loads, then yields the CPU.
 * The contended path of rt_spin_lock, and the runtime's other waits on a
 * word another thread clears within a few instructions. */
void rt__wait_zero(atomic_uint *a);

/* The contended path of rt_spin_lock: rt__wait_zero on its word. */
void rt__spin_wait(struct rt_spin *l);

/* Takes `l` when a multi-worker scheduler runs. Returns whether it took it:
 * give that to rt_spin_unlock (the switch may change between the two
 * calls, when another thread's scheduler starts or ends). */
static inline bool rt_spin_lock(struct rt_spin *l)
{
    if (!rt_mt())
        return false;
    while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
        rt__spin_wait(l);
    return true;
}

/* Takes `l` whatever the switch says (structures only a multi-worker
 * scheduler shares). */
static inline void rt_spin_lock_always(struct rt_spin *l)
{
    while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
        rt__spin_wait(l);
}

/* Releases `l` when `taken` (what rt_spin_lock returned). */
static inline void rt_spin_unlock(struct rt_spin *l, bool taken)
{
    if (taken)
        atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif

/* The waker ownership protocol: an object owned by one thread, referenced
 * by wakers any thread may clone, wake or drop. The invariant: the object
 * is freed on its owner thread, exactly once, when the owner's count is 0
 * and its remote word is empty (no foreign clone unapplied, no node
 * queued).
 */
#ifndef RT_COMMON_OWNER_H
#define RT_COMMON_OWNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <greenfut/check.h>
#include <greenfut/reactor.h>

/* How it works. A schedulable object (a stackless task, a green thread)
 * belongs to the thread that runs its scheduler. Its reference count is the
 * owner's alone, plain loads and stores; what another thread does to it (a
 * waker clone, a wake, a drop) goes into the word of a remote node the
 * object embeds (struct rt_remote, include/greenfut/reactor.h) and is applied
 * by the owner when the reactor runs that node. So the owner's wakes, clones
 * and drops take no locked instruction.
 *
 * How a backend adopts it:
 * - embed a struct rt_remote and a uint32_t count in the object; at
 *   creation, rt_remote_init(&obj->remote, run) and count = 1;
 * - write one `static const struct rt_owner_ops` (below) from four small
 *   static functions, each a RT_CONTAINER_OF of the node and one field;
 * - make `run` call rt_owner_run, each waker vtable entry call the
 *   matching rt_owner_clone/wake/wake_by_ref/drop, and the owner's own
 *   releases call rt_owner_unref.
 * stackless/task.c and stackful/thread.c are the two users. Everything
 * here is static inline so that, with the ops constant, each entry
 * compiles to the backend's own code with no indirect call (checked by
 * bench_yield and bench_handoff).
 * tests/common/test_owner.c drives the protocol over a fake owner.
 */

/* The word as both schedulers use it for a task shared with other
 * threads: a foreign wake ORs in RT_REMOTE_WAKE; a foreign drop of a
 * reference adds RT_REMOTE_DROP, a foreign clone subtracts it (the count
 * wraps and is read back as signed). The owner applies it in run (from
 * `taken`), or sooner with rt_remote_take_drops. */
#define RT_REMOTE_WAKE RT_REMOTE_UNIT
#define RT_REMOTE_DROP (2u * RT_REMOTE_UNIT)

/* Drops minus clones recorded in a word (signed). */
static inline int32_t rt_remote_drops(unsigned word)
{
    return (int32_t)(word & ~(RT_REMOTE_DROP - 1u)) / (int32_t)RT_REMOTE_DROP;
}

/* Owner thread: takes the drop count out of the node's word now, leaving
 * its queued and wake bits for the node's run; returns drops minus
 * clones. For a reference the owner's own count has not seen yet (a clone
 * made on another thread, dropped here). */
static inline int32_t rt_remote_take_drops(struct rt_remote *node)
{
    unsigned old = atomic_load_explicit(&node->queued, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        &node->queued, &old, old & (RT_REMOTE_QUEUED | RT_REMOTE_WAKE),
        memory_order_acq_rel, memory_order_relaxed))
        continue;
    return rt_remote_drops(old);
}

/* Owner thread: true when the node's word is empty (not queued, nothing
 * recorded): with no reference counted by the owner either, nobody else
 * holds the object and it may be freed. */
static inline bool rt_remote_idle(struct rt_remote *node)
{
    return atomic_load_explicit(&node->queued, memory_order_acquire) == 0;
}

/* What a backend supplies. Every callback gets the object's remote node
 * (RT_CONTAINER_OF gives the object back). */
struct rt_owner_ops {
    /* True when the calling thread is the object's owner (runs its
     * scheduler). Any thread; must not touch what the owner writes except
     * through atomics or fields fixed before the object was shared. */
    bool (*is_owner)(struct rt_remote *node);
    /* The reactor the owner turns: where foreign operations are posted.
     * Any thread; read-only. */
    struct rt_reactor *(*reactor)(struct rt_remote *node);
    /* Owner thread: wake the object (queue it, make it runnable). `foreign`
     * says the wake came from another thread (applied by the node's run).
     * Never frees the object. */
    void (*wake)(struct rt_remote *node, bool foreign);
    /* Owner thread: the last reference went; release the object. */
    void (*free)(struct rt_remote *node);
};

/* Owner thread: frees the object when no reference is left anywhere: none
 * counted in *refs, and nothing in its remote word (a clone made by another
 * thread and not yet seen, or a queued node, keeps it: the node's run
 * frees it later). */
static inline void rt_owner_free_if_unused(const struct rt_owner_ops *ops,
                                           struct rt_remote *node,
                                           const uint32_t *refs)
{
    if (*refs == 0 && rt_remote_idle(node))
        ops->free(node);
}

/* Owner thread: drops one reference, and frees the object when it was the
 * last. A count already at 0 means the reference dropped is a clone made on
 * another thread that the owner has not seen yet: its word is applied
 * first. Aborts when no reference is left to drop. */
static inline void rt_owner_unref(const struct rt_owner_ops *ops,
                                  struct rt_remote *node, uint32_t *refs)
{
    if (*refs == 0)
        *refs = (uint32_t)((int64_t)*refs - rt_remote_take_drops(node));
    RT_ASSERT(*refs > 0);
    (*refs)--;
    rt_owner_free_if_unused(ops, node, refs);
}

/* The body of the node's run (the function given to rt_remote_init), on
 * the owner thread during a reactor turn: applies what other threads did
 * since the last run: one wake if any woke it, then their drops minus
 * their clones; frees the object if that was the last reference. */
static inline void rt_owner_run(const struct rt_owner_ops *ops,
                                struct rt_remote *node, uint32_t *refs)
{
    unsigned word = node->taken;
    if (word & RT_REMOTE_WAKE)
        ops->wake(node, true);
    int64_t n = (int64_t)*refs - rt_remote_drops(word);
    RT_ASSERT(n >= 0);
    *refs = (uint32_t)n;
    rt_owner_free_if_unused(ops, node, refs);
}

/* Hands an operation from another thread to the owner. The caller holds a
 * reference until the owner has applied it (a drop hands that reference
 * over), so the object stays alive until the node has run. */
static inline void rt_owner_post(const struct rt_owner_ops *ops,
                                 struct rt_remote *node, unsigned add,
                                 unsigned set)
{
    (void)rt_reactor_post(ops->reactor(node), node, add, set);
}

/* Waker clone, any thread: the owner counts it at once; another thread
 * records it in the word, where the owner sees it before the reference it
 * was cloned from can go (that drop comes later, or via the same word). */
static inline void rt_owner_clone(const struct rt_owner_ops *ops,
                                  struct rt_remote *node, uint32_t *refs)
{
    if (ops->is_owner(node))
        (*refs)++;
    else
        rt_remote_add(node, 0u - RT_REMOTE_DROP);
}

/* Waker wake (consumes the reference), any thread. */
static inline void rt_owner_wake(const struct rt_owner_ops *ops,
                                 struct rt_remote *node, uint32_t *refs)
{
    if (ops->is_owner(node)) {
        ops->wake(node, false);
        rt_owner_unref(ops, node, refs);
    } else {
        rt_owner_post(ops, node, RT_REMOTE_DROP, RT_REMOTE_WAKE);
    }
}

/* Waker wake_by_ref (keeps the reference), any thread. */
static inline void rt_owner_wake_by_ref(const struct rt_owner_ops *ops,
                                        struct rt_remote *node)
{
    if (ops->is_owner(node))
        ops->wake(node, false);
    else
        rt_owner_post(ops, node, 0, RT_REMOTE_WAKE);
}

/* Waker drop, any thread. */
static inline void rt_owner_drop(const struct rt_owner_ops *ops,
                                 struct rt_remote *node, uint32_t *refs)
{
    if (ops->is_owner(node))
        rt_owner_unref(ops, node, refs);
    else
        rt_owner_post(ops, node, RT_REMOTE_DROP, 0);
}

#endif

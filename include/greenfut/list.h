/* Intrusive circular doubly linked list (the kernel's list.h shape).
 *
 * A list is a head node whose next/prev point at itself when empty. Nodes are
 * embedded in the structs they link; RT_CONTAINER_OF gets the struct back.
 * No function allocates.
 *
 * Invariant: a node off every list is either self-linked (rt_list_init,
 * rt_list_remove_init, rt_list_pop_front: rt_list_linked says false) or,
 * after rt_list_remove, undefined; with RT_DEBUG it is then poisoned, so a
 * second unlink or a use after unlink faults at once (the kernel's
 * list_del / list_del_init pair).
 */
#ifndef RT_COMMON_LIST_H
#define RT_COMMON_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "check.h"

/* What rt_list_remove leaves in a node with RT_DEBUG: addresses in the
 * never-mapped first page, so following either link faults. */
#define RT_LIST_POISON_NEXT ((struct rt_list *)(void *)0x100)
#define RT_LIST_POISON_PREV ((struct rt_list *)(void *)0x122)

struct rt_list {
    struct rt_list *next;
    struct rt_list *prev;
};

/* Makes `h` an empty list (or a node that is linked nowhere). */
static inline void rt_list_init(struct rt_list *h)
{
    h->next = h;
    h->prev = h;
}

/* True when the list headed by `h` has no node. */
static inline bool rt_list_empty(const struct rt_list *h)
{
    return h->next == h;
}

/* Links `n` (not on any list) at the tail of `h`. */
static inline void rt_list_push_back(struct rt_list *h, struct rt_list *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

/* Links `n` (not on any list) at the head of `h`. */
static inline void rt_list_push_front(struct rt_list *h, struct rt_list *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}

/* Unlinks `n` from whatever list holds it. Afterwards n's links are
 * undefined (poisoned with RT_DEBUG): link it again, or use
 * rt_list_remove_init when it must answer rt_list_linked later. */
static inline void rt_list_remove(struct rt_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
#if defined(RT_DEBUG) && RT_DEBUG
    n->next = RT_LIST_POISON_NEXT;
    n->prev = RT_LIST_POISON_PREV;
#endif
}

/* Unlinks `n` from whatever list holds it and leaves it self-linked, so
 * that rt_list_linked(n) is false and a second remove is harmless. */
static inline void rt_list_remove_init(struct rt_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    rt_list_init(n);
}

/* True when `n`, a node kept self-linked while off-list, is on a list.
 * Asking about a node that rt_list_remove left undefined is a bug. */
static inline bool rt_list_linked(const struct rt_list *n)
{
    RT_DEBUG_ASSERT(n->next != RT_LIST_POISON_NEXT);
    return n->next != n;
}

/* Unlinks and returns the first node of `h`, or NULL when it is empty.
 * The node is left self-linked: run queues pop a node and later ask
 * rt_list_linked whether it is still queued (a green thread being freed,
 * a blocking job being cancelled). */
static inline struct rt_list *rt_list_pop_front(struct rt_list *h)
{
    struct rt_list *n = h->next;
    if (n == h)
        return NULL;
    rt_list_remove_init(n);
    return n;
}

/* Moves every node of `from` to the tail of `to`; `from` ends empty. */
static inline void rt_list_splice_back(struct rt_list *to, struct rt_list *from)
{
    if (rt_list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    rt_list_init(from);
}

#endif

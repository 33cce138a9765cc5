/* The slot allocator of one executor's tasks: slab chunks, one slot size
 * per chunk, a free list per size. Not for use outside stackless/.
 *
 * Sizes come in steps of FUT__SLOT_STEP up to FUT__SLOT_MAX; a bigger slot
 * gets a chunk of its own, freed with it. A freed slot goes on its size's
 * free list (its first word is the link), so an allocation and a free cost
 * a pop and a push: no malloc in the steady state. Chunks go back to malloc
 * when the slab is finished. The invariant: a slab is used by one thread
 * only, and a slot handed out stays where it is until it is freed. Rust:
 * tokio boxes each task; a slab is what a C runtime can do without a
 * general allocator's per-object header.
 */
#ifndef RT_STACKLESS_SLAB_H
#define RT_STACKLESS_SLAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <greenfut/check.h>
#include <greenfut/list.h>

#define FUT__SLOT_STEP    16u
#define FUT__SLOT_MAX     4096u
#define FUT__SLOT_CLASSES (FUT__SLOT_MAX / FUT__SLOT_STEP)
#define FUT__CHUNK_BYTES  (256u * 1024u)
/* A slot whose size is a multiple of this starts on a cache line of its
 * own (chunk_new): several workers' tasks then never share a line. */
#define FUT__SLOT_LINE 64u

/* Under AddressSanitizer every slot gets a chunk of its own, so that ASan
 * sees each task as one malloc block and catches a use after free. */
#if defined(__SANITIZE_ADDRESS__)
#define FUT__SLAB 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUT__SLAB 0
#endif
#endif
#ifndef FUT__SLAB
#define FUT__SLAB 1
#endif

struct fut__chunk {
    struct rt_list link; /* on slab->chunks */
    uint32_t slot;       /* slot size */
    uint32_t used;       /* slots carved so far (bump pointer) */
    uint32_t cap;        /* slots that fit */
    uint32_t first;      /* bytes of data[] before the first slot */
    max_align_t data[];
};

/* All fields are the owning thread's. */
struct fut__slab {
    struct rt_list chunks;                         /* every chunk */
    void *free_slots[FUT__SLOT_CLASSES];           /* per size: freed slots */
    struct fut__chunk *carving[FUT__SLOT_CLASSES]; /* per size: bump chunk */
    int walking;                                   /* inside fut__slab_walk */
};

/* Prepares an empty slab (no memory yet). */
void fut__slab_init(struct fut__slab *s);

/* Frees every chunk; every slot must have been freed (or be abandoned). */
void fut__slab_fini(struct fut__slab *s);

/* The slot size that holds `bytes`. */
static inline size_t fut__slab_slot_size(size_t bytes)
{
    return (bytes + FUT__SLOT_STEP - 1) / FUT__SLOT_STEP * FUT__SLOT_STEP;
}

/* True when a slot of this size gets a chunk of its own (too big for the
 * slabs, or any slot under ASan). */
static inline bool fut__slab_own_chunk(size_t slot)
{
    return !FUT__SLAB || slot > FUT__SLOT_MAX;
}

/* The size of a slot that has a chunk of its own. */
static inline size_t fut__slab_own_size(void *p)
{
    return RT_CONTAINER_OF(p, struct fut__chunk, data)->slot;
}

/* The slow half of fut__slab_alloc: own chunks and carving. */
void *fut__slab_alloc_slow(struct fut__slab *s, size_t slot);

/* The slow half of fut__slab_free: own chunks. */
void fut__slab_free_own(struct fut__slab *s, void *p);

/* A list of free slots linked through their first word: the slab's per
 * size, and a stackless worker's own cache (task.c). Pop returns NULL when
 * the list is empty. */
static inline void *fut__slot_pop(void **head)
{
    void *p = *head;
    if (p)
        memcpy(head, p, sizeof(void *));
    return p;
}

static inline void fut__slot_push(void **head, void *p)
{
    memcpy(p, head, sizeof(void *));
    *head = p;
}

/* A slot of `slot` bytes (a fut__slab_slot_size), max_align_t aligned, or
 * NULL when out of memory. Inline: a spawn's allocation is a pop. */
static inline void *fut__slab_alloc(struct fut__slab *s, size_t slot)
{
    if (!fut__slab_own_chunk(slot)) {
        void *p = fut__slot_pop(&s->free_slots[slot / FUT__SLOT_STEP - 1]);
        if (p)
            return p;
    }
    return fut__slab_alloc_slow(s, slot);
}

/* Gives back a slot from fut__slab_alloc of the same size. */
static inline void fut__slab_free(struct fut__slab *s, void *p, size_t slot)
{
    if (fut__slab_own_chunk(slot)) {
        fut__slab_free_own(s, p);
        return;
    }
    fut__slot_push(&s->free_slots[slot / FUT__SLOT_STEP - 1], p);
}

/* Calls fn(slot, arg) for every slot ever carved, freed ones included (the
 * caller tells them apart by their contents). fn may free slots but not
 * allocate; an own chunk freed during the walk goes back to malloc after
 * it. */
void fut__slab_walk(struct fut__slab *s, void (*fn)(void *slot, void *arg),
                    void *arg);

#endif

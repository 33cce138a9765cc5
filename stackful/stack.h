/* Stacks for green threads: mmap'ed, guarded, pooled (folder-internal).
 *
 * Two modes, chosen per allocation, because vm.max_map_count (65530 by
 * default) caps the number of mappings and a guarded stack costs two:
 *
 * guarded (while fewer than guarded_max guarded stacks are live):
 *
 *     high  +---------------------------+ <- hi = lo + size
 *           | control block (gt__thread)|    make_fcontext's sp is just below
 *           | frames, growing down      |
 *           |            ...            |
 *           +---------------------------+ <- lo
 *           | guard, PROT_NONE, 64 KiB  |    any touch faults: SIGSEGV, the
 *     low   +---------------------------+    handler names the thread
 *
 * slab (beyond the budget, or always with slab_only): one mapping holds many
 * slots, each a gap below a stack.
 *
 *     [guard|stack 0][guard|stack 1][guard|stack 2] ... [guard|stack n-1]
 *
 * Where the kernel has guard regions (MADV_GUARD_INSTALL, Linux 6.13), every
 * gap is a 64 KiB guard region: it faults like PROT_NONE, so the overflow
 * reporter names the thread at once, as in guarded mode, but it lives in the
 * page tables and splits no mapping: one mapping per slab, every stack
 * guarded at any count. Elsewhere (madvise says EINVAL; the first slab finds
 * out) the gap is one page: slot 0's is PROT_NONE (two mappings per slab),
 * the others stay read-write but are never legitimately touched, so when a
 * thread ends its gap is checked with mincore: a resident gap page means
 * the stack overflowed into it (reported, then abort). An overflow deeper
 * than that page reaches the neighbour slot unseen until the check: there
 * slab mode detects after the fact.
 *
 * Freed stacks go to a pool (reused by spawns of the same size) that holds
 * at most as many as were ever handed out at once, so the stacks of a burst
 * serve the next one with no mapping made and no page touched for the
 * first time (a page fault is microseconds, a pooled stack's reuse none);
 * when the scheduler is about to block, gt__stacks_trim gives back all but
 * pool_max of them. A stack given back is unmapped (guarded) or its slot
 * returned with MADV_DONTNEED, the slab being unmapped when its last slot
 * is free. The stackless backend's frames behave alike: the allocator
 * keeps what a burst freed.
 *
 * copy (stackful/copy.h): a thread owns no stack; its descriptor names its
 * worker's shared run stack (a kept stack: allocated like any, given back
 * only by gt__stacks_fini) and holds the heap buffer its used bytes are
 * saved in while another thread runs there.
 */
#ifndef RT_STACKFUL_STACK_H
#define RT_STACKFUL_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <greenfut/list.h>

struct gt__slab;
struct gt__pooled;

/* One stack, as the control block at its top records it. */
struct gt__stack {
    char *lo;              /* lowest usable byte */
    size_t size;           /* usable bytes: [lo, lo + size) */
    struct gt__slab *slab; /* NULL: guarded mode (own mapping) */
    unsigned slot;         /* index in the slab */
    unsigned vg_id;        /* Valgrind stack id */
}; /* a copy-stack thread's (struct gt__thread's copy): lo..slab describe its
      home worker's run stack, zero until the first run */

struct gt__stacks {
    size_t page;        /* system page size */
    size_t guard;       /* guard bytes of a guarded stack */
    size_t pool_max;    /* what the pool keeps across an idle moment
                           (gt__stacks_trim); 0: no pool */
    size_t guarded_max; /* guarded stacks allowed at once */
    size_t slab_bytes;  /* target mapping size of one slab */
    bool slab_only;
    /* written by alloc/free */
    size_t guarded_live;      /* guarded stacks handed out */
    size_t slab_live;         /* slab slots handed out */
    size_t slab_guarded_live; /* of those, with a guard that faults */
    size_t slabs;             /* mapped slabs */
    size_t reserved;          /* bytes mapped for stacks, guards, slabs */
    struct rt_list partial;   /* slabs with a free slot */
    struct rt_list full;      /* slabs without one */
    struct gt__pooled *pool;  /* the pooled stacks, a list through them */
    size_t pooled;            /* its length */
    size_t out_peak;   /* the most stacks ever handed out at once (live, not
                          pooled, not kept): the pool's bound */
    bool copy_default; /* spawns without a mode get copy stacks;
                          fixed before the first spawn */
    struct gt__stack *kept; /* stacks freed only by gt__stacks_fini */
    size_t nkept, kept_max;
};

/* Sets up an allocator. pool_max, guarded_max (0: vm.max_map_count / 4) and
 * slab_bytes (0: 16 MiB) come from the caller. Returns 0 or -ENOMEM. */
int gt__stacks_init(struct gt__stacks *a, size_t pool_max, size_t guarded_max,
                    size_t slab_bytes, bool slab_only);

/* Sets copy_default from `mode` (enum gt_stack_mode): GT_STACK_MODE_SCHED
 * reads RT_STACK_MODE ("copy", "own", unset or empty). Returns 0 or
 * -EINVAL (an unknown mode or value). */
int gt__stacks_mode(struct gt__stacks *a, int mode);

/* gt__stack_alloc for a stack that lives until gt__stacks_fini (a
 * worker's copy-mode run stack and its copier's stack). Returns 0 or
 * -ENOMEM. */
int gt__stack_alloc_kept(struct gt__stacks *a, size_t size,
                         struct gt__stack *out);

/* Gives back the pooled stacks beyond pool_max: the scheduler calls it
 * before it blocks for lack of work, so that a burst's stacks stay pooled
 * while work goes on and are returned once it has stopped. */
void gt__stacks_trim(struct gt__stacks *a);

/* A mapping to give back with munmap(2). */
struct gt__unmap {
    void *p;
    size_t len;
};

/* gt__stacks_trim in two halves, for a caller that holds a lock around
 * `a`: takes up to `max` of the stacks beyond pool_max out of the pool,
 * their counts given back, and writes the mappings that are left to unmap
 * to out[] (a slab stack's slot is returned at once), returning how many;
 * gt__unmap then unmaps them, without the lock (munmap(2) is the slow
 * part, and with several workers each one makes the kernel flush the
 * other CPUs' TLBs). Call again until it returns 0. */
size_t gt__stacks_trim_some(struct gt__stacks *a, struct gt__unmap *out,
                            size_t max);
void gt__unmap(const struct gt__unmap *u, size_t n);

/* Unmaps the pool, the kept stacks and every slab; stacks still handed out
 * become invalid. */
void gt__stacks_fini(struct gt__stacks *a);

/* Hands out a stack of `size` usable bytes (a multiple of the page size):
 * from the pool, else guarded while under budget, else from a slab. The
 * memory is zero or left by a previous owner. Returns 0 or -ENOMEM. */
int gt__stack_alloc(struct gt__stacks *a, size_t size, struct gt__stack *out);

/* Takes back a stack: to the pool when there is room, else unmapped or
 * returned to its slab; a copy-mode descriptor's save buffer is freed. `s` may
 * live inside the stack (it is copied first). In slab mode, checks the gap
 * below the stack and aborts with a report naming thread `id` (and `name`,
 * which may live in the stack, or be NULL, and the function at `entry`, 0 for
 * none) when the stack overflowed into it. Formats nothing otherwise: this is
 * on every thread's exit path. */
void gt__stack_free(struct gt__stacks *a, const struct gt__stack *s, int64_t id,
                    const char *name, uintptr_t entry);

/* The PROT_NONE range below `s`, if it has one: *lo..*hi, else lo == hi. */
void gt__stack_guard(const struct gt__stacks *a, const struct gt__stack *s,
                     char **lo, char **hi);

/* Which protection this process's slabs get: "guard regions"
 * (MADV_GUARD_INSTALL), "gap pages" (the kernel lacks guard regions), or
 * "none yet" before the first slab. */
const char *gt__slab_mode(void);

/* Bytes from the top of `s` down to its lowest resident page (mincore), or
 * 0 when that cannot be read; copy mode: the bytes last saved. */
size_t gt__stack_used(const struct gt__stacks *a, const struct gt__stack *s);

/* Resident bytes of `s` (mincore); copy mode: its save buffer's size. */
size_t gt__stack_resident(const struct gt__stacks *a,
                          const struct gt__stack *s);

#endif

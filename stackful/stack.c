/* Stack allocator: guarded mappings under a mapping budget, slabs beyond it,
 * a bounded pool in front of both. The picture and the protection each mode
 * gives are in stack.h; the measured costs in docs/stackful.md.
 * Invariant: every byte this file maps is counted in a->reserved.
 */
#include "stack.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <greenfut/check.h>
#include "fiber_san.h"
#include "sys.h"
#include "watchdog_internal.h"

#define GUARD_BYTES (64u * 1024u)
#define SLAB_BYTES  (16u * 1024u * 1024u)
#define SLOTS_MAX   65536u

/* Guard regions (Linux 6.13): pages that fault like PROT_NONE but live in
 * the page tables, not as a mapping of their own, so a slab keeps one
 * mapping however many guards it holds. Older headers lack the names. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

/* Whether this kernel has guard regions: 0 not known yet, 1 yes, -1 no
 * (madvise said EINVAL). Written by the first slab_new of the process;
 * every scheduler thread may race to write the same answer. */
static atomic_int guard_regions;

struct gt__slab {
    struct rt_list link;  /* on a->partial or a->full */
    char *base;           /* the mapping; slot 0's gap is the guard */
    size_t len;           /* bytes mapped */
    size_t size;          /* usable bytes of each stack */
    size_t gap;           /* bytes below each stack: a guard region of
                             GUARD_BYTES, or one page (see stack.h) */
    bool guards;          /* every gap is a guard region */
    size_t stride;        /* gap + size */
    unsigned count;       /* slots */
    unsigned used;        /* slots handed out or pooled */
    unsigned fresh;       /* slots [fresh, count) were never handed out */
    unsigned nfree;       /* entries in free_slots */
    unsigned *free_slots; /* returned slots, LIFO */
};

/* A pooled stack's record, written into the stack's own top bytes (where
 * its control block was): the pool is a LIFO list through the pooled
 * stacks themselves, so it needs no memory of its own however large a
 * burst makes it, and giving a stack back allocates nothing. */
struct gt__pooled {
    struct gt__stack st;
    struct gt__pooled *next;
};

static struct gt__pooled *pooled_at(const struct gt__stack *s)
{
    return (struct gt__pooled *)(void *)(s->lo + s->size -
                                         sizeof(struct gt__pooled));
}

/* Takes the pool's first stack. */
static struct gt__stack pool_pop(struct gt__stacks *a)
{
    struct gt__pooled *p = a->pool;
    a->pool = p->next;
    a->pooled--;
    return p->st;
}

/* vm.max_map_count, or the kernel default when it cannot be read. */
static size_t max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    unsigned long n = 0;
    if (f) {
        if (fscanf(f, "%lu", &n) != 1)
            n = 0;
        fclose(f);
    }
    return n ? (size_t)n : 65530u;
}

int gt__stacks_init(struct gt__stacks *a, size_t pool_max, size_t guarded_max,
                    size_t slab_bytes, bool slab_only)
{
    memset(a, 0, sizeof(*a));
    a->page = (size_t)sysconf(_SC_PAGESIZE);
    a->guard = GUARD_BYTES;
    a->pool_max = pool_max;
    /* A quarter of the mapping limit: leaves the rest to malloc, the
     * loader, sanitizers and the user's own mappings. */
    a->guarded_max = guarded_max ? guarded_max : max_map_count() / 4;
    a->slab_bytes = slab_bytes ? slab_bytes : SLAB_BYTES;
    a->slab_only = slab_only;
    rt_list_init(&a->partial);
    rt_list_init(&a->full);
    return 0;
}

int gt__stacks_mode(struct gt__stacks *a, int mode)
{
    if (mode == 0) {
        const char *env = getenv("RT_STACK_MODE");
        if (!env || !env[0] || strcmp(env, "own") == 0)
            mode = 1;
        else if (strcmp(env, "copy") == 0)
            mode = 2;
        else
            return -EINVAL;
    }
    if (mode != 1 && mode != 2)
        return -EINVAL;
    a->copy_default = mode == 2;
    return 0;
}

static void slab_unmap(struct gt__stacks *a, struct gt__slab *sl)
{
    rt_list_remove(&sl->link);
    gt__san_unpoison(sl->base, sl->len);
    munmap(sl->base, sl->len);
    a->reserved -= sl->len;
    a->slabs--;
    free(sl->free_slots);
    free(sl);
}

static void release(struct gt__stacks *a, const struct gt__stack *s,
                    struct gt__unmap *defer);

void gt__stacks_fini(struct gt__stacks *a)
{
    while (a->pooled) {
        struct gt__stack st = pool_pop(a);
        release(a, &st, NULL);
    }
    while (a->nkept) {
        struct gt__stack *k = &a->kept[--a->nkept];
        gt__vg_deregister(k->vg_id);
        release(a, k, NULL);
    }
    free(a->kept);
    a->kept = NULL;
    struct rt_list *n;
    while ((n = rt_list_pop_front(&a->partial)))
        slab_unmap(a, RT_CONTAINER_OF(n, struct gt__slab, link));
    while ((n = rt_list_pop_front(&a->full)))
        slab_unmap(a, RT_CONTAINER_OF(n, struct gt__slab, link));
}

static int alloc_guarded(struct gt__stacks *a, size_t size,
                         struct gt__stack *out)
{
    size_t len = a->guard + size;
    char *p = rt_sys_mmap(
        NULL, len, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    if (rt_sys_mprotect(p, a->guard, PROT_NONE) != 0) {
        munmap(p, len); /* ENOMEM here: the split hit max_map_count */
        return -ENOMEM;
    }
    a->reserved += len;
    a->guarded_live++;
    out->lo = p + a->guard;
    out->size = size;
    out->slab = NULL;
    out->slot = 0;
    return 0;
}

/* Installs a guard region in every gap of the slab at p. Returns 0, or
 * the errno of the first madvise that failed (EINVAL: no guard regions in
 * this kernel; ENOMEM: no page-table memory for the markers). */
static int install_guards(char *p, size_t gap, size_t stride, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (madvise(p + i * stride, gap, MADV_GUARD_INSTALL) != 0)
            return errno;
    return 0;
}

static struct gt__slab *slab_new(struct gt__stacks *a, size_t size)
{
    bool guards =
        atomic_load_explicit(&guard_regions, memory_order_relaxed) >= 0;
    size_t gap = guards ? GUARD_BYTES : a->page;
    size_t stride = gap + size;
    size_t count = a->slab_bytes / stride;
    if (count < 1)
        count = 1;
    if (count > SLOTS_MAX)
        count = SLOTS_MAX;
    struct gt__slab *sl = rt_sys_calloc(1, sizeof(*sl));
    unsigned *slots = rt_sys_malloc(count * sizeof(unsigned));
    if (!sl || !slots)
        goto fail;
    size_t len = count * stride;
    char *p = rt_sys_mmap(
        NULL, len, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        goto fail;
    if (guards) {
        int err = install_guards(p, gap, stride, count);
        if (err == EINVAL &&
            atomic_load_explicit(&guard_regions, memory_order_relaxed) == 0) {
            /* The first slab finds out: lay it out again the old way. */
            atomic_store_explicit(&guard_regions, -1, memory_order_relaxed);
            munmap(p, len);
            free(slots);
            free(sl);
            return slab_new(a, size);
        }
        if (err) {
            munmap(p, len);
            goto fail;
        }
        atomic_store_explicit(&guard_regions, 1, memory_order_relaxed);
    } else if (rt_sys_mprotect(p, a->page, PROT_NONE) != 0) {
        munmap(p, len);
        goto fail;
    }
    sl->base = p;
    sl->len = len;
    sl->size = size;
    sl->gap = gap;
    sl->guards = guards;
    sl->stride = stride;
    sl->count = (unsigned)count;
    sl->free_slots = slots;
    a->reserved += len;
    a->slabs++;
    rt_list_push_front(&a->partial, &sl->link);
    return sl;
fail:
    free(slots);
    free(sl);
    return NULL;
}

static int alloc_slab(struct gt__stacks *a, size_t size, struct gt__stack *out)
{
    struct gt__slab *sl = NULL;
    for (struct rt_list *n = a->partial.next; n != &a->partial; n = n->next) {
        struct gt__slab *c = RT_CONTAINER_OF(n, struct gt__slab, link);
        if (c->size == size) {
            sl = c;
            break;
        }
    }
    if (!sl && !(sl = slab_new(a, size)))
        return -ENOMEM;
    unsigned slot = sl->nfree ? sl->free_slots[--sl->nfree] : sl->fresh++;
    if (++sl->used == sl->count) {
        rt_list_remove(&sl->link);
        rt_list_push_back(&a->full, &sl->link);
    }
    a->slab_live++;
    if (sl->guards || slot == 0)
        a->slab_guarded_live++;
    out->lo = sl->base + (size_t)slot * sl->stride + sl->gap;
    out->size = size;
    out->slab = sl;
    out->slot = slot;
    return 0;
}

/* Stacks handed out now: the live ones that are neither pooled nor kept. */
static size_t handed_out(const struct gt__stacks *a)
{
    return a->guarded_live + a->slab_live - a->pooled - a->nkept;
}

/* Takes a pooled stack of `size` usable bytes: the first of that size,
 * at the head unless sizes are mixed. False when there is none. */
static bool pool_take(struct gt__stacks *a, size_t size, struct gt__stack *out)
{
    for (struct gt__pooled **pp = &a->pool; *pp; pp = &(*pp)->next) {
        if ((*pp)->st.size == size) {
            struct gt__pooled *p = *pp;
            *out = p->st;
            *pp = p->next;
            a->pooled--;
            return true;
        }
    }
    return false;
}

/* gt__stack_alloc's work: from the pool (when `from_pool`), else a new
 * guarded stack while under budget, else a slab slot. */
static int take(struct gt__stacks *a, size_t size, struct gt__stack *out,
                bool from_pool)
{
    int rc = from_pool && pool_take(a, size, out) ? 0 : -ENOMEM;
    if (rc != 0 && !a->slab_only && a->guarded_live < a->guarded_max)
        rc = alloc_guarded(a, size, out);
    if (rc != 0) /* over budget, or the guarded mapping failed */
        rc = alloc_slab(a, size, out);
    if (rc != 0)
        return rc;
    gt__san_unpoison(out->lo, out->size);
    out->vg_id = gt__vg_register(out->lo, out->lo + out->size);
    return 0;
}

int gt__stack_alloc(struct gt__stacks *a, size_t size, struct gt__stack *out)
{
    int rc = take(a, size, out, true);
    if (rc == 0 && handed_out(a) > a->out_peak)
        a->out_peak = handed_out(a);
    return rc;
}

int gt__stack_alloc_kept(struct gt__stacks *a, size_t size,
                         struct gt__stack *out)
{
    if (a->nkept == a->kept_max) {
        size_t n = a->kept_max ? 2 * a->kept_max : 8;
        struct gt__stack *k = rt_sys_realloc(a->kept, n * sizeof(*k));
        if (!k)
            return -ENOMEM;
        a->kept = k;
        a->kept_max = n;
    }
    /* A fresh mapping, not a pooled stack of a thread's; not counted in
     * the pool's bound, since gt__stacks_fini alone gives it back. */
    int rc = take(a, size, out, false);
    if (rc == 0)
        a->kept[a->nkept++] = *out;
    return rc;
}

/* Gives the memory back for good (no pool). A guarded stack's mapping is
 * unmapped here, or with `defer` described there for the caller to unmap
 * with gt__unmap once it has dropped its lock; the counts change here. */
static void release(struct gt__stacks *a, const struct gt__stack *s,
                    struct gt__unmap *defer)
{
    struct gt__slab *sl = s->slab;
    gt__san_unpoison(s->lo, s->size);
    if (!sl) {
        struct gt__unmap u = {s->lo - a->guard, a->guard + s->size};
        if (defer)
            *defer = u;
        else
            gt__unmap(&u, 1);
        a->reserved -= u.len;
        a->guarded_live--;
        return;
    }
    if (defer)
        defer->len = 0; /* nothing left to unmap */
    a->slab_live--;
    if (sl->guards || s->slot == 0)
        a->slab_guarded_live--;
    if (sl->used == sl->count) {
        rt_list_remove(&sl->link);
        rt_list_push_front(&a->partial, &sl->link);
    }
    if (--sl->used == 0) {
        slab_unmap(a, sl);
        return;
    }
    /* Give the pages back but keep the slot mapped (no new mapping). A
     * guard region survives MADV_DONTNEED; a gap page is cleared with the
     * stack, so the next owner's gap check starts clean. */
    if (sl->guards)
        madvise(s->lo, s->size, MADV_DONTNEED);
    else
        madvise(s->lo - a->page, s->size + a->page, MADV_DONTNEED);
    sl->free_slots[sl->nfree++] = s->slot;
}

/* A resident gap page below a slab stack means it overflowed into it. */
static void check_gap(const struct gt__stacks *a, const struct gt__stack *s,
                      int64_t id, const char *name, uintptr_t entry)
{
    if (!s->slab || s->slab->guards || s->slot == 0)
        return; /* a guard region, or slot 0's PROT_NONE page: it faulted */
    unsigned char v = 0;
    if (mincore(s->lo - a->page, a->page, &v) != 0 || !(v & 1))
        return;
    char fn[128];
    rt__name_fn(entry, fn, sizeof(fn));
    fprintf(stderr,
            "stackful: stack overflow detected after the fact: green "
            "thread %lld%s%s%s (%s) overran its %zu-byte stack (slab mode)\n",
            (long long)id, name && name[0] ? " \"" : "", name ? name : "",
            name && name[0] ? "\"" : "", fn, s->size);
    abort();
}

void gt__stack_free(struct gt__stacks *a, const struct gt__stack *s, int64_t id,
                    const char *name, uintptr_t entry)
{
    struct gt__stack copy = *s; /* s may live in the stack we give back */
    check_gap(a, &copy, id, name, entry); /* before the stack (and name) go */
    gt__vg_deregister(copy.vg_id);
    if (a->pool_max && a->pooled < a->out_peak) {
        struct gt__pooled *p = pooled_at(&copy);
        gt__san_unpoison(p, sizeof(*p));
        p->st = copy;
        p->next = a->pool;
        a->pool = p;
        a->pooled++;
        return;
    }
    release(a, &copy, NULL);
}

size_t gt__stacks_trim_some(struct gt__stacks *a, struct gt__unmap *out,
                            size_t max)
{
    size_t n = 0;
    while (n < max && a->pooled > a->pool_max) {
        struct gt__stack st = pool_pop(a);
        release(a, &st, &out[n]);
        if (out[n].len)
            n++;
    }
    return n;
}

void gt__unmap(const struct gt__unmap *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        munmap(u[i].p, u[i].len);
}

void gt__stacks_trim(struct gt__stacks *a)
{
    struct gt__unmap u[16];
    size_t n;
    while ((n = gt__stacks_trim_some(a, u, 16)) > 0)
        gt__unmap(u, n);
}

void gt__stack_guard(const struct gt__stacks *a, const struct gt__stack *s,
                     char **lo, char **hi)
{
    *hi = s->lo;
    if (!s->slab)
        *lo = s->lo - a->guard;
    else if (s->slab->guards || s->slot == 0)
        *lo = s->lo - s->slab->gap;
    else
        *lo = s->lo;
}

const char *gt__slab_mode(void)
{
    int g = atomic_load_explicit(&guard_regions, memory_order_relaxed);
    return g > 0 ? "guard regions" : g < 0 ? "gap pages" : "none yet";
}

/* Reads the residency of s's pages with mincore, 256 pages at a time:
 * returns the bytes from the lowest resident page to the top (how deep the
 * stack has been used) when `lowest`, stopping at the first resident
 * chunk, else all resident bytes; 0 when mincore fails. */
static size_t scan(const struct gt__stacks *a, const struct gt__stack *s,
                   bool lowest)
{
    unsigned char v[256];
    size_t pages = s->size / a->page;
    size_t resident = 0;
    size_t low = pages; /* index of the lowest resident page */
    for (size_t first = 0; first < pages; first += sizeof(v)) {
        size_t n = pages - first < sizeof(v) ? pages - first : sizeof(v);
        if (mincore(s->lo + first * a->page, n * a->page, v) != 0)
            return 0;
        for (size_t i = 0; i < n; i++) {
            if (!(v[i] & 1))
                continue;
            resident++;
            if (low == pages)
                low = first + i;
        }
        if (lowest && low != pages)
            break;
    }
    if (lowest)
        return low == pages ? 0 : (pages - low) * a->page;
    return resident * a->page;
}

size_t gt__stack_used(const struct gt__stacks *a, const struct gt__stack *s)
{
    return scan(a, s, true);
}

size_t gt__stack_resident(const struct gt__stacks *a, const struct gt__stack *s)
{
    return scan(a, s, false);
}

/* The id table: a map from a nonzero 64-bit key to a fixed-size entry that
 * starts with that key, by open addressing with linear probing.
 *
 * Invariant: the table is at most half full, and no empty slot lies
 * between a key's home slot and the slot holding it (deletion shifts the
 * rest of the cluster back instead of leaving tombstones), so a lookup
 * stops at the first empty slot; every empty slot is all zero bytes, so an
 * insert needs no clearing. Not thread-safe: the owner serialises.
 */
#ifndef RT_COMMON_IDTABLE_H
#define RT_COMMON_IDTABLE_H

#include <stddef.h>
#include <stdint.h>

#include <greenfut/check.h>

/* Each entry's first member is a uint64_t key; 0 marks an empty slot. */
struct rt_idtable {
    /* private */
    unsigned char *slots; /* cap entries of `size` bytes each, or NULL */
    size_t cap;           /* a power of two, or 0 before the first reserve */
    size_t len;           /* keys present */
    size_t size;          /* bytes per entry, set by rt_idtable_init */
};

/* A static initializer for an empty table of `entry_size`-byte entries,
 * as rt_idtable_init leaves it. */
#define RT_IDTABLE_INIT(entry_size) \
    {                               \
        NULL, 0, 0, (entry_size)    \
    }

/* Prepares an empty table of entries of `size` bytes (a multiple of 8 and
 * at least 8; the entry struct begins with its uint64_t key). Allocates
 * nothing: the first rt_idtable_reserve does. */
void rt_idtable_init(struct rt_idtable *tab, size_t size);

/* Frees the slots; the table is empty (and usable) again. */
void rt_idtable_fini(struct rt_idtable *tab);

/* The home slot of `key` in a table of mask + 1 slots (Fibonacci hashing:
 * the multiplier is 2^64 over the golden ratio, which spreads sequential
 * ids and aligned pointers alike). */
static inline size_t rt__idtable_home(uint64_t key, size_t mask)
{
    uint64_t h = key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & mask;
}

/* The entry of slot i. */
static inline void *rt__idtable_at(const struct rt_idtable *tab, size_t i)
{
    return tab->slots + i * tab->size;
}

static inline uint64_t rt__idtable_key(const struct rt_idtable *tab, size_t i)
{
    return *(const uint64_t *)(const void *)(tab->slots + i * tab->size);
}

/* The entry holding `key`, or NULL when it is absent (or key is 0). Inline,
 * so a lookup on a scheduler's path (gt_join) costs no call. */
static inline void *rt_idtable_find(const struct rt_idtable *tab, uint64_t key)
{
    if (!tab->cap || key == 0)
        return NULL;
    size_t mask = tab->cap - 1;
    for (size_t i = rt__idtable_home(key, mask);; i = (i + 1) & mask) {
        uint64_t k = rt__idtable_key(tab, i);
        if (k == key)
            return rt__idtable_at(tab, i);
        if (k == 0)
            return NULL;
    }
}

/* Doubles the table (from 64 slots): rt_idtable_reserve's slow path. */
int rt__idtable_grow(struct rt_idtable *tab);

/* Makes room for one more key (growing by doubling, from 64 slots, to keep
 * the table at most half full; entries move, so pointers from find go
 * stale). Returns 0 or -ENOMEM, when the table is unchanged. Inline, as
 * insert: a spawn pays no call while the table has room. */
static inline int rt_idtable_reserve(struct rt_idtable *tab)
{
    if ((tab->len + 1) * 2 <= tab->cap)
        return 0;
    return rt__idtable_grow(tab);
}

/* Adds `key` (nonzero, absent; rt_idtable_reserve has made room) and
 * returns its entry: the key is set and the rest of the entry is zero. */
static inline void *rt_idtable_insert(struct rt_idtable *tab, uint64_t key)
{
    RT_DEBUG_ASSERT(key != 0 && (tab->len + 1) * 2 <= tab->cap);
    size_t mask = tab->cap - 1;
    size_t i = rt__idtable_home(key, mask);
    while (rt__idtable_key(tab, i) != 0)
        i = (i + 1) & mask;
    uint64_t *e = rt__idtable_at(tab, i);
    *e = key;
    tab->len++;
    return e;
}

/* Copies entry `from` over entry `to`, a word at a time: entries are a
 * few words, and a memcpy of a size known only at run time is a call. */
static inline void rt__idtable_copy(const struct rt_idtable *tab, size_t to,
                                    size_t from)
{
    uint64_t *d = rt__idtable_at(tab, to);
    const uint64_t *src = rt__idtable_at(tab, from);
    for (size_t w = 0; w < tab->size / sizeof(uint64_t); w++)
        d[w] = src[w];
}

/* Removes `entry` (a pointer from find or insert, still current) and
 * shifts the rest of its cluster back over the hole. Inline: gt_join
 * deletes once per thread (bench_spawn). */
static inline void rt_idtable_delete(struct rt_idtable *tab, void *entry)
{
    size_t mask = tab->cap - 1;
    size_t i = (size_t)((unsigned char *)entry - tab->slots) / tab->size;
    for (size_t j = (i + 1) & mask; rt__idtable_key(tab, j);
         j = (j + 1) & mask) {
        size_t home = rt__idtable_home(rt__idtable_key(tab, j), mask);
        /* Move j into the hole unless its home lies cyclically in (i, j]:
         * then a lookup from its home would still reach it. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            rt__idtable_copy(tab, i, j);
            i = j;
        }
    }
    uint64_t *hole = rt__idtable_at(tab, i);
    for (size_t w = 0; w < tab->size / sizeof(uint64_t); w++)
        hole[w] = 0;
    tab->len--;
}

/* Keys present. */
static inline size_t rt_idtable_len(const struct rt_idtable *tab)
{
    return tab->len;
}

#endif

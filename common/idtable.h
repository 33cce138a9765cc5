/* The id table: a map from a nonzero 64-bit key to a fixed-size entry that
 * starts with that key, by open addressing with linear probing.
 *
 * Invariant: the table is at most half full, and no empty slot lies
 * between a key's home slot and the slot holding it (deletion shifts the
 * rest of the cluster back instead of leaving tombstones), so a lookup
 * stops at the first empty slot. Not thread-safe: the owner serialises.
 */
#ifndef RT_COMMON_IDTABLE_H
#define RT_COMMON_IDTABLE_H

#include <stddef.h>
#include <stdint.h>

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

/* Makes room for one more key (growing by doubling, from 64 slots, to keep
 * the table at most half full; entries move, so pointers from find go
 * stale). Returns 0 or -ENOMEM, when the table is unchanged. */
int rt_idtable_reserve(struct rt_idtable *tab);

/* Adds `key` (nonzero, absent; rt_idtable_reserve has made room) and
 * returns its entry: the key is set and the rest of the entry zeroed. */
void *rt_idtable_insert(struct rt_idtable *tab, uint64_t key);

/* Removes `entry` (a pointer from find or insert, still current) and
 * shifts the rest of its cluster back over the hole. */
void rt_idtable_delete(struct rt_idtable *tab, void *entry);

/* Keys present. */
static inline size_t rt_idtable_len(const struct rt_idtable *tab)
{
    return tab->len;
}

#endif

/* The id table's growth, insert and backward-shift delete (the lookup is
 * inline in idtable.h). Used by the green-thread scheduler's id -> thread
 * map and by the watchdog's spawn-site table.
 *
 * Invariant: see idtable.h; every function here leaves it true.
 */
#include "idtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sys.h"

void rt_idtable_init(struct rt_idtable *tab, size_t size)
{
    RT_ASSERT(size >= sizeof(uint64_t) && size % sizeof(uint64_t) == 0);
    tab->slots = NULL;
    tab->cap = 0;
    tab->len = 0;
    tab->size = size;
}

void rt_idtable_fini(struct rt_idtable *tab)
{
    free(tab->slots);
    tab->slots = NULL;
    tab->cap = 0;
    tab->len = 0;
}

/* The first empty slot of key's probe sequence. */
static size_t free_slot(const struct rt_idtable *tab, uint64_t key)
{
    size_t mask = tab->cap - 1;
    size_t i = rt__idtable_home(key, mask);
    while (rt__idtable_key(tab, i) != 0)
        i = (i + 1) & mask;
    return i;
}

int rt_idtable_reserve(struct rt_idtable *tab)
{
    if ((tab->len + 1) * 2 <= tab->cap)
        return 0;
    size_t n = tab->cap ? tab->cap * 2 : 64;
    unsigned char *slots = rt_sys_calloc(n, tab->size);
    if (!slots)
        return -ENOMEM;
    struct rt_idtable old = *tab;
    tab->slots = slots;
    tab->cap = n;
    for (size_t i = 0; i < old.cap; i++) {
        uint64_t key = rt__idtable_key(&old, i);
        if (key)
            memcpy(rt__idtable_at(tab, free_slot(tab, key)),
                   rt__idtable_at(&old, i), tab->size);
    }
    free(old.slots);
    return 0;
}

void *rt_idtable_insert(struct rt_idtable *tab, uint64_t key)
{
    RT_ASSERT(key != 0 && (tab->len + 1) * 2 <= tab->cap);
    unsigned char *e = rt__idtable_at(tab, free_slot(tab, key));
    memset(e, 0, tab->size);
    memcpy(e, &key, sizeof(key));
    tab->len++;
    return e;
}

void rt_idtable_delete(struct rt_idtable *tab, void *entry)
{
    size_t mask = tab->cap - 1;
    size_t i = (size_t)((unsigned char *)entry - tab->slots) / tab->size;
    for (size_t j = (i + 1) & mask; rt__idtable_key(tab, j);
         j = (j + 1) & mask) {
        size_t home = rt__idtable_home(rt__idtable_key(tab, j), mask);
        /* Move j into the hole unless its home lies cyclically in (i, j]:
         * then a lookup from its home would still reach it. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            memcpy(rt__idtable_at(tab, i), rt__idtable_at(tab, j), tab->size);
            i = j;
        }
    }
    memset(rt__idtable_at(tab, i), 0, tab->size);
    tab->len--;
}

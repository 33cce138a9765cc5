/* The id table's init, fini and growth (find, insert and the
 * backward-shift delete are inline in idtable.h, for the scheduler's
 * spawn and join). Used by the green-thread scheduler's id -> thread
 * map and by the watchdog's spawn-site table.
 *
 * Invariant: see idtable.h; every function here leaves it true.
 */
#include "idtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/check.h>
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

int rt__idtable_grow(struct rt_idtable *tab)
{
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

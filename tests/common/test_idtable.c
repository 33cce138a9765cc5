/* The id table: insert and find, delete with the backward shift over a
 * cluster that wraps from the last slot to the first, and growth with
 * every key still found after each doubling. */
#include "idtable.h"

#include <stdint.h>
#include <stdlib.h>

#include "check.h"

struct entry {
    uint64_t key;
    uintptr_t a, b;
};

/* The index of key's slot, or -1 when find does not have it. */
static long slot_of(const struct rt_idtable *tab, uint64_t key)
{
    struct entry *e = rt_idtable_find(tab, key);
    if (!e)
        return -1;
    CHECK_EQ(e->key, key);
    return (long)(e - (struct entry *)(void *)tab->slots);
}

/* The n-th key (from 1) whose home in a 64-slot table is `home`. */
static uint64_t key_at_home(size_t home, int n)
{
    for (uint64_t k = 1;; k++)
        if (rt__idtable_home(k, 63) == home && --n == 0)
            return k;
}

static void add(struct rt_idtable *tab, uint64_t key, uintptr_t a)
{
    CHECK_OK(rt_idtable_reserve(tab));
    struct entry *e = rt_idtable_insert(tab, key);
    CHECK_EQ(e->key, key);
    CHECK_EQ(e->a, 0);
    CHECK_EQ(e->b, 0);
    e->a = a;
    e->b = ~a;
}

static void test_basic(void)
{
    struct rt_idtable tab;
    rt_idtable_init(&tab, sizeof(struct entry));
    CHECK(rt_idtable_find(&tab, 1) == NULL); /* no slots yet */
    add(&tab, 7, 70);
    add(&tab, 9, 90);
    CHECK_EQ(rt_idtable_len(&tab), 2);
    struct entry *e = rt_idtable_find(&tab, 7);
    CHECK(e != NULL);
    CHECK_EQ(e->a, 70);
    CHECK_EQ(e->b, ~(uintptr_t)70);
    CHECK(rt_idtable_find(&tab, 8) == NULL);
    CHECK(rt_idtable_find(&tab, 0) == NULL); /* 0 marks empty slots */
    rt_idtable_delete(&tab, e);
    CHECK(rt_idtable_find(&tab, 7) == NULL);
    CHECK_EQ(((struct entry *)rt_idtable_find(&tab, 9))->a, 90);
    CHECK_EQ(rt_idtable_len(&tab), 1);
    rt_idtable_fini(&tab);
    CHECK(rt_idtable_find(&tab, 9) == NULL);
}

/* Slots 63, 0, 1, 2 hold a (home 63), b (home 63, wrapped), c (home 0)
 * and d (home 63). Deleting a moves b, c and d back one slot each, across
 * the wrap; deleting c then leaves d where it is only if its home allows. */
static void test_wrapped_cluster(void)
{
    struct rt_idtable tab;
    rt_idtable_init(&tab, sizeof(struct entry));
    uint64_t a = key_at_home(63, 1), b = key_at_home(63, 2);
    uint64_t c = key_at_home(0, 1), d = key_at_home(63, 3);
    uint64_t e = key_at_home(5, 1); /* a cluster of its own */
    add(&tab, a, 1);
    add(&tab, b, 2);
    add(&tab, c, 3);
    add(&tab, d, 4);
    add(&tab, e, 5);
    CHECK_EQ(tab.cap, 64);
    CHECK_EQ(slot_of(&tab, a), 63);
    CHECK_EQ(slot_of(&tab, b), 0);
    CHECK_EQ(slot_of(&tab, c), 1);
    CHECK_EQ(slot_of(&tab, d), 2);
    CHECK_EQ(slot_of(&tab, e), 5);

    rt_idtable_delete(&tab, rt_idtable_find(&tab, a));
    CHECK_EQ(slot_of(&tab, a), -1);
    CHECK_EQ(slot_of(&tab, b), 63);
    CHECK_EQ(slot_of(&tab, c), 0);
    CHECK_EQ(slot_of(&tab, d), 1);
    CHECK_EQ(slot_of(&tab, e), 5);
    CHECK_EQ(((struct entry *)rt_idtable_find(&tab, d))->a, 4);

    /* c sits at its home: deleting b moves d (home 63) into 63 but
     * must leave c alone. */
    rt_idtable_delete(&tab, rt_idtable_find(&tab, b));
    CHECK_EQ(slot_of(&tab, c), 0);
    CHECK_EQ(slot_of(&tab, d), 63);
    rt_idtable_delete(&tab, rt_idtable_find(&tab, c));
    CHECK_EQ(slot_of(&tab, d), 63);
    CHECK_EQ(slot_of(&tab, e), 5);
    CHECK_EQ(rt_idtable_len(&tab), 2);
    rt_idtable_fini(&tab);
}

#define MANY 10000

static void test_growth(void)
{
    struct rt_idtable tab;
    rt_idtable_init(&tab, sizeof(struct entry));
    size_t cap = 0;
    for (uint64_t k = 1; k <= MANY; k++) {
        add(&tab, k * 3, (uintptr_t)k);
        CHECK_LE(rt_idtable_len(&tab) * 2, tab.cap);
        if (tab.cap != cap) { /* just doubled: everything moved */
            cap = tab.cap;
            for (uint64_t j = 1; j <= k; j++)
                CHECK_EQ(((struct entry *)rt_idtable_find(&tab, j * 3))->a,
                         (uintptr_t)j);
        }
    }
    CHECK_EQ(tab.cap, 32768);
    for (uint64_t k = 1; k <= MANY; k += 2)
        rt_idtable_delete(&tab, rt_idtable_find(&tab, k * 3));
    CHECK_EQ(rt_idtable_len(&tab), MANY / 2);
    for (uint64_t k = 1; k <= MANY; k++) {
        struct entry *e = rt_idtable_find(&tab, k * 3);
        if (k % 2) {
            CHECK(e == NULL);
        } else {
            CHECK(e != NULL);
            CHECK_EQ(e->a, (uintptr_t)k);
            CHECK_EQ(e->b, ~(uintptr_t)k);
        }
    }
    rt_idtable_fini(&tab);
}

int main(void)
{
    test_basic();
    test_wrapped_cluster();
    test_growth();
    return 0;
}

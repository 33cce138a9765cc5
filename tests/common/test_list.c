/* Intrusive list: order, pop, splice, and the two ways off a list: a popped
 * or remove_init'ed node is self-linked (rt_list_linked is false), a
 * removed one is poisoned in RT_DEBUG builds. */
#include <stddef.h>

#include "check.h"
#include <greenfut/list.h>

struct item {
    int v;
    struct rt_list link;
};

static int value(struct rt_list *n)
{
    return RT_CONTAINER_OF(n, struct item, link)->v;
}

int main(void)
{
    struct item it[4];
    struct rt_list h, other;
    rt_list_init(&h);
    rt_list_init(&other);
    CHECK(rt_list_empty(&h));
    for (int i = 0; i < 4; i++) {
        it[i].v = i;
        rt_list_init(&it[i].link);
        CHECK(!rt_list_linked(&it[i].link));
    }
    rt_list_push_back(&h, &it[1].link);
    rt_list_push_back(&h, &it[2].link);
    rt_list_push_front(&h, &it[0].link);
    CHECK(rt_list_linked(&it[1].link));

    /* pop_front leaves the node self-linked: it can be asked and removed
     * again without harm. */
    struct rt_list *n = rt_list_pop_front(&h);
    CHECK_EQ(value(n), 0);
    CHECK(!rt_list_linked(n));
    rt_list_remove(n);

    /* remove_init: the same, by hand. */
    rt_list_remove_init(&it[2].link);
    CHECK(!rt_list_linked(&it[2].link));
    CHECK_EQ(value(h.next), 1);
    CHECK(h.next->next == &h);

    /* remove: the node's links are poisoned with RT_DEBUG. */
    rt_list_remove(&it[1].link);
    CHECK(rt_list_empty(&h));
#if defined(RT_DEBUG) && RT_DEBUG
    CHECK(it[1].link.next == RT_LIST_POISON_NEXT);
    CHECK(it[1].link.prev == RT_LIST_POISON_PREV);
#endif

    /* splice keeps order and empties the source. */
    rt_list_push_back(&h, &it[0].link);
    rt_list_push_back(&other, &it[1].link);
    rt_list_push_back(&other, &it[2].link);
    rt_list_splice_back(&h, &other);
    CHECK(rt_list_empty(&other));
    int want = 0;
    while ((n = rt_list_pop_front(&h)))
        CHECK_EQ(value(n), want++);
    CHECK_EQ(want, 3);
    return 0;
}

/* The slot allocator (slab.h): chunk carving, own chunks and the walk.
 *
 * The invariant: every chunk is on slab->chunks until it goes back to
 * malloc, and an own chunk freed while a walk may hold it is only marked
 * (used 0) and swept when the walk ends.
 */
#include "slab.h"

#include <stdlib.h>

#include <greenfut/check.h>
#include "sys.h"

void fut__slab_init(struct fut__slab *s)
{
    memset(s, 0, sizeof(*s));
    rt_list_init(&s->chunks);
}

static struct fut__chunk *chunk_new(struct fut__slab *s, size_t slot)
{
    size_t data = fut__slab_own_chunk(slot) ? slot : FUT__CHUNK_BYTES;
    struct fut__chunk *c = rt_sys_malloc(sizeof(*c) + data);
    if (!c)
        return NULL;
    c->slot = (uint32_t)slot;
    c->used = 0;
    c->first = 0;
    if (!fut__slab_own_chunk(slot) && slot % FUT__SLOT_LINE == 0)
        c->first =
            (uint32_t)((FUT__SLOT_LINE - (uintptr_t)c->data % FUT__SLOT_LINE) %
                       FUT__SLOT_LINE);
    c->cap = (uint32_t)((data - c->first) / slot);
    rt_list_push_back(&s->chunks, &c->link);
    return c;
}

void *fut__slab_alloc_slow(struct fut__slab *s, size_t slot)
{
    if (fut__slab_own_chunk(slot)) {
        struct fut__chunk *c = chunk_new(s, slot);
        if (!c)
            return NULL;
        c->used = 1;
        return c->data;
    }
    size_t cls = slot / FUT__SLOT_STEP - 1;
    struct fut__chunk *c = s->carving[cls];
    if (!c || c->used == c->cap) {
        c = chunk_new(s, slot);
        if (!c)
            return NULL;
        s->carving[cls] = c;
    }
    return (char *)c->data + c->first + (size_t)c->used++ * slot;
}

void fut__slab_free_own(struct fut__slab *s, void *p)
{
    struct fut__chunk *c = RT_CONTAINER_OF(p, struct fut__chunk, data);
    if (s->walking) { /* a walk may hold it: swept after the walk */
        c->used = 0;
        return;
    }
    rt_list_remove(&c->link);
    free(c);
}

void fut__slab_walk(struct fut__slab *s, void (*fn)(void *slot, void *arg),
                    void *arg)
{
    RT_ASSERT(!s->walking);
    s->walking = 1;
    for (struct rt_list *n = s->chunks.next; n != &s->chunks; n = n->next) {
        struct fut__chunk *c = RT_CONTAINER_OF(n, struct fut__chunk, link);
        for (uint32_t i = 0; i < c->used; i++)
            fn((char *)c->data + c->first + (size_t)i * c->slot, arg);
    }
    s->walking = 0;
    /* Sweep the own chunks whose slot was freed during the walk. */
    struct rt_list *n = s->chunks.next;
    while (n != &s->chunks) {
        struct rt_list *next = n->next;
        struct fut__chunk *c = RT_CONTAINER_OF(n, struct fut__chunk, link);
        if (c->used == 0 && fut__slab_own_chunk(c->slot)) {
            rt_list_remove(&c->link);
            free(c);
        }
        n = next;
    }
}

void fut__slab_fini(struct fut__slab *s)
{
    struct rt_list *n;
    while ((n = rt_list_pop_front(&s->chunks)))
        free(RT_CONTAINER_OF(n, struct fut__chunk, link));
    memset(s->free_slots, 0, sizeof(s->free_slots));
    memset(s->carving, 0, sizeof(s->carving));
}

/* Frame sizes no task could have are refused up front with -ENOMEM, the
 * same on both backends, before anything reads `size` bytes of the
 * template or asks the allocator for them: SIZE_MAX (where a sanitizer's
 * allocator would abort rather than fail), and every size from 2 GiB up
 * (rt.h's limit), whose copy would read far beyond the template. A normal
 * spawn still works afterwards. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include <greenfut/rt.h>

struct small {
    RT_FRAME;
    int x;
};

static enum rt_poll small(void *self)
{
    struct small *f = self;
    RT_BEGIN(f);
    RT_RETURN(f, f->x);
    RT_END(f);
}

static const size_t bad[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)UINT32_MAX,
                             (size_t)1 << 31};

struct root {
    RT_FRAME;
    struct rt_join j;
    intptr_t got;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    { /* the template is not needed after the spawn (rt.h, rule 3) */
        struct small s = {.x = 7};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            CHECK_EQ(rt_spawn(small, &s, bad[i], &f->j), -ENOMEM);
            CHECK_EQ(rt_spawn(small, &s, bad[i], NULL), -ENOMEM);
        }
        CHECK_OK(rt_spawn(small, &s, sizeof(s), &f->j));
    }
    RT_AWAIT_JOIN(f, f->got, &f->j);
    CHECK_EQ(f->got, 0);
    RT_RETURN(f, f->j.ret);
    RT_END(f);
}

int main(void)
{
    struct small s = {.x = 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(rt_run(small, &s, bad[i], NULL), -ENOMEM);
    struct root r = {0};
    intptr_t ret = 0;
    CHECK_OK(rt_run(root, &r, sizeof(r), &ret));
    CHECK_EQ(ret, 7);
    return 0;
}

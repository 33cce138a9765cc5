/* The rules of rt.h, one check each, on either backend. */
#include <string.h>

#include "check.h"
#include <greenfut/rt.h>

/* Rule 3: a frame field keeps its value across awaits, through loops and
 * nested blocks; rule 4: a buffer in the frame keeps its contents. */
struct keeper {
    RT_FRAME;
    int i;
    long sum;
    char buf[32];
};

static enum rt_poll keeper(void *self)
{
    struct keeper *f = self;
    RT_BEGIN(f);
    strcpy(f->buf, "kept across awaits");
    for (f->i = 0; f->i < 10; f->i++) {
        f->sum += f->i;
        if (f->i % 2)
            RT_AWAIT_YIELD(f);
        else
            RT_AWAIT_SLEEP(f, 1000);
    }
    CHECK_EQ(f->sum, 45);
    CHECK(strcmp(f->buf, "kept across awaits") == 0);
    RT_RETURN(f, f->sum);
    RT_END(f);
}

/* Rule 5: a child frame inside the parent, set by a compound literal right
 * before the call; rule 6: RT_RETURN leaves from the middle of a loop. */
struct child {
    RT_FRAME;
    int n;
    int i;
};

static enum rt_poll child(void *self)
{
    struct child *f = self;
    RT_BEGIN(f);
    for (f->i = 0;; f->i++) {
        RT_AWAIT_YIELD(f);
        if (f->i == f->n)
            RT_RETURN(f, f->i * 100);
    }
    RT_END(f);
}

struct parent {
    RT_FRAME;
    struct child c;
    int k;
    long total;
};

static enum rt_poll parent(void *self)
{
    struct parent *f = self;
    RT_BEGIN(f);
    for (f->k = 1; f->k <= 3; f->k++) {
        f->c = (struct child){.n = f->k};
        RT_AWAIT_CALL(f, child, &f->c);
        f->total += f->c.rt.ret;
    }
    RT_RETURN(f, f->total);
    RT_END(f);
}

/* Rule 7: spawn copies the frame; the template may change or die after. */
struct copied {
    RT_FRAME;
    int value;
};

static enum rt_poll copied(void *self)
{
    struct copied *f = self;
    RT_BEGIN(f);
    RT_AWAIT_YIELD(f);
    RT_RETURN(f, f->value);
    RT_END(f);
}

/* A frame bigger than a quarter of a green thread's stack still spawns. */
struct big {
    RT_FRAME;
    char buf[40000];
    int i;
};

static enum rt_poll big(void *self)
{
    struct big *f = self;
    RT_BEGIN(f);
    RT_AWAIT_YIELD(f);
    for (f->i = 0; f->i < (int)sizeof f->buf; f->i++)
        CHECK_EQ(f->buf[f->i], (char)(f->i % 7));
    RT_RETURN(f, 5);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join a, b, c, d;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    {
        struct copied tmpl = {.value = 1};
        CHECK_OK(rt_spawn(copied, &tmpl, sizeof tmpl, &f->a));
        tmpl.value = 2; /* does not reach the task spawned above */
        CHECK_OK(rt_spawn(copied, &tmpl, sizeof tmpl, &f->b));
        memset(&tmpl, 0xff, sizeof tmpl);
    }
    {
        struct keeper k = {0};
        CHECK_OK(rt_spawn(keeper, &k, sizeof k, &f->c));
    }
    RT_AWAIT_JOIN(f, f->rc, &f->a);
    CHECK_EQ(f->a.ret, 1);
    RT_AWAIT_JOIN(f, f->rc, &f->b);
    CHECK_EQ(f->b.ret, 2);
    RT_AWAIT_JOIN(f, f->rc, &f->c);
    CHECK_EQ(f->c.ret, 45);
    {
        static struct big tmpl;
        for (int i = 0; i < (int)sizeof tmpl.buf; i++)
            tmpl.buf[i] = (char)(i % 7);
        CHECK_OK(rt_spawn(big, &tmpl, sizeof tmpl, &f->d));
    }
    RT_AWAIT_JOIN(f, f->rc, &f->d);
    CHECK_EQ(f->d.ret, 5);
    RT_END(f);
}

int main(void)
{
    struct root r = {0};
    CHECK_OK(rt_run(root, &r, sizeof r, NULL));
    struct parent p = {0};
    intptr_t ret = 0;
    CHECK_OK(rt_run(parent, &p, sizeof p, &ret));
    CHECK_EQ(ret, 100 + 200 + 300);
    return 0;
}

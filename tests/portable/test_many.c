/* 100,000 tasks on either backend: all parked at once on a channel, then
 * released one message each, then joined; every task ran exactly once. */
#include <stdlib.h>

#include "check.h"
#include <greenfut/rt.h>

#define N 100000

struct parked {
    RT_FRAME;
    struct rt_chan *ch;
    int msg;
    int rc;
};

static enum rt_poll parked(void *self)
{
    struct parked *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, f->ch, &f->msg);
    CHECK_EQ(f->rc, 1);
    RT_RETURN(f, f->msg);
    RT_END(f);
}

static unsigned char seen[N];

struct root {
    RT_FRAME;
    struct rt_chan ch;
    struct rt_join *j;
    int i;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&f->ch, sizeof(int), 0));
    f->j = calloc(N, sizeof(*f->j));
    CHECK(f->j != NULL);
    for (f->i = 0; f->i < N; f->i++) {
        struct parked p = {.ch = &f->ch};
        CHECK_OK(rt_spawn(parked, &p, sizeof p, &f->j[f->i]));
    }
    RT_AWAIT_YIELD(f); /* every task runs and parks on the channel */
    for (f->i = 0; f->i < N; f->i++) {
        RT_AWAIT_SEND(f, f->rc, &f->ch, &f->i);
        CHECK_EQ(f->rc, 0);
    }
    for (f->i = 0; f->i < N; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        CHECK_EQ(f->rc, 0);
        intptr_t v = f->j[f->i].ret;
        CHECK(v >= 0 && v < N);
        CHECK_EQ(seen[v], 0);
        seen[v] = 1;
    }
    free(f->j);
    rt_chan_fini(&f->ch);
    RT_END(f);
}

int main(void)
{
    struct root r = {0};
    CHECK_OK(rt_run(root, &r, sizeof r, NULL));
    for (int i = 0; i < N; i++)
        CHECK_EQ(seen[i], 1);
    return 0;
}

/* A program written against the installed library, as a user writes one:
 * public headers only, as <greenfut/...>, next to the system's <poll.h>
 * (which a public include directory must not hide). A root task spawns a
 * child that sleeps, joins it and checks its result. */
#include <poll.h>
#include <stdio.h>

#include <greenfut/rt.h>

struct child {
    RT_FRAME;
    int x;
};

static enum rt_poll child(void *self)
{
    struct child *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 1000);
    RT_RETURN(f, f->x * 2);
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join j;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    struct child c = {.x = 21};
    if (rt_spawn(child, &c, sizeof c, &f->j) < 0)
        RT_RETURN(f, -1);
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    RT_RETURN(f, f->rc == 0 ? f->j.ret : -1);
    RT_END(f);
}

int main(void)
{
    struct pollfd p = {.fd = -1, .events = POLLIN};
    if (poll(&p, 1, 0) < 0)
        return 1;
    struct root r = {0};
    intptr_t ret = 0;
    if (rt_run(root, &r, sizeof r, &ret) < 0 || ret != 42) {
        fprintf(stderr, "consumer: rt_run gave %ld, want 42\n", (long)ret);
        return 1;
    }
    printf("consumer (%s): ok\n", rt_backend_name());
    return 0;
}

/* The program tests/gdb/test_gdb.py looks at: the shared parked tasks
 * (tests/parked_tasks.h) on either backend, each parked in a different
 * await, then one "ready" line on stdout saying what the test must find
 * (the pipe's fd, the objects' addresses, the deep await's line), and a
 * long sleep until the test kills it. Built -O0 with frame pointers so
 * every call of the chain is a frame to see. */
#include <stdio.h>
#include <unistd.h>

#include <greenfut/rt.h>
#include "parked_tasks.h"

struct root {
    RT_FRAME;
};

enum rt_poll parked_root(void *self);

enum rt_poll parked_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (parked_spawn_all() < 0)
        _exit(2);
    /* Let every task run to its first await. */
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    printf("ready fd=%d empty=%p deep=%p held=%p deep_line=%d\n",
           parked_pipe[0], (void *)&parked_empty, (void *)&parked_deep,
           (void *)&parked_held, PARKED_DEEP_LINE);
    fflush(stdout);
    RT_AWAIT_SLEEP(f, PARKED_SLEEP_NS);
    RT_END(f);
}

int main(void)
{
    if (parked_init() < 0)
        return 2;
    return rt_run(parked_root, &(struct root){0}, sizeof(struct root), NULL)
               ? 1
               : 0;
}

/* The program tests/gdb/test_gdb.py looks at: the shared parked tasks
 * (tests/parked_tasks.h) on either backend, each parked in a different
 * await, then one "ready" line on stdout saying what the test must find
 * (the pipe's fd, the objects' addresses, the deep await's line), and a
 * long sleep until the test kills it. Built -O0 with frame pointers so
 * every call of the chain is a frame to see.
 *
 * With several workers (RT_WORKERS=2) the root waits until the dump shows
 * every task parked, then starts a blocker: a task that blocks its worker
 * in a plain read(2) of a pipe nobody writes, so that the debugger finds
 * one task running on a worker (the ready line says which) while the
 * other worker idles. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <greenfut/dump.h>
#include <greenfut/rt.h>
#include "parked_tasks.h"

struct root {
    RT_FRAME;
    long i;
};

static int block_pipe[2];          /* nobody writes: read(2) blocks */
static atomic_int blocker_on = -1; /* the blocker's worker, once it runs */

enum rt_poll parked_root(void *self);
enum rt_poll parked_blocker(void *self);

enum rt_poll parked_blocker(void *self)
{
    struct parked_leaf *f = self;
    RT_BEGIN(f);
    atomic_store(&blocker_on, rt_worker_index());
    /* A blocking call inside a task: its worker is taken until the end. */
    f->rc = read(block_pipe[0], f->buf, sizeof f->buf);
    RT_END(f);
}

/* Whether the dump shows every task but the root parked. */
static int settled(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m || rt_dump(m) < 0)
        _exit(2);
    fclose(m);
    int busy = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, "(parked_root") &&
            (strstr(line, "[running") || strstr(line, "[runnable")))
            busy++;
    free(buf);
    return busy == 0;
}

static int several_workers(void)
{
    const char *w = getenv("RT_WORKERS");
    return w && strcmp(w, "1") != 0;
}

enum rt_poll parked_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (parked_spawn_all() < 0)
        _exit(2);
    /* Let every task run to its first await. */
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    if (several_workers()) {
        for (f->i = 0; f->i < 10000000 && !settled(); f->i++)
            RT_AWAIT_YIELD(f);
        if (pipe(block_pipe) < 0 ||
            rt_spawn(parked_blocker, &(struct parked_leaf){0},
                     sizeof(struct parked_leaf), NULL) < 0)
            _exit(2);
        for (f->i = 0; f->i < 10000000 && atomic_load(&blocker_on) < 0; f->i++)
            RT_AWAIT_YIELD(f);
        if (atomic_load(&blocker_on) < 0)
            _exit(2);
    }
    printf("ready fd=%d empty=%p deep=%p held=%p deep_line=%d "
           "blocker_worker=%d\n",
           parked_pipe[0], (void *)&parked_empty, (void *)&parked_deep,
           (void *)&parked_held, PARKED_DEEP_LINE, atomic_load(&blocker_on));
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

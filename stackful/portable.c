/* The stackful side of rt.h: a portable task is a green thread that runs
 * the task function once, straight through. */
#include "rt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The thread's frame is a heap copy of the template, freed at its end. */
static void *entry(void *arg)
{
    struct rt_frame *h = arg;
    (void)h->fn(h);
    intptr_t v = h->ret;
    free(h);
    return (void *)v;
}

static struct rt_frame *copy_frame(rt_task_fn fn, const void *frame,
                                   size_t size)
{
    struct rt_frame *h = malloc(size);
    if (!h)
        return NULL;
    memcpy(h, frame, size);
    h->state = 0;
    h->op = RT__OP_NONE;
    h->fn = fn;
    h->ret = 0;
    return h;
}

int rt_spawn(rt_task_fn fn, const void *frame, size_t size,
             struct rt_join *join)
{
    if (join) {
        join->id = 0;
        join->ret = 0;
    }
    if (!fn || !frame || size < sizeof(struct rt_frame))
        return -EINVAL;
    if (!gt_reactor())
        return -EPERM;
    struct rt_frame *h = copy_frame(fn, frame, size);
    if (!h)
        return -ENOMEM;
    int64_t id = gt_spawn(entry, h, NULL);
    if (id < 0) {
        free(h);
        return (int)id;
    }
    if (join)
        join->id = id;
    return 0;
}

int rt__sf_join(struct rt_join *join)
{
    if (!join || join->id <= 0)
        return -ESRCH;
    void *v = NULL;
    int rc = gt_join(join->id, &v);
    join->id = 0;
    if (rc < 0)
        return -ESRCH;
    join->ret = (intptr_t)v;
    return 0;
}

int rt_run(rt_task_fn fn, const void *frame, size_t size, intptr_t *ret)
{
    if (!fn || !frame || size < sizeof(struct rt_frame))
        return -EINVAL;
    if (gt_reactor())
        return -EBUSY;
    struct rt_frame *h = copy_frame(fn, frame, size);
    if (!h)
        return -ENOMEM;
    void *v = NULL;
    int rc = gt_run(NULL, entry, h, &v);
    if (rc == 0 && ret)
        *ret = (intptr_t)v;
    return rc;
}

int rt_register(int fd)
{
    return gt_reactor() ? gt_register(fd) : -EPERM;
}

int rt_close(int fd)
{
    return gt_reactor() ? gt_close(fd) : -EPERM;
}

struct rt_reactor *rt_reactor_current(void)
{
    return gt_reactor();
}

const char *rt_backend_name(void)
{
    return "stackful";
}

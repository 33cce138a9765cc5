/* gt_join: one joiner per thread. While one green thread waits to join an
 * id, a second joiner gets -EBUSY at once (the errno docs/architecture.md's
 * table gives a second waiter) and the first still gets the result; a join
 * after that finds no thread (-ESRCH). */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include <greenfut/gt.h>

static int64_t target;
static intptr_t first_got;

static void *slow(void *arg)
{
    gt_yield(); /* the joiners come meanwhile */
    gt_yield();
    return arg;
}

static void *first_joiner(void *arg)
{
    (void)arg;
    void *v = NULL;
    CHECK_OK(gt_join(target, &v));
    first_got = (intptr_t)v;
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    target = gt_spawn(slow, (void *)(intptr_t)7, NULL);
    CHECK_GT(target, 0);
    int64_t first = gt_spawn(first_joiner, NULL, NULL);
    CHECK_GT(first, 0);
    gt_yield(); /* round robin: slow yields, first_joiner parks in gt_join */
    CHECK_EQ(gt_join(target, NULL), -EBUSY);
    CHECK_OK(gt_join(first, NULL));
    CHECK_EQ(first_got, 7);
    CHECK_EQ(gt_join(target, NULL), -ESRCH);
    return NULL;
}

int main(void)
{
    CHECK_OK(gt_run(NULL, root, NULL, NULL));
    return 0;
}

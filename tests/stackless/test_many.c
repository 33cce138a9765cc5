/* A million tasks parked on one gate, then released and joined: no
 * allocation is lost (the ASan build checks it) and the runtime's own
 * accounting returns to zero. */
#include <stdlib.h>

#include "check.h"
#include <greenfut/task.h>

#define N 1000000

/* Tasks park by leaving a waker clone here. */
struct gate {
    int open;
    size_t parked;
    struct rt_waker *waiters; /* one slot per task */
};

static struct gate gate;

struct parker {
    struct fut_future base;
    unsigned idx;
};

static enum rt_poll parker_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct parker *f = (struct parker *)self;
    if (!gate.open) {
        if (!rt_waker_is_set(&gate.waiters[f->idx]))
            gate.parked++;
        rt_waker_store(&gate.waiters[f->idx], cx->waker);
        return RT_PENDING;
    }
    if (out)
        *(unsigned *)out = f->idx * 2u;
    return RT_READY;
}

static const struct fut_vtable parker_vt = {parker_poll, NULL, "parker"};

/* The root: pending until every task parked (it yields meanwhile). */
static enum rt_poll until_parked_poll(struct fut_future *self, struct rt_cx *cx,
                                      void *out)
{
    (void)self;
    (void)out;
    if (gate.parked == N)
        return RT_READY;
    rt_waker_wake_by_ref(cx->waker);
    return RT_PENDING;
}

static const struct fut_vtable until_parked_vt = {until_parked_poll, NULL,
                                                  "until_parked"};

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    gate.waiters = calloc(N, sizeof(*gate.waiters));
    struct fut_join *js = calloc(N, sizeof(*js));
    CHECK(gate.waiters && js);

    for (unsigned i = 0; i < N; i++) {
        struct parker p = {{&parker_vt}, i};
        CHECK_OK(fut_spawn(&p.base, sizeof(p), sizeof(unsigned), &js[i]));
    }
    struct fut_future root = {&until_parked_vt};
    CHECK_OK(fut_block_on(&root, NULL));

    struct fut_stats st;
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, N);
    CHECK_EQ(st.tasks_allocated, N);
    printf("%d parked tasks: %zu task bytes (%zu per task)\n", N, st.task_bytes,
           st.task_bytes / N);

    gate.open = 1;
    for (unsigned i = 0; i < N; i++)
        rt_waker_wake(&gate.waiters[i]);
    for (unsigned i = 0; i < N; i++) {
        unsigned v = 0;
        CHECK_OK(fut_join(&js[i], &v));
        CHECK_EQ(v, i * 2u);
    }
    CHECK_OK(fut_stats(&st));
    CHECK_EQ(st.tasks_pending, 0);
    CHECK_EQ(st.tasks_allocated, 0);
    CHECK_EQ(st.task_bytes, 0);
    free(js);
    free(gate.waiters);
    fut_executor_free(ex);
    return 0;
}

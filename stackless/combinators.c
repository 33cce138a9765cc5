/* Combinators: join (all), select (first, dropping the rest), timeout.
 *
 * They poll every live child with the same cx, so one wake re-polls all of
 * them (O(n) per wake, fine for the small n they are meant for). A child
 * that is done is dropped at once and recognised afterwards by vt == NULL.
 */
#include <greenfut/combinators.h>

#include <errno.h>

static void drop_all(struct fut_future **futs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fut_drop(futs[i]);
}

static int check_children(struct fut_future **futs, size_t n)
{
    if (!futs && n)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!futs[i] || !futs[i]->vt || !futs[i]->vt->poll)
            return -EINVAL;
    return 0;
}

/* ---- join_all ---- */

static enum rt_poll join_all_poll(struct fut_future *self, struct rt_cx *cx,
                                  void *out)
{
    struct fut_join_all *j = (struct fut_join_all *)self;
    (void)out;
    for (size_t i = 0; i < j->n && j->left; i++) {
        struct fut_future *c = j->futs[i];
        if (fut_dropped(c))
            continue;
        if (fut_poll(c, cx, j->outs ? j->outs[i] : NULL) == RT_READY) {
            fut_drop(c);
            j->left--;
        }
    }
    return j->left ? RT_PENDING : RT_READY;
}

static void join_all_drop(struct fut_future *self)
{
    struct fut_join_all *j = (struct fut_join_all *)self;
    drop_all(j->futs, j->n);
}

static const struct fut_vtable join_all_vt = {join_all_poll, join_all_drop,
                                              "join_all"};

int fut_join_all_init(struct fut_join_all *j, struct fut_future **futs,
                      void **outs, size_t n)
{
    if (!j || check_children(futs, n) < 0)
        return -EINVAL;
    j->base.vt = &join_all_vt;
    j->futs = futs;
    j->outs = outs;
    j->n = n;
    j->left = n;
    return 0;
}

/* ---- select ---- */

static enum rt_poll select_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct fut_select *s = (struct fut_select *)self;
    for (size_t i = 0; i < s->n; i++) {
        if (fut_poll(s->futs[i], cx, s->outs ? s->outs[i] : NULL) == RT_READY) {
            /* Cancellation is just drop: the losers' timers and children
             * go now, before anyone can observe them firing. */
            drop_all(s->futs, s->n);
            if (out)
                *(size_t *)out = i;
            return RT_READY;
        }
    }
    return RT_PENDING;
}

static void select_drop(struct fut_future *self)
{
    struct fut_select *s = (struct fut_select *)self;
    drop_all(s->futs, s->n);
}

static const struct fut_vtable select_vt = {select_poll, select_drop, "select"};

int fut_select_init(struct fut_select *s, struct fut_future **futs, void **outs,
                    size_t n)
{
    if (!s || n == 0 || check_children(futs, n) < 0)
        return -EINVAL;
    s->base.vt = &select_vt;
    s->futs = futs;
    s->outs = outs;
    s->n = n;
    return 0;
}

/* ---- timeout ---- */

static enum rt_poll timeout_poll(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct fut_timeout *t = (struct fut_timeout *)self;
    int rc;
    if (fut_poll(t->inner, cx, t->inner_out) == RT_READY)
        rc = 0;
    else if (fut_poll(&t->sleep.base, cx, NULL) == RT_READY)
        rc = -ETIMEDOUT;
    else
        return RT_PENDING;
    fut_drop(t->inner);
    fut_drop(&t->sleep.base);
    if (out)
        *(int *)out = rc;
    return RT_READY;
}

static void timeout_drop(struct fut_future *self)
{
    struct fut_timeout *t = (struct fut_timeout *)self;
    fut_drop(t->inner);
    fut_drop(&t->sleep.base);
}

static const struct fut_vtable timeout_vt = {timeout_poll, timeout_drop,
                                             "timeout"};

int fut_timeout_init(struct fut_timeout *t, struct fut_future *inner,
                     void *inner_out, uint64_t ns)
{
    if (!t || !inner || !inner->vt || !inner->vt->poll)
        return -EINVAL;
    t->base.vt = &timeout_vt;
    t->inner = inner;
    t->inner_out = inner_out;
    fut_sleep_for_init(&t->sleep, ns);
    return 0;
}

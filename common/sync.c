#include <greenfut/sync.h>

#include <errno.h>

#include <greenfut/check.h>

/* Permits are handed straight to the first waiter, so a semaphore never
 * has free permits and waiters at once. */
#define SEM_CONSISTENT(s) ((s)->permits == 0 || rt_list_empty(&(s)->waiters))

void rt_sem_init(struct rt_sem *s, size_t permits)
{
    s->permits = permits;
    rt_list_init(&s->waiters);
}

enum rt_poll rt_sem_poll_acquire(struct rt_sem *s, struct rt_waiter *w,
                                 struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!s || !w || !rt_cx_ok(cx)) {
        *res = -EINVAL;
        return RT_READY;
    }
    /* A permit handed to us by rt_sem_release, or a free one nobody queued
     * ahead of us waits for. */
    if (w->state == RT_WAIT_DONE || (w->state != RT_WAIT_QUEUED && s->permits &&
                                     rt_list_empty(&s->waiters))) {
        if (w->state != RT_WAIT_DONE)
            s->permits--;
        rt_waiter_reset(w);
        RT_DEBUG_ASSERT(SEM_CONSISTENT(s));
        *res = 0;
        return RT_READY;
    }
    /* The result is passed on as is, so release builds keep the tail call. */
    enum rt_poll p = rt_waitq_park(&s->waiters, w, cx);
    RT_DEBUG_ASSERT(SEM_CONSISTENT(s));
    return p;
}

bool rt_sem_try_acquire(struct rt_sem *s)
{
    if (!s || !s->permits || !rt_list_empty(&s->waiters))
        return false;
    s->permits--;
    return true;
}

void rt_sem_release(struct rt_sem *s)
{
    if (!s)
        return;
    /* Direct hand-off: the permit goes to the first waiter, not the pool. */
    if (!rt_waitq_wake_one(&s->waiters, RT_WAIT_DONE))
        s->permits++;
    RT_DEBUG_ASSERT(SEM_CONSISTENT(s));
}

void rt_sem_cancel(struct rt_sem *s, struct rt_waiter *w)
{
    if (!s || !w)
        return;
    if (rt_waiter_reset(w) == RT_WAIT_DONE)
        rt_sem_release(s);
}

void rt_mutex_init(struct rt_mutex *m)
{
    rt_sem_init(&m->sem, 1);
}

enum rt_poll rt_mutex_poll_lock(struct rt_mutex *m, struct rt_waiter *w,
                                struct rt_cx *cx, int *res)
{
    return rt_sem_poll_acquire(m ? &m->sem : NULL, w, cx, res);
}

bool rt_mutex_try_lock(struct rt_mutex *m)
{
    return m && rt_sem_try_acquire(&m->sem);
}

void rt_mutex_unlock(struct rt_mutex *m)
{
    if (!m)
        return;
    RT_ASSERT(m->sem.permits == 0); /* unlocking an unlocked mutex */
    rt_sem_release(&m->sem);
    RT_DEBUG_ASSERT(m->sem.permits <= 1);
}

void rt_mutex_cancel(struct rt_mutex *m, struct rt_waiter *w)
{
    rt_sem_cancel(m ? &m->sem : NULL, w);
}

void rt_cond_init(struct rt_cond *c)
{
    rt_list_init(&c->waiters);
}

void rt_cond_waiter_init(struct rt_cond_waiter *cw)
{
    rt_waiter_init(&cw->w);
    cw->locking = NULL;
}

enum rt_poll rt_cond_poll_wait(struct rt_cond *c, struct rt_mutex *m,
                               struct rt_cond_waiter *cw, struct rt_cx *cx,
                               int *res)
{
    if (!res)
        return RT_READY;
    if (!c || !m || !cw || !rt_cx_ok(cx)) {
        *res = -EINVAL;
        return RT_READY;
    }
    if (!cw->locking) {
        switch (cw->w.state) {
        case RT_WAIT_IDLE: /* first poll: queue, then let go of the mutex */
            rt_waitq_park(&c->waiters, &cw->w, cx);
            rt_mutex_unlock(m);
            return RT_PENDING;
        case RT_WAIT_QUEUED: /* not notified yet */
            return rt_waitq_park(&c->waiters, &cw->w, cx);
        default: /* notified: take the mutex back */
            RT_DEBUG_ASSERT(cw->w.state == RT_WAIT_WOKEN);
            rt_waiter_reset(&cw->w);
            cw->locking = m;
            break;
        }
    }
    enum rt_poll p = rt_mutex_poll_lock(m, &cw->w, cx, res);
    if (p == RT_READY)
        cw->locking = NULL;
    return p;
}

bool rt_cond_notify_one(struct rt_cond *c)
{
    return c && rt_waitq_wake_one(&c->waiters, RT_WAIT_WOKEN) != NULL;
}

int rt_cond_notify_all(struct rt_cond *c)
{
    return c ? rt_waitq_wake_all(&c->waiters, RT_WAIT_WOKEN) : 0;
}

void rt_cond_cancel(struct rt_cond *c, struct rt_cond_waiter *cw)
{
    if (!c || !cw)
        return;
    if (cw->locking) {
        rt_mutex_cancel(cw->locking, &cw->w);
        cw->locking = NULL;
    } else if (rt_waiter_reset(&cw->w) == RT_WAIT_WOKEN) {
        rt_cond_notify_one(c); /* pass the notify on */
    }
}

void rt_wg_init(struct rt_wg *g)
{
    g->count = 0;
    rt_list_init(&g->waiters);
}

void rt_wg_add(struct rt_wg *g, size_t n)
{
    if (g)
        g->count += n;
}

int rt_wg_done(struct rt_wg *g)
{
    if (!g || g->count == 0)
        return -EINVAL;
    if (--g->count == 0)
        rt_waitq_wake_all(&g->waiters, RT_WAIT_DONE);
    return 0;
}

enum rt_poll rt_wg_poll_wait(struct rt_wg *g, struct rt_waiter *w,
                             struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!g || !w || !rt_cx_ok(cx)) {
        *res = -EINVAL;
        return RT_READY;
    }
    if (g->count == 0) {
        /* Reaching zero woke every waiter. */
        RT_DEBUG_ASSERT(rt_list_empty(&g->waiters));
        rt_waiter_reset(w);
        *res = 0;
        return RT_READY;
    }
    return rt_waitq_park(&g->waiters, w, cx);
}

void rt_wg_cancel(struct rt_wg *g, struct rt_waiter *w)
{
    if (g && w)
        rt_waiter_reset(w);
}

void rt_notify_init(struct rt_notify *n)
{
    n->waiter = NULL;
    n->permit = false;
}

void rt_notify_cancel(struct rt_notify *n, struct rt_waiter *w)
{
    if (!n || !w)
        return;
    /* A queued waiter of a notify is its one waiter (it is on no list). */
    RT_DEBUG_ASSERT(w->state != RT_WAIT_QUEUED || n->waiter == w);
    if (w->state == RT_WAIT_QUEUED && n->waiter == w) {
        n->waiter = NULL;
        rt_waker_drop(&w->waker);
        w->state = RT_WAIT_IDLE;
    } else if (w->state == RT_WAIT_DONE) {
        /* Delivered but never returned: hand it on, to a waiter that came
         * meanwhile or as the permit. */
        w->state = RT_WAIT_IDLE;
        rt_notify_one(n);
    } else {
        w->state = RT_WAIT_IDLE;
    }
}

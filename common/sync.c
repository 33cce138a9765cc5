#include <greenfut/sync.h>

#include <errno.h>

#include <greenfut/check.h>
#include <greenfut/coop.h>

/* Each object's fields and its queued waiters are its lock's (sync.h). A
 * function that completes one waiter takes its waker out under the lock
 * and wakes it after the unlock (waitq.h); the two that complete them all
 * (rt_cond_notify_all, rt_wg_done) wake under the lock. */

/* Permits are handed straight to the first waiter, so a semaphore never
 * has free permits and waiters at once. */
#define SEM_CONSISTENT(s) ((s)->permits == 0 || rt_list_empty(&(s)->waiters))

void rt_sem_init(struct rt_sem *s, size_t permits)
{
    rt_spin_init(&s->lock);
    s->permits = permits;
    rt_list_init(&s->waiters);
}

enum rt_poll rt_sem_poll_acquire(struct rt_sem *s, struct rt_waiter *w,
                                 struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!s || !w || !rt_cx_ok(cx)) {
        *res = rt__cx_refusal();
        return RT_READY;
    }
    if (!rt_coop_take(cx)) /* include/greenfut/coop.h */
        return RT_PENDING;
    enum rt_poll p = RT_PENDING;
    bool locked = rt_spin_lock(&s->lock);
    /* A permit handed to us by rt_sem_release, or a free one nobody queued
     * ahead of us waits for. */
    if (w->state == RT_WAIT_DONE || (w->state != RT_WAIT_QUEUED && s->permits &&
                                     rt_list_empty(&s->waiters))) {
        if (w->state != RT_WAIT_DONE)
            s->permits--;
        rt_waiter_reset(w);
        *res = 0;
        p = RT_READY;
    } else {
        rt_waitq_park(&s->waiters, w, cx);
    }
    RT_DEBUG_ASSERT(SEM_CONSISTENT(s));
    rt_spin_unlock(&s->lock, locked);
    return p;
}

bool rt_sem_try_acquire(struct rt_sem *s)
{
    if (!s)
        return false;
    bool locked = rt_spin_lock(&s->lock);
    bool took = s->permits && rt_list_empty(&s->waiters);
    if (took)
        s->permits--;
    rt_spin_unlock(&s->lock, locked);
    return took;
}

/* Returns one permit, lock held: to the first waiter, whose waker goes to
 * *wake, or to the pool. */
static void release_locked(struct rt_sem *s, struct rt_waker *wake)
{
    /* Direct hand-off: the permit goes to the first waiter, not the pool. */
    if (!rt_waitq_take_one(&s->waiters, RT_WAIT_DONE, wake))
        s->permits++;
    RT_DEBUG_ASSERT(SEM_CONSISTENT(s));
}

void rt_sem_release(struct rt_sem *s)
{
    if (!s)
        return;
    struct rt_waker wake = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&s->lock);
    release_locked(s, &wake);
    rt_spin_unlock(&s->lock, locked);
    rt_waker_wake(&wake);
}

void rt_sem_cancel(struct rt_sem *s, struct rt_waiter *w)
{
    if (!s || !w)
        return;
    struct rt_waker wake = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&s->lock);
    /* Reset and hand-on in one critical section: a permit handed to us
     * goes on to the next waiter before anyone can see it missing. */
    if (rt_waiter_reset(w) == RT_WAIT_DONE)
        release_locked(s, &wake);
    rt_spin_unlock(&s->lock, locked);
    rt_waker_wake(&wake);
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
    struct rt_waker wake = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&m->sem.lock);
    RT_ASSERT(m->sem.permits == 0); /* unlocking an unlocked mutex */
    release_locked(&m->sem, &wake);
    RT_DEBUG_ASSERT(m->sem.permits <= 1);
    rt_spin_unlock(&m->sem.lock, locked);
    rt_waker_wake(&wake);
}

void rt_mutex_cancel(struct rt_mutex *m, struct rt_waiter *w)
{
    rt_sem_cancel(m ? &m->sem : NULL, w);
}

void rt_cond_init(struct rt_cond *c)
{
    rt_spin_init(&c->lock);
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
        /* A cancelled wait always ends without the mutex: one refused
         * before its first poll still holds it, so it lets it go. */
        bool fresh = false;
        if (c && m && cw && !cw->locking) {
            bool locked = rt_spin_lock(&c->lock);
            fresh = cw->w.state == RT_WAIT_IDLE;
            rt_spin_unlock(&c->lock, locked);
        }
        *res = rt__cx_refusal();
        if (fresh && *res == -ECANCELED)
            rt_mutex_unlock(m);
        return RT_READY;
    }
    if (!cw->locking) {
        bool locked = rt_spin_lock(&c->lock);
        switch (cw->w.state) {
        case RT_WAIT_IDLE:
            /* First poll: queue, then let go of the mutex. Queued before
             * the unlock, so a notify made by whoever takes the mutex next
             * finds this waiter. The condition's lock is released first:
             * the two are never held together. */
            rt_waitq_park(&c->waiters, &cw->w, cx);
            rt_spin_unlock(&c->lock, locked);
            rt_mutex_unlock(m);
            return RT_PENDING;
        case RT_WAIT_QUEUED: /* not notified yet */
            rt_waitq_park(&c->waiters, &cw->w, cx);
            rt_spin_unlock(&c->lock, locked);
            return RT_PENDING;
        default: /* notified: take the mutex back */
            RT_DEBUG_ASSERT(cw->w.state == RT_WAIT_WOKEN);
            rt_waiter_reset(&cw->w);
            rt_spin_unlock(&c->lock, locked);
            cw->locking = m; /* the waiter is the mutex's from here on */
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
    if (!c)
        return false;
    struct rt_waker wake = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&c->lock);
    bool found = rt_waitq_take_one(&c->waiters, RT_WAIT_WOKEN, &wake);
    rt_spin_unlock(&c->lock, locked);
    rt_waker_wake(&wake);
    return found;
}

int rt_cond_notify_all(struct rt_cond *c)
{
    if (!c)
        return 0;
    bool locked = rt_spin_lock(&c->lock);
    int n = rt_waitq_wake_all(&c->waiters, RT_WAIT_WOKEN);
    rt_spin_unlock(&c->lock, locked);
    return n;
}

void rt_cond_cancel(struct rt_cond *c, struct rt_cond_waiter *cw)
{
    if (!c || !cw)
        return;
    if (cw->locking) {
        rt_mutex_cancel(cw->locking, &cw->w);
        cw->locking = NULL;
        return;
    }
    struct rt_waker wake = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&c->lock);
    if (rt_waiter_reset(&cw->w) == RT_WAIT_WOKEN) /* pass the notify on */
        rt_waitq_take_one(&c->waiters, RT_WAIT_WOKEN, &wake);
    rt_spin_unlock(&c->lock, locked);
    rt_waker_wake(&wake);
}

void rt_wg_init(struct rt_wg *g)
{
    rt_spin_init(&g->lock);
    g->count = 0;
    rt_list_init(&g->waiters);
}

void rt_wg_add(struct rt_wg *g, size_t n)
{
    if (!g)
        return;
    bool locked = rt_spin_lock(&g->lock);
    g->count += n;
    rt_spin_unlock(&g->lock, locked);
}

int rt_wg_done(struct rt_wg *g)
{
    if (!g)
        return -EINVAL;
    int rc = 0;
    bool locked = rt_spin_lock(&g->lock);
    if (g->count == 0)
        rc = -EINVAL;
    else if (--g->count == 0)
        rt_waitq_wake_all(&g->waiters, RT_WAIT_DONE);
    rt_spin_unlock(&g->lock, locked);
    return rc;
}

enum rt_poll rt_wg_poll_wait(struct rt_wg *g, struct rt_waiter *w,
                             struct rt_cx *cx, int *res)
{
    if (!res)
        return RT_READY;
    if (!g || !w || !rt_cx_ok(cx)) {
        *res = rt__cx_refusal();
        return RT_READY;
    }
    enum rt_poll p = RT_READY;
    bool locked = rt_spin_lock(&g->lock);
    /* Released by the count reaching zero, even if an add came since. */
    if (w->state == RT_WAIT_DONE || g->count == 0) {
        /* Reaching zero woke every waiter. */
        RT_DEBUG_ASSERT(g->count || rt_list_empty(&g->waiters));
        rt_waiter_reset(w);
        *res = 0;
    } else {
        p = rt_waitq_park(&g->waiters, w, cx);
    }
    rt_spin_unlock(&g->lock, locked);
    return p;
}

void rt_wg_cancel(struct rt_wg *g, struct rt_waiter *w)
{
    if (!g || !w)
        return;
    bool locked = rt_spin_lock(&g->lock);
    rt_waiter_reset(w);
    rt_spin_unlock(&g->lock, locked);
}

void rt_notify_init(struct rt_notify *n)
{
    rt_spin_init(&n->lock);
    n->waiter = NULL;
    n->permit = false;
}

enum rt_poll rt__notify_refuse(int *res)
{
    *res = rt__cx_refusal();
    return RT_READY;
}

enum rt_poll rt__notify_wait_locked(struct rt_notify *n, struct rt_waiter *w,
                                    struct rt_cx *cx, int *res)
{
    rt_spin_lock_always(&n->lock);
    enum rt_poll p = rt__notify_wait(n, w, cx, res);
    rt_spin_unlock(&n->lock, true);
    return p;
}

void rt__notify_one_locked(struct rt_notify *n)
{
    struct rt_waker later = RT_WAKER_NONE;
    rt_spin_lock_always(&n->lock);
    rt__notify_one(n, &later);
    rt_spin_unlock(&n->lock, true);
    rt_waker_wake(&later); /* the waiter is not touched again */
}

void rt_notify_cancel(struct rt_notify *n, struct rt_waiter *w)
{
    if (!n || !w)
        return;
    struct rt_waker wake = RT_WAKER_NONE;
    bool locked = rt_spin_lock(&n->lock);
    /* A queued waiter of a notify is its one waiter (it is on no list). */
    RT_DEBUG_ASSERT(w->state != RT_WAIT_QUEUED || n->waiter == w);
    if (w->state == RT_WAIT_QUEUED && n->waiter == w) {
        n->waiter = NULL;
        rt_waker_drop(&w->waker);
    } else if (w->state == RT_WAIT_DONE && n->waiter) {
        /* Delivered but never returned: hand it on to a waiter that came
         * meanwhile (its waker is woken after the unlock)... */
        struct rt_waiter *next = n->waiter;
        n->waiter = NULL;
        next->state = RT_WAIT_DONE;
        wake = next->waker;
        next->waker = RT_WAKER_NONE;
    } else if (w->state == RT_WAIT_DONE) {
        n->permit = true; /* ...or leave it as the permit */
    }
    w->state = RT_WAIT_IDLE;
    rt_spin_unlock(&n->lock, locked);
    rt_waker_wake(&wake);
}

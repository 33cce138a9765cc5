/* rt_cancel on either backend: a task cancelled while parked in each kind
 * of await gets -ECANCELED there and from every await it starts after
 * (one whose operation is ready included), runs its own cleanup, and
 * leaves the object it waited on consistent: no waiter left (rt_chan_fini
 * asserts it; a notify, a permit or a lock goes to the next one asking),
 * no message taken or sent, no byte read, the lock free when the task
 * released it on the way out. Also a cancel before the task first runs,
 * after it ended, twice, of a task awaiting a child, a cancelled task's
 * join, and the errors. test_cancel_workers.c cancels tasks that run on
 * another worker. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/rt.h>

#define FAR (rt_now_ns() + 3600ull * 1000000000ull) /* an hour: never */

enum kind {
    K_SLEEP,
    K_RECV,
    K_SEND,
    K_RECV_UNTIL,
    K_READ,
    K_WRITE,
    K_LOCK,
    K_SEM,
    K_COND,
    K_WG,
    K_NOTIFY,
    K_SELECT,
    K_BLOCKING,
    K_JOIN,
    K_CHILD,
    K_KINDS
};

/* What the parent and the victim share (in the parent's frame). */
struct shared {
    struct rt_chan empty, full, ready; /* ready holds one message */
    struct rt_mutex m;
    struct rt_sem sem;
    struct rt_cond cond;
    struct rt_wg wg;
    struct rt_notify note, other;
    int sv[2];
    int pipe[2];
    struct rt_join sleeper;
    atomic_int at_wait;      /* the victim is about to wait */
    atomic_int sleeper_done; /* the sleeper has been notified */
    /* The blocking job: 0 not started, 1 reading, 2 done, 3 never to
     * start (the parent closes the pipe; a cancelled job still queued
     * never runs, one already running reads the parent's byte). */
    atomic_int job;
};

/* Parks on `other` until notified: the task a K_JOIN victim joins. */
struct sleeper {
    RT_FRAME;
    struct rt_notify *n;
    atomic_int *done;
    int rc;
};

static enum rt_poll sleeper(void *self)
{
    struct sleeper *f = self;
    RT_BEGIN(f);
    RT_AWAIT_NOTIFIED(f, f->rc, f->n);
    atomic_store(f->done, 1);
    RT_RETURN(f, 5);
    RT_END(f);
}

/* A K_CHILD victim's child: a receive on the empty channel. */
struct child {
    RT_FRAME;
    struct shared *sh;
    int in, rc;
};

static enum rt_poll child(void *self)
{
    struct child *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &f->sh->empty, &f->in);
    RT_RETURN(f, f->rc);
    RT_END(f);
}

/* The blocking job: reads one byte from the pipe, which the parent writes
 * once the cancelled victim has ended, unless the parent found it never
 * started (see shared.job). */
static intptr_t job(void *arg)
{
    struct shared *sh = arg;
    int idle = 0;
    if (!atomic_compare_exchange_strong(&sh->job, &idle, 1))
        return -1;
    char c;
    ssize_t n = read(sh->pipe[0], &c, 1);
    atomic_store(&sh->job, 2);
    return n;
}

struct victim {
    RT_FRAME;
    struct shared *sh;
    unsigned kind;
    intptr_t first;  /* the result of the await it was cancelled in */
    intptr_t second; /* the result of the await after it */
    int rc, in, out, res;
    ssize_t n;
    struct rt_timer t;
    struct rt_sel_case c[3];
    struct child ch;
    char buf[4096];
};

static enum rt_poll victim(void *self)
{
    struct victim *f = self;
    struct shared *sh = f->sh;
    RT_BEGIN(f);
    f->first = 1;
    if (f->kind == K_SEM)
        RT_AWAIT_LOCK(f, &sh->m); /* free: held across the wait below */
    if (f->kind == K_COND)
        RT_AWAIT_LOCK(f, &sh->m);
    atomic_store(&sh->at_wait, 1);
    if (f->kind == K_SLEEP) {
        RT_AWAIT_SLEEP(f, 3600ull * 1000000000ull);
        f->first = rt_cancelled() ? -ECANCELED : 0;
    } else if (f->kind == K_RECV) {
        RT_AWAIT_RECV(f, f->first, &sh->empty, &f->in);
    } else if (f->kind == K_SEND) {
        f->out = 99;
        RT_AWAIT_SEND(f, f->first, &sh->full, &f->out);
    } else if (f->kind == K_RECV_UNTIL) {
        RT_AWAIT_RECV_UNTIL(f, f->first, &sh->empty, &f->in, &f->t, FAR);
    } else if (f->kind == K_READ) {
        RT_AWAIT_READ(f, f->first, sh->sv[0], f->buf, 1);
    } else if (f->kind == K_WRITE) {
        /* Until the socket's buffer is full and the write parks. */
        do {
            RT_AWAIT_WRITE(f, f->n, sh->sv[0], f->buf, sizeof f->buf);
        } while (f->n > 0);
        f->first = f->n;
    } else if (f->kind == K_LOCK) {
        RT_AWAIT_LOCK(f, &sh->m); /* the parent holds it */
        f->first = rt_cancelled() ? -ECANCELED : 0;
    } else if (f->kind == K_SEM) {
        RT_AWAIT_SEM(f, &sh->sem);
        f->first = rt_cancelled() ? -ECANCELED : 0;
        rt_mutex_unlock(&sh->m); /* the cleanup: the lock it held */
    } else if (f->kind == K_COND) {
        RT_AWAIT_COND(f, &sh->cond, &sh->m);
        /* Cancelled: the wait returned without the mutex. */
        f->first = rt_cancelled() ? -ECANCELED : 0;
        if (!rt_cancelled())
            rt_mutex_unlock(&sh->m);
    } else if (f->kind == K_WG) {
        RT_AWAIT_WG(f, &sh->wg);
        f->first = rt_cancelled() ? -ECANCELED : 0;
    } else if (f->kind == K_NOTIFY) {
        RT_AWAIT_NOTIFIED(f, f->first, &sh->note);
    } else if (f->kind == K_SELECT) {
        rt_sel_recv(&f->c[0], &sh->empty, &f->in);
        rt_sel_deadline(&f->c[1], FAR);
        rt_sel_notify(&f->c[2], &sh->note);
        RT_AWAIT_SELECT(f, f->first, f->c, 3);
    } else if (f->kind == K_BLOCKING) {
        RT_AWAIT_BLOCKING(f, f->first, job, sh);
    } else if (f->kind == K_JOIN) {
        RT_AWAIT_JOIN(f, f->first, &sh->sleeper);
    } else if (f->kind == K_CHILD) {
        f->ch = (struct child){.sh = sh};
        RT_AWAIT_CALL(f, child, &f->ch);
        f->first = f->ch.rt.ret;
    }
    /* Every later await is refused, even one that could complete now:
     * `ready` holds a message, which stays there. */
    RT_AWAIT_RECV(f, f->second, &sh->ready, &f->in);
    CHECK_EQ(f->second, -ECANCELED);
    CHECK(rt_cancelled());
    CHECK_EQ(f->first, -ECANCELED);
    RT_RETURN(f, 100);
    RT_END(f);
}

/* ---- each kind of await ------------------------------------------------ */

struct one {
    RT_FRAME;
    unsigned kind;
    struct shared sh;
    struct rt_join vj;
    int rc, msg, in, i;
    ssize_t n;
    char c;
};

static enum rt_poll one(void *self)
{
    struct one *f = self;
    struct shared *sh = &f->sh;
    RT_BEGIN(f);
    CHECK_OK(rt_chan_init(&sh->empty, sizeof(int), 4));
    CHECK_OK(rt_chan_init(&sh->full, sizeof(int), 1));
    CHECK_OK(rt_chan_init(&sh->ready, sizeof(int), 1));
    f->msg = 7;
    RT_AWAIT_SEND(f, f->rc, &sh->full, &f->msg);
    f->msg = 8;
    RT_AWAIT_SEND(f, f->rc, &sh->ready, &f->msg);
    rt_mutex_init(&sh->m);
    rt_sem_init(&sh->sem, 0);
    rt_cond_init(&sh->cond);
    rt_wg_init(&sh->wg);
    rt_wg_add(&sh->wg, 1);
    rt_notify_init(&sh->note);
    rt_notify_init(&sh->other);
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sh->sv));
    CHECK_OK(rt_register(sh->sv[0]));
    CHECK_OK(rt_register(sh->sv[1]));
    CHECK_OK(pipe(sh->pipe));
    if (f->kind == K_LOCK)
        CHECK(rt_mutex_try_lock(&sh->m));
    {
        struct sleeper s = {.n = &sh->other, .done = &sh->sleeper_done};
        CHECK_OK(rt_spawn(sleeper, &s, sizeof s, &sh->sleeper));
    }
    {
        struct victim v = {.sh = sh, .kind = f->kind};
        CHECK_OK(rt_spawn(victim, &v, sizeof v, &f->vj));
    }
    /* Until the victim is at its wait, then once more: with one worker it
     * is parked by then; with two it may not be yet, and then its wait
     * starts after the cancel, which it refuses the same way. */
    while (!atomic_load(&sh->at_wait))
        RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    CHECK_EQ(rt_cancel(&f->vj), 0);
    CHECK_EQ(rt_cancel(&f->vj), 0); /* twice: the same */
    /* Nothing the victim waits for happens until it has ended, so only
     * the cancel can end its wait. */
    RT_AWAIT_JOIN(f, f->rc, &f->vj);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->vj.ret, 100);
    CHECK_EQ(rt_cancel(&f->vj), -ESRCH); /* joined */

    /* The objects are as if the victim had never waited. */
    CHECK_EQ(rt_chan_len(&sh->ready), 1); /* the refused receive took none */
    CHECK_EQ(rt_chan_len(&sh->full), 1);  /* the refused send sent none */
    RT_AWAIT_RECV(f, f->rc, &sh->full, &f->in);
    CHECK_EQ(f->in, 7);
    CHECK_EQ(rt_chan_len(&sh->full), 0);
    if (f->kind == K_LOCK)
        rt_mutex_unlock(&sh->m);
    CHECK(rt_mutex_try_lock(&sh->m)); /* free: released in its cleanup */
    rt_mutex_unlock(&sh->m);
    CHECK(!rt_sem_try_acquire(&sh->sem)); /* no permit made or taken */
    rt_sem_release(&sh->sem);
    CHECK(rt_sem_try_acquire(&sh->sem));   /* and no waiter took this one */
    CHECK(!rt_cond_notify_one(&sh->cond)); /* no waiter left */
    CHECK_EQ(rt_wg_done(&sh->wg), 0);
    /* No waiter on the notify: the notify leaves a permit for us. */
    rt_notify_one(&sh->note);
    RT_AWAIT_NOTIFIED(f, f->rc, &sh->note);
    CHECK_EQ(f->rc, 0);
    /* The refused read read nothing: the byte is ours. */
    if (f->kind != K_WRITE) {
        CHECK_EQ(write(sh->sv[1], "y", 1), 1);
        RT_AWAIT_READ(f, f->n, sh->sv[0], &f->c, 1);
        CHECK_EQ(f->n, 1);
        CHECK_EQ(f->c, 'y');
    }
    /* The victim's cancelled join gave the handle up: the sleeper runs on
     * detached, and the handle is empty. */
    if (f->kind == K_JOIN)
        CHECK_EQ(rt_cancel(&sh->sleeper), -ESRCH);
    /* What the blocking job and the joined task wait for. */
    CHECK_EQ(write(sh->pipe[1], "x", 1), 1);
    rt_notify_one(&sh->other);
    RT_AWAIT_JOIN(f, f->rc, &sh->sleeper);
    if (f->kind == K_JOIN) {
        CHECK_EQ(f->rc, -ESRCH);
        while (!atomic_load(&sh->sleeper_done)) /* it still runs to its end */
            RT_AWAIT_YIELD(f);
    } else {
        CHECK_EQ(f->rc, 0);
        CHECK_EQ(sh->sleeper.ret, 5);
    }
    /* The pipe goes once the job is done, or sure never to start. */
    f->i = 0;
    if (!atomic_compare_exchange_strong(&sh->job, &f->i, 3))
        while (atomic_load(&sh->job) != 2)
            RT_AWAIT_YIELD(f);
    CHECK_OK(rt_close(sh->sv[0]));
    CHECK_OK(rt_close(sh->sv[1]));
    close(sh->pipe[0]);
    close(sh->pipe[1]);
    rt_chan_fini(&sh->empty); /* asserts that no waiter is left */
    rt_chan_fini(&sh->full);
    rt_chan_fini(&sh->ready);
    RT_RETURN(f, 1);
    RT_END(f);
}

/* ---- before the first run, after the end, twice ------------------------- */

struct quick {
    RT_FRAME;
    int rc;
};

/* Returns 3, or 4 when its sleep was refused. */
static enum rt_poll quick(void *self)
{
    struct quick *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 3600ull * 1000000000ull);
    RT_RETURN(f, rt_cancelled() ? 4 : 3);
    RT_END(f);
}

/* Returns 6 at once. */
static enum rt_poll done(void *self)
{
    struct quick *f = self;
    RT_BEGIN(f);
    RT_RETURN(f, 6);
    RT_END(f);
}

/* On stackless with several workers a task queued when it is cancelled
 * sees the cancel from its first suspension on (rt.h): an await that
 * completes without suspending may complete before. */
static int queued_cancel_deferred(void)
{
    const char *w = getenv("RT_WORKERS");
    return strcmp(rt_backend_name(), "stackless") == 0 && w && atoi(w) != 1;
}

/* Joins *j, and returns what the join returned. */
struct joiner {
    RT_FRAME;
    struct rt_join *j;
    int rc;
};

static enum rt_poll joiner(void *self)
{
    struct joiner *f = self;
    RT_BEGIN(f);
    RT_AWAIT_JOIN(f, f->rc, f->j);
    RT_RETURN(f, f->rc);
    RT_END(f);
}

struct edges {
    RT_FRAME;
    struct rt_join j, k, d, jj;
    int rc;
};

static enum rt_poll edges(void *self)
{
    struct edges *f = self;
    RT_BEGIN(f);
    /* Before it ever ran: its first await is refused. */
    {
        struct quick q = {0};
        CHECK_OK(rt_spawn(quick, &q, sizeof q, &f->j));
    }
    CHECK_EQ(rt_cancel(&f->j), 0);
    CHECK_EQ(rt_cancel(&f->j), 0); /* twice: the same */
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->j.ret, 4);
    /* After its end: nothing changes, its result stands. */
    {
        struct quick q = {0};
        CHECK_OK(rt_spawn(done, &q, sizeof q, &f->k));
    }
    RT_AWAIT_YIELD(f);
    RT_AWAIT_YIELD(f);
    CHECK_EQ(rt_cancel(&f->k), 0);
    RT_AWAIT_JOIN(f, f->rc, &f->k);
    CHECK_EQ(f->rc, 0);
    CHECK_EQ(f->k.ret, 6);
    /* A join by a task cancelled before it ran, of a task that has ended
     * by then (with one worker; with two it may still run): refused, and
     * the handle given up, the ended task freed with its result. */
    {
        struct quick q = {0};
        CHECK_OK(rt_spawn(done, &q, sizeof q, &f->d));
        struct joiner jn = {.j = &f->d};
        CHECK_OK(rt_spawn(joiner, &jn, sizeof jn, &f->jj));
    }
    CHECK_EQ(rt_cancel(&f->jj), 0);
    RT_AWAIT_JOIN(f, f->rc, &f->jj);
    CHECK_EQ(f->rc, 0);
    if (f->jj.ret != -ECANCELED) /* it joined before the cancel took */
        CHECK(f->jj.ret == 0 && queued_cancel_deferred());
    CHECK_EQ(rt_cancel(&f->d), -ESRCH);
    RT_AWAIT_JOIN(f, f->rc, &f->d);
    CHECK_EQ(f->rc, -ESRCH);
    /* Errors. */
    CHECK_EQ(rt_cancel(NULL), -ESRCH);
    CHECK_EQ(rt_cancel(&f->k), -ESRCH);
    {
        struct quick q = {0};
        CHECK_OK(rt_spawn(done, &q, sizeof q, NULL));
    }
    CHECK(!rt_cancelled());
    RT_RETURN(f, 1);
    RT_END(f);
}

int main(void)
{
    struct rt_join j = {0};
    CHECK_EQ(rt_cancel(&j), -EPERM); /* outside rt_run */
    CHECK(!rt_cancelled());
    for (unsigned k = 0; k < K_KINDS; k++) {
        struct one *o = calloc(1, sizeof *o);
        CHECK(o != NULL);
        o->kind = k;
        intptr_t v = 0;
        int rc = rt_run(one, o, sizeof *o, &v);
        if (rc != 0 || v != 1)
            fprintf(stderr, "kind %u: rc %d, result %ld\n", k, rc, (long)v);
        CHECK_OK(rc);
        CHECK_EQ(v, 1);
        free(o);
    }
    struct edges e = {0};
    intptr_t v = 0;
    CHECK_OK(rt_run(edges, &e, sizeof e, &v));
    CHECK_EQ(v, 1);
    return 0;
}

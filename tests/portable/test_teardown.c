/* A run that ends in -EDEADLK leaves no waiter behind: every task parked on
 * a channel (send and receive), mutex, semaphore, condition, wait group or
 * notification that outlives the run has its wait cancelled at teardown, so
 * the object's queues are empty afterwards and using it (close, unlock,
 * release, notify, done) touches no freed task memory. Each kind of wait is
 * tried from a spawned task's own frame, from a child frame reached through
 * RT_AWAIT_CALL, from a frame too big to be copied onto a stack, and by
 * the root task itself. */
#include <errno.h>

#include "check.h"
#include <greenfut/rt.h>

enum kind { SEND, RECV, LOCK, SEM, COND, WG, NOTIFY, KINDS };

static const char *const names[KINDS] = {"send", "recv", "lock",  "sem",
                                         "cond", "wg",   "notify"};

static struct rt_chan chan; /* unbuffered: a send waits for a receiver */
static struct rt_mutex mu;
static struct rt_sem sem;
static struct rt_cond cond;
static struct rt_wg wg;
static struct rt_notify note;
static int parked; /* waits started; none ever ends */

struct waiter {
    RT_FRAME;
    int kind;
    int msg;
    int res;
};

static enum rt_poll waiter(void *self)
{
    struct waiter *f = self;
    RT_BEGIN(f);
    parked++;
    if (f->kind == SEND) {
        RT_AWAIT_SEND(f, f->res, &chan, &f->msg);
    } else if (f->kind == RECV) {
        RT_AWAIT_RECV(f, f->res, &chan, &f->msg);
    } else if (f->kind == LOCK) {
        RT_AWAIT_LOCK(f, &mu);
    } else if (f->kind == SEM) {
        RT_AWAIT_SEM(f, &sem);
    } else if (f->kind == COND) {
        RT_AWAIT_LOCK(f, &mu);
        RT_AWAIT_COND(f, &cond, &mu);
    } else if (f->kind == WG) {
        RT_AWAIT_WG(f, &wg);
    } else {
        RT_AWAIT_NOTIFIED(f, f->res, &note);
    }
    parked--; /* never reached: nothing can wake it */
    RT_END(f);
}

/* Waits through a child frame, so the wait sits one call deep. */
struct nested {
    RT_FRAME;
    struct waiter child;
};

static enum rt_poll nested(void *self)
{
    struct nested *f = self;
    RT_BEGIN(f);
    f->child = (struct waiter){.kind = f->child.kind};
    RT_AWAIT_CALL(f, waiter, &f->child);
    RT_END(f);
}

/* Bigger than any backend copies onto a task's stack. */
struct big {
    struct waiter w;
    char pad[48 * 1024];
};

enum how { OWN, CHILD, HEAP, ROOT, HOWS };

struct root {
    RT_FRAME;
    int kind;
    int how;
    struct waiter child; /* ROOT: the root task waits itself */
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (f->kind == LOCK)
        CHECK(rt_mutex_try_lock(&mu)); /* held for good: the locker waits */
    if (f->kind == WG)
        rt_wg_add(&wg, 1);
    if (f->how == OWN) {
        struct waiter w = {.kind = f->kind};
        CHECK_OK(rt_spawn(waiter, &w, sizeof(w), NULL));
    } else if (f->how == CHILD) {
        struct nested n = {.child.kind = f->kind};
        CHECK_OK(rt_spawn(nested, &n, sizeof(n), NULL));
    } else if (f->how == ROOT) {
        f->child = (struct waiter){.kind = f->kind};
        RT_AWAIT_CALL(f, waiter, &f->child);
    } else {
        static struct big b;
        b.w = (struct waiter){.kind = f->kind};
        CHECK_OK(rt_spawn(waiter, &b, sizeof(b), NULL));
    }
    RT_END(f);
}

static void setup(void)
{
    CHECK_OK(rt_chan_init(&chan, sizeof(int), 0));
    rt_mutex_init(&mu);
    rt_sem_init(&sem, 0);
    rt_cond_init(&cond);
    rt_wg_init(&wg);
    rt_notify_init(&note);
    parked = 0;
}

static bool queues_empty(void)
{
    return rt_list_empty(&chan.senders) && rt_list_empty(&chan.receivers) &&
           rt_list_empty(&mu.sem.waiters) && rt_list_empty(&sem.waiters) &&
           rt_list_empty(&cond.waiters) && rt_list_empty(&wg.waiters) &&
           note.waiter == NULL;
}

/* What a program does with its globals after the failed run: each of these
 * would wake (and so write into) a waiter still queued. */
static void use_objects(int kind)
{
    CHECK(!rt_cond_notify_one(&cond));
    rt_notify_one(&note);
    rt_sem_release(&sem);
    if (kind == LOCK)
        rt_mutex_unlock(&mu);
    if (kind == WG)
        CHECK_OK(rt_wg_done(&wg));
    rt_chan_close(&chan);
    rt_chan_fini(&chan);
}

int main(void)
{
    for (int how = 0; how < HOWS; how++) {
        for (int kind = 0; kind < KINDS; kind++) {
            setup();
            struct root r = {.kind = kind, .how = how};
            int rc = rt_run(root, &r, sizeof(r), NULL);
            fprintf(stderr, "%s wait, frame %d: rt_run = %d\n", names[kind],
                    how, rc);
            CHECK_EQ(rc, -EDEADLK);
            CHECK_EQ(parked, 1);
            CHECK(queues_empty());
            use_objects(kind);
        }
    }
    return 0;
}

/* Join handles: the future that waits for a task's end and takes its
 * output.
 *
 * A handle that refers to a task holds one of its references until it is
 * joined or dropped (or, for a portable handle nobody awaited, until the
 * executor's teardown). It has one awaiter at a time; its poll and drop run
 * on the executor's thread. Blocking on a handle (fut_join) is the
 * executor's (executor.c), which this module does not depend on.
 */
#include "join_internal.h"

#include <errno.h>
#include <string.h>

#include "task_internal.h"
#include "wait_note.h"

/* What join_poll_mt found. */
enum join_seen { JOIN_COMPLETE, JOIN_WAITING, JOIN_REFUSED };

/* join_poll's test with workers: the handshake under the task's join
 * lock, so that the task's end (which sets COMPLETE and takes the waker
 * under it) cannot fall between the test and the store. */
__attribute__((noinline)) static enum join_seen
join_poll_mt(struct fut__task *t, struct rt_cx *cx)
{
    enum join_seen seen = JOIN_COMPLETE;
    fut__join_lock_mt(t);
    if (!(fut__flags(t) & FUT__COMPLETE)) {
        seen = JOIN_WAITING;
        if (rt_waker_is_set(&t->join) &&
            !rt_waker_will_wake(&t->join, cx->waker))
            seen = JOIN_REFUSED; /* as below */
        else
            rt_waker_store(&t->join, cx->waker);
    }
    fut__join_unlock_mt(t);
    return seen;
}

/* With workers, two portable tasks may join one handle at once (a misuse
 * the second is told of with -ESRCH): the portable join reads and writes
 * the handle's own fields (vt, task, err), by its poll, its error and its
 * drop, under a lock striped by the handle's address, taken before the
 * task's join lock. A native handle has one awaiter (fut_join's
 * contract) and takes no lock. */
static struct rt_spin handle_stripes[FUT__STRIPES];

void fut__join_hold_mt(struct fut_join *j)
{
    rt_spin_lock_always(fut__stripe(handle_stripes, j));
}

void fut__join_release_mt(struct fut_join *j)
{
    rt_spin_unlock(fut__stripe(handle_stripes, j), true);
}

static enum rt_poll join_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct fut_join *j = (struct fut_join *)self;
    struct fut__task *t = j->task;
    if (!t) {
        if (j->err == 0)
            j->err = -ESRCH;
        return RT_READY;
    }
    RT_ASSERT(t->tasks == fut__current); /* join on the task's own thread */
    if (t->tasks->ws) {
        enum join_seen seen = join_poll_mt(t, cx);
        if (seen == JOIN_REFUSED) {
            j->err = -EBUSY;
            return RT_READY;
        }
        if (seen == JOIN_WAITING) {
            fut__note_wait("join");
            return RT_PENDING;
        }
    } else if (!(t->flags & FUT__COMPLETE)) {
        /* One awaiter per handle: a second one would take the first's
         * slot, and the first would never be woken. It is refused and the
         * handle stays the first's (not detached, not dropped). */
        if (rt_waker_is_set(&t->join) &&
            !rt_waker_will_wake(&t->join, cx->waker)) {
            j->err = -EBUSY;
            return RT_READY;
        }
        rt_waker_store(&t->join, cx->waker);
        fut__note_wait("join");
        return RT_PENDING;
    }
    j->err = 0; /* a refused second awaiter may have left -EBUSY */
    /* Set before COMPLETE, seen above. An atomic load: with workers a late
     * wake may still be trying its CAS on the flags (it fails on
     * COMPLETE, but TSan counts a CAS as a write). */
    if (fut__flags(t) & FUT__CANCELLED)
        j->err = -ECANCELED;
    else if (out && t->out_size)
        memcpy(out, fut__task_out(t), t->out_size);
    j->task = NULL;
    fut__flags_clear(t, FUT__JOIN);
    rt_waker_drop(&t->join);
    fut__task_unref(t);
    return RT_READY;
}

/* Detach: the task runs on, its output is thrown away. */
static void join_drop(struct fut_future *self)
{
    struct fut_join *j = (struct fut_join *)self;
    struct fut__task *t = j->task;
    if (!t)
        return;
    j->task = NULL;
    bool k = fut__join_lock(t);
    fut__flags_clear(t, FUT__JOIN);
    struct rt_waker w = t->join;
    t->join = RT_WAKER_NONE;
    fut__join_unlock(t, k);
    rt_waker_drop(&w);
    fut__task_unref(t);
}

const struct fut_vtable fut__join_vt = {join_poll, join_drop, "join"};

int fut_task_abort(struct fut_join *join)
{
    if (!join || join->base.vt != &fut__join_vt)
        return -EINVAL;
    struct fut__task *t = join->task;
    if (!t)
        return -ESRCH;
    if (!fut__current || t->tasks != fut__current)
        return -EPERM;
    return fut__task_abort(t);
}

void fut_join_init(struct fut_join *join)
{
    join->base.vt = &fut__join_vt;
    join->task = NULL;
    join->err = -ESRCH;
}

/* An unawaited handle's end: what join_drop does, minus the handle. */
static void release_handle(struct fut__tasks *ts, struct fut__task *t)
{
    (void)ts;
    t->flags &= (uint8_t) ~(FUT__JOIN | FUT__JOIN_AT_FREE);
    rt_waker_drop(&t->join);
    fut__task_unref(t);
}

void fut__release_handles(struct fut__tasks *ts)
{
    unsigned m = FUT__SPAWNED | FUT__JOIN | FUT__JOIN_AT_FREE;
    fut__for_each_task(ts, m, m, release_handle);
}

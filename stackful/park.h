/* The park: gt_park's body, inlined into gt_park (sched.c) and into the
 * portable macros' rt_stackful_park (portable.c), so that a portable await
 * that suspends costs one call, as a native park does.
 *
 * With one worker a park is plain stores and the switch; with several it
 * is the state protocol of gt_internal.h, out of line in sched.c.
 * Depends on switch.h and runq.h.
 */
#ifndef RT_STACKFUL_PARK_H
#define RT_STACKFUL_PARK_H

#include <greenfut/coop.h>
#include <greenfut/gt.h>
#include "gt_internal.h"
#include "runq.h"
#include "switch.h"

/* gt__park with several workers (sched.c). */
void gt__park_mt(struct gt__worker *wk, struct gt__thread *self,
                 const char *what, const void *frame);

/* Parks the calling green thread until a wake, noting `what` and the
 * portable frame it waits in (`frame`, NULL for a native park) for the
 * deadlock report and the dump. Returns at once when a wake came first,
 * after a yield when that wake was the cooperative budget's; does nothing
 * outside a green thread. */
static inline void gt__park(const char *what, const void *frame)
{
    struct gt__worker *wk = gt__here();
    if (!wk || wk->current == &wk->main)
        return;
    struct gt__thread *self = wk->current;
    if (wk->rw) {
        gt__park_mt(wk, self, what, frame);
        return;
    }
    if (self->notified) {
        self->notified = false;
        /* The wake was the cooperative budget's (include/greenfut/coop.h):
         * give the worker away once instead of going on. */
        if (rt__coop_take_refusal())
            gt_yield();
        return;
    }
    self->state = GT__PARKED;
    self->waiting = what;
    self->waiting_frame = frame;
    wk->s->parked++;
    switch_to(wk, self, pick(wk));
    /* waiting and waiting_frame are read only while PARKED: left as they
     * are. */
    self->notified = false; /* the wake that resumed us may also have set it */
}

#endif

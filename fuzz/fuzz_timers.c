/* Fuzz target: the timer heap (common/timer.c) against a reference model.
 *
 * The input is a program of operations on 16 timers with a fake clock:
 * arm, re-arm, cancel, advance-and-expire (with wakers that may re-arm or
 * cancel timers while the heap is expiring), and next-deadline queries. The
 * model is a plain array searched linearly for the least (deadline, seq),
 * which is what the 4-ary heap must always agree with: the same timers
 * fire, in the same order, the same count is returned, and every waker
 * reference taken is released by the end (fired, cancelled or dropped).
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include <greenfut/timer.h>

#define NT 16

struct model_timer {
    bool armed;
    uint64_t deadline;
    uint64_t seq;
};

static struct {
    struct rt_timers heap;
    struct rt_timer t[NT];
    int refs[NT]; /* waker references held by the heap, per timer */
    /* What a firing timer's waker does: 0 nothing, 1 re-arm timer `other`
     * at `delta` past now, 2 cancel timer `other`. */
    uint8_t action[NT];
    uint8_t other[NT];
    uint16_t delta[NT];
    uint64_t now;
    int fired[4 * NT]; /* ids in firing order, for one expire */
    int nfired;
    struct model_timer m[NT];
    uint64_t mseq;
} s;

static void model_arm(int i, uint64_t deadline)
{
    s.m[i] = (struct model_timer){true, deadline, s.mseq++};
}

static void real_arm(int i, uint64_t deadline);

static struct rt_waker tw_clone(void *data);
static void tw_wake(void *data);
static void tw_wake_by_ref(void *data);
static void tw_drop(void *data);

static const struct rt_waker_vtable tw_vt = {tw_clone, tw_wake, tw_wake_by_ref,
                                             tw_drop};

static int id_of(void *data)
{
    return (int)((struct rt_timer *)data - s.t);
}

static struct rt_waker tw_clone(void *data)
{
    s.refs[id_of(data)]++;
    return (struct rt_waker){&tw_vt, data};
}

/* A timer fired: record it and run its action, as a task woken by it
 * would (re-arm or cancel while the heap is expiring). */
static void tw_wake(void *data)
{
    int i = id_of(data);
    s.refs[i]--;
    FUZZ_CHECK(!rt_timer_armed(&s.t[i])); /* idle before its waker runs */
    FUZZ_CHECK(s.nfired < 4 * NT);
    s.fired[s.nfired++] = i;
    int j = s.other[i];
    if (s.action[i] == 1)
        real_arm(j, s.now + s.delta[i]);
    else if (s.action[i] == 2)
        rt_timers_cancel(&s.heap, &s.t[j]);
}

static void tw_wake_by_ref(void *data)
{
    (void)data;
    FUZZ_CHECK(!"the heap never wakes by reference");
}

static void tw_drop(void *data)
{
    s.refs[id_of(data)]--;
}

static void real_arm(int i, uint64_t deadline)
{
    struct rt_waker w = {&tw_vt, &s.t[i]};
    FUZZ_CHECK(rt_timers_arm(&s.heap, &s.t[i], deadline, &w) == 0);
}

/* The model's expire: the least (deadline, seq) armed timer fires while it
 * is due and was armed before the call, exactly the heap's contract. */
static int model_expire(uint64_t now, int *order)
{
    uint64_t limit = s.mseq;
    int n = 0;
    for (;;) {
        int best = -1;
        for (int i = 0; i < NT; i++) {
            if (!s.m[i].armed)
                continue;
            if (best < 0 || s.m[i].deadline < s.m[best].deadline ||
                (s.m[i].deadline == s.m[best].deadline &&
                 s.m[i].seq < s.m[best].seq))
                best = i;
        }
        if (best < 0 || s.m[best].deadline > now || s.m[best].seq >= limit)
            return n;
        s.m[best].armed = false;
        order[n++] = best;
        int j = s.other[best];
        if (s.action[best] == 1)
            model_arm(j, now + s.delta[best]);
        else if (s.action[best] == 2)
            s.m[j].armed = false;
    }
}

static uint64_t model_next(void)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < NT; i++)
        if (s.m[i].armed && s.m[i].deadline < next)
            next = s.m[i].deadline;
    return next;
}

static void check_agree(void)
{
    FUZZ_CHECK(rt_timers_next(&s.heap) == model_next());
    size_t armed = 0;
    for (int i = 0; i < NT; i++) {
        FUZZ_CHECK(rt_timer_armed(&s.t[i]) == s.m[i].armed);
        FUZZ_CHECK(s.refs[i] == (s.m[i].armed ? 1 : 0));
        armed += s.m[i].armed;
    }
    FUZZ_CHECK(rt_timers_len(&s.heap) == armed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&s, 0, sizeof s);
    rt_timers_init(&s.heap);
    for (int i = 0; i < NT; i++)
        rt_timer_init(&s.t[i]);
    s.now = 1000;
    struct fuzz_in in = {data, size};
    while (in.len) {
        uint8_t op = fuzz_u8(&in);
        int i = op >> 4; /* the timer the operation is about */
        switch (op & 7) {
        case 0:
        case 1: { /* arm or re-arm at now + delta (may be in the past) */
            uint64_t d = s.now + fuzz_u16(&in) - 64;
            real_arm(i, d);
            model_arm(i, d);
            break;
        }
        case 2: /* cancel, armed or not */
            rt_timers_cancel(&s.heap, &s.t[i]);
            s.m[i].armed = false;
            break;
        case 3: /* set what timer i's waker does when it fires */
            s.action[i] = (uint8_t)(fuzz_u8(&in) % 3);
            s.other[i] = (uint8_t)(fuzz_u8(&in) % NT);
            s.delta[i] = (uint16_t)(fuzz_u8(&in) % 8);
            break;
        case 4:
        case 5: { /* advance the clock, then expire */
            s.now += fuzz_u8(&in);
            int order[4 * NT];
            s.nfired = 0;
            size_t n = rt_timers_expire(&s.heap, s.now);
            int mn = model_expire(s.now, order);
            FUZZ_CHECK(n == (size_t)s.nfired);
            FUZZ_CHECK(mn == s.nfired);
            for (int k = 0; k < mn; k++)
                FUZZ_CHECK(order[k] == s.fired[k]);
            break;
        }
        case 6: /* cancel every armed timer of an id range */
            for (int k = i; k < NT; k += 3) {
                rt_timers_cancel(&s.heap, &s.t[k]);
                s.m[k].armed = false;
            }
            break;
        default: /* a pure query */
            break;
        }
        check_agree();
    }
    rt_timers_fini(&s.heap);
    for (int i = 0; i < NT; i++) {
        FUZZ_CHECK(!rt_timer_armed(&s.t[i]));
        FUZZ_CHECK(s.refs[i] == 0);
    }
    return 0;
}

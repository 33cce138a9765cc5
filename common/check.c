#include <greenfut/check.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <greenfut/rt_poll.h>

void rt_panic(const char *file, int line, const char *msg)
{
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
}

/* The portable layer's cancellation check and the refusal that asks it
 * (include/greenfut/rt_poll.h):
 * here, beside the other refusals, because every poll function's file
 * may call it and this one is linked wherever they are. */
_Atomic(rt_cancel_fn) rt__cancel_check;

int rt__cx_refusal(void)
{
    rt_cancel_fn check =
        atomic_load_explicit(&rt__cancel_check, memory_order_relaxed);
    int rc = check ? check() : 1;
    return rc <= 0 ? rc : -EINVAL;
}

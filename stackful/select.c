/* gt_select: the common select (include/greenfut/rt_select.h) driven by a
 * green thread, which parks while no case can complete. */
#include <greenfut/gt.h>

#include <errno.h>

int gt_select(struct rt_sel_case *cases, size_t n, unsigned flags)
{
    struct rt_reactor *r = gt_reactor();
    if (!r)
        return -EPERM;
    struct rt_select s;
    int rc = rt_select_init(&s, cases, n, flags);
    if (rc < 0)
        return rc;
    struct rt_cx cx = gt_cx();
    int res;
    while (rt_select_poll(&s, r, &cx, &res) == RT_PENDING)
        gt_park("select");
    return res;
}

/* Must not compile: RT_END with no RT_BEGIN. */
#include <greenfut/rt.h>

struct t {
    RT_FRAME;
};

enum rt_poll bad(void *self);
enum rt_poll bad(void *self)
{
    struct t *f = self;
    (void)f;
    RT_END(f);
}

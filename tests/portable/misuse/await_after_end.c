/* Must not compile: an await after RT_END. */
#include <greenfut/rt.h>

struct t {
    RT_FRAME;
};

enum rt_poll bad(void *self);
enum rt_poll bad(void *self)
{
    struct t *f = self;
    RT_BEGIN(f);
    RT_END(f);
    RT_AWAIT_YIELD(f);
}

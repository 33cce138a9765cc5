/* Must not compile: an await outside RT_BEGIN/RT_END. */
#include <greenfut/rt.h>

struct t {
    RT_FRAME;
};

enum rt_poll bad(void *self);
enum rt_poll bad(void *self)
{
    struct t *f = self;
    RT_AWAIT_SLEEP(f, 1000);
    RT_BEGIN(f);
    RT_END(f);
}

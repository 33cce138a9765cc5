/* The control: a correct task compiled exactly like the misuse snippets.
 * It must compile, so that each snippet fails for its one mistake and not
 * because of the command line or the header. */
#include <greenfut/rt.h>

struct t {
    RT_FRAME;
};

enum rt_poll good(void *self);
enum rt_poll good(void *self)
{
    struct t *f = self;
    RT_BEGIN(f);
    RT_AWAIT_YIELD(f);
    RT_AWAIT_SLEEP(f, 1000);
    RT_END(f);
}

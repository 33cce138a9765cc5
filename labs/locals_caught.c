/* The form of lab_locals.c's mistake that the compiler catches: a local
 * initialised in its declaration between RT_BEGIN and an await, still in
 * scope after it. On the stackless backend the resume switch jumps past
 * the initialisation, and gcc's -Wjump-misses-init says so; a CTest entry
 * compiles this file with it as an error and passes when the build fails
 * with that warning. Never linked into a program. */
#include <greenfut/rt.h>

struct task {
    RT_FRAME;
    int id;
};

enum rt_poll caught(void *self);

enum rt_poll caught(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    int mine = f->id; /* WRONG, and -Wjump-misses-init sees it */
    RT_AWAIT_YIELD(f);
    RT_RETURN(f, mine);
    RT_END(f);
}

/* A spawn template bigger than the spawner's own stack (rt.h rule 7: the
 * caller's frame is a template, copied at spawn) is reported as a stack
 * overflow naming the spawner, never a bare SIGSEGV: 100 KiB, 200 KiB and
 * 1 MiB locals on the root task's 64 KiB green-thread stack, each in a
 * child process that must die by SIGABRT after the report. The larger two
 * reach past the 64 KiB guard: -fstack-clash-protection probes them page by
 * page into it, and the overflow handler also knows a fault whose stack
 * pointer lies below the running stack. The same templates, static, spawn
 * and run. (On the stackless backend a task's locals are on the OS
 * thread's stack, so the same code simply works there.) */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "child.h"
#include <greenfut/rt.h>

enum rt_poll big_task(void *self);
enum rt_poll big_root(void *self);

#define BIG(kib)                        \
    struct big##kib {                   \
        RT_FRAME;                       \
        unsigned char pad[(kib)*1024u]; \
    }
BIG(100);
BIG(200);
BIG(1024);

enum rt_poll big_task(void *self)
{
    struct big100 *f = self; /* the header and the first bytes match */
    RT_BEGIN(f);
    RT_RETURN(f, f->pad[0] + f->pad[99 * 1024]);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int kib;
    int local; /* the template is a local: too big for this stack */
    struct rt_join j;
    int rc;
};

/* noinline: each template lives in its own frame, allocated on entry. */
#define SPAWN_LOCAL(kib)                                                     \
    __attribute__((noinline)) static int spawn_local##kib(struct rt_join *j) \
    {                                                                        \
        struct big##kib b;                                                   \
        memset(&b, 0, sizeof(b));                                            \
        b.pad[0] = 1;                                                        \
        b.pad[99 * 1024] = 2;                                                \
        return rt_spawn(big_task, &b, sizeof(b), j);                         \
    }
SPAWN_LOCAL(100)
SPAWN_LOCAL(200)
SPAWN_LOCAL(1024)

/* The 1 MiB case again as a user's code built without the probes: the
 * stack pointer jumps the guard in one step, and the handler knows the
 * fault by the stack pointer. */
#if defined(__GNUC__) && !defined(__clang__)
#define UNPROBED \
    __attribute__((noinline, optimize("no-stack-clash-protection")))
#else
#define UNPROBED __attribute__((noinline)) /* clang: probed like the rest */
#endif
UNPROBED static int spawn_unprobed(struct rt_join *j)
{
    struct big1024 b;
    memset(&b, 0, sizeof(b));
    return rt_spawn(big_task, &b, sizeof(b), j);
}

static struct big1024 templ; /* static: any size is fine */

enum rt_poll big_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (!f->local) {
        memset(&templ, 0, sizeof(templ));
        templ.pad[0] = 1;
        templ.pad[99 * 1024] = 2;
        CHECK_OK(rt_spawn(big_task, &templ, (size_t)f->kib * 1024u, &f->j));
    } else if (f->kib == 100) {
        CHECK_OK(spawn_local100(&f->j));
    } else if (f->kib == 200) {
        CHECK_OK(spawn_local200(&f->j));
    } else if (f->kib == 0) {
        CHECK_OK(spawn_unprobed(&f->j));
    } else {
        CHECK_OK(spawn_local1024(&f->j));
    }
    RT_AWAIT_JOIN(f, f->rc, &f->j);
    CHECK_OK(f->rc);
    RT_RETURN(f, f->j.ret);
    RT_END(f);
}

static int child_kib;

static int local_child(void)
{
    struct root r = {.kib = child_kib, .local = 1};
    (void)rt_run(big_root, &r, sizeof(r), NULL);
    return 4; /* not reached: the overflow aborts */
}

int main(void)
{
    static const int sizes[] = {100, 200, 1024, 0}; /* 0: unprobed 1 MiB */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        if (sizes[i]) {
            struct root r = {.kib = sizes[i], .local = 0};
            intptr_t ret = 0;
            CHECK_OK(rt_run(big_root, &r, sizeof(r), &ret));
            CHECK_EQ(ret, 3);
        }

        char err[4096];
        child_kib = sizes[i];
        int st = run_child(local_child, err, sizeof(err));
        fprintf(stderr, "%d KiB local template%s: status %#x, said: %s",
                sizes[i] ? sizes[i] : 1024, sizes[i] ? "" : " (unprobed)", st,
                err);
#if defined(__SANITIZE_ADDRESS__)
        /* Unprobed, the frame's memset starts 1 MiB below the stack's top,
         * where ASan's allocator may have a heap region mapped: its
         * interceptor then reports the write before it faults. Either
         * report is loud; neither is silent corruption. */
        if (!sizes[i] && strstr(err, "ERROR: AddressSanitizer") != NULL)
            continue;
#endif
        CHECK(WIFSIGNALED(st));
        CHECK_EQ(WTERMSIG(st), SIGABRT);
        CHECK(strstr(err, "stack overflow in green thread 1 \"main\" "
                          "(big_root)") != NULL);
    }
    return 0;
}

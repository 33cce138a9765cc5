/* depth: a task suspended D frames deep (each level awaits the next as a
 * child task, RT_AWAIT_CALL) is resumed again and again.
 *   ns_per_resume: two such tasks yield M times each at the bottom; time /
 *     (2M). On stackless every resume re-enters the D frames from the top
 *     (and every suspend returns through them); on stackful it is one stack
 *     switch whatever D is.
 *   bytes_per_task: 10,000 tasks parked at depth D on a channel, RSS delta
 *     / N, in a fresh child process.
 * The D-1 frames below a task's own frame are one array allocated by its
 * spawner (C cannot nest a frame type inside itself); they never move.
 * Params: D. Checks each task's yield count and that every parked task is
 * woken by close. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include <greenfut/rt.h>

#define YIELDS 1000000L
#define PARKED 10000L

/* The backend column: "stackful-copy" for the copy-stack rows (the
 * stackful build run with RT_STACK_MODE=copy: every task on its worker's
 * shared run stack, docs/stackful.md), else the backend's name. */
static const char *backend_label(void)
{
#if defined(RT_BACKEND_STACKFUL) && RT_BACKEND_STACKFUL
    const char *mode = getenv("RT_STACK_MODE");
    if (mode && strcmp(mode, "copy") == 0)
        return "stackful-copy";
#endif
    return rt_backend_name();
}

struct level {
    RT_FRAME;
    struct level *below; /* the next level's frame, NULL at the bottom */
    long d;              /* levels from here down, this one included */
    long i;
    struct rt_chan *ch; /* park mode: wait here; yield mode: NULL */
    int msg, rc;
};

static enum rt_poll level(void *self)
{
    struct level *f = self;
    RT_BEGIN(f);
    if (f->below) {
        *f->below = (struct level){
            .below = f->d > 2 ? f->below + 1 : NULL,
            .d = f->d - 1,
            .ch = f->ch,
        };
        RT_AWAIT_CALL(f, level, f->below);
        RT_RETURN(f, f->below->rt.ret);
    }
    if (f->ch) {
        RT_AWAIT_RECV(f, f->rc, f->ch, &f->msg);
        RT_RETURN(f, f->rc == 0);
    }
    for (f->i = 0; f->i < YIELDS; f->i++)
        RT_AWAIT_YIELD(f);
    RT_RETURN(f, f->i);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long d, n, i;
    struct level **below;
    struct rt_join *j;
    struct rt_chan ch;
    int park, rc;
    uint64_t t0;
    size_t rss0;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    if (rt_chan_init(&f->ch, sizeof(int), 0) < 0)
        bh_fail("depth: channel");
    f->rss0 = bh_rss_bytes();
    for (f->i = 0; f->i < f->n; f->i++) {
        f->below[f->i] =
            f->d > 1 ? malloc((size_t)(f->d - 1) * sizeof(struct level)) : NULL;
        if (f->d > 1 && !f->below[f->i])
            bh_fail("depth: out of memory");
        struct level top = {
            .below = f->below[f->i], .d = f->d, .ch = f->park ? &f->ch : NULL};
        if (rt_spawn(level, &top, sizeof top, &f->j[f->i]) < 0)
            bh_fail("depth: spawn");
    }
    f->t0 = bh_now_ns();
    if (f->park) {
        RT_AWAIT_YIELD(f); /* all park */
        f->t0 = bh_rss_bytes() - f->rss0;
        rt_chan_close(&f->ch);
    }
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != (f->park ? 1 : YIELDS))
            bh_fail("depth: a task did not finish as expected");
        free(f->below[f->i]);
    }
    if (!f->park)
        f->t0 = bh_now_ns() - f->t0;
    rt_chan_fini(&f->ch);
    RT_RETURN(f, f->t0);
    RT_END(f);
}

static intptr_t run(long d, long n, int park)
{
    struct level **below = calloc((size_t)n, sizeof(*below));
    struct rt_join *j = calloc((size_t)n, sizeof(*j));
    if (!below || !j)
        bh_fail("depth: out of memory");
    struct root f = {.d = d, .n = n, .below = below, .j = j, .park = park};
    intptr_t v = 0;
    if (rt_run(root, &f, sizeof f, &v) < 0)
        bh_fail("depth: run failed");
    free(below);
    free(j);
    return v;
}

static double park_bytes(long long d)
{
    return (double)run((long)d, PARKED, 1) / (double)PARKED;
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {1, 4, 16, 64, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        long d = (long)a.params[p];
        if (d < 1)
            bh_fail("depth: D must be at least 1");
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++)
            s[r] = (double)run(d, 2, 0) / (2.0 * YIELDS);
        bh_row("depth", backend_label(), d, "ns_per_resume", "ns", s, a.runs);
        for (int r = 0; r < a.runs; r++)
            s[r] = bh_in_child(park_bytes, d);
        bh_row("depth", backend_label(), d, "bytes_per_task", "bytes", s,
               a.runs);
    }
    return 0;
}

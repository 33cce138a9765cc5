/* Spawn + join: a root future spawns BATCH trivial tasks (each writes an
 * int and is done at its first poll) and awaits their join handles; ns per
 * task = the whole round / BATCH, median of RUNS rounds with min and max.
 * Also one at a time: spawn one, await it, repeat. */
#include <stdio.h>
#include <stdlib.h>

#include <greenfut/clock.h>
#include <greenfut/task.h>

#define RUNS   9
#define BATCH  1000
#define ROUNDS 200

static enum rt_poll leaf_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    (void)self;
    (void)cx;
    if (out)
        *(int *)out = 1;
    return RT_READY;
}

static const struct fut_vtable leaf_vt = {leaf_poll, NULL, "leaf"};

struct root {
    struct fut_future base;
    unsigned state;
    int batch; /* tasks spawned before awaiting (BATCH or 1) */
    int round, i, v;
    long sum;
    struct fut_join j[BATCH];
};

static enum rt_poll root_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct root *f = (struct root *)self;
    (void)out;
    FUT_BEGIN(f->state);
    for (f->round = 0; f->round < ROUNDS; f->round++) {
        for (f->i = 0; f->i < f->batch; f->i++) {
            struct fut_future leaf = {&leaf_vt};
            if (fut_spawn(&leaf, sizeof(leaf), sizeof(int), &f->j[f->i]) < 0)
                abort();
        }
        for (f->i = 0; f->i < f->batch; f->i++) {
            FUT_AWAIT(&f->j[f->i], &f->v);
            f->sum += f->v;
        }
    }
    FUT_END;
}

static const struct fut_vtable root_vt = {root_poll, NULL, "root"};

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double one_run(int batch)
{
    static struct root r;
    r.base.vt = &root_vt;
    r.state = 0;
    r.batch = batch;
    r.sum = 0;
    uint64_t t0 = rt_now_ns();
    if (fut_block_on(&r.base, NULL) < 0)
        abort();
    uint64_t t1 = rt_now_ns();
    if (r.sum != (long)batch * ROUNDS)
        abort();
    return (double)(t1 - t0) / ((double)batch * ROUNDS);
}

static void report(const char *metric, int batch, int rounds_scale)
{
    double v[RUNS];
    for (int i = 0; i < RUNS; i++) {
        v[i] = 0;
        for (int k = 0; k < rounds_scale; k++)
            v[i] += one_run(batch) / rounds_scale;
    }
    qsort(v, RUNS, sizeof(double), cmp);
    /* A row in the comparison runner's CSV format (bench/harness.h). */
    printf("sl_spawn,design:native,%d,%s,%.4g,ns,%d,%.4g,%.4g\n", batch, metric,
           v[RUNS / 2], RUNS, v[0], v[RUNS - 1]);
}

int main(void)
{
    struct fut_executor *ex;
    if (fut_executor_new(&ex) < 0)
        return 1;
    (void)one_run(BATCH); /* warm up malloc */
    /* param: tasks spawned before the joins (1000 at once, or one). */
    report("ns_per_spawn_join", BATCH, 1);
    report("ns_per_spawn_join", 1, 100);
    /* The runtime's own accounting of one such task. */
    struct fut_future leaf = {&leaf_vt};
    struct fut_join j;
    struct fut_stats st;
    if (fut_spawn(&leaf, sizeof(leaf), sizeof(int), &j) < 0 ||
        fut_stats(&st) < 0)
        return 1;
    /* One trivial task with an int output, as the runtime accounts it. */
    printf("sl_spawn,design:native,1,task_bytes,%zu,bytes,1,%zu,%zu\n",
           st.task_bytes, st.task_bytes, st.task_bytes);
    (void)fut_join(&j, NULL);
    fut_executor_free(ex);
    return 0;
}

/* Lab: starvation, and the cooperative budget.
 *
 * A reader task reads a socket pair one byte at a time while its peer, an
 * OS thread, writes into it without pause, so that no read ever waits;
 * next to it a ticker task wants to run every 1 ms. One worker. The reader
 * makes READS reads (the param) twice: with the cooperative budget off
 * (rt_coop_set(0)), where nothing makes it give the worker away and the
 * ticker waits for the whole read, and on (RT_COOP_BUDGET, the default),
 * where every RT_COOP_BUDGET-th read wakes the reader and suspends it once
 * (include/greenfut/coop.h), so the ticker gets in.
 * Rows: lab_coop,<backend>,<reads>, for each of off and on:
 *   ticker_late_us_<b>  the ticker's worst lateness while the reader read;
 *   ticker_p50_us_<b>   the median lateness of its ticks (one tick when
 *                       the reader kept the worker throughout);
 *   ticks_<b>           how many times the ticker ran meanwhile;
 *   ns_per_read_<b>     the reader's time per read (what the budget costs
 *                       the task it interrupts).
 * --check, on both backends: with the budget on, the ticker's median
 * lateness is far below (under a quarter of) its lateness with the budget
 * off, its worst lateness is below it too (on a loaded machine the worst
 * tick may include the OS preempting the whole process), and it ticks
 * more often. Params: reads (default 200000).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab.h"
#include <greenfut/coop.h>
#include <greenfut/rt.h>

#define TICK_NS 1000000u

enum budget { OFF, ON, BUDGETS };
static const char *const budget_names[BUDGETS] = {"off", "on"};

/* What the tasks and the writer share. One worker runs both tasks; the
 * writer thread reads only `fds[1]` (set before it starts). */
static int fds[2];
static long reads;          /* the reader's reads (the param) */
static atomic_int reading;  /* the reader has not finished */
static uint64_t read_ns;    /* the reader's time, set when it finishes */
static uint64_t worst_late; /* the ticker's worst lateness so far */
static long ticks;          /* the ticker's wakes while the reader read */
#define SAMPLES 4096
static double late_us[SAMPLES]; /* each tick's lateness, the first SAMPLES */
static size_t nlate;            /* entries of late_us */

struct ticker {
    RT_FRAME;
    uint64_t due;
};

static enum rt_poll ticker(void *self)
{
    struct ticker *f = self;
    RT_BEGIN(f);
    while (atomic_load(&reading)) {
        f->due = rt_now_ns() + TICK_NS;
        RT_AWAIT_SLEEP_UNTIL(f, f->due);
        {
            uint64_t late = rt_now_ns() - f->due;
            if (late > worst_late)
                worst_late = late;
            if (nlate < SAMPLES)
                late_us[nlate++] = (double)late / 1e3;
        }
        ticks += atomic_load(&reading);
    }
    RT_END(f);
}

struct reader {
    RT_FRAME;
    long i;
    ssize_t n;
    uint64_t start;
    char byte;
};

static enum rt_poll reader(void *self)
{
    struct reader *f = self;
    RT_BEGIN(f);
    if (rt_register(fds[0]) < 0)
        bh_fail("lab_coop: rt_register failed");
    f->start = rt_now_ns();
    /* One byte a time: the socket always holds more, so no read waits. */
    for (f->i = 0; f->i < reads; f->i++) {
        RT_AWAIT_READ(f, f->n, fds[0], &f->byte, 1);
        if (f->n != 1)
            bh_fail("lab_coop: a read failed");
    }
    read_ns = rt_now_ns() - f->start;
    atomic_store(&reading, 0);
    rt_close(fds[0]); /* the writer's next send fails: it ends */
    RT_END(f);
}

struct root {
    RT_FRAME;
    struct rt_join t, r;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    {
        struct ticker t = {0};
        struct reader r = {0};
        if (rt_spawn(ticker, &t, sizeof(t), &f->t) < 0 ||
            rt_spawn(reader, &r, sizeof(r), &f->r) < 0)
            bh_fail("lab_coop: spawn failed");
    }
    RT_AWAIT_JOIN(f, f->rc, &f->r);
    RT_AWAIT_JOIN(f, f->rc, &f->t);
    RT_END(f);
}

/* The peer: blocking sends without pause, until the reader has closed its
 * end (EPIPE). */
static void *writer(void *arg)
{
    static char chunk[65536];
    (void)arg;
    while (send(fds[1], chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
        ;
    return NULL;
}

/* One reader-and-ticker run with the budget given; returns through the
 * statics above. */
static void run(unsigned budget)
{
    rt_coop_set(budget);
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        bh_fail("lab_coop: socketpair failed");
    /* Full before the reader starts, kept full by the writer after. */
    static char chunk[4096];
    while (send(fds[1], chunk, sizeof(chunk), MSG_DONTWAIT) > 0)
        ;
    pthread_t w;
    if (pthread_create(&w, NULL, writer, NULL) != 0)
        bh_fail("lab_coop: pthread_create failed");
    atomic_store(&reading, 1);
    worst_late = 0;
    ticks = 0;
    nlate = 0;
    struct root r = {0};
    if (rt_run_opts(&(struct rt_opts){.workers = 1}, root, &r, sizeof(r),
                    NULL) != 0)
        bh_fail("lab_coop: rt_run failed");
    pthread_join(w, NULL);
    close(fds[1]);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {200000, -1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    const char *b = rt_backend_name();
    for (int p = 0; p < a.bh.nparams; p++) {
        reads = (long)a.bh.params[p];
        if (reads < 1)
            bh_fail("lab_coop: reads must be at least 1");
        double late[BUDGETS][BH_MAX_RUNS], nticks[BUDGETS][BH_MAX_RUNS];
        double per_read[BUDGETS][BH_MAX_RUNS], p50[BUDGETS][BH_MAX_RUNS];
        for (int r = 0; r < a.bh.runs; r++) {
            for (int v = 0; v < BUDGETS; v++) {
                run(v == ON ? RT_COOP_BUDGET : 0);
                late[v][r] = (double)worst_late / 1e3;
                p50[v][r] = lab_percentile(late_us, nlate, 50);
                nticks[v][r] = (double)ticks;
                per_read[v][r] = (double)read_ns / (double)reads;
            }
        }
        rt_coop_set(RT_COOP_BUDGET);
        double med_late[BUDGETS], med_ticks[BUDGETS], med_p50[BUDGETS];
        char metric[48];
        for (int v = 0; v < BUDGETS; v++) {
            snprintf(metric, sizeof(metric), "ticker_late_us_%s",
                     budget_names[v]);
            bh_row("lab_coop", b, reads, metric, "us", late[v], a.bh.runs);
            med_late[v] = lab_percentile(late[v], (size_t)a.bh.runs, 50);
            snprintf(metric, sizeof(metric), "ticker_p50_us_%s",
                     budget_names[v]);
            bh_row("lab_coop", b, reads, metric, "us", p50[v], a.bh.runs);
            med_p50[v] = lab_percentile(p50[v], (size_t)a.bh.runs, 50);
            snprintf(metric, sizeof(metric), "ticks_%s", budget_names[v]);
            bh_row("lab_coop", b, reads, metric, "count", nticks[v], a.bh.runs);
            med_ticks[v] = lab_percentile(nticks[v], (size_t)a.bh.runs, 50);
            snprintf(metric, sizeof(metric), "ns_per_read_%s", budget_names[v]);
            bh_row("lab_coop", b, reads, metric, "ns", per_read[v], a.bh.runs);
        }
        if (a.check) {
            lab_expect(med_p50[ON] * 4 < med_late[OFF],
                       "with the budget on, the ticker's median lateness is "
                       "under a quarter of its lateness with it off");
            lab_expect(med_late[ON] < med_late[OFF],
                       "with the budget on, the ticker's worst lateness is "
                       "below its lateness with it off");
            lab_expect(med_ticks[ON] > med_ticks[OFF],
                       "with the budget on, the ticker runs more often "
                       "while the reader reads");
        }
    }
    return lab_status();
}

/* Lab: blocking system calls in a task.
 *
 * A ticker task wants to run every 1 ms; next to it a handler task makes
 * one 100 ms blocking call, four ways:
 *   usleep       usleep() on the scheduler thread (wrong);
 *   read         read() on a blocking pipe that an OS thread fills 100 ms
 *                later (wrong);
 *   read_await   the same pipe, non-blocking and registered, awaited with
 *                RT_AWAIT_READ (the fix when the fd can be polled);
 *   usleep_pool  the same usleep() sent to the blocking pool with
 *                RT_AWAIT_BLOCKING (the fix when it cannot).
 * Each variant runs in a child process with the watchdog on (20 ms), whose
 * stderr is kept: a stalled scheduler thread is named there, with the
 * handler's entry function. Rows: lab_blocking,<backend>,100,
 * ticker_late_us_<variant> (the ticker's worst lateness) and
 * watchdog_reports_<variant> (report lines naming the handler).
 * --check: each wrong variant is reported by name and delays the ticker
 * more than its fix, which is not reported. No params.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include <greenfut/rt.h>
#include <greenfut/watchdog.h>

#define BLOCK_NS     100000000u /* the blocking call */
#define TICK_NS      1000000u
#define THRESHOLD_MS 20u

enum variant { USLEEP, READ, READ_AWAIT, USLEEP_POOL, VARIANTS };
static const char *const variant_names[VARIANTS] = {
    "usleep", "read", "read_await", "usleep_pool"};
/* The handler's entry function per variant: what the watchdog names. */
static const char *const entry_names[VARIANTS] = {
    "handler_usleep", "handler_read", "handler_read_await",
    "handler_usleep_pool"};

struct shared {
    double late_us; /* the ticker's worst lateness */
};

/* What the handler and the ticker share, in the child (one thread). */
static int pipe_fds[2];
static int done;              /* set by the handler, read by the ticker */
static struct shared *result; /* the ticker's worst lateness goes here */

struct handler {
    RT_FRAME;
    char byte;
    ssize_t n;
    intptr_t res;
};

static intptr_t usleep_job(void *arg)
{
    (void)arg;
    return usleep(BLOCK_NS / 1000u);
}

/* Not static, and the program is linked with -rdynamic: the watchdog names
 * these functions through dladdr. */
enum rt_poll handler_usleep(void *self);
enum rt_poll handler_read(void *self);
enum rt_poll handler_read_await(void *self);
enum rt_poll handler_usleep_pool(void *self);

enum rt_poll handler_usleep(void *self)
{
    struct handler *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 5 * TICK_NS);
    usleep(BLOCK_NS / 1000u); /* the scheduler thread sleeps: nobody runs */
    done = 1;
    RT_END(f);
}

enum rt_poll handler_read(void *self)
{
    struct handler *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 5 * TICK_NS);
    f->n = read(pipe_fds[0], &f->byte, 1); /* blocks the scheduler thread */
    done = 1;
    RT_END(f);
}

enum rt_poll handler_read_await(void *self)
{
    struct handler *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 5 * TICK_NS);
    if (rt_register(pipe_fds[0]) < 0) /* non-blocking from here on */
        bh_fail("lab_blocking: rt_register failed");
    RT_AWAIT_READ(f, f->n, pipe_fds[0], &f->byte, 1); /* parks the task */
    done = 1;
    RT_END(f);
}

enum rt_poll handler_usleep_pool(void *self)
{
    struct handler *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 5 * TICK_NS);
    RT_AWAIT_BLOCKING(f, f->res, usleep_job, NULL); /* a pool thread waits */
    done = 1;
    RT_END(f);
}

static const rt_task_fn handlers[VARIANTS] = {
    handler_usleep, handler_read, handler_read_await, handler_usleep_pool};

struct ticker {
    RT_FRAME;
    uint64_t next;
    double worst_us;
};

static enum rt_poll ticker(void *self)
{
    struct ticker *f = self;
    RT_BEGIN(f);
    for (f->next = rt_now_ns() + TICK_NS; !done; f->next += TICK_NS) {
        RT_AWAIT_SLEEP_UNTIL(f, f->next);
        {
            double late = (double)(rt_now_ns() - f->next) / 1e3;
            if (late > f->worst_us)
                result->late_us = f->worst_us = late;
        }
    }
    RT_RETURN(f, 0);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int variant;
    struct rt_join tick, handle;
    int rc;
};

enum rt_poll root_task(void *self); /* named as the spawn site */

enum rt_poll root_task(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    {
        struct ticker t = {0};
        struct handler h = {0};
        if (rt_spawn(ticker, &t, sizeof(t), &f->tick) < 0 ||
            rt_spawn(handlers[f->variant], &h, sizeof(h), &f->handle) < 0)
            bh_fail("lab_blocking: spawn failed");
    }
    RT_AWAIT_JOIN(f, f->rc, &f->handle);
    RT_AWAIT_JOIN(f, f->rc, &f->tick);
    RT_END(f);
}

static void *pipe_writer(void *arg)
{
    (void)arg;
    usleep(5000u + BLOCK_NS / 1000u);
    if (write(pipe_fds[1], "x", 1) != 1)
        bh_fail("lab_blocking: pipe write failed");
    return NULL;
}

static int child(void *arg, void *shared)
{
    int v = (int)(intptr_t)arg;
    result = shared;
    rt_watchdog_set_ms(THRESHOLD_MS);
    if (pipe(pipe_fds) != 0)
        return 2;
    pthread_t w;
    if ((v == READ || v == READ_AWAIT) &&
        pthread_create(&w, NULL, pipe_writer, NULL) != 0)
        return 2;
    struct root r = {.variant = v};
    if (rt_run(root_task, &r, sizeof(r), NULL) != 0)
        return 3;
    if (v == READ || v == READ_AWAIT)
        pthread_join(w, NULL);
    return 0;
}

/* The report lines of `err` that name `entry` as the task's entry. */
static int count_reports(const char *err, const char *entry)
{
    char want[96];
    snprintf(want, sizeof(want), "(%s)", entry); /* the dump's wording */
    int n = 0;
    for (const char *p = err; (p = strstr(p, "rt watchdog: ")); p++) {
        const char *eol = strchr(p, '\n');
        const char *hit = strstr(p, want);
        if (hit && (!eol || hit < eol))
            n++;
    }
    return n;
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {-1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    const char *b = rt_backend_name();
    double late[VARIANTS][BH_MAX_RUNS], reports[VARIANTS][BH_MAX_RUNS];
    static char err[1 << 16];
    for (int r = 0; r < a.bh.runs; r++) {
        for (int v = 0; v < VARIANTS; v++) {
            struct shared out;
            int st = lab_child(child, (void *)(intptr_t)v, &out, sizeof(out),
                               err, sizeof(err));
            if (r == 0)
                fputs(err, stderr); /* the reports, once per variant */
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                bh_fail("lab_blocking: a variant's child failed");
            late[v][r] = out.late_us;
            reports[v][r] = count_reports(err, entry_names[v]);
        }
    }
    double med_late[VARIANTS], min_reports[VARIANTS], max_reports[VARIANTS];
    char metric[48];
    for (int v = 0; v < VARIANTS; v++) {
        snprintf(metric, sizeof(metric), "ticker_late_us_%s", variant_names[v]);
        bh_row("lab_blocking", b, BLOCK_NS / 1000000u, metric, "us", late[v],
               a.bh.runs);
        med_late[v] = lab_percentile(late[v], (size_t)a.bh.runs, 50);
        snprintf(metric, sizeof(metric), "watchdog_reports_%s",
                 variant_names[v]);
        bh_row("lab_blocking", b, BLOCK_NS / 1000000u, metric, "count",
               reports[v], a.bh.runs);
        min_reports[v] = reports[v][0]; /* bh_row sorted them */
        max_reports[v] = reports[v][a.bh.runs - 1];
    }
    if (a.check) {
        lab_expect(min_reports[USLEEP] >= 1,
                   "the watchdog names handler_usleep in every run");
        lab_expect(min_reports[READ] >= 1,
                   "the watchdog names handler_read in every run");
        lab_expect(max_reports[READ_AWAIT] == 0 &&
                       max_reports[USLEEP_POOL] == 0,
                   "neither fix is reported");
        lab_expect(med_late[READ_AWAIT] < med_late[READ],
                   "awaiting the pipe delays the ticker less than read()");
        lab_expect(med_late[USLEEP_POOL] < med_late[USLEEP],
                   "the blocking pool delays the ticker less than usleep()");
    }
    return lab_status();
}

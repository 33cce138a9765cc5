/* rt_dump with two workers, on both backends: a line per worker says what
 * it does, and a running task's line names the worker that runs it. The
 * root and a spinner (a task that holds its worker without awaiting until
 * the root lets it go) run at once, one on each worker, while a receiver
 * is parked on a channel: both workers say "running", each naming the
 * task whose own line names that worker (the one rt_worker_index gave the
 * task), and the parked task names none; a task spawned then is queued on
 * the root's worker, and its line says so. With the spinner gone, the other
 * worker is found idle: parked or in the reactor. The task functions are
 * exported (-rdynamic) so that dladdr names them. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <greenfut/dump.h>
#include <greenfut/rt.h>

static atomic_int spinner_on = -1; /* the spinner's worker, once it runs */
static atomic_int spinner_go;      /* the root lets the spinner end */
static struct rt_chan wake_up;     /* the receiver waits here */

struct task {
    RT_FRAME;
    int msg;
    intptr_t rc;
};

struct root {
    RT_FRAME;
    long i;
    int msg;
    intptr_t rc;
    char *text; /* the last dump */
    struct rt_join spinner, receiver, queued;
};

enum rt_poll workers_spinner(void *self);
enum rt_poll workers_receiver(void *self);
enum rt_poll workers_root(void *self);
enum rt_poll workers_queued(void *self);

/* Spawned while both workers are taken: it waits in a queue meanwhile. */
enum rt_poll workers_queued(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    RT_END(f);
}

enum rt_poll workers_spinner(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    /* No await until the root says so: this worker is taken. */
    atomic_store(&spinner_on, rt_worker_index());
    while (!atomic_load(&spinner_go))
        continue;
    RT_END(f);
}

enum rt_poll workers_receiver(void *self)
{
    struct task *f = self;
    RT_BEGIN(f);
    RT_AWAIT_RECV(f, f->rc, &wake_up, &f->msg);
    RT_END(f);
}

/* The dump, as a string the caller frees. */
static char *dump_text(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK(m != NULL);
    CHECK_OK(rt_dump(m));
    fclose(m);
    return buf;
}

/* The line of `dump` that contains `key`, copied into line[len]; false
 * when there is none. */
static int line_of(const char *dump, const char *key, char *line, size_t len)
{
    const char *at = strstr(dump, key);
    if (!at)
        return 0;
    while (at > dump && at[-1] != '\n')
        at--;
    size_t n = strcspn(at, "\n");
    if (n >= len)
        n = len - 1;
    memcpy(line, at, n);
    line[n] = '\0';
    return 1;
}

/* The id of the task whose own line names function `fn`: "<kind> N (fn". */
static long long id_of(const char *dump, const char *fn)
{
    char line[512], key[64];
    snprintf(key, sizeof key, " (%s)", fn);
    CHECK(line_of(dump, key, line, sizeof line));
    const char *p = line + strcspn(line, "0123456789");
    return strtoll(p, NULL, 10);
}

/* Whether the dump shows task `fn` running on worker `w`: its own line says
 * "[running on worker w", and worker w's line names its id. */
static void expect_running_on(const char *dump, const char *fn, int w)
{
    char line[512], key[64], want[64];
    snprintf(key, sizeof key, " (%s)", fn);
    CHECK(line_of(dump, key, line, sizeof line));
    snprintf(want, sizeof want, "[running on worker %d", w);
    if (!strstr(line, want))
        fprintf(stderr, "%s's line lacks \"%s\": %s\n", fn, want, line);
    CHECK(strstr(line, want) != NULL);
    snprintf(key, sizeof key, "  worker %d: ", w);
    CHECK(line_of(dump, key, line, sizeof line));
    long long id = id_of(dump, fn);
    snprintf(want, sizeof want, " %lld", id);
    char *end = line + strlen(line) - strlen(want);
    if (!strstr(line, ": running ") || strcmp(end, want) != 0)
        fprintf(stderr, "worker %d's line does not name %lld: %s\n", w, id,
                line);
    CHECK(strstr(line, ": running ") != NULL && strcmp(end, want) == 0);
}

/* Whether the dump shows the receiver parked (it may still be queued). */
static int receiver_parked(void)
{
    char *text = dump_text(), line[512];
    int parked = line_of(text, " (workers_receiver)", line, sizeof line) &&
                 strstr(line, "[parked") != NULL;
    free(text);
    return parked;
}

/* Whether worker `w`'s line says it is idle: parked or in the reactor. */
static int idle_in(const char *dump, int w)
{
    char line[256], key[32];
    snprintf(key, sizeof key, "  worker %d: ", w);
    CHECK(line_of(dump, key, line, sizeof line));
    return strstr(line, ": parked") || strstr(line, ": turning the reactor");
}

enum rt_poll workers_root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_spawn(workers_receiver, &(struct task){0}, sizeof(struct task),
                      &f->receiver));
    CHECK_OK(rt_spawn(workers_spinner, &(struct task){0}, sizeof(struct task),
                      &f->spinner));
    /* Whichever worker the spinner takes, the other one steals the root
     * (or had it): wait until the spinner runs and the receiver, which
     * may still be queued behind the root's yields, has parked. */
    for (f->i = 0; f->i < 1000000 &&
                   !(atomic_load(&spinner_on) >= 0 && receiver_parked());
         f->i++)
        RT_AWAIT_YIELD(f);
    CHECK(atomic_load(&spinner_on) >= 0);
    f->text = dump_text();
    fprintf(stderr, "while both run:\n%s", f->text);
    CHECK(strstr(f->text, "; 2 workers\n") != NULL);
    { /* (no local lives across an await: on stackless it could not) */
        int me = rt_worker_index(), other = atomic_load(&spinner_on);
        CHECK(me != other);
        expect_running_on(f->text, "workers_root", me);
        expect_running_on(f->text, "workers_spinner", other);
        char line[512];
        CHECK(line_of(f->text, " (workers_receiver)", line, sizeof line));
        CHECK(strstr(line, "waiting on channel recv") != NULL);
        CHECK(strstr(line, "[parked") != NULL);
        CHECK(strstr(line, "on worker") == NULL);
    }
    free(f->text);
    f->text = NULL;
    /* A task spawned now is queued on this worker (its ring or its LIFO
     * slot): the other one spins and cannot steal it. */
    CHECK_OK(rt_spawn(workers_queued, &(struct task){0}, sizeof(struct task),
                      &f->queued));
    f->text = dump_text();
    fprintf(stderr, "with one queued:\n%s", f->text);
    {
        char line[512], want[64];
        snprintf(want, sizeof want, "[runnable, queued on worker %d",
                 rt_worker_index());
        CHECK(line_of(f->text, " (workers_queued)", line, sizeof line));
        if (!strstr(line, want))
            fprintf(stderr, "the queued task's line lacks \"%s\": %s\n", want,
                    line);
        CHECK(strstr(line, want) != NULL);
    }
    free(f->text);
    f->text = NULL;
    RT_AWAIT_JOIN(f, f->rc, &f->queued);
    CHECK_OK(f->rc);
    atomic_store(&spinner_go, 1);
    RT_AWAIT_JOIN(f, f->rc, &f->spinner);
    CHECK_OK(f->rc);
    /* The spinner's worker goes idle: into the reactor's turn (the
     * receiver's channel gives it nothing to do) or parked. */
    for (f->i = 0; f->i < 10000000; f->i++) {
        f->text = dump_text();
        if (idle_in(f->text, 1 - rt_worker_index()))
            break;
        free(f->text);
        f->text = NULL;
        RT_AWAIT_YIELD(f);
    }
    CHECK(f->text != NULL);
    fprintf(stderr, "with one idle:\n%s", f->text);
    expect_running_on(f->text, "workers_root", rt_worker_index());
    CHECK(strstr(f->text, "(workers_spinner)") == NULL); /* it ended */
    free(f->text);
    f->text = NULL;
    f->msg = 1;
    RT_AWAIT_SEND(f, f->rc, &wake_up, &f->msg);
    CHECK_OK(f->rc);
    RT_AWAIT_JOIN(f, f->rc, &f->receiver);
    CHECK_OK(f->rc);
    RT_END(f);
}

int main(void)
{
    CHECK_OK(rt_chan_init(&wake_up, sizeof(int), 0));
    struct rt_opts opts = {.workers = 2};
    CHECK_OK(rt_run_opts(&opts, workers_root, &(struct root){0},
                         sizeof(struct root), NULL));
    return 0;
}

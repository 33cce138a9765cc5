/* Bytes per parked task: N minimal sleeping tasks (a fut_sleep of one hour
 * spawned detached, so each holds an armed timer and a waker) parked at
 * once. Per N, in a fresh child process: the RSS growth from
 * /proc/self/statm divided by N, and the runtime's own accounting of task
 * bytes (malloc request sizes) divided by N. Also a bare task (an 8-byte
 * frame parked with no timer) for the header's share. Median of RUNS. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#include <greenfut/leaf.h>
#include <greenfut/task.h>

#define RUNS 3

static long rss_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
        abort();
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static enum rt_poll bare_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    (void)self;
    (void)cx;
    (void)out;
    return RT_PENDING;
}

static const struct fut_vtable bare_vt = {bare_poll, NULL, "bare"};

static size_t polls_target;

/* Root: ready once every task has been polled (so each one is parked). */
static enum rt_poll until_polled(struct fut_future *self, struct rt_cx *cx,
                                 void *out)
{
    struct fut_stats st;
    (void)self;
    (void)out;
    if (fut_stats(&st) < 0)
        abort();
    if (st.polls >= polls_target)
        return RT_READY;
    rt_waker_wake_by_ref(cx->waker);
    return RT_PENDING;
}

static const struct fut_vtable until_vt = {until_polled, NULL, "until"};

/* In a child: park n tasks, write rss/n and accounted/n to the pipe. */
static void child(int fd, size_t n, int sleeping)
{
    struct fut_executor *ex;
    if (fut_executor_new(&ex) < 0)
        _exit(1);
    long before = rss_bytes();
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (sleeping) {
            struct fut_sleep s;
            fut_sleep_for_init(&s, 3600ull * 1000000000ull);
            rc = fut_spawn(&s.base, sizeof(s), 0, NULL);
        } else {
            struct fut_future b = {&bare_vt};
            rc = fut_spawn(&b, sizeof(b), 0, NULL);
        }
        if (rc < 0)
            _exit(1);
    }
    polls_target = n;
    struct fut_future root = {&until_vt};
    if (fut_block_on(&root, NULL) < 0)
        _exit(1);
    long after = rss_bytes();
    struct fut_stats st;
    if (fut_stats(&st) < 0 || st.tasks_pending != n)
        _exit(1);
    double res[2] = {(double)(after - before) / (double)n,
                     (double)st.task_bytes / (double)n};
    if (write(fd, res, sizeof(res)) != sizeof(res))
        _exit(1);
    _exit(0); /* no teardown: the measurement is done */
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void measure(size_t n, int sleeping)
{
    double rss[RUNS], acc[RUNS];
    for (int r = 0; r < RUNS; r++) {
        int p[2];
        if (pipe(p) < 0)
            abort();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            child(p[1], n, sleeping);
        }
        close(p[1]);
        double res[2];
        int status;
        if (read(p[0], res, sizeof(res)) != sizeof(res) ||
            waitpid(pid, &status, 0) != pid || status != 0)
            abort();
        close(p[0]);
        rss[r] = res[0];
        acc[r] = res[1];
    }
    qsort(rss, RUNS, sizeof(double), cmp);
    qsort(acc, RUNS, sizeof(double), cmp);
    /* Rows in the comparison runner's CSV format (bench/harness.h). */
    const char *variant = sleeping ? "sleep" : "bare";
    printf("sl_parked,design:%s,%zu,bytes_per_task,%.4g,bytes,%d,%.4g,%.4g\n",
           variant, n, rss[RUNS / 2], RUNS, rss[0], rss[RUNS - 1]);
    printf("sl_parked,design:%s,%zu,task_bytes_per_task,%.4g,bytes,%d,%.4g,"
           "%.4g\n",
           variant, n, acc[RUNS / 2], RUNS, acc[0], acc[RUNS - 1]);
}

int main(void)
{
    size_t ns[] = {10000, 100000, 1000000};
    for (int s = 1; s >= 0; s--)
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
            measure(ns[i], s);
    return 0;
}

/* Lab: CPU-bound work in a task.
 *
 * An HTTP-like server: one task per connection reads a one-byte request and
 * writes a one-byte answer. A "heavy" request costs 5 ms of CPU; a "light"
 * one costs nothing. One client thread sends a heavy request every 10 ms
 * (the server is half busy, not overloaded) while another times light
 * requests on its own connection, one at a time. (Sent back to back, each
 * next heavy request would already be there when its task returns to its
 * read, so the task would never suspend and would starve the light one
 * outright: that is the cooperative budget's subject, not this lab's.) The
 * light requests' latency is the measurement, with the heavy work
 *   inline    burnt on the scheduler thread, in the task itself;
 *   blocking  sent to the blocking pool (RT_AWAIT_BLOCKING);
 *   yield     burnt in 100 µs slices with RT_AWAIT_YIELD between them.
 * Rows: lab_cpu,<backend>,5,p99_us_<mode> and p50_us_<mode> (median of the
 * runs). --check: the p99 with the blocking pool is below the p99 inline.
 * Params: the run length of one mode in ms (default 300).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lab.h"
#include <greenfut/rt.h>

#define BURN_NS  5000000u /* one heavy request */
#define SLICE_NS 100000u  /* the yield variant's slice */
#define GAP_NS   200000u  /* the light client's pause between requests */
#define HEAVY_NS 5000000u /* the heavy client's pause after each answer */
#define MAX_LAT  100000

enum mode { INLINE, BLOCKING, YIELD, MODES };
static const char *const mode_names[MODES] = {"inline", "blocking", "yield"};

/* Spins for ns of wall time, never yielding. */
static void burn(uint64_t ns)
{
    uint64_t end = rt_now_ns() + ns;
    while (rt_now_ns() < end)
        continue;
}

static intptr_t burn_job(void *arg)
{
    (void)arg;
    burn(BURN_NS);
    return 0;
}

/* One connection: requests in, answers out, until the client hangs up. */
struct conn {
    RT_FRAME;
    int fd;
    int mode;
    char req;
    ssize_t n;
    intptr_t job;
    uint64_t end;
};

static enum rt_poll conn_task(void *self)
{
    struct conn *f = self;
    RT_BEGIN(f);
    for (;;) {
        RT_AWAIT_READ(f, f->n, f->fd, &f->req, 1);
        if (f->n != 1)
            break;
        if (f->req == 'H' && f->mode == INLINE) {
            burn(BURN_NS);
        } else if (f->req == 'H' && f->mode == BLOCKING) {
            RT_AWAIT_BLOCKING(f, f->job, burn_job, NULL);
        } else if (f->req == 'H') {
            /* The deadline is a frame field: it must survive each yield. */
            for (f->end = rt_now_ns() + BURN_NS; rt_now_ns() < f->end;) {
                burn(SLICE_NS);
                RT_AWAIT_YIELD(f);
            }
        }
        RT_AWAIT_WRITE(f, f->n, f->fd, &f->req, 1);
        if (f->n != 1)
            break;
    }
    rt_close(f->fd);
    RT_END(f);
}

struct root {
    RT_FRAME;
    int fds[2];
    int mode;
    int i;
    struct rt_join j[2];
    int rc;
};

static enum rt_poll root_task(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    for (f->i = 0; f->i < 2; f->i++) {
        struct conn c = {.fd = f->fds[f->i], .mode = f->mode};
        if (rt_register(c.fd) < 0 ||
            rt_spawn(conn_task, &c, sizeof(c), &f->j[f->i]) < 0)
            bh_fail("lab_cpu: register or spawn failed");
    }
    for (f->i = 0; f->i < 2; f->i++)
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
    RT_END(f);
}

/* The client side: plain blocking sockets on OS threads. */
struct client {
    int fd;
    atomic_bool *stop;
    uint64_t run_ns;
    double *lat; /* light client: latencies in µs */
    size_t nlat;
};

static void exchange(int fd, char c)
{
    if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
        bh_fail("lab_cpu: client exchange failed");
}

static void *heavy_client(void *arg)
{
    struct client *c = arg;
    while (!atomic_load(c->stop)) {
        exchange(c->fd, 'H');
        nanosleep(&(struct timespec){0, HEAVY_NS}, NULL);
    }
    close(c->fd);
    return NULL;
}

static void *light_client(void *arg)
{
    struct client *c = arg;
    uint64_t end = rt_now_ns() + c->run_ns;
    while (rt_now_ns() < end && c->nlat < MAX_LAT) {
        uint64_t t0 = rt_now_ns();
        exchange(c->fd, 'L');
        c->lat[c->nlat++] = (double)(rt_now_ns() - t0) / 1e3;
        nanosleep(&(struct timespec){0, GAP_NS}, NULL);
    }
    atomic_store(c->stop, true);
    close(c->fd);
    return NULL;
}

/* One run of one mode: fills p50 and p99 of the light requests, in µs. */
static void run_mode(int mode, uint64_t run_ns, double *p50, double *p99)
{
    static double lat[MAX_LAT];
    int heavy[2], light[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, heavy) != 0 ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, light) != 0)
        bh_fail("lab_cpu: socketpair failed");
    atomic_bool stop = false;
    struct client hc = {.fd = heavy[1], .stop = &stop};
    struct client lc = {
        .fd = light[1], .stop = &stop, .run_ns = run_ns, .lat = lat};
    pthread_t ht, lt;
    if (pthread_create(&ht, NULL, heavy_client, &hc) != 0 ||
        pthread_create(&lt, NULL, light_client, &lc) != 0)
        bh_fail("lab_cpu: pthread_create failed");
    struct root r = {.fds = {heavy[0], light[0]}, .mode = mode};
    if (rt_run(root_task, &r, sizeof(r), NULL) != 0)
        bh_fail("lab_cpu: rt_run failed");
    pthread_join(ht, NULL);
    pthread_join(lt, NULL);
    *p99 = lab_percentile(lat, lc.nlat, 99);
    *p50 = lab_percentile(lat, lc.nlat, 50);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {300, -1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    uint64_t run_ns = (uint64_t)a.bh.params[0] * 1000000u;
    const char *b = rt_backend_name();
    double p50[MODES][BH_MAX_RUNS], p99[MODES][BH_MAX_RUNS];
    for (int r = 0; r < a.bh.runs; r++)
        for (int m = 0; m < MODES; m++)
            run_mode(m, run_ns, &p50[m][r], &p99[m][r]);
    char metric[32];
    double med99[MODES];
    for (int m = 0; m < MODES; m++) {
        snprintf(metric, sizeof(metric), "p99_us_%s", mode_names[m]);
        bh_row("lab_cpu", b, BURN_NS / 1000000u, metric, "us", p99[m],
               a.bh.runs);
        med99[m] = lab_percentile(p99[m], (size_t)a.bh.runs, 50);
        snprintf(metric, sizeof(metric), "p50_us_%s", mode_names[m]);
        bh_row("lab_cpu", b, BURN_NS / 1000000u, metric, "us", p50[m],
               a.bh.runs);
    }
    if (a.check)
        lab_expect(med99[BLOCKING] < med99[INLINE],
                   "p99 of the light requests: blocking pool below inline");
    return lab_status();
}

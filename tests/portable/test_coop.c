/* The cooperative budget (include/greenfut/coop.h): a task whose reads
 * never wait (its socket holds more bytes than it reads at a time) next
 * to a 1 ms ticker, on one worker. With the budget off the reader keeps
 * the worker until it has read everything, so the ticker is late by about
 * the length of the whole read; with the budget on, the reader gives the
 * worker away every RT_COOP_BUDGET reads, and the ticker's worst lateness
 * is a small part of the read's length. Lab 1 (labs/lab_coop.c,
 * docs/labs.md) is the same experiment with a peer that writes while the
 * reader reads, and its figures; this test keeps the effect checked in
 * every sanitizer stage and under valgrind. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/coop.h>
#include <greenfut/rt.h>

static int fds[2];
static size_t filled;             /* bytes waiting in the socket */
static atomic_int reading;        /* the reader has not finished */
static uint64_t read_ns;          /* how long the reader took */
static _Atomic uint64_t max_late; /* the ticker's worst lateness */

struct ticker {
    RT_FRAME;
    uint64_t due;
};

static enum rt_poll ticker(void *self)
{
    struct ticker *f = self;
    RT_BEGIN(f);
    while (atomic_load(&reading)) {
        f->due = rt_now_ns() + 1000000;
        RT_AWAIT_SLEEP_UNTIL(f, f->due);
        uint64_t late = rt_now_ns() - f->due;
        if (late > atomic_load(&max_late))
            atomic_store(&max_late, late);
    }
    RT_END(f);
}

struct reader {
    RT_FRAME;
    size_t got;
    ssize_t n;
    uint64_t start;
    char byte;
};

static enum rt_poll reader(void *self)
{
    struct reader *f = self;
    RT_BEGIN(f);
    CHECK_OK(rt_register(fds[0]));
    f->start = rt_now_ns();
    /* One byte a time: every read succeeds at once, none waits. */
    for (f->got = 0; f->got < filled; f->got += (size_t)f->n) {
        RT_AWAIT_READ(f, f->n, fds[0], &f->byte, 1);
        CHECK_EQ(f->n, 1);
    }
    read_ns = rt_now_ns() - f->start;
    atomic_store(&reading, 0);
    CHECK_OK(rt_close(fds[0]));
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
        CHECK_OK(rt_spawn(ticker, &t, sizeof t, &f->t));
        struct reader r = {0};
        CHECK_OK(rt_spawn(reader, &r, sizeof r, &f->r));
    }
    RT_AWAIT_JOIN(f, f->rc, &f->r);
    CHECK_OK(f->rc);
    RT_AWAIT_JOIN(f, f->rc, &f->t);
    CHECK_OK(f->rc);
    RT_END(f);
}

/* Fills the socket pair's buffers; returns the bytes in them. */
static size_t fill(void)
{
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
    int fl = fcntl(fds[1], F_GETFL);
    CHECK_OK(fcntl(fds[1], F_SETFL, fl | O_NONBLOCK));
    static char chunk[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = write(fds[1], chunk, sizeof(chunk));
        if (n < 0) {
            CHECK(errno == EAGAIN);
            break;
        }
        total += (size_t)n;
    }
    return total;
}

static void run(unsigned budget)
{
    rt_coop_set(budget);
    filled = fill();
    atomic_store(&reading, 1);
    atomic_store(&max_late, 0);
    struct root r = {0};
    CHECK_OK(
        rt_run_opts(&(struct rt_opts){.workers = 1}, root, &r, sizeof r, NULL));
    CHECK_OK(close(fds[1]));
    printf("%s: budget %u: %zu reads in %.1f ms, ticker late by %.2f ms at "
           "most\n",
           rt_backend_name(), budget, filled, (double)read_ns / 1e6,
           (double)atomic_load(&max_late) / 1e6);
}

int main(void)
{
    run(0);
    uint64_t off_late = atomic_load(&max_late), off_read = read_ns;
    run(RT_COOP_BUDGET);
    uint64_t on_late = atomic_load(&max_late), on_read = read_ns;
    /* Off: the ticker waits for most of the read (it sleeps 1 ms first,
     * and the reader may start a little after it). */
    CHECK_GE(off_late, off_read / 2);
    /* On: the reader lets the ticker in every budget of reads, and at
     * least every scheduler budget of those the reactor is looked at. */
    CHECK(on_late < on_read / 4);
    rt_coop_set(RT_COOP_BUDGET);
    return 0;
}

/* Fuzz target: the reactor's fd registrations (common/reactor.c, io.c)
 * against a reference model.
 *
 * The input is a program over four socketpairs (eight fds): register,
 * deregister, a byte written by the peer, rt_poll_read with a counting
 * waker, turn(0), notify, and far-off timers armed and cancelled. The model
 * keeps, per fd, whether it is registered, its readable bit, the unread
 * bytes and whether a read waker is stored, and predicts every result:
 * register's -EEXIST, -EBADF after deregister, which wakers a turn wakes
 * (a parked reader whose peer wrote since) and how many, the readiness bits
 * (a short read clears the readable bit, as EAGAIN does) and the
 * reactor's counters. At the end every waker reference is released.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "fuzz.h"
#include <greenfut/io.h>
#include <greenfut/reactor.h>

#define NFD       8
#define MAX_BYTES 200
#define NTIMERS   2

static struct {
    int fd[NFD];
    int refs;  /* waker references held by the reactor */
    int wakes; /* wakes seen */
    /* the model */
    bool reg[NFD];
    bool rd[NFD]; /* RT_IO_READABLE */
    int bytes[NFD];
    bool waiting[NFD]; /* a read waker is stored */
    int mwakes;
    bool timer_armed[NTIMERS];
} s;

static const struct rt_waker_vtable cw_vt;

static struct rt_waker cw_clone(void *data)
{
    s.refs++;
    return (struct rt_waker){&cw_vt, data};
}

static void cw_wake(void *data)
{
    (void)data;
    s.refs--;
    s.wakes++;
}

static void cw_wake_by_ref(void *data)
{
    (void)data;
    s.wakes++;
}

static void cw_drop(void *data)
{
    (void)data;
    s.refs--;
}

static const struct rt_waker_vtable cw_vt = {cw_clone, cw_wake, cw_wake_by_ref,
                                             cw_drop};

static void check_model(struct rt_reactor *r)
{
    struct rt_reactor_stats st;
    FUZZ_CHECK(rt_reactor_stats(r, &st) == 0);
    size_t fds = 0, waiters = 0, timers = 0;
    for (int k = 0; k < NFD; k++) {
        fds += s.reg[k];
        waiters += s.waiting[k];
        int rdy = rt_reactor_readiness(r, s.fd[k]);
        if (!s.reg[k]) {
            FUZZ_CHECK(rdy == -EBADF);
        } else {
            FUZZ_CHECK(rdy >= 0);
            FUZZ_CHECK(((rdy & RT_IO_READABLE) != 0) == s.rd[k]);
        }
    }
    for (int t = 0; t < NTIMERS; t++)
        timers += s.timer_armed[t];
    FUZZ_CHECK(st.fds == fds);
    FUZZ_CHECK(st.io_waiters == waiters);
    FUZZ_CHECK(st.timers == timers);
    FUZZ_CHECK(s.wakes == s.mwakes);
    /* One reference per stored IO waker and per armed timer. */
    FUZZ_CHECK((size_t)s.refs == waiters + timers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(&s, 0, sizeof s);
    struct rt_reactor *r;
    FUZZ_CHECK(rt_reactor_new(&r) == 0);
    for (int k = 0; k < NFD; k += 2)
        FUZZ_CHECK(
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, &s.fd[k]) == 0);
    struct rt_timer timers[NTIMERS];
    for (int t = 0; t < NTIMERS; t++)
        rt_timer_init(&timers[t]);
    struct rt_waker w = {&cw_vt, NULL};
    struct rt_cx cx = {&w};
    struct fuzz_in in = {data, size};
    while (in.len) {
        uint8_t op = fuzz_u8(&in);
        int k = (op >> 4) % NFD;
        switch (op & 7) {
        case 0: { /* register */
            int rc = rt_reactor_register(r, s.fd[k]);
            if (s.reg[k]) {
                FUZZ_CHECK(rc == -EEXIST);
            } else {
                FUZZ_CHECK(rc == 0);
                s.reg[k] = true;
                s.rd[k] = true;
            }
            break;
        }
        case 1: { /* deregister: wakes a stored waker at once */
            int rc = rt_reactor_deregister(r, s.fd[k]);
            if (!s.reg[k]) {
                FUZZ_CHECK(rc == -EBADF);
            } else {
                FUZZ_CHECK(rc == 0);
                s.reg[k] = false;
                if (s.waiting[k])
                    s.mwakes++;
                s.waiting[k] = false;
            }
            break;
        }
        case 2: /* the peer writes a byte: k becomes readable */
            if (s.bytes[k] < MAX_BYTES) {
                FUZZ_CHECK(write(s.fd[k ^ 1], "x", 1) == 1);
                s.bytes[k]++;
            }
            break;
        case 3: { /* a read */
            char buf[MAX_BYTES + 1];
            ssize_t res = 0;
            enum rt_poll p =
                rt_poll_read(r, s.fd[k], buf, sizeof buf, &cx, &res);
            if (!s.reg[k]) {
                FUZZ_CHECK(p == RT_READY && res == -EBADF);
            } else if (s.rd[k] && s.bytes[k] > 0) {
                FUZZ_CHECK(p == RT_READY && res == s.bytes[k]);
                s.bytes[k] = 0;
                /* Short (buf has room for one more byte than can be
                 * queued) on a stream socket: the edge is used up. */
                s.rd[k] = false;
            } else {
                FUZZ_CHECK(p == RT_PENDING);
                s.rd[k] = false;
                s.waiting[k] = true;
            }
            break;
        }
        case 4:
        case 5: { /* turn(0): parked readers whose peer wrote wake */
            int expect = 0;
            for (int j = 0; j < NFD; j++) {
                if (s.reg[j] && !s.rd[j] && s.bytes[j] > 0) {
                    s.rd[j] = true;
                    if (s.waiting[j])
                        expect++;
                    s.waiting[j] = false;
                }
            }
            s.mwakes += expect;
            FUZZ_CHECK(rt_reactor_turn(r, 0) == expect);
            break;
        }
        case 6: /* notify: the next turn returns at once, waking nobody */
            FUZZ_CHECK(rt_reactor_notify(r) == 0);
            break;
        default: { /* a far-off timer, armed or cancelled */
            int t = k % NTIMERS;
            if (k & 2) {
                FUZZ_CHECK(rt_reactor_timer_arm(r, &timers[t], UINT64_MAX / 2,
                                                &w) == 0);
                s.timer_armed[t] = true;
            } else {
                rt_reactor_timer_cancel(r, &timers[t]);
                s.timer_armed[t] = false;
            }
            break;
        }
        }
        check_model(r);
    }
    rt_reactor_free(r);
    for (int t = 0; t < NTIMERS; t++)
        FUZZ_CHECK(!rt_timer_armed(&timers[t]));
    FUZZ_CHECK(s.refs == 0);
    for (int k = 0; k < NFD; k++)
        close(s.fd[k]);
    return 0;
}

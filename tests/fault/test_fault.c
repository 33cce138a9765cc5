/* The fault walk: every call the runtime makes through common/sys.h, failed
 * one at a time, on this backend.
 *
 * A scripted workload (spawn + sleep + join, a channel, socketpair IO,
 * accept/connect on 127.0.0.1, the blocking pool; the watchdog on) runs
 * once to count the calls at each site. Then, for every site, every n up to its
 * count and every error that site can produce, a forked child arms "the nth
 * call at this site fails with that error", runs the workload, disarms, and
 * runs it again. The child checks that:
 *  - EINTR never surfaces (the runtime retries it) and the run succeeds;
 *  - any other error either is absorbed (the run succeeds) or surfaces as
 *    exactly that negative errno from the API, with only its consequences
 *    (a reset or closed peer) elsewhere: it is never lost nor changed;
 *  - no fd is left open, and (in the ASan tree) no memory leaks at exit;
 *  - the same workload then succeeds in the same process.
 * The parent gives each child an alarm(); a hang kills it and fails the
 * test. Each child starts from a fresh process, so the blocking pool's
 * threads of one run never leak into the next.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "check.h"
#include <greenfut/rt.h>
#include "sys.h"
#include <greenfut/watchdog.h>

#define CHILD_ALARM_S 20
#define IO_CHUNK      1000
#define IO_CHUNKS     3
#define CHAN_MSGS     3
#define BLOCKING_RET  42
#define SHORT         (-ENODATA) /* a stream ended before all its bytes */

/* Outcome of each step of one workload run: 0 or a negative errno. */
enum step {
    STEP_SPAWN,
    STEP_JOIN,
    STEP_CHAN,
    STEP_PAIR_REGISTER,
    STEP_PAIR_WRITE,
    STEP_PAIR_READ,
    STEP_PIPE_REGISTER,
    STEP_PIPE_WRITE,
    STEP_PIPE_READ,
    STEP_LISTEN_REGISTER,
    STEP_ACCEPT,
    STEP_SERVER_WRITE,
    STEP_CONNECT,
    STEP_CLIENT_READ,
    STEP_BLOCKING,
    STEP_RUN,
    NSTEPS
};

static const char *const step_names[NSTEPS] = {
    "spawn",           "join",        "channel",
    "pair register",   "pair write",  "pair read",
    "pipe register",   "pipe write",  "pipe read",
    "listen register", "accept",      "server write",
    "connect",         "client read", "blocking",
    "rt_run",
};

/* State shared by the workload's tasks; reset before each run. */
static struct {
    int rc[NSTEPS];
    int lfd; /* listener: closed by whoever finishes with it first */
    struct sockaddr_in addr;
    struct rt_chan ch;
} g;

static void fail_step(enum step s, int rc)
{
    if (g.rc[s] == 0)
        g.rc[s] = rc;
}

static void close_listener(void)
{
    if (g.lfd >= 0) {
        rt_close(g.lfd);
        g.lfd = -1;
    }
}

struct sleeper {
    RT_FRAME;
};

static enum rt_poll sleeper(void *self)
{
    struct sleeper *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, 1000000);
    RT_RETURN(f, 7);
    RT_END(f);
}

struct producer {
    RT_FRAME;
    int i;
    int msg;
    int rc;
};

static enum rt_poll producer(void *self)
{
    struct producer *f = self;
    RT_BEGIN(f);
    for (f->i = 1; f->i <= CHAN_MSGS; f->i++) {
        f->msg = f->i;
        RT_AWAIT_SEND(f, f->rc, &g.ch, &f->msg);
        if (f->rc < 0)
            fail_step(STEP_CHAN, f->rc);
    }
    rt_chan_close(&g.ch);
    RT_END(f);
}

/* Writes IO_CHUNKS chunks to fd, then closes it (EOF for the reader). */
struct writer {
    RT_FRAME;
    int fd;
    enum step step;
    char buf[IO_CHUNK];
    size_t off;
    ssize_t n;
};

static enum rt_poll writer(void *self)
{
    struct writer *f = self;
    RT_BEGIN(f);
    memset(f->buf, 'w', sizeof f->buf);
    for (f->off = 0; f->off < IO_CHUNK * IO_CHUNKS; f->off += (size_t)f->n) {
        RT_AWAIT_WRITE(f, f->n, f->fd, f->buf, sizeof f->buf);
        if (f->n < 0) {
            fail_step(f->step, (int)f->n);
            break;
        }
    }
    rt_close(f->fd);
    RT_END(f);
}

/* Reads fd to EOF; the step fails with SHORT when fewer bytes came. */
struct reader {
    RT_FRAME;
    int fd;
    enum step step;
    size_t want;
    char buf[IO_CHUNK];
    size_t got;
    ssize_t n;
};

static enum rt_poll reader(void *self)
{
    struct reader *f = self;
    RT_BEGIN(f);
    for (;;) {
        RT_AWAIT_READ(f, f->n, f->fd, f->buf, sizeof f->buf);
        if (f->n <= 0)
            break;
        f->got += (size_t)f->n;
    }
    if (f->n < 0)
        fail_step(f->step, (int)f->n);
    else if (f->got != f->want)
        fail_step(f->step, SHORT);
    rt_close(f->fd);
    RT_END(f);
}

/* Accepts one connection and writes IO_CHUNKS chunks to it. */
struct acceptor {
    RT_FRAME;
    int fd;
    struct writer w;
};

static enum rt_poll acceptor(void *self)
{
    struct acceptor *f = self;
    RT_BEGIN(f);
    RT_AWAIT_ACCEPT(f, f->fd, g.lfd);
    if (f->fd < 0) {
        /* -EBADF: the client gave up and closed the listener first. */
        if (f->fd != -EBADF)
            fail_step(STEP_ACCEPT, f->fd);
        close_listener(); /* resets a connection still in the backlog */
    } else {
        close_listener();
        f->w = (struct writer){.fd = f->fd, .step = STEP_SERVER_WRITE};
        RT_AWAIT_CALL(f, writer, &f->w);
    }
    RT_END(f);
}

/* Moves IO_CHUNKS chunks from fds[1] to fds[0]: registers both, a writer
 * task writes, this child reads; each failure is charged to its step. */
struct transfer {
    RT_FRAME;
    int fds[2]; /* [0] read end, [1] write end; closed by the end */
    enum step reg, wr, rd;
    int rc;
    struct rt_join j;
    struct reader r;
};

static enum rt_poll transfer(void *self)
{
    struct transfer *f = self;
    RT_BEGIN(f);
    f->rc = rt_register(f->fds[0]);
    if (f->rc == 0)
        f->rc = rt_register(f->fds[1]);
    if (f->rc < 0) {
        fail_step(f->reg, f->rc);
        rt_close(f->fds[0]); /* -EBADF when not registered: closes anyway */
        rt_close(f->fds[1]);
    } else {
        f->rc =
            rt_spawn(writer, &(struct writer){.fd = f->fds[1], .step = f->wr},
                     sizeof(struct writer), &f->j);
        if (f->rc < 0) {
            fail_step(STEP_SPAWN, f->rc);
            rt_close(f->fds[1]);
            rt_close(f->fds[0]);
        } else {
            f->r = (struct reader){
                .fd = f->fds[0], .step = f->rd, .want = IO_CHUNK * IO_CHUNKS};
            RT_AWAIT_CALL(f, reader, &f->r);
            RT_AWAIT_JOIN(f, f->rc, &f->j);
            if (f->rc < 0)
                fail_step(STEP_JOIN, f->rc);
        }
    }
    RT_END(f);
}

static intptr_t blocking_fn(void *arg)
{
    (void)arg;
    return BLOCKING_RET;
}

struct root {
    RT_FRAME;
    struct rt_join j;
    struct rt_join j2;
    int rc;
    int msg;
    int sum;
    int sv[2];
    int cfd;
    struct reader r;
    struct transfer t;
    intptr_t v;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    /* Spawn, sleep, join. */
    f->rc =
        rt_spawn(sleeper, &(struct sleeper){0}, sizeof(struct sleeper), &f->j);
    if (f->rc < 0) {
        fail_step(STEP_SPAWN, f->rc);
    } else {
        RT_AWAIT_JOIN(f, f->rc, &f->j);
        if (f->rc < 0)
            fail_step(STEP_JOIN, f->rc);
        else if (f->j.ret != 7)
            fail_step(STEP_JOIN, -EPROTO);
    }

    /* A channel between two tasks. */
    f->rc = rt_chan_init(&g.ch, sizeof(int), 2);
    if (f->rc < 0) {
        fail_step(STEP_CHAN, f->rc);
    } else {
        f->rc = rt_spawn(producer, &(struct producer){0},
                         sizeof(struct producer), &f->j);
        if (f->rc < 0) {
            fail_step(STEP_SPAWN, f->rc);
        } else {
            for (f->sum = 0;;) {
                RT_AWAIT_RECV(f, f->rc, &g.ch, &f->msg);
                if (f->rc <= 0)
                    break;
                f->sum += f->msg;
            }
            if (f->rc < 0)
                fail_step(STEP_CHAN, f->rc);
            else if (f->sum != CHAN_MSGS * (CHAN_MSGS + 1) / 2)
                fail_step(STEP_CHAN, -EPROTO);
            RT_AWAIT_JOIN(f, f->rc, &f->j);
            if (f->rc < 0)
                fail_step(STEP_JOIN, f->rc);
        }
        rt_chan_fini(&g.ch);
    }

    /* A socketpair: a writer task, the child reads. */
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv));
    f->t = (struct transfer){.fds = {f->sv[0], f->sv[1]},
                             .reg = STEP_PAIR_REGISTER,
                             .wr = STEP_PAIR_WRITE,
                             .rd = STEP_PAIR_READ};
    RT_AWAIT_CALL(f, transfer, &f->t);

    /* A pipe: write(2) rather than send(2). */
    CHECK_OK(pipe2(f->sv, O_CLOEXEC));
    f->t = (struct transfer){.fds = {f->sv[0], f->sv[1]},
                             .reg = STEP_PIPE_REGISTER,
                             .wr = STEP_PIPE_WRITE,
                             .rd = STEP_PIPE_READ};
    RT_AWAIT_CALL(f, transfer, &f->t);

    /* TCP on 127.0.0.1: an acceptor task, this task connects and reads. */
    g.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK_GE(g.lfd, 0);
    g.addr = (struct sockaddr_in){.sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_OK(bind(g.lfd, (struct sockaddr *)&g.addr, sizeof g.addr));
    CHECK_OK(listen(g.lfd, 4));
    CHECK_OK(getsockname(g.lfd, (struct sockaddr *)&g.addr,
                         &(socklen_t){sizeof g.addr}));
    f->rc = rt_register(g.lfd);
    if (f->rc < 0) {
        fail_step(STEP_LISTEN_REGISTER, f->rc);
        close_listener();
    } else {
        f->rc = rt_spawn(acceptor, &(struct acceptor){0},
                         sizeof(struct acceptor), &f->j2);
        if (f->rc < 0) {
            fail_step(STEP_SPAWN, f->rc);
            close_listener();
        }
    }
    if (g.lfd >= 0) {
        f->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK_GE(f->cfd, 0);
        f->rc = rt_register(f->cfd);
        if (f->rc == 0)
            RT_AWAIT_CONNECT(f, f->rc, f->cfd, (struct sockaddr *)&g.addr,
                             sizeof g.addr);
        if (f->rc < 0) {
            fail_step(STEP_CONNECT, f->rc);
            rt_close(f->cfd);
            close_listener(); /* the acceptor wakes with -EBADF */
        } else {
            f->r = (struct reader){.fd = f->cfd,
                                   .step = STEP_CLIENT_READ,
                                   .want = IO_CHUNK * IO_CHUNKS};
            RT_AWAIT_CALL(f, reader, &f->r);
        }
        RT_AWAIT_JOIN(f, f->rc, &f->j2);
        if (f->rc < 0)
            fail_step(STEP_JOIN, f->rc);
    }

    /* The blocking pool. */
    RT_AWAIT_BLOCKING(f, f->v, blocking_fn, NULL);
    if (f->v < 0)
        fail_step(STEP_BLOCKING, (int)f->v);
    else if (f->v != BLOCKING_RET)
        fail_step(STEP_BLOCKING, -EPROTO);
    RT_END(f);
}

static void run_workload(void)
{
    memset(&g, 0, sizeof g);
    g.lfd = -1;
    struct root r = {0};
    int rc = rt_run(root, &r, sizeof r, NULL);
    if (rc < 0)
        g.rc[STEP_RUN] = rc;
    CHECK_EQ(g.lfd, -1);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* What an error can turn into elsewhere: a peer that saw its other end
 * reset or closed. */
static int consequence(int rc)
{
    return rc == -ECONNRESET || rc == -EPIPE || rc == SHORT;
}

/* Checks one faulted run: see the file comment. */
static void check_outcome(enum rt_sys_site site, uint64_t nth, int err)
{
    int surfaced = 0, failed = 0;
    for (int s = 0; s < NSTEPS; s++) {
        int rc = g.rc[s];
        if (rc == 0)
            continue;
        failed = 1;
        if (rc == -err)
            surfaced = 1;
        else if (!consequence(rc) || err == EINTR) {
            fprintf(stderr, "%s #%llu failed with %s: step %s got %s instead\n",
                    rt_sys_site_name(site), (unsigned long long)nth,
                    strerror(err), step_names[s], strerror(-rc));
            exit(1);
        }
    }
    if (failed && !surfaced) {
        fprintf(stderr, "%s #%llu failed with %s: the error was lost\n",
                rt_sys_site_name(site), (unsigned long long)nth, strerror(err));
        exit(1);
    }
}

static void check_clean(const char *when)
{
    for (int s = 0; s < NSTEPS; s++) {
        if (g.rc[s] != 0) {
            fprintf(stderr, "%s: step %s failed: %s\n", when, step_names[s],
                    strerror(-g.rc[s]));
            exit(1);
        }
    }
}

/* The child of one walk step. Exits 0 when the fault fired and every check
 * held, 2 when the nth call was not reached this time, 1 on a failure. */
static void child(enum rt_sys_site site, uint64_t nth, int err)
{
    alarm(CHILD_ALARM_S);
    int fds = open_fds();
    CHECK_OK(rt_sys_fault_arm(site, nth, err));
    run_workload();
    rt_sys_fault_disarm();
    int fired = rt_sys_fault_fired();
    if (fired)
        check_outcome(site, nth, err);
    else
        check_clean("unfired fault");
    CHECK_EQ(open_fds(), fds);
    run_workload();
    check_clean("the run after the fault");
    CHECK_EQ(open_fds(), fds);
    exit(fired ? 0 : 2); /* exit, not _exit: LeakSanitizer runs at exit */
}

/* The errors each site can produce, as the walk injects them. docs/
 * faults-and-fuzzing.md explains the choice. */
static int site_errors(enum rt_sys_site site, int out[3])
{
    switch (site) {
    case RT_SYS_MALLOC:
    case RT_SYS_CALLOC:
    case RT_SYS_REALLOC:
    case RT_SYS_MMAP:
    case RT_SYS_MPROTECT:
    case RT_SYS_EPOLL_CTL:
        out[0] = ENOMEM;
        return 1;
    case RT_SYS_EPOLL_CREATE:
    case RT_SYS_EVENTFD:
        out[0] = EMFILE;
        return 1;
    case RT_SYS_EPOLL_WAIT:
    case RT_SYS_EVENTFD_READ:
    case RT_SYS_EVENTFD_WRITE:
        out[0] = EINTR;
        return 1;
    case RT_SYS_READ:
    case RT_SYS_WRITE:
    case RT_SYS_SEND:
        out[0] = EINTR;
        out[1] = ECONNRESET;
        return 2;
    case RT_SYS_ACCEPT:
        out[0] = EINTR;
        out[1] = EMFILE;
        out[2] = ECONNABORTED;
        return 3;
    case RT_SYS_CONNECT:
        out[0] = EINTR;
        out[1] = ECONNREFUSED;
        return 2;
    case RT_SYS_THREAD:
        out[0] = EAGAIN;
        return 1;
    case RT_SYS_SIGALTSTACK:
        out[0] = ENOMEM;
        return 1;
    default:
        return 0;
    }
}

/* Runs `fn` in a child with a pipe back; returns its wait status. */
static int run_child(enum rt_sys_site site, uint64_t nth, int err)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK_GE(pid, 0);
    if (pid == 0)
        child(site, nth, err);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    return st;
}

int main(void)
{
    /* Writes to a pipe whose reader is gone raise SIGPIPE
     * (include/greenfut/io.h spares only sockets); a program that writes pipes
     * ignores it. */
    signal(SIGPIPE, SIG_IGN);
    /* The watchdog on, with a threshold no step comes near: its calloc
     * calls and its thread's pthread_create are walked like the rest (its
     * failures are absorbed: the run goes on without a watchdog). */
    rt_watchdog_set_ms(600000);
    /* Count the calls of one clean run, in a child like the others (the
     * blocking pool's threads must not exist in the walker). */
    uint64_t counts[RT_SYS_NSITES];
    int p[2];
    CHECK_OK(pipe(p));
    fflush(NULL);
    pid_t pid = fork();
    CHECK_GE(pid, 0);
    if (pid == 0) {
        alarm(CHILD_ALARM_S);
        rt_sys_count_start();
        run_workload();
        rt_sys_fault_disarm();
        check_clean("the counting run");
        for (int s = 0; s < RT_SYS_NSITES; s++)
            counts[s] = rt_sys_calls((enum rt_sys_site)s);
        CHECK_EQ(write(p[1], counts, sizeof counts), (ssize_t)sizeof counts);
        exit(0);
    }
    close(p[1]);
    CHECK_EQ(read(p[0], counts, sizeof counts), (ssize_t)sizeof counts);
    close(p[0]);
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
#if defined(RT_BACKEND_STACKLESS) && RT_BACKEND_STACKLESS
    /* The executor's own allocation is a site too (besides its reactor's),
     * so the walk fails it: rt_run must then say -ENOMEM and leak nothing. */
    CHECK_GE(counts[RT_SYS_CALLOC], 2);
#endif

    int walked = 0, fired = 0, failures = 0, reached = 0;
    for (int s = 0; s < RT_SYS_NSITES; s++) {
        enum rt_sys_site site = (enum rt_sys_site)s;
        int errs[3];
        int nerr = site_errors(site, errs);
        printf("%-15s %4llu calls\n", rt_sys_site_name(site),
               (unsigned long long)counts[s]);
        if (counts[s])
            reached++;
        for (uint64_t n = 1; n <= counts[s]; n++) {
            for (int e = 0; e < nerr; e++) {
                st = run_child(site, n, errs[e]);
                walked++;
                if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                    fired++;
                } else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 2)) {
                    failures++;
                    fprintf(stderr, "FAIL: %s #%llu with %s: %s %d\n",
                            rt_sys_site_name(site), (unsigned long long)n,
                            strerror(errs[e]),
                            WIFSIGNALED(st) ? "killed by signal"
                                            : "exit status",
                            WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                }
            }
        }
    }
    printf("%s: %d sites reached, %d faults walked, %d fired, %d failed\n",
           rt_backend_name(), reached, walked, fired, failures);
    /* The workload must reach the sites it was written for. */
    CHECK_GT(counts[RT_SYS_EPOLL_CTL], 0);
    CHECK_GT(counts[RT_SYS_EPOLL_WAIT], 0);
    CHECK_GT(counts[RT_SYS_READ], 0);
    CHECK_GT(counts[RT_SYS_SEND], 0);
    CHECK_GT(counts[RT_SYS_WRITE], 0);
    CHECK_GT(counts[RT_SYS_ACCEPT], 0);
    CHECK_GT(counts[RT_SYS_CONNECT], 0);
    CHECK_GT(counts[RT_SYS_THREAD], 1); /* a pool worker and the watchdog */
    if (strcmp(rt_backend_name(), "stackful") == 0)
        CHECK_GT(counts[RT_SYS_SIGALTSTACK], 0); /* the overflow reporter */
    CHECK_GT(fired, 0);
    CHECK_EQ(failures, 0);
    return 0;
}

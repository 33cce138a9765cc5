/* IO futures over a socketpair (1 MiB each way at once, byte-exact) and over
 * TCP loopback (accept + connect). Every fd is closed with fut_close so no
 * waker is left behind (the ASan build checks for leaks). */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/combinators.h>
#include <greenfut/leaf.h>
#include <greenfut/task.h>

#define LEN (1u << 20)

/* One side: sends `tx` and receives into `rx` at the same time. */
struct side {
    struct fut_future base;
    unsigned state;
    int fd;
    const char *tx;
    char *rx;
    struct fut_write_all w;
    struct fut_read_exact r;
    struct fut_future *futs[2];
    void *outs[2];
    ssize_t wres, rres;
    struct fut_join_all both;
};

static enum rt_poll side_poll(struct fut_future *self, struct rt_cx *cx,
                              void *out)
{
    struct side *f = (struct side *)self;
    FUT_BEGIN(f->state);
    fut_write_all_init(&f->w, f->fd, f->tx, LEN);
    fut_read_exact_init(&f->r, f->fd, f->rx, LEN);
    f->futs[0] = &f->w.base;
    f->futs[1] = &f->r.base;
    f->outs[0] = &f->wres;
    f->outs[1] = &f->rres;
    CHECK_OK(fut_join_all_init(&f->both, f->futs, f->outs, 2));
    FUT_AWAIT(&f->both, NULL);
    CHECK_EQ(f->wres, LEN);
    CHECK_EQ(f->rres, LEN);
    if (out)
        *(int *)out = 0;
    FUT_END;
}

static void side_drop(struct fut_future *self)
{
    fut_drop(&((struct side *)self)->both.base);
}

static const struct fut_vtable side_vt = {side_poll, side_drop, "side"};

static void fill(char *buf, unsigned seed)
{
    for (size_t i = 0; i < LEN; i++)
        buf[i] = (char)((i * 31u + seed) >> 3);
}

static void socketpair_both_ways(void)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(fut_register(sv[0]));
    CHECK_OK(fut_register(sv[1]));
    char *a = malloc(LEN), *b = malloc(LEN), *ra = malloc(LEN),
         *rb = malloc(LEN);
    CHECK(a && b && ra && rb);
    fill(a, 1);
    fill(b, 7);
    struct side s0 = {.base = {&side_vt}, .fd = sv[0], .tx = a, .rx = ra};
    struct side s1 = {.base = {&side_vt}, .fd = sv[1], .tx = b, .rx = rb};
    struct fut_join j0, j1;
    CHECK_OK(fut_spawn(&s0.base, sizeof(s0), sizeof(int), &j0));
    CHECK_OK(fut_spawn(&s1.base, sizeof(s1), sizeof(int), &j1));
    int rc = -1;
    CHECK_OK(fut_join(&j0, &rc));
    CHECK_EQ(rc, 0);
    CHECK_OK(fut_join(&j1, &rc));
    CHECK_EQ(rc, 0);
    CHECK(memcmp(ra, b, LEN) == 0);
    CHECK(memcmp(rb, a, LEN) == 0);
    CHECK_OK(fut_close(sv[0]));
    CHECK_OK(fut_close(sv[1]));
    free(a);
    free(b);
    free(ra);
    free(rb);
}

/* Server: accept one connection, read 5 bytes, answer "world". */
struct server {
    struct fut_future base;
    unsigned state;
    int lfd, cfd;
    char buf[5];
    ssize_t n;
    struct fut_accept acc;
    struct fut_read_exact rd;
    struct fut_write_all wr;
};

static enum rt_poll server_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct server *f = (struct server *)self;
    (void)out;
    FUT_BEGIN(f->state);
    fut_accept_init(&f->acc, f->lfd, NULL, NULL);
    FUT_AWAIT(&f->acc, &f->cfd);
    CHECK_OK(f->cfd);
    fut_read_exact_init(&f->rd, f->cfd, f->buf, 5);
    FUT_AWAIT(&f->rd, &f->n);
    CHECK_EQ(f->n, 5);
    CHECK(memcmp(f->buf, "hello", 5) == 0);
    fut_write_all_init(&f->wr, f->cfd, "world", 5);
    FUT_AWAIT(&f->wr, &f->n);
    CHECK_EQ(f->n, 5);
    CHECK_OK(fut_close(f->cfd));
    FUT_END;
}

static const struct fut_vtable server_vt = {server_poll, NULL, "server"};

/* Client: connect, send "hello", expect "world" then EOF. */
struct client {
    struct fut_future base;
    unsigned state;
    int fd, rc;
    struct sockaddr_in addr;
    char buf[8];
    ssize_t n;
    struct fut_connect con;
    struct fut_write_all wr;
    struct fut_read_exact rd;
};

static enum rt_poll client_poll(struct fut_future *self, struct rt_cx *cx,
                                void *out)
{
    struct client *f = (struct client *)self;
    (void)out;
    FUT_BEGIN(f->state);
    fut_connect_init(&f->con, f->fd, (struct sockaddr *)&f->addr,
                     sizeof(f->addr));
    FUT_AWAIT(&f->con, &f->rc);
    CHECK_OK(f->rc);
    fut_write_all_init(&f->wr, f->fd, "hello", 5);
    FUT_AWAIT(&f->wr, &f->n);
    CHECK_EQ(f->n, 5);
    fut_read_exact_init(&f->rd, f->fd, f->buf, 8);
    FUT_AWAIT(&f->rd, &f->n);
    CHECK_EQ(f->n, 5); /* short: EOF after "world" */
    CHECK(memcmp(f->buf, "world", 5) == 0);
    FUT_END;
}

static const struct fut_vtable client_vt = {client_poll, NULL, "client"};

static void tcp_loopback(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(lfd);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_OK(bind(lfd, (struct sockaddr *)&a, sizeof(a)));
    CHECK_OK(listen(lfd, 8));
    socklen_t alen = sizeof(a);
    CHECK_OK(getsockname(lfd, (struct sockaddr *)&a, &alen));
    CHECK_OK(fut_register(lfd));
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(cfd);
    CHECK_OK(fut_register(cfd));

    struct server s = {.base = {&server_vt}, .lfd = lfd};
    struct client c = {.base = {&client_vt}, .fd = cfd, .addr = a};
    struct fut_join js, jc;
    CHECK_OK(fut_spawn(&s.base, sizeof(s), 0, &js));
    CHECK_OK(fut_spawn(&c.base, sizeof(c), 0, &jc));
    CHECK_OK(fut_join(&js, NULL));
    CHECK_OK(fut_join(&jc, NULL));
    CHECK_OK(fut_close(cfd));
    CHECK_OK(fut_close(lfd));
}

/* A read dropped while pending (the loser of a timeout) takes its waker
 * out of the fd slot at once: the reactor counts no waiter, and the task's
 * memory goes when the task ends, not when the fd is closed. */
static void dropped_read_withdraws_its_waker(void)
{
    int sv[2];
    CHECK_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK_OK(fut_register(sv[0]));
    char c;
    struct fut_read rd;
    fut_read_init(&rd, sv[0], &c, 1);
    struct fut_timeout to;
    CHECK_OK(fut_timeout_init(&to, &rd.base, NULL, 1000000));
    CHECK_OK(fut_spawn(&to.base, sizeof(to), sizeof(int), NULL));
    CHECK_OK(fut_run());
    struct rt_reactor_stats st;
    CHECK_OK(rt_reactor_stats(fut_reactor(), &st));
    CHECK_EQ(st.io_waiters, 0);
    struct fut_stats fs;
    CHECK_OK(fut_stats(&fs));
    CHECK_EQ(fs.tasks_allocated, 0);
    CHECK_OK(fut_close(sv[0]));
    close(sv[1]);
}

int main(void)
{
    struct fut_executor *ex;
    CHECK_OK(fut_executor_new(&ex));
    socketpair_both_ways();
    tcp_loopback();
    dropped_read_withdraws_its_waker();
    fut_executor_free(ex);
    return 0;
}

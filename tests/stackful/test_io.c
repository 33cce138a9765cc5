/* Blocking IO between green threads: 1 MiB each way over a socketpair,
 * byte-exact, and a TCP accept/connect round trip on loopback. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include <greenfut/gt.h>

#define TOTAL (1024u * 1024u)

struct pipe_job {
    int fd;
    unsigned seed;
};

static unsigned char pattern(size_t i, unsigned seed)
{
    return (unsigned char)((i * 7u + seed + i / 251u) & 0xffu);
}

static void *writer(void *arg)
{
    struct pipe_job *j = arg;
    unsigned char buf[4096 + 17]; /* odd size: writes end mid-page */
    size_t sent = 0;
    while (sent < TOTAL) {
        size_t n = TOTAL - sent < sizeof(buf) ? TOTAL - sent : sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(sent + i, j->seed);
        ssize_t w = gt_write(j->fd, buf, n);
        CHECK_GT(w, 0);
        sent += (size_t)w;
    }
    CHECK_OK(shutdown(j->fd, SHUT_WR) == 0 ? 0 : -errno);
    return NULL;
}

static void *reader(void *arg)
{
    struct pipe_job *j = arg;
    unsigned char buf[3000];
    size_t got = 0;
    for (;;) {
        ssize_t r = gt_read(j->fd, buf, sizeof(buf));
        CHECK_GE(r, 0);
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            CHECK_EQ(buf[i], pattern(got + (size_t)i, j->seed));
        got += (size_t)r;
    }
    CHECK_EQ(got, TOTAL);
    return NULL;
}

static void *server(void *arg)
{
    int lfd = *(int *)arg;
    int c = gt_accept(lfd, NULL, NULL);
    CHECK_GE(c, 0);
    char buf[5];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t r = gt_read(c, buf + got, sizeof(buf) - got);
        CHECK_GT(r, 0);
        got += (size_t)r;
    }
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(gt_write(c, "world", 5), 5);
    CHECK_OK(gt_close(c));
    return NULL;
}

static void *root(void *arg)
{
    (void)arg;
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_OK(gt_register(sv[0]));
    CHECK_OK(gt_register(sv[1]));
    CHECK_EQ(gt_register(sv[1]), -EEXIST);
    struct pipe_job a = {sv[0], 3}, b = {sv[1], 11};
    int64_t ids[4] = {
        gt_spawn(writer, &a, NULL),
        gt_spawn(writer, &b, NULL),
        gt_spawn(reader, &(struct pipe_job){sv[1], 3}, NULL),
        gt_spawn(reader, &(struct pipe_job){sv[0], 11}, NULL),
    };
    for (int i = 0; i < 4; i++)
        CHECK_OK(gt_join(ids[i], NULL));
    CHECK_OK(gt_close(sv[0]));
    CHECK_OK(gt_close(sv[1]));
    CHECK_EQ(gt_read(sv[0], &a, 1), -EBADF);

    /* accept/connect on loopback */
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_GE(lfd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(sa);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, alen), 0);
    CHECK_EQ(listen(lfd, 4), 0);
    CHECK_EQ(getsockname(lfd, (struct sockaddr *)&sa, &alen), 0);
    CHECK_OK(gt_register(lfd));
    int64_t srv = gt_spawn(server, &lfd, NULL);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_OK(gt_register(cfd));
    CHECK_OK(gt_connect(cfd, (struct sockaddr *)&sa, alen));
    CHECK_EQ(gt_write(cfd, "hello", 5), 5);
    char buf[5];
    size_t got = 0;
    while (got < sizeof(buf)) {
        ssize_t r = gt_read(cfd, buf + got, sizeof(buf) - got);
        CHECK_GT(r, 0);
        got += (size_t)r;
    }
    CHECK(memcmp(buf, "world", 5) == 0);
    CHECK_OK(gt_join(srv, NULL));
    CHECK_OK(gt_close(cfd));
    CHECK_OK(gt_close(lfd));
    return NULL;
}

int main(void)
{
    CHECK_OK(gt_run(NULL, root, NULL, NULL));
    return 0;
}

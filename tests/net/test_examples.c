/* The example programs as a user runs them: each prints its backend and
 * port first, serves, and on SIGTERM/SIGINT stops accepting, ends its idle
 * connections and exits 0. The echo load client runs against the echo
 * server. Every wait is on a pipe, a socket or waitpid. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "check.h"
#include "netutil.h"

static char resp[4096];

/* Starts argv with stdout on a pipe; *out gets the pipe's read end. */
static pid_t start(const char *const argv[], int *out)
{
    int p[2];
    CHECK_EQ(pipe(p), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* A failed CHECK exits the test at once: the server must not
         * outlive it (it holds the test's stderr, which ctest waits on). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        char *v[8] = {0}; /* execv wants writable strings */
        for (int i = 0; i < 7 && argv[i]; i++)
            v[i] = strdup(argv[i]);
        execv(v[0], v);
        _exit(127);
    }
    close(p[1]);
    *out = p[0];
    return pid;
}

/* Reads the first line and checks backend and port; returns the port. */
static int first_line(int fd, const char *prog)
{
    char line[256];
    size_t len = 0;
    while (len == 0 || line[len - 1] != '\n') {
        CHECK_LT(len, sizeof line - 1);
        CHECK_EQ(net_recv(fd, line + len, 1), 1);
        len++;
    }
    line[len] = '\0';
    char want[64];
    snprintf(want, sizeof want, "%s backend=%s port=", prog, rt_backend_name());
    CHECK(strncmp(line, want, strlen(want)) == 0);
    int port = atoi(line + strlen(want));
    CHECK_GT(port, 0);
    return port;
}

static void exits_zero(pid_t pid)
{
    int st;
    CHECK_EQ(waitpid(pid, &st, 0), pid);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

static void http_program(void)
{
    const char *const argv[] = {HTTP_BIN, "-p", "0", "-t", "5000", NULL};
    int out;
    pid_t pid = start(argv, &out);
    int port = first_line(out, "http");
    int idle = net_connect(port);
    net_send(idle, NET_GET_HELLO, NET_GET_HELLO_LEN);
    net_recv_response(idle, resp, sizeof resp);
    CHECK(strcmp(resp, net_hello_response) == 0);
    int fresh = net_connect(port); /* accepted, nothing sent */
    CHECK_EQ(kill(pid, SIGTERM), 0);
    int eof;
    CHECK_EQ(net_recv_all(idle, resp, sizeof resp, &eof), 0);
    CHECK_EQ(eof, 1);
    CHECK_EQ(net_recv_all(fresh, resp, sizeof resp, &eof), 0);
    CHECK_EQ(eof, 1);
    exits_zero(pid);
    close(idle);
    close(fresh);
    close(out);
}

static void echo_program(void)
{
    const char *const argv[] = {ECHO_BIN, "server", "0", NULL};
    int out;
    pid_t pid = start(argv, &out);
    int port = first_line(out, "echo");
    int fd = net_connect(port);
    net_send(fd, "ping", 4);
    size_t got = 0;
    while (got < 4) {
        ssize_t n = net_recv(fd, resp + got, 4 - got);
        CHECK_GT(n, 0);
        got += (size_t)n;
    }
    CHECK(memcmp(resp, "ping", 4) == 0);

    char portarg[16];
    snprintf(portarg, sizeof portarg, "%d", port);
    const char *const cargv[] = {ECHO_BIN, "client", portarg, "50",
                                 "20",     "100",    NULL};
    int cout;
    pid_t cpid = start(cargv, &cout);
    CHECK_EQ(first_line(cout, "echo"), port);
    int eof;
    size_t n = net_recv_all(cout, resp, sizeof resp - 1, &eof);
    resp[n] = '\0';
    CHECK_EQ(eof, 1);
    CHECK(strstr(resp, "round_trips=1000 ") != NULL);
    CHECK(strstr(resp, "p99_us=") != NULL);
    exits_zero(cpid);
    close(cout);

    CHECK_EQ(kill(pid, SIGINT), 0);
    CHECK_EQ(net_recv_all(fd, resp, sizeof resp, &eof), 0);
    CHECK_EQ(eof, 1);
    exits_zero(pid);
    close(fd);
    close(out);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    http_program();
    echo_program();
    return 0;
}

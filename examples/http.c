/* The HTTP example: the server of http_server.h as a program.
 *
 *   http_stackful [-a ADDR] [-p PORT] [-r DIR] [-t HEADER_TIMEOUT_MS]
 *                 [-w WRITE_TIMEOUT_MS]
 *
 * Prints "http backend=<name> port=<port>" first, serves until SIGINT or
 * SIGTERM, lets in-flight requests finish (at most the drain timeout) and
 * exits 0. -p 0 (the default) picks a free port. -w is how long one write
 * may wait for a client that takes no bytes before it is reset.
 */
#include "http_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "example_util.h"

static void usage(void)
{
    fprintf(stderr, "usage: http [-a ADDR] [-p PORT] [-r DIR] "
                    "[-t HEADER_TIMEOUT_MS] [-w WRITE_TIMEOUT_MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct http_server_config cfg = {.stop_fd = -1};
    int opt;
    while ((opt = getopt(argc, argv, "a:p:r:t:w:")) != -1) {
        if (opt == 'a')
            cfg.addr = optarg;
        else if (opt == 'p')
            cfg.port = atoi(optarg);
        else if (opt == 'r')
            cfg.root = optarg;
        else if (opt == 't')
            cfg.header_timeout_ns = strtoull(optarg, NULL, 10) * 1000000ull;
        else if (opt == 'w')
            cfg.write_timeout_ns = strtoull(optarg, NULL, 10) * 1000000ull;
        else
            usage();
    }
    if (optind != argc)
        usage();
    (void)example_raise_nofile();
    cfg.stop_fd = example_stop_signals();
    if (cfg.stop_fd < 0) {
        fprintf(stderr, "http: signalfd: %s\n", strerror(-cfg.stop_fd));
        return 1;
    }
    struct http_server s;
    int rc = http_server_init(&s, &cfg);
    if (rc < 0) {
        fprintf(stderr, "http: listen: %s\n", strerror(-rc));
        return 1;
    }
    printf("http backend=%s port=%d\n", rt_backend_name(), s.port);
    fflush(stdout);
    struct http_server_task t = {.s = &s};
    rc = rt_run(http_server_task, &t, sizeof t, NULL);
    http_server_fini(&s);
    close(cfg.stop_fd);
    fprintf(stderr,
            "http: stopped: %llu connections, %llu requests, %llu accept "
            "errors, %llu timeouts\n",
            (unsigned long long)s.stats.accepted,
            (unsigned long long)s.stats.requests,
            (unsigned long long)s.stats.accept_errors,
            (unsigned long long)s.stats.timeouts);
    if (rc < 0) {
        fprintf(stderr, "http: rt_run: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}

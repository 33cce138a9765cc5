/* Lab: memory at scale, byte by byte.
 *
 * N idle connections (socketpairs), one task each, parked in a read into a
 * BUF_BYTES heap buffer. Measured in a fresh child process, after every
 * task has parked, minus before:
 *   rss_bytes_per_conn     resident memory (/proc/self/statm) / N: what the
 *                          tasks cost in user space;
 *   virt_bytes_per_conn    address space / N: the stackful stack mappings
 *                          (stack plus guard page) show here in full, though
 *                          only their touched pages are resident;
 *   kernel_bytes_per_conn  page tables and kernel stacks / N (bh_kernel_bytes);
 *   slab_bytes_per_conn    the kernel's slab caches / N (Slab in
 *                          /proc/meminfo, machine-wide: the two sockets of
 *                          each pair, their files and inodes; other
 *                          processes' activity is noise in it).
 * Also printed: frame_bytes and buffer_bytes, the two sizes the program
 * sets, so that the page can split the RSS figure: on stackful the rest is
 * the stack's touched pages, on stackless the task's header and the
 * allocator's rounding. N is limited by the open-file limit (two fds per
 * connection). Rows: lab_memory,<backend>,N,<metric>. --check: every
 * connection's task parked and woke at close, and the resident cost per
 * connection is at least the buffer (nothing is counted twice, nothing
 * missed). Params: N (default 8000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab.h"
#include <greenfut/rt.h>

#define BUF_BYTES 512

struct conn {
    RT_FRAME;
    int fd;
    char *buf; /* on the heap: what a server allocates per connection */
    ssize_t n;
};

static long parked, woken; /* tasks that reached the read, that left it */

static enum rt_poll conn_task(void *self)
{
    struct conn *f = self;
    RT_BEGIN(f);
    f->buf = malloc(BUF_BYTES);
    if (!f->buf)
        bh_fail("lab_memory: out of memory");
    memset(f->buf, 0, BUF_BYTES); /* resident, as a used buffer is */
    parked++;
    RT_AWAIT_READ(f, f->n, f->fd, f->buf, BUF_BYTES);
    if (f->n == 0)
        woken++;
    free(f->buf);
    rt_close(f->fd);
    RT_END(f);
}

struct root {
    RT_FRAME;
    long n;
    long i;
    int *peers;
    double *out; /* rss, virt, kernel, slab per connection */
    size_t rss0, virt0, kern0, slab0;
};

/* Address space of this process now, in bytes (/proc/self/statm). */
static size_t virt_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0;
    if (!f || fscanf(f, "%lu", &size) != 1)
        bh_fail("lab_memory: cannot read /proc/self/statm");
    fclose(f);
    return (size_t)size * (size_t)sysconf(_SC_PAGESIZE);
}

/* The kernel's slab caches now, machine-wide, in bytes. */
static size_t slab_bytes(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    unsigned long kb = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "Slab: %lu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return (size_t)kb * 1024u;
}

static enum rt_poll root_task(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->rss0 = bh_rss_bytes();
    f->virt0 = virt_bytes();
    f->kern0 = bh_kernel_bytes();
    f->slab0 = slab_bytes();
    for (f->i = 0; f->i < f->n; f->i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
            bh_fail("lab_memory: socketpair failed");
        f->peers[f->i] = sv[1];
        struct conn c = {.fd = sv[0]};
        if (rt_register(sv[0]) < 0 || rt_spawn(conn_task, &c, sizeof(c), NULL))
            bh_fail("lab_memory: register or spawn failed");
    }
    RT_AWAIT_YIELD(f); /* every connection's task runs to its read */
    RT_AWAIT_YIELD(f);
    {
        double n = (double)f->n;
        f->out[0] = (double)(bh_rss_bytes() - f->rss0) / n;
        f->out[1] = (double)(virt_bytes() - f->virt0) / n;
        f->out[2] = ((double)bh_kernel_bytes() - (double)f->kern0) / n;
        f->out[3] = ((double)slab_bytes() - (double)f->slab0) / n;
    }
    for (f->i = 0; f->i < f->n; f->i++)
        close(f->peers[f->i]); /* EOF: each task wakes and ends */
    RT_END(f);
}

/* In the child: one measurement. out[0..3] as root's; the check's counts
 * go through the sign of out[0] (negative: a task did not park or wake). */
static void measure(long long n, double *out)
{
    int *peers = calloc((size_t)n, sizeof(*peers));
    if (!peers)
        bh_fail("lab_memory: out of memory");
    struct root r = {.n = (long)n, .peers = peers, .out = out};
    if (rt_run(root_task, &r, sizeof(r), NULL) != 0)
        bh_fail("lab_memory: rt_run failed");
    if (parked != n || woken != n)
        out[0] = -1;
    free(peers);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {8000, -1};
    struct lab_args a;
    lab_parse(argc, argv, defaults, &a);
    const char *b = rt_backend_name();
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    static const char *const names[4] = {
        "rss_bytes_per_conn", "virt_bytes_per_conn", "kernel_bytes_per_conn",
        "slab_bytes_per_conn"};
    for (int p = 0; p < a.bh.nparams; p++) {
        long long n = a.bh.params[p];
        if (n < 1 || (rlim_t)(2 * n + 64) > lim.rlim_cur) {
            fprintf(stderr,
                    "lab_memory: %lld connections need %lld fds; the limit "
                    "is %llu\n",
                    n, 2 * n + 64, (unsigned long long)lim.rlim_cur);
            return 77;
        }
        double v[4][BH_MAX_RUNS];
        bool all_parked = true;
        for (int r = 0; r < a.bh.runs; r++) {
            double out[4];
            bh_in_child_n(measure, n, out, 4);
            if (out[0] < 0)
                all_parked = false;
            for (int k = 0; k < 4; k++)
                v[k][r] = out[k];
        }
        for (int k = 0; k < 4; k++)
            bh_row("lab_memory", b, n, names[k], "bytes", v[k], a.bh.runs);
        double fixed[BH_MAX_RUNS];
        for (int r = 0; r < a.bh.runs; r++)
            fixed[r] = sizeof(struct conn);
        bh_row("lab_memory", b, n, "frame_bytes", "bytes", fixed, a.bh.runs);
        for (int r = 0; r < a.bh.runs; r++)
            fixed[r] = BUF_BYTES;
        bh_row("lab_memory", b, n, "buffer_bytes", "bytes", fixed, a.bh.runs);
        if (a.check) {
            lab_expect(all_parked, "every task parked in its read and woke "
                                   "at close");
            lab_expect(v[0][0] >= BUF_BYTES,
                       "each connection's resident cost holds its buffer");
        }
    }
    return lab_status();
}

/* In-process floors that the backends are compared with, measured in the
 * same run as the workloads.
 *
 *   bench_baseline fcontext [N]  raw jump_fcontext ping-pong between two
 *                                contexts: ns per one-way switch
 *   bench_baseline ucontext [N]  the same with swapcontext (which also
 *                                saves the signal mask: a syscall each)
 *   bench_baseline pthread [N]   two OS threads handing off through a
 *                                futex: ns per handoff
 *   bench_baseline call [N]      an indirect call of a poll function: the
 *                                floor of any poll-based design
 *   bench_baseline cas [N]       an uncontended compare-and-swap: what a
 *                                multi-worker queue operation pays at least
 *   bench_baseline sm [N]        two C state machines passing a turn back
 *                                and forth through an intrusive waiter:
 *                                ns per handoff, the floor of any poll
 *                                design
 *   bench_baseline pool [N]      spawn + join of N fcontext tasks on
 *                                pooled stacks, in batches of 32
 *   bench_baseline sm_spawn [N]  the same with C state machines on a free
 *                                list of frames
 *   bench_baseline park [N ...]  N OS threads with 64 KiB stacks blocked on
 *                                a futex: RSS delta / N, in a child process
 *   bench_baseline fault [N ...] the first write to each of N fresh pages,
 *                                one per 64 KiB as stacks lie, in a child
 *                                process: ns per page fault, the floor of
 *                                any stack that was never used before
 *   bench_baseline cpus [N]      the sm handoff on each online CPU in turn
 *                                (the thread pinned there), one row per
 *                                CPU: on a virtual machine the CPUs need
 *                                not be equally fast, which bounds what a
 *                                second worker can add
 * All take --runs R. Rows are reported as the workload they bound
 * (handoff, spawn, park or timers; cpus for the last) with backend
 * baseline:<name>. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fcontext.h"
#include "harness.h"
#include <greenfut/rt_poll.h>

#define STACK (64 * 1024)

/* ---- fcontext ---- */

static fcontext_t fc_main;
static long fc_n;

static void fc_entry(transfer_t t)
{
    fc_main = t.fctx;
    for (;;) {
        t = jump_fcontext(fc_main, NULL);
        fc_main = t.fctx;
    }
}

static double run_fcontext(long n)
{
    void *stack = malloc(STACK);
    if (!stack)
        bh_fail("fcontext: out of memory");
    fcontext_t ctx = make_fcontext((char *)stack + STACK, STACK, fc_entry);
    transfer_t t = jump_fcontext(ctx, NULL); /* start it; it comes back */
    ctx = t.fctx;
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < n; i++) {
        t = jump_fcontext(ctx, NULL);
        ctx = t.fctx;
    }
    double ns = (double)(bh_now_ns() - t0) / (2.0 * (double)n);
    free(stack); /* ctx is parked in its loop forever: never resumed */
    (void)fc_n;
    return ns;
}

/* ---- ucontext ---- */

static ucontext_t uc_main, uc_other;

static void uc_entry(void)
{
    for (;;)
        swapcontext(&uc_other, &uc_main);
}

static double run_ucontext(long n)
{
    void *stack = malloc(STACK);
    if (!stack)
        bh_fail("ucontext: out of memory");
    getcontext(&uc_other);
    uc_other.uc_stack.ss_sp = stack;
    uc_other.uc_stack.ss_size = STACK;
    uc_other.uc_link = NULL;
    makecontext(&uc_other, uc_entry, 0);
    swapcontext(&uc_main, &uc_other);
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < n; i++)
        swapcontext(&uc_main, &uc_other);
    double ns = (double)(bh_now_ns() - t0) / (2.0 * (double)n);
    free(stack);
    return ns;
}

/* ---- pthread handoff through a futex ---- */

static atomic_int turn;
static long pt_n;

static void futex_wait(atomic_int *addr, int val)
{
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_int *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Thread `me` waits for turn == me, then passes the turn to the other. */
static void pass(int me)
{
    for (long i = 0; i < pt_n; i++) {
        int v;
        while ((v = atomic_load(&turn)) != me)
            futex_wait(&turn, v);
        atomic_store(&turn, 1 - me);
        futex_wake(&turn);
    }
}

static void *pt_other(void *arg)
{
    (void)arg;
    pass(1);
    return NULL;
}

static double run_pthread(long n)
{
    pt_n = n;
    atomic_store(&turn, 0);
    pthread_t th;
    uint64_t t0 = bh_now_ns();
    if (pthread_create(&th, NULL, pt_other, NULL) != 0)
        bh_fail("pthread: create");
    pass(0);
    pthread_join(th, NULL);
    return (double)(bh_now_ns() - t0) / (2.0 * (double)n);
}

/* ---- an indirect call of a poll function ---- */

static long calls;

static enum rt_poll counting_poll(void *self, struct rt_cx *cx)
{
    (void)self;
    (void)cx;
    calls++;
    return RT_READY;
}

static double run_call(long n)
{
    enum rt_poll (*volatile fn)(void *, struct rt_cx *) = counting_poll;
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < n; i++)
        fn(NULL, NULL);
    double ns = (double)(bh_now_ns() - t0) / (double)n;
    if (calls < n)
        bh_fail("call: calls went missing");
    return ns;
}

/* ---- a C state-machine ping-pong ---- */

/* The floor under the waker protocol: two hand-written state machines
 * hand a turn back and forth through an intrusive waiter, on a run queue
 * of their own, with nothing the portable protocol adds (no waker vtable,
 * no reference counts, no task header, no budget). A machine that finds
 * no turn for it marks itself waiting and returns; a notify sets its flag
 * and, when it waits, queues it. Each poll is an indirect call, as an
 * executor's is. */
struct sm {
    struct sm *next; /* in the run queue */
    bool (*poll)(struct sm *self);
    struct sm *peer;
    long left;     /* turns still to pass on */
    bool notified; /* a turn came while it was not waiting */
    bool waiting;  /* parked: a notify queues it */
};

static struct sm *sm_head, **sm_tail = &sm_head;

static void sm_notify(struct sm *m)
{
    m->notified = true;
    if (!m->waiting)
        return;
    m->waiting = false;
    m->next = NULL;
    *sm_tail = m;
    sm_tail = &m->next;
}

/* Waits for a turn, then passes it on: true once its turns are done. */
static bool sm_poll(struct sm *m)
{
    for (;;) {
        if (!m->notified) {
            m->waiting = true;
            return false;
        }
        m->notified = false;
        if (m->left-- == 0)
            return true;
        sm_notify(m->peer);
    }
}

static double run_sm(long n)
{
    struct sm a = {.poll = sm_poll, .left = n, .notified = true};
    struct sm b = {.poll = sm_poll, .left = n, .waiting = true};
    a.peer = &b;
    b.peer = &a;
    sm_head = &a;
    sm_tail = &a.next;
    a.next = NULL;
    long polls = 0;
    uint64_t t0 = bh_now_ns();
    while (sm_head) {
        struct sm *m = sm_head;
        sm_head = m->next;
        if (!sm_head)
            sm_tail = &sm_head;
        m->poll(m);
        polls++;
    }
    double ns = (double)(bh_now_ns() - t0) / (2.0 * (double)n);
    /* Every turn came back: a and b passed n turns each, a ended at the
     * turn after its last, and every poll after a's first was a wake. */
    if (a.left != -1 || b.left != 0 || polls != 2 * n + 1)
        bh_fail("sm: turns went missing");
    return ns;
}

/* ---- spawn + join floors ---- */

/* Batches of SPAWN_BATCH, as bench_spawn runs them: spawn them all, then
 * join them all. */
#define SPAWN_BATCH 32

/* With raw fcontext over a pool of stacks: a spawn takes a pooled stack
 * and makes a context on it, runs it at once (the task stores its result
 * and jumps back, never to be resumed), and the join reads the result and
 * puts the stack back. What a green thread's spawn and join cost at least
 * when its stack is already mapped and touched. */
static void pool_entry(transfer_t t)
{
    long *out = t.data;
    *out = 1;
    jump_fcontext(t.fctx, NULL);
    bh_fail("pool: a finished context was resumed");
}

static double run_pool(long n)
{
    char *stacks[SPAWN_BATCH];
    long out[SPAWN_BATCH];
    for (int k = 0; k < SPAWN_BATCH; k++)
        if (!(stacks[k] = malloc(STACK)))
            bh_fail("pool: out of memory");
    char *pool[SPAWN_BATCH];
    int pooled = SPAWN_BATCH;
    memcpy(pool, stacks, sizeof pool);
    long joined = 0;
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < n; i += SPAWN_BATCH) {
        char *mine[SPAWN_BATCH];
        for (int k = 0; k < SPAWN_BATCH; k++) {
            mine[k] = pool[--pooled];
            out[k] = 0;
            fcontext_t c = make_fcontext(mine[k] + STACK, STACK, pool_entry);
            jump_fcontext(c, &out[k]);
        }
        for (int k = 0; k < SPAWN_BATCH; k++) {
            joined += out[k];
            pool[pooled++] = mine[k];
        }
    }
    long spawned = (n + SPAWN_BATCH - 1) / SPAWN_BATCH * SPAWN_BATCH;
    double ns = (double)(bh_now_ns() - t0) / (double)spawned;
    if (joined != spawned)
        bh_fail("pool: a task did not run");
    for (int k = 0; k < SPAWN_BATCH; k++)
        free(stacks[k]);
    return ns;
}

/* With C state machines: a spawn takes a frame from a free list, sets it
 * up and queues it; the batch's polls run from the queue (each task ends
 * in its first poll, storing its result); the join reads the result and
 * gives the frame back. What a future's spawn and join cost at least,
 * with no task header, reference count or waker. */
struct sm_task {
    struct sm_task *next; /* in the run queue or the free list */
    void (*poll)(struct sm_task *self);
    long out;
    bool done;
};

static void sm_task_poll(struct sm_task *t)
{
    t->out = 1;
    t->done = true;
}

static double run_sm_spawn(long n)
{
    static struct sm_task frames[SPAWN_BATCH];
    struct sm_task *free_list = NULL;
    for (int k = 0; k < SPAWN_BATCH; k++) {
        frames[k].next = free_list;
        free_list = &frames[k];
    }
    void (*volatile poll)(struct sm_task *) = sm_task_poll;
    long joined = 0;
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < n; i += SPAWN_BATCH) {
        struct sm_task *mine[SPAWN_BATCH], *head = NULL, **tail = &head;
        for (int k = 0; k < SPAWN_BATCH; k++) {
            struct sm_task *t = free_list;
            free_list = t->next;
            t->poll = poll;
            t->done = false;
            t->next = NULL;
            *tail = t;
            tail = &t->next;
            mine[k] = t;
        }
        while (head) {
            struct sm_task *t = head;
            head = t->next;
            t->poll(t);
        }
        for (int k = 0; k < SPAWN_BATCH; k++) {
            struct sm_task *t = mine[k];
            if (t->done)
                joined += t->out;
            t->next = free_list;
            free_list = t;
        }
    }
    long spawned = (n + SPAWN_BATCH - 1) / SPAWN_BATCH * SPAWN_BATCH;
    double ns = (double)(bh_now_ns() - t0) / (double)spawned;
    if (joined != spawned)
        bh_fail("sm_spawn: a task did not run");
    return ns;
}

/* ---- one uncontended compare-and-swap ---- */

/* The price of a locked instruction on a line no other core touches: what
 * each push to and take from a multi-worker run queue pays at least (the
 * ring's tail is published with a seq_cst store, its head taken with a
 * CAS), against the one-worker queues, which take none. */
static _Alignas(64) atomic_ulong cas_word;

static double run_cas(long n)
{
    uint64_t t0 = bh_now_ns();
    for (long i = 0; i < n; i++) {
        unsigned long e = (unsigned long)i;
        atomic_compare_exchange_strong(&cas_word, &e, e + 1);
    }
    double ns = (double)(bh_now_ns() - t0) / (double)n;
    if (atomic_load(&cas_word) != (unsigned long)n)
        bh_fail("cas: a compare-and-swap failed");
    atomic_store(&cas_word, 0);
    return ns;
}

/* ---- bytes per parked OS thread ---- */

static atomic_int release_all;
static atomic_int parked_count;

static void *parked_thread(void *arg)
{
    (void)arg;
    atomic_fetch_add(&parked_count, 1);
    while (!atomic_load(&release_all))
        futex_wait(&release_all, 0);
    return NULL;
}

/* out[0]: RSS delta / n; out[1]: kernel bytes (page tables, kernel
 * stacks: bh_kernel_bytes) delta / n. */
static void park_bytes(long long n, double *out)
{
    pthread_t *th = malloc((size_t)n * sizeof(*th));
    if (!th)
        bh_fail("park: out of memory");
    memset(th, 0, (size_t)n * sizeof(*th));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, STACK);
    size_t rss0 = bh_rss_bytes(), k0 = bh_kernel_bytes();
    for (long long i = 0; i < n; i++)
        if (pthread_create(&th[i], &attr, parked_thread, NULL) != 0)
            bh_fail("park: pthread_create failed");
    while (atomic_load(&parked_count) < n)
        sched_yield();
    size_t grown = bh_rss_bytes() - rss0;
    double kgrown = (double)bh_kernel_bytes() - (double)k0;
    atomic_store(&release_all, 1);
    syscall(SYS_futex, &release_all, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL,
            0);
    for (long long i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    free(th);
    out[0] = (double)grown / (double)n;
    out[1] = kgrown / (double)n;
}

/* ---- fault ---- */

/* In a child (a fresh address space, no page of this mapping ever
 * touched): maps n stacks' worth of address space and writes one byte
 * near the top of each 64 KiB, where a new green thread's control block
 * and first frame go. Each write is one page fault: the kernel allocates a
 * zeroed page and maps it. */
static double fault_ns(long long n)
{
    char *p = mmap(NULL, (size_t)n * STACK, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        bh_fail("fault: mmap failed");
    uint64_t t0 = bh_now_ns();
    for (long long i = 0; i < n; i++)
        ((volatile char *)p)[(size_t)(i + 1) * STACK - 64] = 1;
    uint64_t t1 = bh_now_ns();
    munmap(p, (size_t)n * STACK);
    return (double)(t1 - t0) / (double)n;
}

/* The sm handoff with the calling thread pinned to `cpu`: ns per handoff,
 * or a negative number when the thread cannot run there. */
static double sm_on(int cpu, long n)
{
    cpu_set_t was, one;
    if (sched_getaffinity(0, sizeof was, &was) != 0)
        bh_fail("cpus: sched_getaffinity failed");
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        return -1;
    double ns = run_sm(n);
    if (sched_setaffinity(0, sizeof was, &was) != 0)
        bh_fail("cpus: cannot restore the affinity");
    return ns;
}

/* Each run measures every CPU once, in turn, so that the CPUs are
 * compared within the same moments of the machine's load. */
static void cpus(const struct bh_args *a)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1 || ncpu > CPU_SETSIZE)
        bh_fail("cpus: cannot count the online CPUs");
    double *s = calloc((size_t)ncpu * BH_MAX_RUNS, sizeof(*s));
    if (!s)
        bh_fail("cpus: out of memory");
    for (int p = 0; p < a->nparams; p++) {
        for (int r = 0; r < a->runs; r++)
            for (long c = 0; c < ncpu; c++)
                s[c * BH_MAX_RUNS + r] = sm_on((int)c, (long)a->params[p]);
        for (long c = 0; c < ncpu; c++) {
            if (s[c * BH_MAX_RUNS] < 0)
                continue; /* not ours to run on (a cpuset) */
            char name[32];
            snprintf(name, sizeof name, "baseline:cpu%ld", c);
            bh_row("cpus", name, a->params[p], "ns_per_handoff", "ns",
                   &s[c * BH_MAX_RUNS], a->runs);
        }
    }
    free(s);
}

/* The baselines that report one figure per run: the row each one bounds,
 * and its default size. `child` ones run in a fresh child process. */
static const struct baseline {
    const char *name;
    double (*fn)(long n);
    double (*child)(long long n);
    long long def;
    const char *workload, *backend, *metric;
} baselines[] = {
    {"fcontext", run_fcontext, NULL, 10000000, "handoff", "baseline:fcontext",
     "ns_per_handoff"},
    {"ucontext", run_ucontext, NULL, 2000000, "handoff", "baseline:ucontext",
     "ns_per_handoff"},
    {"pthread", run_pthread, NULL, 50000, "handoff", "baseline:pthread",
     "ns_per_handoff"},
    {"call", run_call, NULL, 100000000, "handoff", "baseline:call",
     "ns_per_call"},
    {"cas", run_cas, NULL, 100000000, "handoff", "baseline:cas", "ns_per_cas"},
    {"sm", run_sm, NULL, 50000000, "handoff", "baseline:sm", "ns_per_handoff"},
    {"pool", run_pool, NULL, 10000000, "spawn", "baseline:pool",
     "ns_per_spawn_join"},
    {"sm_spawn", run_sm_spawn, NULL, 50000000, "spawn", "baseline:sm",
     "ns_per_spawn_join"},
    {"fault", NULL, fault_ns, 100000, "timers", "baseline:fault",
     "ns_per_fault"},
};

int main(int argc, char **argv)
{
    if (argc < 2)
        bh_fail("usage: bench_baseline fcontext|ucontext|pthread|call|cas|sm|"
                "pool|sm_spawn|fault|park|cpus [--runs R] [N ...]");
    const char *what = argv[1];
    struct bh_args a;
    double s[BH_MAX_RUNS];
    if (strcmp(what, "park") == 0) {
        static const long long defaults[] = {1000, 10000, -1};
        bh_parse(argc - 1, argv + 1, defaults, &a);
        for (int p = 0; p < a.nparams; p++) {
            double k[BH_MAX_RUNS];
            for (int r = 0; r < a.runs; r++) {
                double v[2];
                bh_in_child_n(park_bytes, a.params[p], v, 2);
                s[r] = v[0];
                k[r] = v[1];
            }
            bh_row("park", "baseline:pthread", a.params[p], "bytes_per_task",
                   "bytes", s, a.runs);
            bh_row("park", "baseline:pthread", a.params[p],
                   "kernel_bytes_per_task", "bytes", k, a.runs);
        }
        return 0;
    }
    if (strcmp(what, "cpus") == 0) {
        static const long long defaults[] = {50000000, -1};
        bh_parse(argc - 1, argv + 1, defaults, &a);
        cpus(&a);
        return 0;
    }
    const struct baseline *b = NULL;
    for (size_t i = 0; i < sizeof baselines / sizeof baselines[0]; i++)
        if (strcmp(what, baselines[i].name) == 0)
            b = &baselines[i];
    if (!b)
        bh_fail("unknown baseline (fcontext, ucontext, pthread, call, cas, sm, "
                "pool, sm_spawn, fault, park, cpus)");
    const long long defaults[] = {b->def, -1};
    bh_parse(argc - 1, argv + 1, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        for (int r = 0; r < a.runs; r++)
            s[r] = b->child ? bh_in_child(b->child, a.params[p])
                            : b->fn((long)a.params[p]);
        bh_row(b->workload, b->backend, a.params[p], b->metric, "ns", s,
               a.runs);
    }
    return 0;
}

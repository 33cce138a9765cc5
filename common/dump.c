/* The task dump: rt_dump, the SIGQUIT opt-in, and the line formatter that
 * rt_dump, both backends' deadlock reports and the watchdog share.
 *
 * Invariant: the signal handler touches only `pending` (a lock-free atomic)
 * and rt_reactor_notify (an atomic exchange and an eventfd write), both
 * async-signal-safe; the dump itself runs later on the scheduler's thread,
 * which may take locks and allocate (dladdr) as any code there.
 */
#include "dump_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <greenfut/clock.h>
#include "watchdog_internal.h"
#include "workers.h"

/* The gdb extension, inline in a .debug_gdb_scripts section (gdb's
 * "inlined script" entry: the byte 4, the script's name on the first line,
 * its text, a NUL). gdb runs it when it loads a program linked with this
 * file, if auto-load allows the program's directory; mergeable strings, so
 * that a program with both a static and a shared copy holds one. This
 * object is in every program that runs a scheduler: both backends call
 * rt__dump_begin. */
#ifdef RT_GDB_SCRIPT
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\",@progbits,1\n"
        ".byte 4\n"
        ".ascii \"gdb.inlined-script.greenfut\\n\"\n"
        ".incbin \"" RT_GDB_SCRIPT "\"\n"
        ".byte 0\n"
        ".popsection\n");
#endif

/* The calling thread's run, set by rt__dump_begin. */
static _Thread_local rt__dump_fn source;
static _Thread_local void *source_ctx;

/* The reactor the SIGQUIT handler notifies: that of the one run that
 * installed the handler (a disposition is process-wide, so one run at a
 * time owns it). Written by that run's thread, read by the handler. */
static _Atomic(struct rt_reactor *) signal_reactor;
static atomic_int pending;           /* a SIGQUIT came; the next check dumps */
static atomic_int api_on;            /* rt_dump_signal */
static atomic_int owned;             /* a run holds the handler */
static atomic_ulong written;         /* SIGQUIT dumps written out */
static _Thread_local bool installed; /* this thread's run holds it */
static struct sigaction previous;    /* written by the holder only */

void rt_dump_signal(int on)
{
    atomic_store_explicit(&api_on, on != 0, memory_order_relaxed);
}

static bool signal_wanted(void)
{
    if (atomic_load_explicit(&api_on, memory_order_relaxed))
        return true;
    const char *env = getenv("RT_DUMP_SIGNAL");
    return env && strcmp(env, "1") == 0;
}

static void on_quit(int sig)
{
    (void)sig;
    int saved = errno; /* the eventfd write may set it */
    atomic_store_explicit(&pending, 1, memory_order_relaxed);
    struct rt_reactor *r =
        atomic_load_explicit(&signal_reactor, memory_order_acquire);
    if (r)
        (void)rt_reactor_notify(r);
    errno = saved;
}

/* rt__watchdog_describe: a stalled task, in the dump's words. */
static void describe_stall(char *buf, size_t len, const char *kind, int64_t id,
                           const char *name, uintptr_t fn, const char *fname,
                           const void *key)
{
    struct rt__dump_task d = {
        .kind = kind,
        .id = id,
        .name = name,
        .fn = fn,
        .fname = fname,
        .state = "running",
        .fd = -1,
        .stack = -1,
        .key = key,
    };
    rt__dump_task_format(buf, len, &d);
}

void rt__dump_begin(rt__dump_fn fn, void *ctx, struct rt_reactor *r)
{
    atomic_store_explicit(&rt__watchdog_describe, describe_stall,
                          memory_order_relaxed);
    source = fn;
    source_ctx = ctx;
    if (!signal_wanted() ||
        atomic_exchange_explicit(&owned, 1, memory_order_acq_rel))
        return;
    atomic_store_explicit(&signal_reactor, r, memory_order_release);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_quit;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    installed = sigaction(SIGQUIT, &sa, &previous) == 0;
    if (!installed) {
        atomic_store_explicit(&signal_reactor, NULL, memory_order_release);
        atomic_store_explicit(&owned, 0, memory_order_release);
    }
}

void rt__dump_end(void)
{
    source = NULL;
    source_ctx = NULL;
    if (!installed)
        return;
    (void)sigaction(SIGQUIT, &previous, NULL);
    installed = false;
    atomic_store_explicit(&signal_reactor, NULL, memory_order_release);
    atomic_store_explicit(&owned, 0, memory_order_release);
}

void rt__dump_check(void)
{
    /* Any worker of a multi-worker run may check: the exchange gives the
     * pending dump to exactly one of them. */
    if (!atomic_load_explicit(&pending, memory_order_relaxed) ||
        !atomic_exchange_explicit(&pending, 0, memory_order_relaxed))
        return;
    (void)rt_dump(stderr);
    atomic_fetch_add_explicit(&written, 1, memory_order_release);
}

unsigned long rt_dump_signal_count(void)
{
    return atomic_load_explicit(&written, memory_order_acquire);
}

int rt_dump(FILE *out)
{
    if (!out)
        return -EINVAL;
    if (!source)
        return -EPERM;
    source(source_ctx, out);
    fflush(out);
    return 0;
}

/* Appends to buf[*at..len) like snprintf, keeping *at within the buffer. */
static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    if (*at >= len - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

/* ", 12.3 ms left" for a deadline, in the unit that reads best. */
static void put_left(char *buf, size_t len, size_t *at, uint64_t deadline)
{
    if (deadline >= RT_DEADLINE_MAX) {
        put(buf, len, at, ", forever");
        return;
    }
    uint64_t now = rt_now_ns();
    bool due = deadline <= now;
    double ms = (double)(due ? now - deadline : deadline - now) / 1e6;
    const char *unit = "ms";
    if (ms >= 10000.0) {
        ms /= 1000.0;
        unit = "s";
    }
    put(buf, len, at, due ? ", due %.1f %s ago" : ", %.1f %s left", ms, unit);
}

/* The file part of a __FILE__ path. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void rt__dump_task_format(char *buf, size_t len, const struct rt__dump_task *t)
{
    char fn[128], inner[128] = "", site[256] = "";
    size_t at = 0;
    buf[0] = '\0';
    if (t->fn)
        rt__name_fn(t->fn, fn, sizeof(fn));
    else
        snprintf(fn, sizeof(fn), "%s", t->fname ? t->fname : "unnamed");
    if (t->inner) {
        char in[112];
        rt__name_fn(t->inner, in, sizeof(in));
        snprintf(inner, sizeof(inner), ", in child %s", in);
    }
    uintptr_t ra = 0, noted = 0;
    if (t->key && rt__watchdog_noting() &&
        rt__watchdog_site_of(t->key, &ra, &noted) && ra) {
        char where[224];
        /* A return address points past the call: step back into it. */
        rt__describe_pc(ra - 1, where, sizeof(where));
        snprintf(site, sizeof(site), ", spawned in %s", where);
    }
    bool named = t->name && t->name[0];
    put(buf, len, &at, "%s %lld%s%s%s (%s%s)", t->kind, (long long)t->id,
        named ? " \"" : "", named ? t->name : "", named ? "\"" : "", fn, inner);
    if (t->wait) {
        put(buf, len, &at, " waiting on %s", t->wait);
        if (t->join_id > 0) {
            char jf[112];
            bool jn = t->join_name && t->join_name[0];
            if (t->join_fn)
                rt__name_fn(t->join_fn, jf, sizeof(jf));
            else
                snprintf(jf, sizeof(jf), "?");
            put(buf, len, &at, " of %s %lld%s%s%s (%s)", t->kind,
                (long long)t->join_id, jn ? " \"" : "", jn ? t->join_name : "",
                jn ? "\"" : "", jf);
        }
        if (t->obj)
            put(buf, len, &at, " %p", t->obj);
        if (t->fd >= 0)
            put(buf, len, &at, " (fd %d)", t->fd);
        if (t->deadline)
            put_left(buf, len, &at, t->deadline);
    }
    put(buf, len, &at, " [%s", t->state);
    if (t->worker)
        put(buf, len, &at, " on worker %u", t->worker - 1);
    if (t->queued)
        put(buf, len, &at, ", queued on worker %u", t->queued - 1);
    if (t->stack >= 0)
        put(buf, len, &at, ", stack %lld bytes", (long long)t->stack);
    /* The async backtrace: where each frame of the chain will resume. */
    for (unsigned i = 0; i < t->depth; i++) {
        char f[112];
        rt__name_fn(t->chain[i], f, sizeof(f));
        put(buf, len, &at, "%s%s", i ? " > " : ", awaits through ", f);
        const char *file = t->files ? t->files[i] : NULL;
        if (!t->lines[i])
            put(buf, len, &at, " at its start");
        else if (file)
            put(buf, len, &at, " at %s:%u", base_name(file), t->lines[i]);
        else
            put(buf, len, &at, ":%u", t->lines[i]);
    }
    put(buf, len, &at, "%s]", site);
}

void rt__dump_task_write(FILE *out, const struct rt__dump_task *t)
{
    char line[1024];
    rt__dump_task_format(line, sizeof(line), t);
    fprintf(out, "  %s\n", line);
    for (unsigned i = 0; i < t->bt_depth && i < RT__DUMP_BT_MAX; i++) {
        /* A return address points past its call: step back into it. */
        rt__describe_pc(t->bt[i] - 1, line, sizeof(line));
        fprintf(out, "      #%u %s\n", i, line);
    }
}

/* Not instrumented: the stack read may be another thread's, changing (see
 * the header), and its frames hold sanitizer redzones around the slots
 * read here. */
__attribute__((no_sanitize("address", "thread"))) unsigned
rt__dump_fp_walk(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi,
                 uintptr_t *pcs, unsigned max)
{
    unsigned n = 0;
    if (pc && n < max)
        pcs[n++] = pc;
    while (n < max && fp >= lo && fp % sizeof(uintptr_t) == 0 &&
           fp <= hi - 2 * sizeof(uintptr_t)) {
        const volatile uintptr_t *frame = (const volatile uintptr_t *)fp;
        uintptr_t next = frame[0], ra = frame[1];
        if (!ra)
            break;
        pcs[n++] = ra;
        if (next <= fp) /* frames go up the stack: anything else ends it */
            break;
        fp = next;
    }
    return n;
}

const char *rt__dump_worker_doing(struct rt_workers *ws, unsigned i)
{
    struct rt_worker *w = &ws->w[i];
    /* workers.c's turner holds the index + 1 of the worker in the turn. */
    if (atomic_load_explicit(&ws->turner, memory_order_acquire) == (int)i + 1)
        return "turning the reactor";
    pthread_mutex_lock(&w->lock);
    bool parked = w->parked;
    pthread_mutex_unlock(&w->lock);
    return parked ? "parked" : "in its loop";
}

/* One queued item of the snapshot. */
struct rt__dump_queued {
    const struct rt_list *node;
    unsigned worker;
};

struct rt__dump_queues {
    size_t n;
    struct rt__dump_queued *at; /* sorted by node */
};

static int by_node(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct rt__dump_queued *)a)->node;
    uintptr_t y = (uintptr_t)((const struct rt__dump_queued *)b)->node;
    return x < y ? -1 : x > y;
}

/* Worker w's LIFO slot: written plainly by its owner on every push and
 * take, so read here without TSan's instrumentation (a pointer-sized load
 * sees the old or the new value, and it is only compared). */
__attribute__((no_sanitize("thread"))) static const struct rt_list *
lifo_of(const struct rt_worker *w)
{
    return *(const struct rt_list *const volatile *)&w->lifo;
}

struct rt__dump_queues *rt__dump_queues_take(struct rt_workers *ws)
{
    struct rt__dump_queues *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    /* Room for every ring and LIFO slot, and the yield queues as long as
     * they are now; one that grew since is listed as far as room goes. */
    size_t room = (size_t)ws->n * (RT_RING + 1);
    for (unsigned i = 0; i < ws->n; i++)
        room += atomic_load_explicit(&ws->w[i].yq_len, memory_order_relaxed);
    q->at = calloc(room, sizeof(*q->at));
    const struct rt_list **yq = calloc(room, sizeof(*yq));
    if (!q->at || !yq) {
        free(yq);
        free(q->at);
        free(q);
        return NULL;
    }
    for (unsigned i = 0; i < ws->n; i++) {
        struct rt_worker *w = &ws->w[i];
        const struct rt_list *l = lifo_of(w);
        if (l)
            q->at[q->n++] = (struct rt__dump_queued){l, i};
        unsigned h = atomic_load_explicit(&w->head, memory_order_acquire);
        unsigned t = atomic_load_explicit(&w->tail, memory_order_acquire);
        for (unsigned k = 0; k < RT_RING && h + k != t; k++) {
            const struct rt_list *node = atomic_load_explicit(
                &w->ring[(h + k) % RT_RING], memory_order_relaxed);
            if (node)
                q->at[q->n++] = (struct rt__dump_queued){node, i};
        }
        unsigned m = rt_worker_yq_snapshot(w, yq, (unsigned)(room - q->n));
        for (unsigned k = 0; k < m; k++)
            q->at[q->n++] = (struct rt__dump_queued){yq[k], i};
    }
    free(yq);
    qsort(q->at, q->n, sizeof(*q->at), by_node);
    return q;
}

void rt__dump_queues_free(struct rt__dump_queues *q)
{
    if (q)
        free(q->at);
    free(q);
}

int rt__dump_queued_on(const struct rt__dump_queues *q,
                       const struct rt_list *node)
{
    if (!q)
        return -1;
    struct rt__dump_queued key = {node, 0};
    const struct rt__dump_queued *f =
        bsearch(&key, q->at, q->n, sizeof(*q->at), by_node);
    return f ? (int)f->worker : -1;
}

int rt__dump_worker_of(const struct rt__dump_worker *w, unsigned n,
                       const void *item)
{
    for (unsigned i = 0; i < n; i++)
        if (w[i].running == item)
            return (int)i;
    return -1;
}

void rt__dump_workers_write(FILE *out, const char *kind,
                            const struct rt__dump_worker *w,
                            const char *const *doing, unsigned n, int self)
{
    for (unsigned i = 0; i < n; i++) {
        if (w[i].running && w[i].id > 0)
            fprintf(out, "  worker %u: running %s %lld\n", i, kind,
                    (long long)w[i].id);
        else if ((int)i == self)
            fprintf(out, "  worker %u: in its loop, writing this dump\n", i);
        else
            fprintf(out, "  worker %u: %s\n", i, doing[i]);
    }
}

/* The watchdog: a slot written by the scheduler at every resume, a thread
 * that samples it every threshold/2, and a table of spawn sites.
 *
 * Invariant: every field shared by the two threads is atomic. The slot is a
 * sequence lock without fences (release stores, acquire loads): the writer
 * makes `seq` odd, stores the fields, makes it even again; the reader keeps
 * what it read only when `seq` was the same even number before and after.
 * The site table is under its own mutex; while sites are noted, every spawn
 * writes its key, so a key reused by a later task never shows a stale site.
 */
#include "watchdog_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <greenfut/clock.h>
#include "idtable.h"
#include "sys.h"

#define NAME_WORDS 4 /* 32 bytes: 31 characters and the NUL */

struct rt_watchdog {
    /* The slot: written by the scheduler thread only. */
    atomic_uint_fast64_t seq;   /* odd while the fields below change */
    atomic_uint_fast64_t since; /* rt_now_ns() at the last resume */
    atomic_int_fast64_t id;     /* running task, or -1 when idle */
    atomic_uintptr_t entry;     /* its function's address */
    atomic_uintptr_t task;      /* its key in the site table */
    atomic_uint_fast64_t name[NAME_WORDS];
    /* Set at start, read-only after. */
    uint64_t threshold_ns;
    const char *kind; /* what the dump calls its tasks */
    pthread_t thread;
    /* Stop request: under mu, signalled on cv. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    /* The watchdog thread's own: the sequence number last reported. */
    uint64_t reported;
};

static atomic_uint api_ms; /* rt_watchdog_set_ms; 0: use the environment */

void rt_watchdog_set_ms(unsigned ms)
{
    atomic_store_explicit(&api_ms, ms, memory_order_relaxed);
    (void)rt__watchdog_sites_refresh();
}

unsigned rt_watchdog_ms(void)
{
    unsigned ms = atomic_load_explicit(&api_ms, memory_order_relaxed);
    if (ms)
        return ms;
    const char *env = getenv("RT_WATCHDOG_MS");
    if (!env || !*env)
        return 0;
    char *end = NULL;
    unsigned long v = strtoul(env, &end, 10);
    if (*end != '\0' || v > 3600000ul)
        return 0;
    return (unsigned)v;
}

/* ---- Spawn sites: an id table (common/idtable.h) from a task's key (its
 * address) to where it was spawned. */

struct site {
    uint64_t task; /* the key: (uintptr_t) of the task */
    uintptr_t site;
    uintptr_t entry;
};

atomic_int rt__watchdog_sites = -1;
_Atomic(rt__watchdog_describe_fn) rt__watchdog_describe;
static pthread_mutex_t sites_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rt_idtable sites = RT_IDTABLE_INIT(sizeof(struct site)); /* mu */

bool rt__watchdog_sites_refresh(void)
{
    bool on = rt_watchdog_ms() > 0;
    atomic_store_explicit(&rt__watchdog_sites, on, memory_order_relaxed);
    if (!on) {
        pthread_mutex_lock(&sites_mu);
        rt_idtable_fini(&sites);
        pthread_mutex_unlock(&sites_mu);
    }
    return on;
}

void rt__watchdog_spawned(const void *task, uintptr_t site, uintptr_t entry)
{
    uint64_t key = (uintptr_t)task;
    pthread_mutex_lock(&sites_mu);
    if (task && rt_idtable_reserve(&sites) == 0) {
        struct site *e = rt_idtable_find(&sites, key);
        if (!e)
            e = rt_idtable_insert(&sites, key);
        e->site = site;
        e->entry = entry;
    }
    pthread_mutex_unlock(&sites_mu);
}

void rt__watchdog_forget(const void *task)
{
    pthread_mutex_lock(&sites_mu);
    struct site *e = rt_idtable_find(&sites, (uintptr_t)task);
    if (e)
        rt_idtable_delete(&sites, e);
    pthread_mutex_unlock(&sites_mu);
}

bool rt__watchdog_site_of(const void *task, uintptr_t *site, uintptr_t *entry)
{
    pthread_mutex_lock(&sites_mu);
    struct site *e = rt_idtable_find(&sites, (uintptr_t)task);
    if (e) {
        *site = e->site;
        *entry = e->entry;
    }
    pthread_mutex_unlock(&sites_mu);
    return e != NULL;
}

/* ---- The watchdog thread */

/* One snapshot of the slot, taken by the watchdog thread. */
struct snap {
    uint64_t seq;
    uint64_t since;
    int64_t id;
    uintptr_t entry;
    uintptr_t task;
    union {
        uint_fast64_t w[NAME_WORDS];
        char c[NAME_WORDS * sizeof(uint_fast64_t)];
    } name;
};

/* Returns true when `out` is a consistent copy of the slot. */
static bool take(struct rt_watchdog *wd, struct snap *out)
{
    out->seq = atomic_load_explicit(&wd->seq, memory_order_acquire);
    if (out->seq & 1)
        return false;
    out->since = atomic_load_explicit(&wd->since, memory_order_acquire);
    out->id = atomic_load_explicit(&wd->id, memory_order_acquire);
    out->entry = atomic_load_explicit(&wd->entry, memory_order_acquire);
    out->task = atomic_load_explicit(&wd->task, memory_order_acquire);
    for (int i = 0; i < NAME_WORDS; i++)
        out->name.w[i] =
            atomic_load_explicit(&wd->name[i], memory_order_acquire);
    out->name.c[sizeof(out->name.c) - 1] = '\0';
    return atomic_load_explicit(&wd->seq, memory_order_acquire) == out->seq;
}

void rt__name_fn(uintptr_t fn, char *buf, size_t len)
{
    Dl_info info;
    snprintf(buf, len, "?");
    if (!fn || !dladdr((void *)fn, &info) || !info.dli_fname)
        return;
    /* A symbol that starts elsewhere is the nearest exported one before a
     * static function: naming it would name the wrong function. */
    if (info.dli_sname && (uintptr_t)info.dli_saddr == fn) {
        snprintf(buf, len, "%s", info.dli_sname);
        return;
    }
    const char *file = strrchr(info.dli_fname, '/');
    file = file ? file + 1 : info.dli_fname;
    snprintf(buf, len, "%s+0x%lx", file,
             (unsigned long)(fn - (uintptr_t)info.dli_fbase));
}

void rt__describe_pc(uintptr_t pc, char *buf, size_t len)
{
    Dl_info info;
    snprintf(buf, len, "?");
    if (pc && dladdr((void *)pc, &info) && info.dli_fname) {
        const char *file = strrchr(info.dli_fname, '/');
        file = file ? file + 1 : info.dli_fname;
        snprintf(buf, len, "%s (%s+0x%lx)",
                 info.dli_sname ? info.dli_sname : "?", file,
                 (unsigned long)(pc - (uintptr_t)info.dli_fbase));
    }
}

/* One line on stderr, the task described by the dump's formatter in the
 * dump's words. The name the scheduler gave names `entry`: when the spawn
 * noted another entry (a portable task's own function behind the
 * backend's wrapper), the name was the wrapper's (the portable vtable's)
 * and is left out, as the dump leaves it out; a future's name (kind
 * "task") is its vtable's, which the dump shows in place of a function. */
static void report(const struct rt_watchdog *wd, const struct snap *sn,
                   uint64_t now)
{
    uintptr_t ra = 0, noted = 0;
    const void *key = (const void *)sn->task;
    bool wrapped = key && rt__watchdog_site_of(key, &ra, &noted) && noted &&
                   noted != sn->entry;
    bool future = strcmp(wd->kind, "task") == 0;
    const char *name = NULL, *fname = NULL;
    uintptr_t fn = 0;
    if (wrapped) {
        fn = noted;
    } else if (future && sn->name.c[0]) {
        fname = sn->name.c;
    } else {
        name = sn->name.c;
        fn = sn->entry;
    }
    char line[1024];
    rt__watchdog_describe_fn describe =
        atomic_load_explicit(&rt__watchdog_describe, memory_order_relaxed);
    if (describe)
        describe(line, sizeof(line), wd->kind, sn->id, name, fn, fname, key);
    else
        snprintf(line, sizeof(line), "%s %lld", wd->kind, (long long)sn->id);
    fprintf(stderr,
            "rt watchdog: no yield for %llu ms (threshold %llu ms): %s\n",
            (unsigned long long)((now - sn->since) / 1000000u),
            (unsigned long long)(wd->threshold_ns / 1000000u), line);
}

static void *watch(void *arg)
{
    struct rt_watchdog *wd = arg;
    uint64_t period = wd->threshold_ns / 2;
    pthread_mutex_lock(&wd->mu);
    while (!wd->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t ns = (uint64_t)ts.tv_nsec + period;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        (void)pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
        if (wd->stop)
            break;
        struct snap sn;
        if (!take(wd, &sn) || sn.id < 0 || sn.seq == wd->reported)
            continue;
        uint64_t now = rt_now_ns();
        if (now - sn.since <= wd->threshold_ns)
            continue;
        wd->reported = sn.seq;
        report(wd, &sn, now);
    }
    pthread_mutex_unlock(&wd->mu);
    return NULL;
}

struct rt_watchdog *rt__watchdog_start(const char *kind)
{
    unsigned ms = rt_watchdog_ms();
    (void)rt__watchdog_sites_refresh();
    if (!ms)
        return NULL;
    struct rt_watchdog *wd = rt_sys_calloc(1, sizeof(*wd));
    if (!wd) {
        fprintf(stderr, "rt watchdog: not started: out of memory\n");
        return NULL;
    }
    wd->threshold_ns = (uint64_t)ms * 1000000u;
    wd->kind = kind ? kind : "task";
    atomic_init(&wd->seq, 0);
    atomic_init(&wd->since, 0);
    atomic_init(&wd->id, -1);
    atomic_init(&wd->entry, 0);
    atomic_init(&wd->task, 0);
    for (int i = 0; i < NAME_WORDS; i++)
        atomic_init(&wd->name[i], 0);
    wd->reported = UINT64_MAX;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&wd->mu, NULL);
    int rc = rt_sys_thread_create(&wd->thread, watch, wd);
    if (rc) {
        fprintf(stderr, "rt watchdog: not started: %s\n", strerror(rc));
        pthread_cond_destroy(&wd->cv);
        pthread_mutex_destroy(&wd->mu);
        free(wd);
        return NULL;
    }
    return wd;
}

void rt__watchdog_stop(struct rt_watchdog *wd)
{
    if (!wd)
        return;
    pthread_mutex_lock(&wd->mu);
    wd->stop = true;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
    pthread_join(wd->thread, NULL);
    pthread_cond_destroy(&wd->cv);
    pthread_mutex_destroy(&wd->mu);
    free(wd);
}

/* Writes the slot: see the file comment for the protocol. */
static void publish(struct rt_watchdog *wd, int64_t id, const char *name,
                    uintptr_t entry, const void *task)
{
    uint64_t seq = atomic_load_explicit(&wd->seq, memory_order_relaxed) + 1;
    atomic_store_explicit(&wd->seq, seq, memory_order_relaxed); /* odd */
    atomic_store_explicit(&wd->since, rt_now_ns(), memory_order_release);
    atomic_store_explicit(&wd->id, id, memory_order_release);
    atomic_store_explicit(&wd->entry, entry, memory_order_release);
    atomic_store_explicit(&wd->task, (uintptr_t)task, memory_order_release);
    union {
        uint_fast64_t w[NAME_WORDS];
        char c[NAME_WORDS * sizeof(uint_fast64_t)];
    } buf = {{0}};
    if (name)
        strncpy(buf.c, name, sizeof(buf.c) - 1);
    for (int i = 0; i < NAME_WORDS; i++)
        atomic_store_explicit(&wd->name[i], buf.w[i], memory_order_release);
    atomic_store_explicit(&wd->seq, seq + 1, memory_order_release);
}

void rt__watchdog_resume(struct rt_watchdog *wd, int64_t id, const char *name,
                         uintptr_t entry, const void *task)
{
    publish(wd, id, name, entry, task);
}

void rt__watchdog_idle(struct rt_watchdog *wd)
{
    publish(wd, -1, NULL, 0, NULL);
}

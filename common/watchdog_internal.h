/* The watchdog's side that schedulers and spawn functions call: starting
 * and stopping one per run, marking each resume and idle, and the table of
 * spawn sites (the public switch is <greenfut/watchdog.h>).
 *
 * Invariant: only the scheduler thread that owns a watchdog calls
 * rt__watchdog_resume and rt__watchdog_idle on it.
 */
#ifndef RT_COMMON_WATCHDOG_INTERNAL_H
#define RT_COMMON_WATCHDOG_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <greenfut/watchdog.h>

struct rt_watchdog;

/* For schedulers, at the start of a run: starts a watchdog thread when one
 * is enabled (rt_watchdog_ms() > 0). `kind` is what the dump calls the
 * run's tasks ("green thread" or "task", a static string; NULL: "task"):
 * the report describes the stalled task with the dump's own formatter
 * (rt__dump_task_write), in the same words. Returns the watchdog, or NULL
 * when disabled or when the thread could not start (said once on stderr:
 * the run goes on without). Never runs user code. */
struct rt_watchdog *rt__watchdog_start(const char *kind);

/* Stops and frees a watchdog from rt__watchdog_start (NULL is fine). Joins
 * its thread, so it may take up to half a threshold. */
void rt__watchdog_stop(struct rt_watchdog *wd);

/* For schedulers, right before a task gets the CPU: task `id` named `name`
 * (NULL or "" when unnamed; copied, at most 31 bytes) running `entry` (the
 * address of its function, for dladdr). `task` is the key its spawn site
 * was noted under (rt__watchdog_spawned), NULL for none; a noted entry
 * other than `entry` takes its place, and then `name` (the name of the
 * wrapper that `entry` is) is not reported. Owner thread only. */
void rt__watchdog_resume(struct rt_watchdog *wd, int64_t id, const char *name,
                         uintptr_t entry, const void *task);

/* For schedulers, when control is back in the scheduler itself (no task
 * runs: waiting in the reactor is not a stall). Owner thread only. */
void rt__watchdog_idle(struct rt_watchdog *wd);

/* Describes a running task into buf (len > 0) in the task dump's words:
 * kind, id, name (NULL: none), fn (0: use fname), state "running". The
 * dump owns that formatter and names spawn sites through this file, so the
 * watchdog cannot include it: common/dump.c sets this at the start of
 * every run (rt__dump_begin, after rt__watchdog_start and before any task
 * runs), and the watchdog thread reads it (relaxed atomic; the value is
 * always the same function). NULL before: the report then says only the
 * kind and the id. */
typedef void (*rt__watchdog_describe_fn)(char *buf, size_t len,
                                         const char *kind, int64_t id,
                                         const char *name, uintptr_t fn,
                                         const char *fname, const void *key);
extern _Atomic(rt__watchdog_describe_fn) rt__watchdog_describe;

/* Spawn sites. 1 while sites are noted, 0 while not, -1 until first asked.
 * Read it through rt__watchdog_noting(). */
extern atomic_int rt__watchdog_sites;

/* Reads the setting again (rt_watchdog_ms() > 0) into rt__watchdog_sites,
 * forgets every noted site when it is off, and returns it. Called by
 * rt_watchdog_set_ms, rt__watchdog_start and the first rt__watchdog_noting. */
bool rt__watchdog_sites_refresh(void);

/* Whether spawns should note their site now: one relaxed load. */
static inline bool rt__watchdog_noting(void)
{
    int v = atomic_load_explicit(&rt__watchdog_sites, memory_order_relaxed);
    return v > 0 || (v < 0 && rt__watchdog_sites_refresh());
}

/* For spawn functions, when rt__watchdog_noting(): task `task` (the key the
 * scheduler will pass to rt__watchdog_resume) runs `entry` and was spawned
 * by the call that returns to `site` (a __builtin_return_address(0) of the
 * public spawn function). Replaces what was noted under the same key. Out
 * of memory, the site is not noted (the report says "?"). Any thread. */
void rt__watchdog_spawned(const void *task, uintptr_t site, uintptr_t entry);

/* The site and entry noted for `task`: true and both stored, or false when
 * none is noted. Any thread. */
bool rt__watchdog_site_of(const void *task, uintptr_t *site, uintptr_t *entry);

/* For schedulers, when task `task` is freed and rt__watchdog_noting():
 * forgets its site. Any thread; an unknown key is fine. */
void rt__watchdog_forget(const void *task);

/* Writes the name of the function at code address `fn` into buf (len > 0):
 * its symbol when dladdr finds one starting exactly there (the executable
 * needs -rdynamic, CMake's ENABLE_EXPORTS, for its own functions), else
 * "file+0xoffset" for addr2line, else "?". For reports that name a task by
 * its function (the watchdog's, stackful overflow and deadlock reports).
 * Takes the loader's lock: not for a path that must never block. */
void rt__name_fn(uintptr_t fn, char *buf, size_t len);

/* Writes "symbol (file+0xoffset)" for code address `pc` into buf, or "?":
 * for an address inside a function (a spawn site), where rt__name_fn
 * would refuse a symbol that starts elsewhere. */
void rt__describe_pc(uintptr_t pc, char *buf, size_t len);

#endif

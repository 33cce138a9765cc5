/* The backends' side of the task dump (include/greenfut/dump.h): the one
 * line formatter shared by rt_dump and both deadlock reports, and the hooks
 * a run loop calls.
 *
 * Invariant: a source is registered only by the thread running the loop it
 * describes, for the length of that run, and only that thread calls it.
 */
#ifndef RT_COMMON_DUMP_INTERNAL_H
#define RT_COMMON_DUMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <greenfut/dump.h>
#include <greenfut/reactor.h>

/* Frames of a parked green thread's backtrace in the dump. */
#define RT__DUMP_BT_MAX 16

/* What one line says about a task; the backend fills it in. */
struct rt__dump_task {
    const char *kind;  /* "green thread" or "task" */
    int64_t id;        /* the task's id */
    const char *name;  /* its given name, NULL or "" for none */
    uintptr_t fn;      /* its own function (not a wrapper), 0: unknown */
    const char *fname; /* a name to use when fn is 0 (a vtable's name) */
    uintptr_t inner;   /* stackless: innermost child frame's function */
    const char *state; /* "running", "runnable" or "parked" */
    const char *wait;  /* what it waits on, NULL when not parked/unknown */
    const void *obj;   /* the channel, mutex, notify... waited on, or NULL */
    int fd;            /* fd of an IO wait, -1 otherwise */
    uint64_t deadline; /* the wait's deadline (rt_now_ns scale), 0: none */
    int64_t stack;     /* stackful: stack bytes in use, -1 otherwise */
    const void *key;   /* its key in the watchdog's site table */
    /* A join: the task waited for (join_id > 0, its name and function as
     * name and fn above), join_id 0 otherwise. */
    int64_t join_id;
    const char *join_name;
    uintptr_t join_fn;
    /* Several workers: the index + 1 of the worker running it (state
     * "running"); 0 when not known, or with one worker. */
    unsigned worker;
    /* Several workers, runnable: the index + 1 of the worker whose ring,
     * LIFO slot or yield queue holds it (rt__dump_queued_on); 0 when not
     * seen there (the
     * inject queue, a pinned task's inbox, or in transit). */
    unsigned queued;
    /* Stackful, parked: return addresses of its own calls, innermost
     * first (rt__dump_fp_walk), bt_depth of them; 0: none. Written by
     * rt__dump_task_write as one indented line each, never by the
     * one-line formatter. */
    uintptr_t bt[RT__DUMP_BT_MAX];
    unsigned bt_depth;
    /* stackless: the await chain, outermost first, `depth` frames: each
     * frame's function, and the source file (NULL: unknown) and line of
     * the await it resumes at; depth 0 for none. */
    const uintptr_t *chain;
    const char *const *files;
    const unsigned *lines;
    unsigned depth;
};

/* Writes the description of `t` into buf (len > 0, cut short to fit), no
 * indent and no newline:
 *   green thread 2 "n" (fn) waiting on channel recv 0x5581c0 [parked,
 *   stack 1184 bytes, spawned in caller (prog+0x1b40)]
 *   green thread 4 (joiner) waiting on join of green thread 5 "w" (work)
 *   [parked, stack 960 bytes]
 *   task 7 (spin) [running on worker 1]
 *   task 6 (fn, in child leaf) waiting on read (fd 5) [parked, awaits
 *   through fn at prog.c:110 > mid at prog.c:101 > leaf at prog.c:92]
 *   task 3 (sleeper) waiting on sleep, 12.3 ms left [parked]
 * A task that waits on nothing leaves out the "waiting on" part. The one
 * wording of a task for the dump, the deadlock reports and the watchdog. */
void rt__dump_task_format(char *buf, size_t len, const struct rt__dump_task *t);

/* Writes one dump line for `t`: two spaces, rt__dump_task_format's text,
 * a newline; then, when t->bt_depth, one line per frame of its backtrace:
 *       #1 parked_level3 (prog+0x1b40) */
void rt__dump_task_write(FILE *out, const struct rt__dump_task *t);

/* Walks the frame-pointer chain of a suspended stack: `pc` is the
 * address the stack resumes at and `fp` its saved frame pointer, the
 * stack's frames lie in [lo, hi). Each frame [fp] holds its caller's frame
 * pointer and [fp + 8] the return address into that caller (x86-64 and
 * AArch64 with frame pointers). Stores up to `max` code addresses into pcs,
 * `pc` first, and returns how many. Reads only inside [lo, hi), and each
 * frame must lie above the one before, so a stack built without frame
 * pointers (whose rbp holds anything) gives a short or empty walk, never
 * a fault. The stack must stay mapped meanwhile; it may be changing (a
 * green thread resumed on another worker): then the walk is garbage but
 * still bounded. */
unsigned rt__dump_fp_walk(uintptr_t pc, uintptr_t fp, uintptr_t lo,
                          uintptr_t hi, uintptr_t *pcs, unsigned max);

/* The workers' part of a dump of a run with several workers: one line per
 * worker, what it does now as far as the runtime knows. The backend fills
 * `running` (its item that worker runs, or NULL) before its walk over the
 * tasks and `id` during it (the walk holds the lock that keeps the item
 * alive, so the item is never read through this pointer). */
struct rt__dump_worker {
    const void *running; /* the thread or task it runs, NULL: none */
    int64_t id;          /* that item's id, 0 until the walk found it */
};

struct rt_list;
struct rt_workers;

/* What worker `i` of `ws` does when it runs no task: "turning the
 * reactor", "parked" or "in its loop". Takes the worker's park lock for a
 * moment; call it holding no scheduler lock. A snapshot: the worker may
 * have moved on when the line is read. */
const char *rt__dump_worker_doing(struct rt_workers *ws, unsigned i);

/* A snapshot of what the workers' rings and LIFO slots hold, to say where
 * a runnable task waits. Taken (and allocated) by rt__dump_queues_take,
 * NULL when out of memory; freed by rt__dump_queues_free (NULL is fine).
 * The rings' slots are atomics; a LIFO slot is its owner's plain field,
 * read racily and only compared. Call it holding no lock. */
struct rt__dump_queues;
struct rt__dump_queues *rt__dump_queues_take(struct rt_workers *ws);
void rt__dump_queues_free(struct rt__dump_queues *q);

/* The index of the worker whose ring or LIFO slot held `node` in `q`, or
 * -1 (also for a NULL q). Compares pointers only. */
int rt__dump_queued_on(const struct rt__dump_queues *q,
                       const struct rt_list *node);

/* The index of the worker whose `running` is `item` among n, or -1. */
int rt__dump_worker_of(const struct rt__dump_worker *w, unsigned n,
                       const void *item);

/* Writes "  worker I: running <kind> N" for each of the n workers whose
 * item the walk found, else "  worker I: <doing[i]>" (rt__dump_worker_doing's
 * words, taken before the walk). `self` is the index of the worker writing
 * the dump from its own loop (the SIGQUIT path), -1 for none: its line
 * says so. */
void rt__dump_workers_write(FILE *out, const char *kind,
                            const struct rt__dump_worker *w,
                            const char *const *doing, unsigned n, int self);

/* Writes every line of the calling thread's run to `out`. */
typedef void (*rt__dump_fn)(void *ctx, FILE *out);

/* Registers the calling thread's run (`fn` over `ctx`, on reactor `r`) for
 * rt_dump, and installs the SIGQUIT handler when the dump signal is on.
 * rt__dump_end undoes both. */
void rt__dump_begin(rt__dump_fn fn, void *ctx, struct rt_reactor *r);
void rt__dump_end(void);

/* Runs the dump to stderr when SIGQUIT asked for one since the last call.
 * For the run loops, after each reactor turn: one relaxed load otherwise. */
void rt__dump_check(void);

/* ---- For the two portable layers only, which include <greenfut/rt.h>
 * first: what a portable frame waits on, in the dump's words. */
#ifdef RT_COMMON_RT_H
/* What each op waits on (the stackful `what` strings say the same). */
static inline const char *rt__op_name(unsigned op)
{
    switch (op) {
    case RT__OP_SLEEP:
        return "sleep";
    case RT__OP_SEND:
        return "channel send";
    case RT__OP_RECV:
        return "channel recv";
    case RT__OP_RECV_UNTIL:
        return "channel recv with deadline";
    case RT__OP_LOCK:
        return "mutex";
    case RT__OP_SEM:
        return "semaphore";
    case RT__OP_COND:
        return "condition";
    case RT__OP_WG:
        return "wait group";
    case RT__OP_NOTIFY:
        return "notify";
    case RT__OP_BLOCKING:
        return "blocking pool";
    case RT__OP_JOIN:
        return "join";
    case RT__OP_YIELD:
        return "yield";
    case RT__OP_READ:
    case RT__OP_READ_UNTIL:
        return "read";
    case RT__OP_WRITE:
    case RT__OP_WRITE_UNTIL:
        return "write";
    case RT__OP_ACCEPT:
        return "accept";
    case RT__OP_CONNECT:
        return "connect";
    default:
        return NULL;
    }
}

/* Fills d->wait, obj, fd and deadline from the op frame `h` (the innermost
 * of a chain) is suspended in. An IO op's fd is in h->obj, stored by the
 * await when it parks (RT__AWAIT_FD); the deadline of a receive with one
 * is that of its timer while armed. Reads the frame only. */
static inline void rt__frame_wait(const struct rt_frame *h,
                                  struct rt__dump_task *d)
{
    d->wait = rt__op_name(h->op);
    switch (h->op) {
    case RT__OP_READ_UNTIL:
    case RT__OP_WRITE_UNTIL:
        d->deadline = h->u.sleep.deadline;
        /* fall through */
    case RT__OP_READ:
    case RT__OP_WRITE:
    case RT__OP_ACCEPT:
    case RT__OP_CONNECT:
        d->fd = (int)(intptr_t)h->obj;
        break;
    case RT__OP_SLEEP:
        d->deadline = h->u.sleep.deadline;
        break;
    case RT__OP_RECV_UNTIL: {
        const struct rt_timer *t = (const void *)h->u.chan.msg;
        if (t && rt_timer_armed(t))
            d->deadline = t->deadline;
        d->obj = h->obj;
        break;
    }
    case RT__OP_SEND:
    case RT__OP_RECV:
    case RT__OP_LOCK:
    case RT__OP_SEM:
    case RT__OP_COND:
    case RT__OP_WG:
    case RT__OP_NOTIFY:
        d->obj = h->obj;
        break;
    case RT__OP_BLOCKING:
        d->obj = h->u.job;
        break;
    default:
        break;
    }
}
#endif

#endif

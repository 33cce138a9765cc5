/* The -O2 half of the thread-local lab (labs/lab_tls.c): one portable task
 * that reads a thread-local before and after an await that moves it to
 * another worker, built apart (labs/CMakeLists.txt) with the options under
 * which compilers keep a thread-local's address across a call. */
#ifndef RT_LABS_LAB_TLS_HAZARD_H
#define RT_LABS_LAB_TLS_HAZARD_H

#include <greenfut/rt.h>

/* The thread-local: each worker's OS thread stores its index + 1 in its
 * own copy (tls_set), so a read says whose copy it reached. */
extern _Thread_local int tls_slot;

/* The frame of tls_move, defined by lab_tls.c: a child task that asks the
 * agent task pinned to worker `target` to notify `back` from there, and
 * awaits that notification, until it runs on `target` or has been woken
 * `max_hops` times. */
struct tls_move {
    RT_FRAME;
    int target, max_hops;
    struct rt_notify *back;
    int hops, rc;
};
enum rt_poll tls_move(void *self);

/* The frame of tls_keep: `target` and `back` are the caller's; the rest is
 * what the task saw. */
struct tls_keep {
    RT_FRAME;
    int target;             /* the worker to move to */
    int max_hops;           /* wakes from there to try at most */
    struct rt_notify *back; /* the notification that brings it there */
    struct tls_move move;   /* the child that moves it */
    int from, to;           /* rt_worker_index() before and after */
    int before, after;      /* tls_slot before and after, as compiled */
    int fresh;              /* tls_fresh() after */
};

/* The portable task of the lab: reads tls_slot, awaits tls_move (to
 * worker `target`, in at most `max_hops` wakes), and reads tls_slot again,
 * noting rt_worker_index() and a fresh read beside each. Awaited with
 * RT_AWAIT_CALL. */
enum rt_poll tls_keep(void *self);

/* The calling OS thread's tls_slot, its address computed at this call. */
int tls_fresh(void);

/* Sets the calling OS thread's tls_slot, its address computed at this
 * call. */
void tls_set(int v);

#endif

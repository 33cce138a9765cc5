#include <greenfut/blocking.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include <greenfut/check.h>
#include <greenfut/list.h>
#include "sys.h"

#define IDLE_EXIT_S     10
#define DEFAULT_THREADS 4

enum { JOB_PENDING, JOB_DONE };

/* A job is touched by the task that submitted it (submit, poll, cancel:
 * one task at a time, on whichever worker runs it) and by the pool thread
 * that runs it; the fields say which lock each is under. */
struct rt_blocking {
    struct rt_list link;  /* on the pool's queue until a worker takes it;
                             pool.lock's */
    rt_blocking_fn fn;    /* fixed by submit */
    void *arg;            /* fixed by submit */
    struct rt_reactor *r; /* fixed; held from submit until poll/cancel
                             ends (the hold count is atomic) */
    pthread_mutex_t lock; /* guards the fields below */
    int state;
    bool abandoned; /* cancelled: the worker frees the job */
    intptr_t result;
    struct rt_waker waker; /* stored by poll, woken by the worker */
};

/* The process-wide pool, shared by every submitter (any worker of any
 * scheduler) and every pool thread: all of it is `lock`'s. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct rt_list queue;
    size_t queued; /* jobs on the queue */
    int threads;   /* started and not exited */
    int idle;      /* waiting for work */
    int max;
    bool ready;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

/* Runs one job and completes it. The wake happens under the job's lock, so
 * the scheduler cannot see JOB_DONE, finish, and free what the wake still
 * uses before the wake has returned. */
static void run_job(struct rt_blocking *job)
{
    intptr_t v = job->fn(job->arg);
    pthread_mutex_lock(&job->lock);
    RT_DEBUG_ASSERT(job->state == JOB_PENDING); /* a job runs once */
    job->result = v;
    job->state = JOB_DONE;
    rt_waker_wake(&job->waker);
    bool abandoned = job->abandoned;
    pthread_mutex_unlock(&job->lock);
    if (abandoned) {
        pthread_mutex_destroy(&job->lock);
        free(job);
    }
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        struct rt_list *n = rt_list_pop_front(&pool.queue);
        if (n) {
            pool.queued--;
            struct rt_blocking *job =
                RT_CONTAINER_OF(n, struct rt_blocking, link);
            pthread_mutex_unlock(&pool.lock);
            run_job(job);
            pthread_mutex_lock(&pool.lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += IDLE_EXIT_S;
        pool.idle++;
        int rc = pthread_cond_timedwait(&pool.work, &pool.lock, &until);
        pool.idle--;
        if (rc == ETIMEDOUT && rt_list_empty(&pool.queue))
            break;
    }
    pool.threads--;
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

/* Called with pool.lock held. */
static int start_worker(void)
{
    int rc = rt_sys_thread_start(worker, NULL);
    if (rc != 0)
        return -rc;
    pool.threads++;
    return 0;
}

int rt_blocking_submit(struct rt_reactor *r, rt_blocking_fn fn, void *arg,
                       struct rt_blocking **out)
{
    if (!r || !fn || !out)
        return -EINVAL;
    struct rt_blocking *job = rt_sys_malloc(sizeof(*job));
    if (!job)
        return -ENOMEM;
    *job = (struct rt_blocking){.fn = fn,
                                .arg = arg,
                                .r = r,
                                .state = JOB_PENDING,
                                .waker = RT_WAKER_NONE};
    rt_list_init(&job->link);
    pthread_mutex_init(&job->lock, NULL);

    pthread_mutex_lock(&pool.lock);
    if (!pool.ready) {
        rt_list_init(&pool.queue);
        const char *env = getenv("RT_BLOCKING_THREADS");
        pool.max = env ? atoi(env) : DEFAULT_THREADS;
        if (pool.max < 1 || pool.max > 1024)
            pool.max = DEFAULT_THREADS;
        pool.ready = true;
    }
    /* A new thread unless enough idle ones wait for every queued job and
     * this one. `idle` counts a signalled thread until it has woken, so a
     * burst of submits (several workers at once, or one task's loop) must
     * count the jobs already queued, or it would leave them all to one
     * thread while others could start, and a job that waits for another
     * job of the burst would never finish. */
    int rc = 0;
    if (pool.queued >= (size_t)pool.idle && pool.threads < pool.max)
        rc = start_worker();
    if (rc < 0 && pool.threads > 0)
        rc = 0; /* the existing workers will get to it */
    if (rc == 0) {
        rt_list_push_back(&pool.queue, &job->link);
        pool.queued++;
        pthread_cond_signal(&pool.work);
    }
    pthread_mutex_unlock(&pool.lock);
    if (rc < 0) {
        pthread_mutex_destroy(&job->lock);
        free(job);
        return rc == -EAGAIN ? -EAGAIN : rc;
    }
    rt_reactor_hold(r);
    *out = job;
    return 0;
}

enum rt_poll rt_blocking_poll(struct rt_blocking *job, struct rt_cx *cx,
                              intptr_t *res)
{
    if (!res)
        return RT_READY;
    if (!job || !rt_cx_ok(cx)) {
        *res = rt__cx_refusal();
        return RT_READY;
    }
    pthread_mutex_lock(&job->lock);
    if (job->state != JOB_DONE) {
        rt_waker_store(&job->waker, cx->waker);
        pthread_mutex_unlock(&job->lock);
        return RT_PENDING;
    }
    *res = job->result;
    RT_DEBUG_ASSERT(!rt_waker_is_set(&job->waker)); /* the worker woke it */
    pthread_mutex_unlock(&job->lock);
    rt_reactor_release(job->r);
    pthread_mutex_destroy(&job->lock);
    free(job);
    return RT_READY;
}

void rt_blocking_cancel(struct rt_blocking *job)
{
    if (!job)
        return;
    struct rt_reactor *r = job->r;
    bool free_now = false;
    /* Still queued: take it off the queue, it never runs. */
    pthread_mutex_lock(&pool.lock);
    if (rt_list_linked(&job->link)) { /* the link is pool.lock's */
        /* Still queued, so no worker has it: it has not run. */
        RT_DEBUG_ASSERT(job->state == JOB_PENDING);
        rt_list_remove(&job->link);
        pool.queued--;
        free_now = true;
    }
    pthread_mutex_unlock(&pool.lock);
    if (!free_now) {
        pthread_mutex_lock(&job->lock);
        rt_waker_drop(&job->waker);
        free_now = job->state == JOB_DONE;
        job->abandoned = !free_now;
        pthread_mutex_unlock(&job->lock);
    } else {
        rt_waker_drop(&job->waker);
    }
    rt_reactor_release(r);
    if (free_now) {
        pthread_mutex_destroy(&job->lock);
        free(job);
    }
}

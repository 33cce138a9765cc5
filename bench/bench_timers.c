/* timers: N tasks each sleep a random duration in [0, 20 ms) and are
 * joined; every timer must fire (each task returns 1 after its sleep).
 * Metric ns_per_timer = CPU time of the process (user + system) from the
 * first spawn to the last join / N: the cost of arming, firing and the
 * wake-up, without the idle waiting. It includes each sleeping task's spawn
 * and join. Params: N. */
#include <time.h>

#include <stdlib.h>

#include "harness.h"
#include <greenfut/rt.h>

struct sleeper {
    RT_FRAME;
    uint64_t ns;
};

static enum rt_poll sleeper(void *self)
{
    struct sleeper *f = self;
    RT_BEGIN(f);
    RT_AWAIT_SLEEP(f, f->ns);
    RT_RETURN(f, 1);
    RT_END(f);
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct root {
    RT_FRAME;
    long n, i;
    struct rt_join *j;
    uint64_t seed, c0;
    int rc;
};

static enum rt_poll root(void *self)
{
    struct root *f = self;
    RT_BEGIN(f);
    f->c0 = cpu_ns();
    for (f->i = 0; f->i < f->n; f->i++) {
        f->seed = f->seed * 6364136223846793005u + 1442695040888963407u;
        struct sleeper s = {.ns = (f->seed >> 33) % 20000000u};
        if (rt_spawn(sleeper, &s, sizeof s, &f->j[f->i]) < 0)
            bh_fail("timers: spawn failed");
    }
    for (f->i = 0; f->i < f->n; f->i++) {
        RT_AWAIT_JOIN(f, f->rc, &f->j[f->i]);
        if (f->rc != 0 || f->j[f->i].ret != 1)
            bh_fail("timers: a timer did not fire");
    }
    RT_RETURN(f, cpu_ns() - f->c0);
    RT_END(f);
}

int main(int argc, char **argv)
{
    static const long long defaults[] = {100000, -1};
    struct bh_args a;
    bh_parse(argc, argv, defaults, &a);
    for (int p = 0; p < a.nparams; p++) {
        long n = (long)a.params[p];
        struct rt_join *j = calloc((size_t)n, sizeof(*j));
        if (!j)
            bh_fail("timers: out of memory");
        double s[BH_MAX_RUNS];
        for (int r = 0; r < a.runs; r++) {
            struct root f = {.n = n, .j = j, .seed = (uint64_t)r + 1};
            intptr_t ns = 0;
            if (rt_run(root, &f, sizeof f, &ns) < 0)
                bh_fail("timers: run failed");
            s[r] = (double)ns / (double)n;
        }
        free(j);
        bh_row("timers", rt_backend_name(), n, "ns_per_timer", "ns", s, a.runs);
    }
    return 0;
}

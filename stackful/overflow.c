/* Stack-overflow reporter: a SIGSEGV handler that runs on an alternate
 * signal stack (the faulting stack has no room left, by definition).
 *
 * A fault whose address lies in the guard below the running green thread's
 * stack, or taken while the stack pointer is below that stack (a frame that
 * jumped the guard), is an overflow: one line naming the thread and its
 * stack size goes to stderr, then abort(). Any other fault is not ours: the
 * previous action (SIG_DFL unless a sanitizer installed one) is restored and
 * the handler returns, so the faulting instruction runs again and gets it.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ucontext.h>
#include <sys/mman.h>

#include "gt_internal.h"
#include "sys.h"

#define ALTSTACK_BYTES (64u * 1024u)

static struct sigaction old_segv;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int install_rc;

/* The stack pointer of the interrupted context, or NULL where we do not
 * know how to read it. */
static char *fault_sp(void *uc)
{
#if defined(__x86_64__)
    return (char *)(uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (char *)(uintptr_t)((ucontext_t *)uc)->uc_mcontext.sp;
#else
    (void)uc;
    return NULL;
#endif
}

/* A frame larger than the guard, from code built without
 * -fstack-clash-protection, moves the stack pointer past the guard in one
 * step, and its first touch faults below it (or, worse, lands in a mapping
 * there). A fault while the stack pointer lies below the running thread's
 * stack is that overflow too, wherever the address is; a bound keeps a
 * corrupt stack pointer from counting. */
#define BELOW_MAX ((size_t)1 << 30)

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    struct gt__worker *wk = gt__here();
    struct gt__sched *s = wk ? wk->s : NULL;
    struct gt__thread *t = wk ? wk->current : NULL;
    if (t && t != &wk->main) {
        char *lo, *hi;
        gt__stack_guard(&s->stacks, &t->stack, &lo, &hi);
        char *a = si->si_addr;
        char *sp = fault_sp(uc);
        bool below =
            sp && sp < t->stack.lo && (size_t)(t->stack.lo - sp) <= BELOW_MAX;
        if ((a >= lo && a < hi) || below) {
            /* snprintf of integers and strings does not allocate in glibc;
             * we abort right after, so no lock can be held for long. Naming
             * the function takes the loader's lock (dladdr): only a fault
             * inside the loader itself, with that lock held, could hang
             * here, and the report is worth that risk. */
            char who[GT_NAME_MAX + 192];
            gt__describe(t, who, sizeof(who));
            char line[sizeof(who) + 96];
            int n = snprintf(line, sizeof(line),
                             "stackful: stack overflow in %s, stack size %zu "
                             "bytes, fault at %p\n",
                             who, t->stack.size, (void *)a);
            if (n > 0) {
                ssize_t w = write(STDERR_FILENO, line,
                                  (size_t)n < sizeof(line) ? (size_t)n
                                                           : sizeof(line) - 1);
                (void)w;
            }
            abort();
        }
    }
    sigaction(SIGSEGV, &old_segv, NULL);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    install_rc = sigaction(SIGSEGV, &sa, &old_segv) == 0 ? 0 : -errno;
}

int gt__overflow_init(void **altstack)
{
    *altstack = NULL;
    pthread_once(&once, install);
    if (install_rc)
        return install_rc;
    stack_t cur;
    if (rt_sys_sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return 0; /* this OS thread has one already (e.g. a sanitizer's) */
    void *p = rt_sys_mmap(NULL, ALTSTACK_BYTES, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    stack_t ss = {.ss_sp = p, .ss_size = ALTSTACK_BYTES, .ss_flags = 0};
    if (rt_sys_sigaltstack(&ss, NULL) != 0) {
        int err = -errno;
        munmap(p, ALTSTACK_BYTES);
        return err;
    }
    *altstack = p;
    return 0;
}

void gt__overflow_fini(void *altstack)
{
    if (!altstack)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    munmap(altstack, ALTSTACK_BYTES);
}

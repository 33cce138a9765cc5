/* Switch annotations for the tools that watch stacks: AddressSanitizer must
 * be told before and after every stack switch (or it reports false stack
 * errors and loses its fake stacks), ThreadSanitizer must be told which
 * fiber runs (or it mixes the shadow call stacks and happens-before clocks of
 * all green threads of one OS thread), and Valgrind must know which memory
 * is a stack (or it takes a switch for a huge stack-pointer move).
 *
 * One per-thread word (gt__thread.san_fake) serves whichever of ASan and
 * TSan is on: ASan's fake-stack handle or TSan's fiber. The two sanitizers
 * cannot be combined in one build, so the word is never needed twice.
 *
 * Each helper compiles to nothing when its tool is absent, so the switch in
 * switch.h calls them unconditionally.
 */
#ifndef RT_STACKFUL_FIBER_SAN_H
#define RT_STACKFUL_FIBER_SAN_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define GT__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GT__ASAN 1
#endif
#endif
#ifndef GT__ASAN
#define GT__ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define GT__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GT__TSAN 1
#endif
#endif
#ifndef GT__TSAN
#define GT__TSAN 0
#endif

#if GT__ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if GT__TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>) && \
    __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#define GT__VALGRIND 1
#endif
#endif
#ifndef GT__VALGRIND
#define GT__VALGRIND 0
#endif

/* Before a jump: `save` receives the leaving fiber's fake-stack handle, or
 * is NULL when the leaving fiber will never run again (ASan frees its fake
 * stack); [bottom, bottom + size) is the stack being entered. */
static inline void gt__san_start(void **save, const void *bottom, size_t size)
{
#if GT__ASAN
    __sanitizer_start_switch_fiber(save, bottom, size);
#else
    (void)save;
    (void)bottom;
    (void)size;
#endif
}

/* Right before a jump, TSan's half: `from` is the leaving fiber's word, or
 * NULL when it never runs again; `to` is the entered one's. A word still NULL
 * gets its fiber here: the running context's own (the first switch away
 * from gt_run's stack) or a new one (a green thread's first entry). The
 * switch synchronises (no __tsan_switch_to_fiber_no_sync): what one green
 * thread wrote before it handed over is visible to the next, as on a real
 * single OS thread. */
static inline void gt__tsan_switch(void **from, void **to)
{
#if GT__TSAN
    if (from && !*from)
        *from = __tsan_get_current_fiber();
    if (!*to)
        *to = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(*to, 0);
#else
    (void)from;
    (void)to;
#endif
}

/* Frees the TSan fiber in a green thread's word (set by gt__tsan_switch),
 * once the thread can never run again; never the running fiber's. */
static inline void gt__tsan_free(void **word)
{
#if GT__TSAN
    if (*word)
        __tsan_destroy_fiber(*word);
    *word = NULL;
#else
    (void)word;
#endif
}

/* After landing: `save` is what gt__san_start stored for this fiber (NULL on
 * its first entry); old_bottom and old_size receive the stack just left. */
static inline void gt__san_finish(void *save, const void **old_bottom,
                                  size_t *old_size)
{
#if GT__ASAN
    __sanitizer_finish_switch_fiber(save, old_bottom, old_size);
#else
    (void)save;
    (void)old_bottom;
    (void)old_size;
#endif
}

/* A reused stack may carry poison from frames that never returned (an
 * entry function never does); clear it before new frames live there. For
 * Valgrind, the bytes below the last thread's lowest stack pointer were
 * marked inaccessible when its frames went away: make the whole stack
 * addressable again (contents undefined), since the next thread's block
 * and argument copy may sit where those frames were. */
static inline void gt__san_unpoison(void *p, size_t len)
{
#if GT__ASAN
    ASAN_UNPOISON_MEMORY_REGION(p, len);
#endif
#if GT__VALGRIND
    (void)VALGRIND_MAKE_MEM_UNDEFINED(p, len);
#endif
    (void)p;
    (void)len;
}

/* Tells Valgrind that [lo, hi) is a stack; returns its id (0 without). */
static inline unsigned gt__vg_register(void *lo, void *hi)
{
#if GT__VALGRIND
    return VALGRIND_STACK_REGISTER(lo, hi);
#else
    (void)lo;
    (void)hi;
    return 0;
#endif
}

/* Forgets the stack registered as `id`. */
static inline void gt__vg_deregister(unsigned id)
{
#if GT__VALGRIND
    VALGRIND_STACK_DEREGISTER(id);
#else
    (void)id;
#endif
}

#endif

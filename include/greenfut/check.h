/* Always-on assertions and the runtime's panic.
 *
 * RT_ASSERT guards invariants whose violation would corrupt memory; it stays
 * on in release builds (SQLite's ALWAYS idea). RT_DEBUG_ASSERT is for checks
 * too costly for a hot path and is compiled only with RT_DEBUG. Neither ever
 * takes an expression with side effects.
 */
#ifndef RT_COMMON_CHECK_H
#define RT_COMMON_CHECK_H

/* Prints "file:line: message" to stderr and aborts. Never returns. */
_Noreturn void rt_panic(const char *file, int line, const char *msg);

#define RT_ASSERT(x) \
    ((x) ? (void)0 : rt_panic(__FILE__, __LINE__, "assertion failed: " #x))

#if defined(RT_DEBUG) && RT_DEBUG
#define RT_DEBUG_ASSERT(x) RT_ASSERT(x)
#else
#define RT_DEBUG_ASSERT(x) ((void)0)
#endif

#define RT_UNREACHABLE() rt_panic(__FILE__, __LINE__, "unreachable")

/* The struct that holds `member` at address `ptr` (kernel container_of). */
#define RT_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif

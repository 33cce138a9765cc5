/* The libFuzzer entry point every target in fuzz/ defines, and the small
 * byte reader the targets share. A target is built twice: with libFuzzer
 * (clang, -DRT_FUZZ=ON) and as a plain replay program (replay.c's main
 * feeds it each file named on the command line), which ctest runs over
 * fuzz/corpus/<target>/ in every build.
 */
#ifndef RT_FUZZ_FUZZ_H
#define RT_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; returns 0 (libFuzzer's contract). A failed check
 * aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Consumes the input front to back; reads past the end give zeros. */
struct fuzz_in {
    const uint8_t *p;
    size_t len;
};

/* The next byte, or 0 when the input is used up. */
static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->len)
        return 0;
    in->len--;
    return *in->p++;
}

/* The next two bytes, little-endian. */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)(fuzz_u8(in) << 8));
}

/* Aborts with a message when `cond` is false: the check of a target. */
#define FUZZ_CHECK(cond)                          \
    do {                                          \
        if (!(cond))                              \
            fuzz_fail(__FILE__, __LINE__, #cond); \
    } while (0)

/* Prints where a check failed and aborts (a crash libFuzzer records). */
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

#endif

#include <greenfut/check.h>

#include <stdio.h>
#include <stdlib.h>

void rt_panic(const char *file, int line, const char *msg)
{
    fprintf(stderr, "%s:%d: %s\n", file, line, msg);
    fflush(stderr);
    abort();
}

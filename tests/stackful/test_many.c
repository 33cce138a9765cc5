/* 100,000 green threads parked at once (beyond the guarded-stack budget, so
 * slab mode is exercised), then released and joined; RSS returns. */
#include "many.h"

int main(void)
{
    return many_main(100000);
}

/* 1,000,000 green threads parked at once: far past vm.max_map_count's
 * 65530 mappings if each stack had its own guard. */
#include "many.h"

int main(void)
{
    return many_main(1000000);
}

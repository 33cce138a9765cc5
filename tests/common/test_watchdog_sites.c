/* The watchdog's spawn-site table (include/greenfut/watchdog.h): noted only
 * while a watchdog is enabled, found again by key after growth and after
 * removals that shift neighbours back, replaced when a key is reused, and
 * emptied when the watchdog is switched off. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "watchdog_internal.h"

#define KEYS 5000

/* Keys a slab would hand out: 64 bytes apart, so many share low bits. */
static const void *key(int i)
{
    return (const void *)(uintptr_t)(0x100000 + 64 * (uintptr_t)i);
}

static void check_site(int i, int want)
{
    uintptr_t site = 0, entry = 0;
    bool found = rt__watchdog_site_of(key(i), &site, &entry);
    CHECK_EQ(found, want >= 0);
    if (want >= 0) {
        CHECK_EQ(site, (uintptr_t)(1000 + want));
        CHECK_EQ(entry, (uintptr_t)(2000 + want));
    }
}

int main(void)
{
    CHECK_EQ(unsetenv("RT_WATCHDOG_MS"), 0);
    rt_watchdog_set_ms(0);
    CHECK(!rt__watchdog_noting());

    rt_watchdog_set_ms(100);
    CHECK(rt__watchdog_noting());
    for (int i = 0; i < KEYS; i++)
        rt__watchdog_spawned(key(i), (uintptr_t)(1000 + i),
                             (uintptr_t)(2000 + i));
    for (int i = 0; i < KEYS; i++)
        check_site(i, i);
    /* Remove every third key; the rest must still be found. */
    for (int i = 0; i < KEYS; i += 3)
        rt__watchdog_forget(key(i));
    rt__watchdog_forget(key(KEYS + 7)); /* unknown: nothing happens */
    for (int i = 0; i < KEYS; i++)
        check_site(i, i % 3 ? i : -1);
    /* A reused key gets the new site. */
    rt__watchdog_spawned(key(1), 1000 + 77, 2000 + 77);
    check_site(1, 77);
    rt__watchdog_spawned(key(0), 1000 + 5, 2000 + 5);
    check_site(0, 5);
    /* Off: the table is emptied and nothing more is noted by spawns. */
    rt_watchdog_set_ms(0);
    CHECK(!rt__watchdog_noting());
    for (int i = 0; i < KEYS; i++)
        check_site(i, -1);
    printf("watchdog sites: ok\n");
    return 0;
}

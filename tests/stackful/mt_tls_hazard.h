/* The -O2 half of test_mt_tls.c (mt_tls_hazard.c). */
#ifndef TESTS_STACKFUL_MT_TLS_HAZARD_H
#define TESTS_STACKFUL_MT_TLS_HAZARD_H

/* Stores the calling OS thread's hz_slot in *before, calls call(arg), and
 * stores hz_slot again in *after, as the compiler chose to find it. */
void hz_keep(void (*call)(void *), void *arg, int *before, int *after);

/* The calling OS thread's hz_slot, its address computed at this call. */
int hz_fresh(void);

/* Sets the calling OS thread's hz_slot. */
void hz_set(int v);

#endif

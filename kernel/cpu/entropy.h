/*
 * Entropy from the CPU's own generators (SDM Vol. 1 §7.3.17): RDSEED
 * (conditioned seeds, NIST SP 800-90B/C) first, RDRAND (a DRBG reseeded from
 * the same source) when RDSEED runs dry or is missing. Both may fail
 * transiently (CF = 0); each is retried a bounded number of times, never
 * spun on. What virtio-rng hands a guest.
 */
#ifndef HV_CPU_ENTROPY_H
#define HV_CPU_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>

/* Whether this CPU has RDSEED or RDRAND (host_cpu). */
bool entropy_available(void);
/* Fills up to n bytes; returns how many (less only when the generators keep failing). */
size_t entropy_fill(void *buf, size_t n);

#endif

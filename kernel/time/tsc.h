/* The time-stamp counter as the host's clock. */
#ifndef HV_TIME_TSC_H
#define HV_TIME_TSC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi/acpi.h"

enum tsc_source { TSC_FROM_CPUID_15H, TSC_FROM_CPUID_16H, TSC_FROM_PM_TIMER, TSC_FROM_PIT, TSC_UNKNOWN };

/* Finds the TSC frequency; returns false if it could not be learnt. */
bool tsc_init(const struct acpi_info *acpi);
uint64_t tsc_khz(void);
const char *tsc_source_name(void);
bool tsc_invariant(void);
void udelay(uint64_t us);
/* Microseconds since tsc_init. */
uint64_t uptime_us(void);

#endif

/*
 * The wall-clock time: the host's CMOS RTC, read once at boot (taken as
 * UTC, as Linux and QEMU's default -rtc base=utc take it), carried forward
 * by the TSC. VMs' clocks start from it.
 */
#ifndef HV_TIME_WALLCLOCK_H
#define HV_TIME_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi/acpi.h"

/* What a VM's clock shows when the host's could not be read: 2026-01-01 00:00:00 UTC. */
#define WALLCLOCK_FALLBACK 1767225600ll

/* Reads the host RTC (after tsc_init); acpi may be NULL. False if it could not. */
bool wallclock_init(const struct acpi_info *acpi);
bool wallclock_known(void);
/* Unix seconds at host TSC value tsc (WALLCLOCK_FALLBACK-based when unknown). */
int64_t wallclock_unix_at(uint64_t tsc);
/* "2026-12-02 12:28:17 UTC (host CMOS RTC)" or the reason it is unknown. */
void wallclock_describe(char *buf, size_t size);

#endif

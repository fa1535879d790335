/*
 * The host's CMOS real-time clock (MC146818-compatible, ports 0x70/0x71):
 * read once, at boot, for the wall-clock time the VMs' clocks start from.
 */
#ifndef HV_DRIVERS_CMOS_RTC_H
#define HV_DRIVERS_CMOS_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/time/rtc_time.h"

/*
 * Reads the time registers outside an update cycle, twice until two reads
 * agree (the time cannot change between them), with register B's format
 * and, when century_index is not 0 (the FADT's CENTURY field), the century.
 * False when the clock never leaves its update cycle (no RTC there).
 * Needs the TSC calibrated (its waits are bounded in time).
 */
bool cmos_rtc_read(uint8_t century_index, struct rtc_regs *out);

#endif

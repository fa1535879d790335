/*
 * The host's wall clock (see wallclock.h). A UEFI machine may have no CMOS
 * RTC at all: the FADT says so with IAPC_BOOT_ARCH bit 5 (ACPI 6.5 Table
 * 5.11), and then the ports are not touched.
 */
#include "kernel/time/wallclock.h"

#include "drivers/cmos_rtc.h"
#include "include/x86.h"
#include "kernel/lib/format.h"
#include "kernel/time/rtc_time.h"
#include "kernel/time/tsc.h"

#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)

static bool known;
static const char *why = "not read";
static int64_t boot_unix = WALLCLOCK_FALLBACK;
static uint64_t boot_tsc;

bool wallclock_init(const struct acpi_info *acpi)
{
	struct rtc_regs regs;
	struct rtc_date date;

	boot_tsc = rdtsc();
	if (acpi && (acpi->boot_arch & BOOT_ARCH_CMOS_RTC_NOT_PRESENT)) {
		why = "the FADT says there is no CMOS RTC";
		return false;
	}
	if (!cmos_rtc_read(acpi ? acpi->century_index : 0, &regs)) {
		why = "the CMOS RTC never left its update cycle";
		return false;
	}
	boot_tsc = rdtsc();
	if (!rtc_regs_decode(&regs, &date)) {
		why = "the CMOS RTC holds no valid date";
		return false;
	}
	boot_unix = rtc_date_to_unix(&date);
	known = true;
	return true;
}

bool wallclock_known(void)
{
	return known;
}

int64_t wallclock_unix_at(uint64_t tsc)
{
	uint64_t hz = tsc_khz() * 1000;
	if ((int64_t)(tsc - boot_tsc) < 0)
		return boot_unix - (int64_t)((boot_tsc - tsc) / hz);
	return boot_unix + (int64_t)((tsc - boot_tsc) / hz);
}

void wallclock_describe(char *buf, size_t size)
{
	struct rtc_date d;
	rtc_unix_to_date(wallclock_unix_at(rdtsc()), &d);
	format(buf, size, "%04lld-%02u-%02u %02u:%02u:%02u UTC (%s%s)", (long long)d.year,
	       d.month, d.day, d.hour, d.min, d.sec, known ? "host CMOS RTC" : "unknown: ",
	       known ? "" : why);
}

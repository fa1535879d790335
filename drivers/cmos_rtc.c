/*
 * Host CMOS RTC reader. MC146818A datasheet: register A bit 7 (UIP) is set
 * 244 us before an update cycle and stays set through it (at most 2 ms), so
 * registers read while UIP is clear, and read again identically, are a
 * consistent time (Linux's mc146818_get_time() does the same). The index
 * port's bit 7 masks NMI on PC chipsets: it is written clear, leaving NMIs
 * (which stop the other CPUs on a panic) enabled.
 */
#include "drivers/cmos_rtc.h"

#include "include/x86.h"
#include "kernel/lib/string.h"
#include "kernel/time/tsc.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define REG_SECONDS 0x00
#define REG_MINUTES 0x02
#define REG_HOURS 0x04
#define REG_DAY_OF_MONTH 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_A_UIP 0x80
#define UIP_WAIT_US 10000 /* an update cycle lasts at most ~2 ms */
#define ATTEMPTS 5

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg & 0x7f);
	return inb(CMOS_DATA);
}

static bool wait_update_done(void)
{
	for (unsigned us = 0; us < UIP_WAIT_US; us += 10) {
		if (!(cmos_read(REG_A) & REG_A_UIP))
			return true;
		udelay(10);
	}
	return false;
}

static void read_regs(uint8_t century_index, struct rtc_regs *r)
{
	r->sec = cmos_read(REG_SECONDS);
	r->min = cmos_read(REG_MINUTES);
	r->hour = cmos_read(REG_HOURS);
	r->mday = cmos_read(REG_DAY_OF_MONTH);
	r->month = cmos_read(REG_MONTH);
	r->year = cmos_read(REG_YEAR);
	r->has_century = century_index != 0;
	r->century = century_index ? cmos_read(century_index) : 0;
	r->reg_b = cmos_read(REG_B);
}

bool cmos_rtc_read(uint8_t century_index, struct rtc_regs *out)
{
	if (century_index >= 0x80 || (century_index && century_index < 0x0e))
		century_index = 0; /* not a RAM byte: ignore it */
	for (int i = 0; i < ATTEMPTS; i++) {
		struct rtc_regs a, b;
		if (!wait_update_done())
			return false;
		read_regs(century_index, &a);
		if (!wait_update_done())
			return false;
		read_regs(century_index, &b);
		if (memcmp(&a, &b, sizeof(a)) == 0) {
			*out = a;
			return true;
		}
	}
	return false;
}

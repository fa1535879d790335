/*
 * Wall-clock arithmetic for PC RTC chips (MC146818 and its successors): the
 * time and date registers as they read (BCD or binary, 12- or 24-hour per
 * register B) to a calendar date and to Unix seconds, and back. Pure logic:
 * the host driver (drivers/cmos_rtc.c) reads the registers.
 */
#ifndef HV_TIME_RTC_TIME_H
#define HV_TIME_RTC_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define RTC_REG_B_24H 0x02	  /* MC146818A register B: 24-hour mode */
#define RTC_REG_B_BINARY 0x04	  /* data mode binary (else BCD) */
#define RTC_HOUR_PM 0x80	  /* 12-hour mode: bit 7 of the hours register */

/* The registers as read, undecoded. */
struct rtc_regs {
	uint8_t sec, min, hour, mday, month, year;
	uint8_t century; /* the FADT's CENTURY register, when has_century */
	bool has_century;
	uint8_t reg_b; /* the format bits above */
};

/* A UTC date and time on the proleptic Gregorian calendar. */
struct rtc_date {
	int64_t year;
	unsigned month, day, hour, min, sec; /* 1-12, 1-31, 0-23, 0-59, 0-59 */
};

/*
 * Decodes the registers. Without a century register, years 70-99 are 19xx
 * and 00-69 20xx. False when a field is not a valid BCD digit pair or out of
 * range (a dead or unset clock): *out is then untouched.
 */
bool rtc_regs_decode(const struct rtc_regs *r, struct rtc_date *out);

/* Unix seconds of a date, and the date of Unix seconds. */
int64_t rtc_date_to_unix(const struct rtc_date *d);
void rtc_unix_to_date(int64_t secs, struct rtc_date *out);

#endif

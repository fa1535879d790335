// SOURCES: kernel/time/rtc_time.c kernel/lib/calendar.c
/*
 * The host RTC's registers to Unix time, as firmware leaves them: BCD or
 * binary, 24- or 12-hour (12 AM is midnight, 12 PM noon), with and without
 * the FADT's century register; a dead clock's garbage is refused; and the
 * calendar arithmetic across leap days and centuries, checked against
 * known Unix times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/lib/calendar.h"
#include "kernel/time/rtc_time.h"

#define BCD_24H RTC_REG_B_24H
#define BIN_24H (RTC_REG_B_24H | RTC_REG_B_BINARY)

static int64_t unix_of(struct rtc_regs r)
{
	struct rtc_date d;
	assert_true(rtc_regs_decode(&r, &d));
	return rtc_date_to_unix(&d);
}

static bool decodes(struct rtc_regs r)
{
	struct rtc_date d = { 1, 1, 1, 1, 1, 1 };
	bool ok = rtc_regs_decode(&r, &d);
	if (!ok)
		assert_int_equal(d.year, 1); /* untouched */
	return ok;
}

static void test_bcd_24h(void **state)
{
	(void)state;
	/* 2026-12-02 12:28:17 UTC, as a BIOS leaves the clock (BCD, 24-hour) */
	struct rtc_regs r = { .sec = 0x17, .min = 0x28, .hour = 0x12, .mday = 0x02,
			      .month = 0x12, .year = 0x26, .reg_b = BCD_24H };
	assert_int_equal(unix_of(r), 1796214497);
	r.has_century = true;
	r.century = 0x20;
	assert_int_equal(unix_of(r), 1796214497);
	struct rtc_date d;
	assert_true(rtc_regs_decode(&r, &d));
	assert_int_equal(d.year, 2026);
	assert_int_equal(d.month, 12);
	assert_int_equal(d.day, 2);
	assert_int_equal(d.hour, 12);
}

static void test_binary(void **state)
{
	(void)state;
	struct rtc_regs r = { .sec = 17, .min = 28, .hour = 12, .mday = 2, .month = 12,
			      .year = 26, .reg_b = BIN_24H };
	assert_int_equal(unix_of(r), 1796214497);
	/* the epoch itself */
	r = (struct rtc_regs){ .sec = 0, .min = 0, .hour = 0, .mday = 1, .month = 1, .year = 70,
			       .reg_b = BIN_24H };
	assert_int_equal(unix_of(r), 0);
}

static void test_12_hour(void **state)
{
	(void)state;
	/* 12:05 AM is 00:05; 12:05 PM is 12:05; 11 PM is 23:00 */
	struct rtc_regs r = { .sec = 0, .min = 0x05, .hour = 0x12, .mday = 0x01, .month = 0x01,
			      .year = 0x00, .reg_b = 0 };
	assert_int_equal(unix_of(r), 946684800 + 5 * 60);
	r.hour = 0x12 | RTC_HOUR_PM;
	assert_int_equal(unix_of(r), 946684800 + 12 * 3600 + 5 * 60);
	r.hour = 0x11 | RTC_HOUR_PM;
	assert_int_equal(unix_of(r), 946684800 + 23 * 3600 + 5 * 60);
	r.hour = 0x01;
	assert_int_equal(unix_of(r), 946684800 + 3600 + 5 * 60);
	/* binary 12-hour */
	r = (struct rtc_regs){ .min = 5, .hour = 12 | RTC_HOUR_PM, .mday = 1, .month = 1,
			       .year = 0, .reg_b = RTC_REG_B_BINARY };
	assert_int_equal(unix_of(r), 946684800 + 12 * 3600 + 5 * 60);
	/* hour 0 or 13 does not exist in 12-hour mode */
	r.hour = 0;
	assert_false(decodes(r));
	r.hour = 13;
	assert_false(decodes(r));
}

static void test_century(void **state)
{
	(void)state;
	/* without a century register: 70-99 are 19xx, 00-69 20xx */
	struct rtc_regs r = { .mday = 0x31, .month = 0x12, .year = 0x99, .hour = 0x23,
			      .min = 0x59, .sec = 0x59, .reg_b = BCD_24H };
	assert_int_equal(unix_of(r), 946684799); /* 1999-12-31 23:59:59 */
	r.year = 0x69;
	assert_int_equal(unix_of(r), 3155759999); /* 2069-12-31 23:59:59 */
	/* the century register decides when there is one */
	r.has_century = true;
	r.century = 0x21;
	r.year = 0x00;
	r.month = 0x01;
	r.mday = 0x01;
	r.hour = r.min = r.sec = 0;
	assert_int_equal(unix_of(r), 4102444800); /* 2100-01-01 */
	r.century = 0x19;
	r.year = 0x70;
	assert_int_equal(unix_of(r), 0);
	r.century = 0x00; /* an unset century byte */
	assert_false(decodes(r));
}

static void test_leap_days(void **state)
{
	(void)state;
	struct rtc_regs r = { .mday = 0x29, .month = 0x02, .year = 0x24, .reg_b = BCD_24H };
	assert_int_equal(unix_of(r), 1709164800); /* 2024-02-29 */
	r.year = 0x25;
	assert_false(decodes(r)); /* no 29 February in 2025 */
	r.has_century = true;
	r.century = 0x21;
	r.year = 0x00;
	assert_false(decodes(r)); /* 2100 is not a leap year */
	r.century = 0x20;
	assert_true(decodes(r)); /* 2000 is */
	r.mday = 0x31;
	r.month = 0x04;
	assert_false(decodes(r)); /* 31 April */
}

static void test_garbage_refused(void **state)
{
	(void)state;
	struct rtc_regs good = { .sec = 0x17, .min = 0x28, .hour = 0x12, .mday = 0x02,
				 .month = 0x12, .year = 0x26, .reg_b = BCD_24H };
	assert_true(decodes(good));
	/* a clock that reads all ones (no RTC) or holds non-BCD digits */
	struct rtc_regs r = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, false, 0xff };
	assert_false(decodes(r));
	r = good;
	r.sec = 0x1a;
	assert_false(decodes(r));
	r = good;
	r.sec = 0x60;
	assert_false(decodes(r));
	r = good;
	r.min = 0x60;
	assert_false(decodes(r));
	r = good;
	r.hour = 0x24;
	assert_false(decodes(r));
	r = good;
	r.month = 0x13;
	assert_false(decodes(r));
	r = good;
	r.month = 0;
	assert_false(decodes(r));
	r = good;
	r.mday = 0;
	assert_false(decodes(r));
	r = good;
	r.reg_b = BIN_24H;
	r.year = 100;
	assert_false(decodes(r));
}

static void test_round_trip(void **state)
{
	(void)state;
	/* every day from 1900 to 2400 round-trips, and weekdays line up with 7 */
	int64_t first = cal_days_from_civil(1900, 1, 1), last = cal_days_from_civil(2400, 12, 31);
	assert_int_equal(first, -25567);
	for (int64_t d = first; d <= last; d++) {
		struct cal_date t;
		cal_civil_from_days(d, &t);
		assert_int_equal(cal_days_from_civil(t.year, t.month, t.day), d);
	}
	struct rtc_date t;
	rtc_unix_to_date(1796214497, &t);
	assert_int_equal(t.year, 2026);
	assert_int_equal(t.month, 12);
	assert_int_equal(t.day, 2);
	assert_int_equal(t.hour, 12);
	assert_int_equal(t.min, 28);
	assert_int_equal(t.sec, 17);
	assert_int_equal(rtc_date_to_unix(&t), 1796214497);
	rtc_unix_to_date(-1, &t); /* before the epoch */
	assert_int_equal(t.year, 1969);
	assert_int_equal(t.month, 12);
	assert_int_equal(t.day, 31);
	assert_int_equal(t.sec, 59);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd_24h),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_12_hour),
		cmocka_unit_test(test_century),
		cmocka_unit_test(test_leap_days),
		cmocka_unit_test(test_garbage_refused),
		cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

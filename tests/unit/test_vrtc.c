// SOURCES: guest/vrtc.c kernel/lib/calendar.c kernel/lib/string.c kernel/lib/format.c
/*
 * The MC146818 RTC driven as guests drive it: Linux's mc146818_get_time()
 * (UIP avoidance, seconds re-check) and mc146818_set_time() (SET plus divider
 * reset), BCD/binary and 12/24-hour formats, calendar rollovers, the
 * rtc-cmos periodic, alarm and update interrupts with register C, and CMOS
 * RAM through the index port with its NMI bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/vrtc.h"

#define SEC 1000000000ull
#define MS 1000000ull
#define US 1000ull

#define T_LEAP_END 1709251198ll /* 2024-02-29 23:59:58 UTC, a Thursday */
#define T_2100 4102444799ll	/* 2099-12-31 23:59:59, a Thursday */
#define T_Y2K_EVE 946643400ll	/* 1999-12-31 12:30:00, a Friday */

static struct vrtc rtc;
static uint64_t now;
static bool irq;
static unsigned rises;

static void set_irq(void *ctx, bool level)
{
	assert_ptr_equal(ctx, &rtc);
	assert_true(level != irq);
	if (level)
		rises++;
	irq = level;
}

static void start(int64_t epoch)
{
	now = 7 * SEC + 123456; /* guest time and the epoch are unrelated */
	irq = false;
	rises = 0;
	vrtc_init(&rtc, set_irq, &rtc, epoch, now);
}

static int setup(void **state)
{
	(void)state;
	start(T_LEAP_END);
	return 0;
}

static uint8_t cmos_read(uint8_t idx)
{
	vrtc_write(&rtc, 0, idx, now);
	return vrtc_read(&rtc, 1, now);
}

static void cmos_write(uint8_t idx, uint8_t val)
{
	vrtc_write(&rtc, 0, idx, now);
	vrtc_write(&rtc, 1, val, now);
}

struct tm_regs {
	uint8_t sec, min, hour, wday, mday, mon, year, century;
};

/* mc146818_get_time(): the polling loop costs 100 us of guest time. */
static void linux_get_time(struct tm_regs *t)
{
	unsigned tries = 0;
again:
	assert_true(++tries < 100);
	assert_int_equal(cmos_read(VRTC_REG_D) & 0x40, 0);
	uint8_t seconds = cmos_read(VRTC_SECONDS);
	if (cmos_read(VRTC_REG_A) & VRTC_A_UIP) {
		now += 100 * US;
		goto again;
	}
	if (seconds != cmos_read(VRTC_SECONDS))
		goto again;
	t->sec = seconds;
	now += 2 * US;
	t->min = cmos_read(VRTC_MINUTES);
	t->hour = cmos_read(VRTC_HOURS);
	t->wday = cmos_read(VRTC_DAY_OF_WEEK);
	t->mday = cmos_read(VRTC_DAY_OF_MONTH);
	t->mon = cmos_read(VRTC_MONTH);
	t->year = cmos_read(VRTC_YEAR);
	t->century = cmos_read(VRTC_CENTURY);
	now += 2 * US;
	if ((cmos_read(VRTC_REG_A) & VRTC_A_UIP) || seconds != cmos_read(VRTC_SECONDS))
		goto again;
}

static void expect(const struct tm_regs *t, uint8_t cen, uint8_t yr, uint8_t mon, uint8_t mday,
		   uint8_t wday, uint8_t hour, uint8_t min, uint8_t sec)
{
	assert_int_equal(t->century, cen);
	assert_int_equal(t->year, yr);
	assert_int_equal(t->mon, mon);
	assert_int_equal(t->mday, mday);
	assert_int_equal(t->wday, wday);
	assert_int_equal(t->hour, hour);
	assert_int_equal(t->min, min);
	assert_int_equal(t->sec, sec);
}

static void test_initial_time_bcd(void **state)
{
	(void)state;
	struct tm_regs t;
	assert_int_equal(cmos_read(VRTC_REG_A), 0x26);
	assert_int_equal(cmos_read(VRTC_REG_B), 0x02);
	assert_int_equal(cmos_read(VRTC_REG_C), 0);
	assert_int_equal(cmos_read(VRTC_REG_D), 0x80);
	linux_get_time(&t);
	expect(&t, 0x20, 0x24, 0x02, 0x29, 5, 0x23, 0x59, 0x58);
	assert_int_equal(vrtc_get_time(&rtc, now), T_LEAP_END);
}

/* Across midnight of a leap day, read as Linux reads it. */
static void test_rollover_leap_day(void **state)
{
	(void)state;
	struct tm_regs t;
	now += 1 * SEC;
	linux_get_time(&t);
	expect(&t, 0x20, 0x24, 0x02, 0x29, 5, 0x23, 0x59, 0x59);
	now += 1 * SEC;
	linux_get_time(&t);
	expect(&t, 0x20, 0x24, 0x03, 0x01, 6, 0x00, 0x00, 0x00);
	/* An hour and a day later. */
	now += 25 * 3600 * SEC + 61 * SEC;
	linux_get_time(&t);
	expect(&t, 0x20, 0x24, 0x03, 0x02, 7, 0x01, 0x01, 0x01);
}

static void test_rollover_century(void **state)
{
	(void)state;
	struct tm_regs t;
	start(T_2100);
	now += 1 * SEC;
	linux_get_time(&t);
	expect(&t, 0x21, 0x00, 0x01, 0x01, 6, 0x00, 0x00, 0x00);
	assert_int_equal(vrtc_get_time(&rtc, now), T_2100 + 1);
}

/* UIP is set for the last 244 us of each second, never otherwise. */
static void test_uip_window(void **state)
{
	(void)state;
	uint64_t second_end = 8 * SEC + 123456; /* init was at 7 s + 123456 ns */
	now = second_end - 244141 - 1;
	assert_int_equal(cmos_read(VRTC_REG_A), 0x26);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	now = second_end - 244141;
	assert_int_equal(cmos_read(VRTC_REG_A), 0xa6);
	now = second_end - 1;
	assert_int_equal(cmos_read(VRTC_REG_A), 0xa6);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58); /* not yet updated */
	now = second_end;
	assert_int_equal(cmos_read(VRTC_REG_A), 0x26);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x59);
	/* Writing UIP does nothing. */
	cmos_write(VRTC_REG_A, 0xa6);
	assert_int_equal(cmos_read(VRTC_REG_A), 0x26);
	/* Linux's loop, started inside the window, waits it out. */
	struct tm_regs t;
	now = second_end + SEC - 100 * US;
	linux_get_time(&t);
	assert_int_equal(t.sec, 0x00);
	assert_true(now >= second_end + SEC);
	/* No UIP while SET holds the clock. */
	cmos_write(VRTC_REG_B, 0x82);
	now = second_end + 2 * SEC - 1000;
	assert_int_equal(cmos_read(VRTC_REG_A) & VRTC_A_UIP, 0);
}

static void test_binary_and_12_hour(void **state)
{
	(void)state;
	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_DM_BINARY);
	assert_int_equal(cmos_read(VRTC_HOURS), 23);
	assert_int_equal(cmos_read(VRTC_SECONDS), 58);
	assert_int_equal(cmos_read(VRTC_YEAR), 24);
	assert_int_equal(cmos_read(VRTC_CENTURY), 20);
	cmos_write(VRTC_REG_B, 0x00); /* BCD, 12-hour */
	assert_int_equal(cmos_read(VRTC_HOURS), 0x91); /* 11 PM */
	now += 2 * SEC;
	assert_int_equal(cmos_read(VRTC_HOURS), 0x12); /* 12 AM */
	now += 12 * 3600 * SEC;
	assert_int_equal(cmos_read(VRTC_HOURS), 0x92); /* 12 PM */
	now += 3600 * SEC;
	assert_int_equal(cmos_read(VRTC_HOURS), 0x81); /* 1 PM */
	cmos_write(VRTC_REG_B, VRTC_B_DM_BINARY);
	assert_int_equal(cmos_read(VRTC_HOURS), 0x81); /* binary 1, PM */
	now += 10 * 3600 * SEC;
	assert_int_equal(cmos_read(VRTC_HOURS), 11 | 0x80);
	now += 3600 * SEC;
	assert_int_equal(cmos_read(VRTC_HOURS), 12); /* midnight */
	assert_int_equal(vrtc_get_time(&rtc, now), 1709251200ll + 24 * 3600);
}

/* mc146818_set_time(): SET, divider reset, registers, restore B then A. */
static void test_linux_set_time(void **state)
{
	(void)state;
	uint8_t save_control = cmos_read(VRTC_REG_B);
	cmos_write(VRTC_REG_B, save_control | VRTC_B_SET);
	uint8_t save_freq_select = cmos_read(VRTC_REG_A);
	cmos_write(VRTC_REG_A, save_freq_select | 0x70);
	cmos_write(VRTC_YEAR, 0x99);
	cmos_write(VRTC_CENTURY, 0x19);
	cmos_write(VRTC_MONTH, 0x12);
	cmos_write(VRTC_DAY_OF_MONTH, 0x31);
	cmos_write(VRTC_HOURS, 0x12);
	cmos_write(VRTC_MINUTES, 0x30);
	cmos_write(VRTC_SECONDS, 0x00);
	now += 3 * SEC; /* nothing moves while held */
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x00);
	cmos_write(VRTC_REG_B, save_control);
	now += 3 * SEC; /* still in divider reset */
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x00);
	assert_int_equal(cmos_read(VRTC_REG_A) & VRTC_A_UIP, 0);
	cmos_write(VRTC_REG_A, save_freq_select);
	uint64_t released = now;
	assert_int_equal(vrtc_get_time(&rtc, now), T_Y2K_EVE);
	/* The first update comes 500 ms after the divider leaves reset. */
	now = released + 500 * MS - 1;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x00);
	assert_int_equal(cmos_read(VRTC_REG_A) & VRTC_A_UIP, VRTC_A_UIP);
	now = released + 500 * MS;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x01);
	struct tm_regs t;
	now = released + 500 * MS + 11 * 3600 * SEC + 29 * 60 * SEC + 59 * SEC;
	linux_get_time(&t);
	expect(&t, 0x20, 0x00, 0x01, 0x01, 7, 0x00, 0x00, 0x00);
}

static void test_set_holds_and_resumes(void **state)
{
	(void)state;
	cmos_write(VRTC_REG_B, VRTC_B_SET | VRTC_B_24H);
	now += 10 * SEC;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	assert_int_equal(vrtc_get_time(&rtc, now), T_LEAP_END);
	cmos_write(VRTC_MINUTES, 0x10);
	cmos_write(VRTC_REG_B, VRTC_B_24H);
	assert_int_equal(cmos_read(VRTC_MINUTES), 0x10);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	/* The divider kept its phase: the next update is at the old boundary. */
	uint64_t boundary = 18 * SEC + 123456;
	now = boundary - 1;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	now = boundary;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x59);
	assert_int_equal(vrtc_get_time(&rtc, now), T_LEAP_END - 49 * 60 + 1);
}

static void test_write_time_while_running(void **state)
{
	(void)state;
	cmos_write(VRTC_HOURS, 0x05);
	assert_int_equal(cmos_read(VRTC_HOURS), 0x05);
	now += 2 * SEC;
	assert_int_equal(cmos_read(VRTC_HOURS), 0x06);
	assert_int_equal(cmos_read(VRTC_MINUTES), 0x00);
	assert_int_equal(cmos_read(VRTC_DAY_OF_MONTH), 0x29);
	/* The host sets the wall clock. */
	vrtc_set_time(&rtc, T_2100, now);
	assert_int_equal(cmos_read(VRTC_YEAR), 0x99);
	assert_int_equal(vrtc_get_time(&rtc, now), T_2100);
}

/* rtc-cmos periodic IRQ at 1024 Hz (register A rate 6). */
static void test_periodic_interrupt(void **state)
{
	(void)state;
	uint64_t origin = now;
	/* The flag is set even with PIE off. */
	now += 977 * US;
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_PF);
	assert_int_equal(cmos_read(VRTC_REG_C), 0);
	assert_false(irq);
	assert_int_equal(vrtc_update(&rtc, now), VRTC_NO_DEADLINE);

	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE);
	/* Tick 2 of 1/1024 s: 1953125 ns after the divider origin. */
	uint64_t d = vrtc_update(&rtc, now);
	assert_int_equal(d, origin + 1953125);
	now = d - 1;
	assert_int_equal(vrtc_update(&rtc, now), d);
	assert_false(irq);
	now = d;
	assert_int_equal(vrtc_update(&rtc, now), VRTC_NO_DEADLINE); /* until C read */
	assert_true(irq);
	/* cmos_interrupt(): read C, then the next one is due. */
	uint8_t c = cmos_read(VRTC_REG_C);
	assert_int_equal(c, VRTC_C_IRQF | VRTC_C_PF);
	assert_false(irq);
	assert_int_equal(vrtc_update(&rtc, now), origin + 2929688); /* 2929687.5 rounded up */
	/* 2 Hz (rate 15). */
	cmos_write(VRTC_REG_A, 0x2f);
	assert_int_equal(vrtc_update(&rtc, now), origin + 500 * MS);
	/* 8192 Hz (rate 3): 122070.3125 ns. */
	cmos_write(VRTC_REG_A, 0x23);
	now = origin + 10 * MS;
	(void)cmos_read(VRTC_REG_C);
	assert_int_equal(vrtc_update(&rtc, now), origin + 10009766);
	/* Rates 1, 2 equal 8, 9 (256, 128 Hz) with a 32.768 kHz base. */
	cmos_write(VRTC_REG_A, 0x21);
	assert_int_equal(vrtc_update(&rtc, now), origin + 11718750);
	/* Rate 0: none. */
	cmos_write(VRTC_REG_A, 0x20);
	assert_int_equal(vrtc_update(&rtc, now), VRTC_NO_DEADLINE);
	rises = 0;
	now += SEC;
	assert_int_equal(cmos_read(VRTC_REG_C) & VRTC_C_PF, 0);
	assert_int_equal(rises, 0);
}

static void test_update_interrupt(void **state)
{
	(void)state;
	uint64_t boundary = 8 * SEC + 123456;
	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE);
	assert_int_equal(vrtc_update(&rtc, now), boundary);
	now = boundary - 1;
	vrtc_update(&rtc, now);
	assert_false(irq);
	now = boundary;
	vrtc_update(&rtc, now);
	assert_true(irq);
	/* PF is set by the 1024 Hz divider even with PIE off. */
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_IRQF | VRTC_C_UF | VRTC_C_PF);
	assert_false(irq);
	assert_int_equal(vrtc_update(&rtc, now), boundary + SEC);
	/* SET clears UIE and stops updates. */
	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE | VRTC_B_SET);
	assert_int_equal(cmos_read(VRTC_REG_B), VRTC_B_24H | VRTC_B_SET);
	now += 5 * SEC;
	/* No UF; the divider (and so PF) keeps running under SET. */
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_PF);
	assert_int_equal(vrtc_update(&rtc, now), VRTC_NO_DEADLINE);
}

static void test_alarm_interrupt(void **state)
{
	(void)state;
	/* The clock shows 23:59:58; alarm at 00:00:05 (rtc-cmos style). */
	cmos_write(VRTC_SECONDS_ALARM, 0x05);
	cmos_write(VRTC_MINUTES_ALARM, 0x00);
	cmos_write(VRTC_HOURS_ALARM, 0x00);
	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_AIE);
	uint64_t first_boundary = 8 * SEC + 123456;
	assert_int_equal(vrtc_update(&rtc, now), first_boundary + 6 * SEC);
	now = first_boundary + 5 * SEC;
	vrtc_update(&rtc, now);
	assert_false(irq);
	/* UF and PF are set all along, but only AF is enabled. */
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_UF | VRTC_C_PF);
	now = first_boundary + 6 * SEC;
	vrtc_update(&rtc, now);
	assert_true(irq);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x05);
	assert_int_equal(cmos_read(VRTC_REG_C),
			 VRTC_C_IRQF | VRTC_C_AF | VRTC_C_UF | VRTC_C_PF);
	/* Next one a day later. */
	assert_int_equal(vrtc_update(&rtc, now), now + 86400 * SEC);

	/* "Don't care" hours and minutes: every minute at :05. */
	cmos_write(VRTC_HOURS_ALARM, 0xc0);
	cmos_write(VRTC_MINUTES_ALARM, 0xff);
	assert_int_equal(vrtc_update(&rtc, now), now + 60 * SEC);
	/* All three don't care: every second. */
	cmos_write(VRTC_SECONDS_ALARM, 0xc0);
	assert_int_equal(vrtc_update(&rtc, now), now + SEC);

	/* A missed alarm is still flagged when the guest looks hours later. */
	cmos_write(VRTC_SECONDS_ALARM, 0x30);
	cmos_write(VRTC_MINUTES_ALARM, 0x15);
	cmos_write(VRTC_HOURS_ALARM, 0x03);
	cmos_write(VRTC_REG_B, VRTC_B_24H);
	(void)cmos_read(VRTC_REG_C);
	now += 5 * 3600 * SEC;
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_AF | VRTC_C_UF | VRTC_C_PF);
	now += 3600 * SEC;
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_UF | VRTC_C_PF);
}

static void test_alarm_12_hour(void **state)
{
	(void)state;
	cmos_write(VRTC_REG_B, 0x00); /* BCD, 12-hour: 11:59:58 PM */
	cmos_write(VRTC_SECONDS_ALARM, 0x00);
	cmos_write(VRTC_MINUTES_ALARM, 0x00);
	cmos_write(VRTC_HOURS_ALARM, 0x12); /* 12 AM */
	cmos_write(VRTC_REG_B, VRTC_B_AIE);
	assert_int_equal(vrtc_update(&rtc, now), 8 * SEC + 123456 + SEC);
	cmos_write(VRTC_HOURS_ALARM, 0x92); /* 12 PM */
	assert_int_equal(vrtc_update(&rtc, now), 8 * SEC + 123456 + (1 + 12 * 3600) * SEC);
}

static void test_enable_with_flag_pending(void **state)
{
	(void)state;
	now += 2 * SEC;
	vrtc_update(&rtc, now);
	assert_false(irq);
	/* UF is already set: enabling UIE raises IRQF at once. */
	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_UIE);
	assert_true(irq);
	assert_int_equal(rises, 1);
	/* Turning the enable off drops it again. */
	cmos_write(VRTC_REG_B, VRTC_B_24H);
	assert_false(irq);
	/* The alarm registers are 00:00:00, and midnight passed: AF too. */
	assert_int_equal(cmos_read(VRTC_REG_C), VRTC_C_UF | VRTC_C_PF | VRTC_C_AF);
}

static void test_divider_reset_stops_everything(void **state)
{
	(void)state;
	cmos_write(VRTC_REG_B, VRTC_B_24H | VRTC_B_PIE | VRTC_B_UIE);
	cmos_write(VRTC_REG_A, 0x76);
	(void)cmos_read(VRTC_REG_C);
	assert_int_equal(vrtc_update(&rtc, now), VRTC_NO_DEADLINE);
	now += 10 * SEC;
	assert_int_equal(cmos_read(VRTC_REG_C), 0);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	assert_false(irq);
	/* Oscillator off (DV = 011) also holds time. */
	cmos_write(VRTC_REG_A, 0x36);
	now += 10 * SEC;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	cmos_write(VRTC_REG_A, 0x26);
	/* Out of reset the divider starts half a second in: 1024 Hz tick 513. */
	assert_int_equal(vrtc_update(&rtc, now), now + 976563);
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x58);
	now += 500 * MS;
	assert_int_equal(cmos_read(VRTC_SECONDS), 0x59);
}

static void test_cmos_ram(void **state)
{
	(void)state;
	for (unsigned i = VRTC_RAM_START; i < VRTC_SIZE; i++) {
		if (i == VRTC_CENTURY)
			continue;
		cmos_write((uint8_t)i, (uint8_t)(i * 7 + 1));
	}
	for (unsigned i = VRTC_RAM_START; i < VRTC_SIZE; i++) {
		if (i == VRTC_CENTURY)
			continue;
		assert_int_equal(cmos_read((uint8_t)i), (uint8_t)(i * 7 + 1));
		/* With the NMI-disable bit set in the index: the same byte. */
		assert_int_equal(cmos_read((uint8_t)(i | 0x80)), (uint8_t)(i * 7 + 1));
		assert_int_equal(vrtc_cmos_get(&rtc, (uint8_t)i), (uint8_t)(i * 7 + 1));
	}
	assert_true(rtc.nmi_disabled);
	vrtc_cmos_set(&rtc, 0x34, 0x5a);
	assert_int_equal(cmos_read(0x34), 0x5a);
	assert_false(rtc.nmi_disabled);
	/* Registers are not RAM for the host; the index port reads as 0xff. */
	vrtc_cmos_set(&rtc, VRTC_REG_B, 0xff);
	assert_int_equal(cmos_read(VRTC_REG_B), 0x02);
	assert_int_equal(vrtc_cmos_get(&rtc, VRTC_SECONDS), 0xff);
	assert_int_equal(vrtc_read(&rtc, 0, now), 0xff);
	/* C and D ignore writes. */
	cmos_write(VRTC_REG_D, 0x00);
	assert_int_equal(cmos_read(VRTC_REG_D), 0x80);
	cmos_write(VRTC_REG_C, 0xff);
	assert_int_equal(cmos_read(VRTC_REG_C), 0);
}

static void test_epoch_and_weekday(void **state)
{
	(void)state;
	struct tm_regs t;
	start(0);
	linux_get_time(&t);
	expect(&t, 0x19, 0x70, 0x01, 0x01, 5, 0x00, 0x00, 0x00);
	start(946684800ll); /* 2000-01-01, a Saturday */
	linux_get_time(&t);
	expect(&t, 0x20, 0x00, 0x01, 0x01, 7, 0x00, 0x00, 0x00);
	/* Every day of 2024 round-trips through the registers. */
	start(1704067200ll);
	for (int day = 0; day < 366; day++) {
		int64_t want = 1704067200ll + day * 86400ll + 3600 * 13 + 60 * 7 + 9;
		vrtc_set_time(&rtc, want, now);
		assert_int_equal(vrtc_get_time(&rtc, now), want);
		assert_int_equal(cmos_read(VRTC_DAY_OF_WEEK), (uint8_t)((day + 1) % 7 + 1));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_initial_time_bcd, setup),
		cmocka_unit_test_setup(test_rollover_leap_day, setup),
		cmocka_unit_test_setup(test_rollover_century, setup),
		cmocka_unit_test_setup(test_uip_window, setup),
		cmocka_unit_test_setup(test_binary_and_12_hour, setup),
		cmocka_unit_test_setup(test_linux_set_time, setup),
		cmocka_unit_test_setup(test_set_holds_and_resumes, setup),
		cmocka_unit_test_setup(test_write_time_while_running, setup),
		cmocka_unit_test_setup(test_periodic_interrupt, setup),
		cmocka_unit_test_setup(test_update_interrupt, setup),
		cmocka_unit_test_setup(test_alarm_interrupt, setup),
		cmocka_unit_test_setup(test_alarm_12_hour, setup),
		cmocka_unit_test_setup(test_enable_with_flag_pending, setup),
		cmocka_unit_test_setup(test_divider_reset_stops_everything, setup),
		cmocka_unit_test_setup(test_cmos_ram, setup),
		cmocka_unit_test_setup(test_epoch_and_weekday, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

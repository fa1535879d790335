// SOURCES: guest/vpit.c kernel/lib/string.c kernel/lib/format.c
/*
 * The 8254 PIT driven as Linux drives it: TSC calibration on channel 2 (the
 * 50 ms mode-0 loop polling port 0x61 and quick_pit_calibrate's MSB
 * stepping), channel 0 as periodic tick (mode 2), oneshot (mode 4) and
 * clocksource (counter latch), plus the read-back command, BCD, gate
 * behaviour and the deadlines the core arms its timer with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/vpit.h"

static struct vpit pit;
static uint64_t now;
static bool irq;
static unsigned rises, falls;

static void set_irq0(void *ctx, bool level)
{
	assert_ptr_equal(ctx, &pit);
	assert_true(level != irq);
	if (level)
		rises++;
	else
		falls++;
	irq = level;
}

static int setup(void **state)
{
	(void)state;
	now = 5000000123ull; /* guest time does not start at 0 */
	irq = false;
	rises = falls = 0;
	vpit_init(&pit, set_irq0, &pit, now);
	return 0;
}

static void outb(uint8_t v, uint16_t port)
{
	if (port == 0x61)
		vpit_port61_write(&pit, v, now);
	else
		vpit_write(&pit, port - 0x40, v, now);
}

static uint8_t inb(uint16_t port)
{
	if (port == 0x61)
		return vpit_port61_read(&pit, now);
	return vpit_read(&pit, port - 0x40, now);
}

static uint64_t tick_now(void)
{
	return vpit_ns_to_ticks(now);
}

/* Moves `now` to the first ns of the tick `t`. */
static void at_tick(uint64_t t)
{
	now = vpit_ticks_to_ns(t);
	assert_int_equal(vpit_ns_to_ticks(now), t);
}

static uint16_t latch_read(unsigned ch)
{
	outb((uint8_t)(ch << 6), 0x43);
	uint8_t lo = inb((uint16_t)(0x40 + ch));
	return (uint16_t)(lo | inb((uint16_t)(0x40 + ch)) << 8);
}

static void test_clock_conversion(void **state)
{
	(void)state;
	assert_int_equal(vpit_ns_to_ticks(0), 0);
	assert_int_equal(vpit_ns_to_ticks(1000000000ull), VPIT_HZ);
	assert_int_equal(vpit_ticks_to_ns(VPIT_HZ), 1000000000ull);
	assert_int_equal(vpit_ns_to_ticks(838), 0);
	assert_int_equal(vpit_ns_to_ticks(839), 1); /* 1 tick = 838.095 ns */
	assert_int_equal(vpit_ticks_to_ns(1), 839);
	/* ticks_to_ns gives the first ns of each tick, even after years. */
	static const uint64_t bases[] = { 0, 12345, 1ull << 32, 1ull << 40, 1ull << 50 };
	for (size_t b = 0; b < 5; b++) {
		for (uint64_t t = bases[b]; t < bases[b] + 3000; t += 7) {
			uint64_t ns = vpit_ticks_to_ns(t);
			assert_int_equal(vpit_ns_to_ticks(ns), t);
			if (t)
				assert_int_equal(vpit_ns_to_ticks(ns - 1), t - 1);
		}
	}
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	assert_false(irq);
	assert_int_equal(inb(0x61) & (VPIT_PORT61_OUT2 | 0x0f), 0);
	assert_int_equal(inb(0x43), 0xff);
	now += 1000000000ull;
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	assert_int_equal(rises, 0);
}

/* arch/x86/kernel/tsc.c pit_calibrate_tsc(): 50 ms in mode 0 on channel 2. */
static void test_linux_pit_calibrate_tsc(void **state)
{
	(void)state;
	const uint16_t latch = VPIT_HZ / (1000 / 50);
	outb((inb(0x61) & ~0x02) | 0x01, 0x61);
	outb(0xb0, 0x43);
	outb(latch & 0xff, 0x42);
	assert_int_equal(inb(0x61) & 0x20, 0); /* stopped after the LSB */
	outb(latch >> 8, 0x42);
	uint64_t t0 = tick_now(), ns0 = now;

	unsigned polls = 0;
	while ((inb(0x61) & 0x20) == 0) {
		now += 1000; /* one poll per microsecond of guest time */
		polls++;
		assert_true(polls < 100000);
	}
	/* The output rose at the first poll at or after tick t0 + latch. */
	uint64_t rise = vpit_ticks_to_ns(t0 + latch);
	assert_true(now >= rise && now < rise + 1000);
	assert_true(now - ns0 > 49990000ull && now - ns0 < 50010000ull);
	/* Again, checked at the exact tick boundary. */
	outb(latch & 0xff, 0x42);
	outb(latch >> 8, 0x42);
	t0 = tick_now();
	now = vpit_ticks_to_ns(t0 + latch) - 1;
	assert_false(inb(0x61) & 0x20);
	now++;
	assert_true(inb(0x61) & 0x20);
	/* Channel 2 never touches IRQ 0. */
	assert_int_equal(rises + falls, 0);
}

static bool verify_msb(uint8_t val)
{
	(void)inb(0x42);
	now += 700;
	bool ok = inb(0x42) == val;
	now += 700;
	return ok;
}

/* quick_pit_calibrate(): unlatched LSB/MSB reads; MSB steps every 256 ticks. */
static void test_linux_quick_pit_calibrate(void **state)
{
	(void)state;
	outb((inb(0x61) & ~0x02) | 0x01, 0x61);
	outb(0xb0, 0x43);
	outb(0xff, 0x42);
	outb(0xff, 0x42);
	uint64_t t0 = tick_now();
	(void)verify_msb(0);

	for (unsigned i = 0; i < 20; i++) {
		uint8_t want = (uint8_t)(0xff - i);
		unsigned count = 0;
		/* pit_expect_msb(): loop while the MSB still reads `want`. */
		while (verify_msb(want))
			count++;
		/* 256 ticks = 214.6 us, 1.4 us per iteration. */
		assert_true(i == 0 || (count >= 150 && count <= 155));
		/* It moved on at tick t0 + 256 * (i + 1) (within one iteration). */
		uint64_t step = vpit_ticks_to_ns(t0 + 256ull * (i + 1));
		assert_true(now >= step && now <= step + 2800);
	}
}

/* Linux's PIT clockevent, periodic: 0x34 then LATCH LSB, MSB (HZ = 250). */
static void test_periodic_irq0(void **state)
{
	(void)state;
	const uint16_t latch = (VPIT_HZ + 125) / 250;
	outb(0x34, 0x43);
	outb(latch & 0xff, 0x40);
	outb(latch >> 8, 0x40);
	uint64_t t0 = tick_now();
	assert_true(irq); /* mode 2 output idles high */
	unsigned r0 = rises;

	uint64_t deadline = vpit_update(&pit, now);
	assert_int_equal(deadline, vpit_ticks_to_ns(t0 + latch));
	for (unsigned p = 1; p <= 5; p++) {
		now = deadline - 1;
		assert_int_equal(vpit_update(&pit, now), deadline);
		assert_int_equal(rises, r0 + p - 1);
		now = deadline;
		deadline = vpit_update(&pit, now);
		assert_int_equal(rises, r0 + p); /* a fresh edge */
		assert_true(irq);
		assert_int_equal(deadline, vpit_ticks_to_ns(t0 + (p + 1) * latch));
	}
	/* The timer fires three periods late: one edge, the next deadline ahead. */
	now = deadline + 2 * vpit_ticks_to_ns(latch) + 5000;
	uint64_t next = vpit_update(&pit, now);
	assert_int_equal(rises, r0 + 6);
	assert_int_equal(next, vpit_ticks_to_ns(t0 + 9 * latch));
	/* Polling at a random time before the deadline changes nothing. */
	now = next - 100000;
	assert_int_equal(vpit_update(&pit, now), next);
	assert_int_equal(rises, r0 + 6);
}

/* Linux pit_read-style latch reads of channel 0 in mode 2. */
static void test_counter_latch(void **state)
{
	(void)state;
	outb(0x34, 0x43);
	outb(0x00, 0x40);
	outb(0x10, 0x40); /* 4096 */
	uint64_t t0 = tick_now();
	at_tick(t0 + 100);
	assert_int_equal(latch_read(0), 4096 - 100);
	at_tick(t0 + 4095);
	assert_int_equal(latch_read(0), 1);
	at_tick(t0 + 4096);
	assert_int_equal(latch_read(0), 4096); /* reloaded */
	at_tick(t0 + 4096 + 10);
	assert_int_equal(latch_read(0), 4086);

	/* The latch holds while time passes; a second latch is ignored. */
	outb(0x00, 0x43);
	at_tick(t0 + 4096 + 500);
	outb(0x00, 0x43);
	assert_int_equal(inb(0x40), 4086 & 0xff);
	assert_int_equal(inb(0x40), 4086 >> 8);
	/* Then live reads again. */
	assert_int_equal(inb(0x40), (4096 - 500) & 0xff);
	assert_int_equal(inb(0x40), (4096 - 500) >> 8);
}

/* Linux's PIT clockevent, oneshot: 0x38 (mode 4), then the delta. */
static void test_oneshot_mode4(void **state)
{
	(void)state;
	outb(0x38, 0x43);
	assert_true(irq); /* mode 4 output idles high */
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	outb(1000 & 0xff, 0x40);
	outb(1000 >> 8, 0x40);
	uint64_t t0 = tick_now();
	unsigned r0 = rises;
	uint64_t deadline = vpit_update(&pit, now);
	assert_int_equal(deadline, vpit_ticks_to_ns(t0 + 1001));
	/* The strobe: low for one clock when the count expires. */
	at_tick(t0 + 1000);
	vpit_update(&pit, now);
	assert_false(irq);
	at_tick(t0 + 1001);
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	assert_true(irq);
	assert_int_equal(rises, r0 + 1);
	/* The counter wraps and goes on, but strobes only once. */
	now += 1000000000ull;
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	assert_int_equal(rises, r0 + 1);

	/* A late timer that skipped the low clock still gives the edge. */
	outb(0x20, 0x40);
	outb(0x00, 0x40);
	t0 = tick_now();
	at_tick(t0 + 50);
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	assert_int_equal(rises, r0 + 2);
}

/* Mode 0 on channel 0 (pit_shutdown, old oneshot): IRQ on terminal count. */
static void test_mode0_irq0(void **state)
{
	(void)state;
	outb(0x30, 0x43);
	assert_false(irq);
	outb(0x00, 0x40);
	outb(0x02, 0x40); /* 512 */
	uint64_t t0 = tick_now();
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 512));
	at_tick(t0 + 511);
	vpit_update(&pit, now);
	assert_false(irq);
	assert_int_equal(latch_read(0), 1);
	at_tick(t0 + 512);
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	assert_true(irq);
	assert_int_equal(rises, 1);
	/* It keeps counting down through zero; OUT stays high. */
	at_tick(t0 + 512 + 3);
	assert_int_equal(latch_read(0), 0xfffd);
	assert_true(irq);
	/* Writing the LSB of a new count drops OUT at once. */
	outb(0x10, 0x40);
	assert_false(irq);
	assert_int_equal(falls, 1);
	outb(0x00, 0x40);
	t0 = tick_now();
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 16));
	/* A control word also stops it (OUT low, nothing due). */
	outb(0x30, 0x43);
	assert_int_equal(vpit_update(&pit, now), VPIT_NO_DEADLINE);
	/* Count 0 is 65536. */
	outb(0, 0x40);
	outb(0, 0x40);
	t0 = tick_now();
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 65536));
}

static void test_mode3_square_wave(void **state)
{
	(void)state;
	/* The BIOS's 18.2 Hz setup: 0x36, count 0. */
	outb(0x36, 0x43);
	outb(0, 0x40);
	outb(0, 0x40);
	uint64_t t0 = tick_now();
	assert_true(irq);
	at_tick(t0 + 32767);
	vpit_update(&pit, now);
	assert_true(irq);
	at_tick(t0 + 32768);
	vpit_update(&pit, now);
	assert_false(irq); /* second half of the period */
	uint64_t d = vpit_update(&pit, now);
	assert_int_equal(d, vpit_ticks_to_ns(t0 + 65536));
	now = d;
	vpit_update(&pit, now);
	assert_true(irq);
	assert_int_equal(rises, 2); /* at the count write and at 65536 */

	/* Count decrements by two in each half; odd counts: high one longer. */
	outb(0x16, 0x43); /* LSB only, mode 3 */
	outb(5, 0x40);
	t0 = tick_now();
	bool want[10] = { 1, 1, 1, 0, 0, 1, 1, 1, 0, 0 };
	for (unsigned k = 0; k < 10; k++) {
		at_tick(t0 + k);
		vpit_update(&pit, now);
		assert_int_equal(irq, want[k]);
	}
	outb(0x36, 0x43);
	outb(10, 0x40);
	outb(0, 0x40);
	t0 = tick_now();
	at_tick(t0 + 2);
	outb(0x00, 0x43);
	assert_int_equal(inb(0x40), 6);
	assert_int_equal(inb(0x40), 0);
	assert_int_equal(latch_read(0) & 1, 0);
}

/* Mode 2: a new count takes over when the current period ends. */
static void test_mode2_reload_at_period_end(void **state)
{
	(void)state;
	outb(0x34, 0x43);
	outb(100, 0x40);
	outb(0, 0x40);
	uint64_t t0 = tick_now();
	at_tick(t0 + 30);
	outb(40, 0x40);
	outb(0, 0x40);
	/* Status shows null count until the reload. */
	outb(0xe2, 0x43);
	assert_int_equal(inb(0x40), 0x80 | 0x40 | 0x34);
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 100));
	assert_int_equal(latch_read(0), 70);
	at_tick(t0 + 100);
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 140));
	assert_int_equal(latch_read(0), 40);
	outb(0xe2, 0x43);
	assert_int_equal(inb(0x40), 0x80 | 0x34);
	at_tick(t0 + 175);
	assert_int_equal(latch_read(0), 5);
}

static void test_read_back(void **state)
{
	(void)state;
	outb(0x34, 0x43);
	/* Status after the control word: OUT high, null count, lohi, mode 2. */
	outb(0xe2, 0x43);
	assert_int_equal(inb(0x40), 0xf4);
	outb(0x00, 0x40);
	outb(0x01, 0x40); /* 256 */
	uint64_t t0 = tick_now();
	at_tick(t0 + 16);
	/* Count and status of channels 0 and 2 in one command. */
	outb(0x01, 0x61);
	outb(0x90, 0x43);
	outb(0x34, 0x42);
	outb(0xc0 | 0x0a, 0x43);
	assert_int_equal(inb(0x40), 0xb4); /* status first */
	assert_int_equal(inb(0x40), 240);
	assert_int_equal(inb(0x40), 0);
	assert_int_equal(inb(0x42), 0x10); /* mode 0, LSB only, OUT low */
	assert_int_equal(inb(0x42), 0x34);
	/* Status latched twice: the first one is kept. */
	outb(0xe8, 0x43);
	at_tick(t0 + 16 + 0x34);
	outb(0xe8, 0x43);
	assert_int_equal(inb(0x42), 0x10);
	assert_int_equal(inb(0x42), 0); /* then the live count: terminal */
	outb(0xe8, 0x43);
	assert_int_equal(inb(0x42), 0x90); /* OUT high now */
	/* Count-only read-back of channel 1 (never programmed) does not hang. */
	outb(0xd4, 0x43);
	(void)inb(0x41);
	(void)inb(0x41);
}

static void test_bcd(void **state)
{
	(void)state;
	outb(0x31, 0x43); /* channel 0, lohi, mode 0, BCD */
	outb(0x00, 0x40);
	outb(0x10, 0x40); /* 1000 decimal */
	uint64_t t0 = tick_now();
	at_tick(t0 + 1);
	assert_int_equal(latch_read(0), 0x0999);
	at_tick(t0 + 995);
	assert_int_equal(latch_read(0), 0x0005);
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 1000));
	at_tick(t0 + 1002);
	assert_int_equal(latch_read(0), 0x9998); /* wraps at 10^4 */
	/* BCD count 0 is 10000. */
	outb(0x31, 0x43);
	outb(0, 0x40);
	outb(0, 0x40);
	t0 = tick_now();
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 10000));
	at_tick(t0 + 1);
	assert_int_equal(latch_read(0), 0x9999);
}

static void test_access_modes(void **state)
{
	(void)state;
	outb(0x10, 0x43); /* ch0 LSB only, mode 0 */
	outb(200, 0x40);
	uint64_t t0 = tick_now();
	at_tick(t0 + 50);
	assert_int_equal(inb(0x40), 150);
	assert_int_equal(inb(0x40), 150); /* no flip-flop */
	outb(0x20, 0x43); /* MSB only */
	outb(0x02, 0x40); /* 0x200 */
	t0 = tick_now();
	at_tick(t0 + 0x100);
	assert_int_equal(inb(0x40), 0x01);
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 0x200));
}

/* Modes 1 and 5 on channel 2: started (and restarted) by a gate edge. */
static void test_gate_triggered_modes(void **state)
{
	(void)state;
	outb(0x00, 0x61);
	outb(0xb2, 0x43); /* mode 1 */
	outb(100, 0x42);
	outb(0, 0x42);
	assert_true(inb(0x61) & 0x20);
	now += 1000000;
	assert_true(inb(0x61) & 0x20); /* waits for the trigger */
	outb(0x01, 0x61);
	uint64_t t0 = tick_now();
	assert_false(inb(0x61) & 0x20);
	at_tick(t0 + 60);
	outb(0x00, 0x61); /* gate low does not stop mode 1 */
	assert_int_equal(latch_read(2), 40);
	outb(0x01, 0x61); /* retrigger: 100 clocks again */
	t0 = tick_now();
	at_tick(t0 + 99);
	assert_false(inb(0x61) & 0x20);
	at_tick(t0 + 100);
	assert_true(inb(0x61) & 0x20);

	outb(0x00, 0x61);
	outb(0xba, 0x43); /* mode 5 */
	outb(10, 0x42);
	outb(0, 0x42);
	outb(0x01, 0x61);
	t0 = tick_now();
	at_tick(t0 + 9);
	assert_true(inb(0x61) & 0x20);
	at_tick(t0 + 10);
	assert_false(inb(0x61) & 0x20); /* the strobe */
	at_tick(t0 + 11);
	assert_true(inb(0x61) & 0x20);
}

static void test_gate_pauses_counting(void **state)
{
	(void)state;
	outb(0x01, 0x61);
	outb(0xb0, 0x43);
	outb(100, 0x42);
	outb(0, 0x42);
	uint64_t t0 = tick_now();
	at_tick(t0 + 40);
	outb(0x00, 0x61);
	at_tick(t0 + 1000);
	assert_int_equal(latch_read(2), 60);
	assert_false(inb(0x61) & 0x20);
	outb(0x01, 0x61);
	uint64_t t1 = tick_now();
	at_tick(t1 + 59);
	assert_false(inb(0x61) & 0x20);
	at_tick(t1 + 60);
	assert_true(inb(0x61) & 0x20);

	/* Mode 2 with GATE low: OUT high, count held; GATE high reloads. */
	outb(0x00, 0x61);
	outb(0xb4, 0x43);
	outb(50, 0x42);
	outb(0, 0x42);
	at_tick(tick_now() + 500);
	assert_true(inb(0x61) & 0x20);
	assert_int_equal(latch_read(2), 50);
	outb(0x01, 0x61);
	t0 = tick_now();
	at_tick(t0 + 49);
	assert_false(inb(0x61) & 0x20);
	at_tick(t0 + 50);
	assert_true(inb(0x61) & 0x20);
	at_tick(t0 + 60);
	outb(0x00, 0x61);
	assert_int_equal(latch_read(2), 40);
	outb(0x01, 0x61);
	assert_int_equal(latch_read(2), 50);
}

static void test_port61(void **state)
{
	(void)state;
	outb(0xff, 0x61);
	uint8_t v = inb(0x61);
	assert_int_equal(v & 0x0f, 0x0f);
	assert_int_equal(v & 0xc0, 0);
	/* The refresh bit toggles every 15.085 us (some delay loops use it). */
	now = 1000000 * 15085ull;
	assert_int_equal(inb(0x61) & 0x10, 0);
	now += 15085;
	assert_int_equal(inb(0x61) & 0x10, 0x10);
	now += 15084;
	assert_int_equal(inb(0x61) & 0x10, 0x10);
	now += 1;
	assert_int_equal(inb(0x61) & 0x10, 0);
	/* OUT2 in mode 3 with the speaker frequency. */
	outb(0xb6, 0x43);
	outb(0x00, 0x42);
	outb(0x04, 0x42); /* 1024 */
	uint64_t t0 = tick_now();
	at_tick(t0 + 511);
	assert_true(inb(0x61) & 0x20);
	at_tick(t0 + 512);
	assert_false(inb(0x61) & 0x20);
	at_tick(t0 + 1024);
	assert_true(inb(0x61) & 0x20);
	assert_int_equal(rises, 0);
}

static void test_time_never_runs_back(void **state)
{
	(void)state;
	outb(0x34, 0x43);
	outb(100, 0x40);
	outb(0, 0x40);
	uint64_t t0 = tick_now();
	at_tick(t0 + 150);
	vpit_update(&pit, now);
	assert_int_equal(rises, 2);
	/* A stale `now` is treated as the last one seen. */
	now -= 50000;
	assert_int_equal(vpit_update(&pit, now), vpit_ticks_to_ns(t0 + 200));
	assert_int_equal(rises, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_clock_conversion, setup),
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_linux_pit_calibrate_tsc, setup),
		cmocka_unit_test_setup(test_linux_quick_pit_calibrate, setup),
		cmocka_unit_test_setup(test_periodic_irq0, setup),
		cmocka_unit_test_setup(test_counter_latch, setup),
		cmocka_unit_test_setup(test_oneshot_mode4, setup),
		cmocka_unit_test_setup(test_mode0_irq0, setup),
		cmocka_unit_test_setup(test_mode3_square_wave, setup),
		cmocka_unit_test_setup(test_mode2_reload_at_period_end, setup),
		cmocka_unit_test_setup(test_read_back, setup),
		cmocka_unit_test_setup(test_bcd, setup),
		cmocka_unit_test_setup(test_access_modes, setup),
		cmocka_unit_test_setup(test_gate_triggered_modes, setup),
		cmocka_unit_test_setup(test_gate_pauses_counting, setup),
		cmocka_unit_test_setup(test_port61, setup),
		cmocka_unit_test_setup(test_time_never_runs_back, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: guest/vhpet.c kernel/lib/string.c
/*
 * The HPET driven as guests drive it: the capabilities Linux checks, the
 * main counter run and halted (and read as two 32-bit halves), one-shot and
 * periodic comparators with Linux's VAL_SET sequence, level-triggered timers
 * and the status register, legacy replacement routing (IRQ 0 and 8), route
 * capabilities, and writes a careless or hostile guest makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/vhpet.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static struct vhpet hpet;
static uint64_t now;
/* Line state as the platform would see it: index 0-31 IOAPIC pins, 32 IRQ 0, 33 IRQ 8. */
static bool level[34];
static unsigned rises[34];

static unsigned slot(bool isa, unsigned line)
{
	if (isa) {
		assert_true(line == 0 || line == 8);
		return line == 0 ? 32 : 33;
	}
	assert_true(line < 32);
	return line;
}

static void set_irq(void *ctx, bool isa, unsigned line, bool lvl)
{
	assert_ptr_equal(ctx, &hpet);
	unsigned s = slot(isa, line);
	assert_true(lvl != level[s]); /* only changes are reported */
	if (lvl)
		rises[s]++;
	level[s] = lvl;
}

static int setup(void **state)
{
	(void)state;
	now = 3 * SEC + 777; /* guest time does not start at 0 */
	for (unsigned i = 0; i < 34; i++) {
		level[i] = false;
		rises[i] = 0;
	}
	vhpet_init(&hpet, set_irq, &hpet, now);
	return 0;
}

static uint32_t rd32(uint32_t off)
{
	return (uint32_t)vhpet_read(&hpet, off, 4, now);
}

static uint64_t rd64(uint32_t off)
{
	return vhpet_read(&hpet, off, 8, now);
}

static void wr32(uint32_t off, uint32_t v)
{
	vhpet_write(&hpet, off, 4, v, now);
}

static void wr64(uint32_t off, uint64_t v)
{
	vhpet_write(&hpet, off, 8, v, now);
}

static uint64_t update(void)
{
	return vhpet_update(&hpet, now);
}

/* The counter runs on the 10 MHz grid of guest time: a deadline is within a clock of `want`. */
static void assert_near(uint64_t due, uint64_t want)
{
	assert_true(due <= want && due + 100 > want);
}

static void enable(void)
{
	wr32(VHPET_REG_CONFIG, (uint32_t)VHPET_CFG_ENABLE);
}

static void test_capabilities(void **state)
{
	(void)state;
	uint64_t cap = rd64(VHPET_REG_CAP);
	assert_int_equal(cap & 0xff, 1);		   /* REV_ID */
	assert_int_equal(cap >> 8 & 0x1f, 2);		   /* three timers */
	assert_true(cap & VHPET_CAP_COUNT_SIZE);	   /* 64-bit counter */
	assert_true(cap & VHPET_CAP_LEG_RT);
	assert_int_equal(cap >> 16 & 0xffff, 0x8086);
	assert_int_equal(cap >> 32, 100000000);		   /* 10 MHz in fs */
	assert_true(cap >> 32 <= 0x05f5e100);		   /* the spec's upper bound */
	assert_int_equal(cap, vhpet_capabilities());
	/* the ACPI table's event timer block ID, and the halves */
	assert_int_equal(rd32(VHPET_REG_CAP), 0x8086a201);
	assert_int_equal(rd32(VHPET_REG_CAP + 4), 100000000);
	/* read-only */
	wr64(VHPET_REG_CAP, 0);
	assert_int_equal(rd64(VHPET_REG_CAP), cap);

	/* timer 0: periodic, 64-bit; 1 and 2: 32-bit one-shot; all route to 20-23, no FSB */
	uint64_t t0 = rd64(VHPET_REG_TIMER(0)), t1 = rd64(VHPET_REG_TIMER(1));
	assert_true(t0 & VHPET_TN_PER_INT_CAP);
	assert_true(t0 & VHPET_TN_SIZE_CAP);
	assert_false(t1 & VHPET_TN_PER_INT_CAP);
	assert_false(t1 & VHPET_TN_SIZE_CAP);
	for (unsigned i = 0; i < VHPET_TIMERS; i++) {
		uint64_t c = rd64(VHPET_REG_TIMER(i));
		assert_int_equal(c >> 32, 0x00f00000);
		assert_false(c & VHPET_TN_FSB_DEL_CAP);
		assert_false(c & VHPET_TN_INT_ENB); /* power-on: nothing enabled */
		/* every pin offered exists on the 24-pin IOAPIC */
		assert_int_equal(c >> 32 >> 24, 0);
	}
	/* comparators at power-on: all ones (32-bit ones for 32-bit timers) */
	assert_int_equal(rd64(VHPET_REG_CMP(0)), ~0ull);
	assert_int_equal(rd64(VHPET_REG_CMP(1)), 0xffffffffull);
	assert_int_equal(update(), VHPET_NO_DEADLINE);
}

static void test_counter_runs_only_when_enabled(void **state)
{
	(void)state;
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0);
	now += 5 * MS;
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0); /* halted at power-on */

	enable();
	now += 1 * MS;
	assert_int_equal(rd64(VHPET_REG_COUNTER), 10000); /* 10 MHz */
	now += 999 * MS;
	assert_int_equal(rd64(VHPET_REG_COUNTER), 10000000);

	/* halted: holds its value */
	wr32(VHPET_REG_CONFIG, 0);
	uint64_t held = rd64(VHPET_REG_COUNTER);
	now += 7 * SEC;
	assert_int_equal(rd64(VHPET_REG_COUNTER), held);

	/* writable while halted, and counts on from there */
	wr64(VHPET_REG_COUNTER, 0x123456789abull);
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0x123456789abull);
	enable();
	now += 100 * US;
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0x123456789abull + 1000);

	/* a write to the running counter is dropped */
	wr64(VHPET_REG_COUNTER, 5);
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0x123456789abull + 1000);

	/* monotonic over many reads */
	uint64_t last = 0;
	for (int i = 0; i < 1000; i++) {
		now += 37;
		uint64_t c = rd64(VHPET_REG_COUNTER);
		assert_true(c >= last);
		last = c;
	}
}

static void test_counter_halves(void **state)
{
	(void)state;
	/* written as two halves while halted */
	wr32(VHPET_REG_COUNTER, 0xfffff000u);
	wr32(VHPET_REG_COUNTER + 4, 0x7);
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0x7fffff000ull);
	assert_int_equal(rd32(VHPET_REG_COUNTER), 0xfffff000u);
	assert_int_equal(rd32(VHPET_REG_COUNTER + 4), 7);
	/* running: the low half carries into the high half */
	enable();
	now += 500 * US; /* 5000 clocks: past the 32-bit boundary */
	assert_int_equal(rd32(VHPET_REG_COUNTER + 4), 8);
	assert_int_equal(rd32(VHPET_REG_COUNTER), 5000 - 0x1000);
	/* 8- and 16-bit reads see their bytes */
	assert_int_equal(vhpet_read(&hpet, VHPET_REG_CAP + 2, 2, now), 0x8086);
	assert_int_equal(vhpet_read(&hpet, VHPET_REG_CAP + 1, 1, now), 0xa2);
}

/* Timer 2 (32-bit one-shot) on IOAPIC pin 21, edge. */
static void test_oneshot_edge(void **state)
{
	(void)state;
	enable();
	now += 1 * MS; /* counter 10000 */
	wr32(VHPET_REG_TIMER(2), (uint32_t)(VHPET_TN_INT_ENB | 21u << VHPET_TN_ROUTE_SHIFT));
	wr32(VHPET_REG_CMP(2), 10000 + 2500); /* 250 us from now */
	uint64_t due = update();
	assert_near(due, now + 250 * US);
	now = due - 1;
	update();
	assert_int_equal(rises[21], 0);
	now = due;
	update();
	assert_int_equal(rises[21], 1);
	assert_false(level[21]); /* a pulse */
	assert_int_equal(rd64(VHPET_REG_STATUS), 0); /* edge timers leave the status alone */
	/* one-shot: not again soon, but a 32-bit comparator matches at every wrap */
	due = update();
	assert_near(due, now + vhpet_ticks_to_ns(1ull << 32));
	now += 10 * SEC;
	update();
	assert_int_equal(rises[21], 1);
	now = due;
	update();
	assert_int_equal(rises[21], 2);
	/* the comparator stays where it was written */
	assert_int_equal(rd32(VHPET_REG_CMP(2)), 12500);
}

/* Timer 0 in 64-bit one-shot mode: a comparator behind the counter never fires. */
static void test_oneshot_64bit(void **state)
{
	(void)state;
	enable();
	now += 10 * MS; /* counter 100000 */
	wr64(VHPET_REG_TIMER(0), VHPET_TN_INT_ENB | 20u << VHPET_TN_ROUTE_SHIFT);
	wr64(VHPET_REG_CMP(0), 50000);
	assert_int_equal(update(), VHPET_NO_DEADLINE);
	now += 100 * SEC;
	update();
	assert_int_equal(rises[20], 0);
	/* 64-bit comparator written as two halves: high half first */
	wr32(VHPET_REG_CMP(0) + 4, 0x100);
	wr32(VHPET_REG_CMP(0), 0);
	assert_int_equal(rd64(VHPET_REG_CMP(0)), 0x100ull << 32);
	/* 30 hours out: the reported deadline is an early look (2^36 clocks), never late */
	uint64_t due = update();
	assert_near(due, now + vhpet_ticks_to_ns(1ull << 36));
	now = due;
	update();
	assert_int_equal(rises[20], 0);
	/* a comparator just ahead fires; an interrupt-disabled timer does not */
	uint64_t c = rd64(VHPET_REG_COUNTER);
	wr64(VHPET_REG_CMP(0), c + 10);
	now += 1 * US;
	update();
	assert_int_equal(rises[20], 1);
	wr64(VHPET_REG_TIMER(0), 20u << VHPET_TN_ROUTE_SHIFT);
	wr64(VHPET_REG_CMP(0), rd64(VHPET_REG_COUNTER) + 10);
	assert_int_equal(update(), VHPET_NO_DEADLINE);
	now += 1 * US;
	update();
	assert_int_equal(rises[20], 1);
}

/* Linux's hpet_set_periodic(): SETVAL, comparator = now + delta, then the period. */
static void test_periodic_linux_sequence(void **state)
{
	(void)state;
	enable();
	now += 2 * MS;
	uint32_t delta = 40000; /* 4 ms: HZ=250 */
	uint32_t cnt = rd32(VHPET_REG_COUNTER);
	wr32(VHPET_REG_TIMER(0), (uint32_t)(VHPET_TN_INT_ENB | VHPET_TN_TYPE_PERIODIC |
					    VHPET_TN_VAL_SET | VHPET_TN_32MODE |
					    22u << VHPET_TN_ROUTE_SHIFT));
	assert_true(rd32(VHPET_REG_TIMER(0)) & VHPET_TN_VAL_SET);
	wr32(VHPET_REG_CMP(0), cnt + delta);
	assert_false(rd32(VHPET_REG_TIMER(0)) & VHPET_TN_VAL_SET); /* cleared by the write */
	now += 1 * US;
	wr32(VHPET_REG_CMP(0), delta); /* the period: the comparator stays */
	assert_int_equal(rd32(VHPET_REG_CMP(0)), cnt + delta);

	uint64_t first = update();
	assert_near(first, now - 1 * US + 4 * MS);
	for (unsigned k = 1; k <= 5; k++) {
		now = update();
		update();
		assert_int_equal(rises[22], k);
		/* the accumulator: each match adds the period */
		assert_int_equal(rd32(VHPET_REG_CMP(0)), cnt + (k + 1) * delta);
	}
	assert_int_equal(now, first + 4 * 4 * MS);

	/* many periods missed: one interrupt, the comparator moved past the counter */
	now += 1 * SEC + 1 * MS;
	update();
	assert_int_equal(rises[22], 6);
	uint32_t c = rd32(VHPET_REG_COUNTER), cmp = rd32(VHPET_REG_CMP(0));
	assert_true(cmp > c && cmp - c <= delta);
	assert_int_equal((cmp - cnt) % delta, 0);

	/* a new period takes effect at the next match */
	wr32(VHPET_REG_CMP(0), 10000);
	assert_int_equal(rd32(VHPET_REG_CMP(0)), cmp);
	now = update();
	update();
	assert_int_equal(rd32(VHPET_REG_CMP(0)), cmp + 10000);
	assert_near(update(), now + 1 * MS);
}

/* Periodic without 32-bit mode: a 64-bit accumulator set through VAL_SET halves. */
static void test_periodic_64bit(void **state)
{
	(void)state;
	wr64(VHPET_REG_COUNTER, 0xfffffff0ull); /* near the 32-bit boundary */
	enable();
	wr64(VHPET_REG_TIMER(0), VHPET_TN_INT_ENB | VHPET_TN_TYPE_PERIODIC | VHPET_TN_VAL_SET |
					 20u << VHPET_TN_ROUTE_SHIFT);
	wr64(VHPET_REG_CMP(0), 0x100000000ull + 100); /* one 64-bit write sets both halves */
	wr64(VHPET_REG_CMP(0), 1000);
	assert_int_equal(rd64(VHPET_REG_CMP(0)), 0x100000000ull + 100);
	now += 100 * US; /* counter 0x1_0000_03d8: past the first match */
	update();
	assert_int_equal(rises[20], 1);
	assert_int_equal(rd64(VHPET_REG_CMP(0)), 0x100000000ull + 1100);
	assert_int_equal(rd32(VHPET_REG_CMP(0) + 4), 1);
	/* 32-bit mode masks the comparator */
	wr64(VHPET_REG_TIMER(0), rd64(VHPET_REG_TIMER(0)) | VHPET_TN_32MODE);
	assert_int_equal(rd64(VHPET_REG_CMP(0)), 1100);
	wr32(VHPET_REG_CMP(0) + 4, 5); /* no high half in 32-bit mode */
	assert_int_equal(rd64(VHPET_REG_CMP(0)), 1100);
}

/* Level-triggered timer 1 on pin 23: status bit, held line, write 1 to clear. */
static void test_level_and_status(void **state)
{
	(void)state;
	enable();
	wr32(VHPET_REG_TIMER(1), (uint32_t)(VHPET_TN_INT_TYPE_LEVEL | VHPET_TN_INT_ENB |
					    23u << VHPET_TN_ROUTE_SHIFT));
	wr32(VHPET_REG_CMP(1), rd32(VHPET_REG_COUNTER) + 100);
	now = update();
	update();
	assert_true(level[23]);
	assert_int_equal(rises[23], 1);
	assert_int_equal(rd64(VHPET_REG_STATUS), 2);
	/* held: no further deadline until the guest acknowledges */
	assert_int_equal(update(), VHPET_NO_DEADLINE);
	wr32(VHPET_REG_STATUS, 1); /* another timer's bit: nothing */
	assert_true(level[23]);
	wr32(VHPET_REG_STATUS, 0);
	assert_true(level[23]);
	wr32(VHPET_REG_STATUS, 2);
	assert_false(level[23]);
	assert_int_equal(rd64(VHPET_REG_STATUS), 0);

	/* interrupt disabled: the status bit is still set, the line stays low */
	wr32(VHPET_REG_TIMER(1), (uint32_t)(VHPET_TN_INT_TYPE_LEVEL | 23u << VHPET_TN_ROUTE_SHIFT));
	wr32(VHPET_REG_CMP(1), rd32(VHPET_REG_COUNTER) + 100);
	now += 20 * US;
	assert_int_equal(rd64(VHPET_REG_STATUS), 2);
	assert_false(level[23]);
	/* enabling it now asserts the line; halting the HPET drops it, status kept */
	wr32(VHPET_REG_TIMER(1), (uint32_t)(VHPET_TN_INT_TYPE_LEVEL | VHPET_TN_INT_ENB |
					    23u << VHPET_TN_ROUTE_SHIFT));
	assert_true(level[23]);
	wr32(VHPET_REG_CONFIG, 0);
	assert_false(level[23]);
	assert_int_equal(rd64(VHPET_REG_STATUS), 2);
	enable();
	assert_true(level[23]);
	/* switching to edge clears the bit and the line */
	wr32(VHPET_REG_TIMER(1), (uint32_t)(VHPET_TN_INT_ENB | 23u << VHPET_TN_ROUTE_SHIFT));
	assert_false(level[23]);
	assert_int_equal(rd64(VHPET_REG_STATUS), 0);
}

/* Two timers on one pin: a level timer holding it hides the edge timer's pulse. */
static void test_shared_line(void **state)
{
	(void)state;
	enable();
	wr32(VHPET_REG_TIMER(1), (uint32_t)(VHPET_TN_INT_TYPE_LEVEL | VHPET_TN_INT_ENB |
					    20u << VHPET_TN_ROUTE_SHIFT));
	wr32(VHPET_REG_TIMER(2), (uint32_t)(VHPET_TN_INT_ENB | 20u << VHPET_TN_ROUTE_SHIFT));
	uint32_t c = rd32(VHPET_REG_COUNTER);
	wr32(VHPET_REG_CMP(1), c + 10);
	wr32(VHPET_REG_CMP(2), c + 20);
	now += 1 * US + 50;
	update();
	assert_true(level[20]);
	now += 1 * US;
	update();
	assert_int_equal(rises[20], 1);
	wr32(VHPET_REG_STATUS, 2);
	assert_false(level[20]);
	wr32(VHPET_REG_CMP(2), rd32(VHPET_REG_COUNTER) + 10);
	now += 2 * US;
	update();
	assert_int_equal(rises[20], 2);
	assert_false(level[20]);
}

static void test_legacy_replacement(void **state)
{
	(void)state;
	wr32(VHPET_REG_CONFIG, (uint32_t)(VHPET_CFG_ENABLE | VHPET_CFG_LEGACY));
	assert_true(vhpet_legacy_replacement(&hpet));
	assert_int_equal(rd32(VHPET_REG_CONFIG), 3);
	/* the route fields of timers 0 and 1 do not matter */
	wr32(VHPET_REG_TIMER(0), (uint32_t)(VHPET_TN_INT_ENB | 20u << VHPET_TN_ROUTE_SHIFT));
	wr32(VHPET_REG_TIMER(1), (uint32_t)VHPET_TN_INT_ENB);
	wr32(VHPET_REG_TIMER(2), (uint32_t)(VHPET_TN_INT_ENB | 22u << VHPET_TN_ROUTE_SHIFT));
	uint32_t c = rd32(VHPET_REG_COUNTER);
	wr64(VHPET_REG_CMP(0), c + 10); /* a 64-bit comparator: both halves */
	wr32(VHPET_REG_CMP(1), c + 20);
	wr32(VHPET_REG_CMP(2), c + 30);
	now += 4 * US;
	update();
	assert_int_equal(rises[32], 1); /* timer 0: IRQ 0 */
	assert_int_equal(rises[33], 1); /* timer 1: IRQ 8 */
	assert_int_equal(rises[22], 1); /* timer 2: its own route */
	assert_int_equal(rises[20], 0);

	/* level-triggered timer 0 follows the mode: its line moves with LEG_RT_CNF */
	wr32(VHPET_REG_TIMER(0), (uint32_t)(VHPET_TN_INT_TYPE_LEVEL | VHPET_TN_INT_ENB |
					    20u << VHPET_TN_ROUTE_SHIFT));
	wr64(VHPET_REG_CMP(0), rd64(VHPET_REG_COUNTER) + 10);
	now += 2 * US;
	update();
	assert_true(level[32]);
	wr32(VHPET_REG_CONFIG, (uint32_t)VHPET_CFG_ENABLE);
	assert_false(vhpet_legacy_replacement(&hpet));
	assert_false(level[32]);
	assert_true(level[20]);
	wr32(VHPET_REG_STATUS, 1);
	assert_false(level[20]);
}

static void test_route_caps(void **state)
{
	(void)state;
	for (unsigned i = 0; i < VHPET_TIMERS; i++) {
		wr32(VHPET_REG_TIMER(i), 21u << VHPET_TN_ROUTE_SHIFT);
		assert_int_equal(rd32(VHPET_REG_TIMER(i)) >> VHPET_TN_ROUTE_SHIFT & 0x1f, 21);
		/* pins outside the caps (an ISA pin, beyond the IOAPIC): not taken */
		wr32(VHPET_REG_TIMER(i), 2u << VHPET_TN_ROUTE_SHIFT);
		assert_int_equal(rd32(VHPET_REG_TIMER(i)) >> VHPET_TN_ROUTE_SHIFT & 0x1f, 21);
		wr32(VHPET_REG_TIMER(i), 31u << VHPET_TN_ROUTE_SHIFT);
		assert_int_equal(rd32(VHPET_REG_TIMER(i)) >> VHPET_TN_ROUTE_SHIFT & 0x1f, 21);
	}
	/* the power-on route (0) is not in the caps: an enabled timer there interrupts nothing */
	setup(NULL);
	enable();
	wr32(VHPET_REG_TIMER(2), (uint32_t)VHPET_TN_INT_ENB);
	wr32(VHPET_REG_CMP(2), rd32(VHPET_REG_COUNTER) + 10);
	assert_int_equal(update(), VHPET_NO_DEADLINE);
	now += 5 * US;
	update();
	for (unsigned i = 0; i < 34; i++)
		assert_int_equal(rises[i], 0);
}

static void test_bad_accesses(void **state)
{
	(void)state;
	enable();
	/* bits that cannot be set: FSB, periodic and 32-bit mode on a 32-bit one-shot timer */
	wr64(VHPET_REG_TIMER(1), ~0ull);
	uint64_t t1 = rd64(VHPET_REG_TIMER(1));
	assert_false(t1 & (VHPET_TN_FSB_EN | VHPET_TN_TYPE_PERIODIC | VHPET_TN_VAL_SET |
			   VHPET_TN_32MODE));
	assert_int_equal(t1 >> 32, 0x00f00000); /* caps unchanged */
	wr64(VHPET_REG_TIMER(1), 0);
	/* FSB route registers: nothing there */
	wr64(VHPET_REG_FSB(0), ~0ull);
	assert_int_equal(rd64(VHPET_REG_FSB(0)), 0);
	/* reserved general registers and the reserved bits of real ones */
	wr64(0x0f8, ~0ull);
	assert_int_equal(rd64(0x0f8), 0);
	wr64(VHPET_REG_CONFIG, ~0ull);
	assert_int_equal(rd64(VHPET_REG_CONFIG), 3);
	wr64(VHPET_REG_STATUS, ~0ull);
	assert_int_equal(rd64(VHPET_REG_STATUS), 0);
	assert_int_equal(rd64(0x3f8), 0);
	/* beyond the block, misaligned, odd sizes: read 0, writes ignored */
	assert_int_equal(vhpet_read(&hpet, 0x400, 4, now), 0);
	assert_int_equal(vhpet_read(&hpet, 0xfffffff8u, 8, now), 0);
	assert_int_equal(vhpet_read(&hpet, VHPET_REG_CAP + 2, 4, now), 0);
	assert_int_equal(vhpet_read(&hpet, VHPET_REG_CAP + 4, 8, now), 0);
	assert_int_equal(vhpet_read(&hpet, VHPET_REG_CAP, 3, now), 0);
	vhpet_write(&hpet, VHPET_REG_CONFIG, 1, 0, now);
	vhpet_write(&hpet, VHPET_REG_CONFIG, 2, 0, now);
	vhpet_write(&hpet, VHPET_REG_CONFIG + 2, 4, 0, now);
	vhpet_write(&hpet, 0x1000, 4, 0, now);
	assert_int_equal(rd64(VHPET_REG_CONFIG), 3);
	/* the top half of a 32-bit timer's comparator is not there */
	wr32(VHPET_REG_CMP(2) + 4, 0xffffffffu);
	assert_int_equal(rd32(VHPET_REG_CMP(2) + 4), 0);
}

static void test_reset_and_stale_time(void **state)
{
	(void)state;
	enable();
	wr32(VHPET_REG_TIMER(2), (uint32_t)(VHPET_TN_INT_ENB | 21u << VHPET_TN_ROUTE_SHIFT));
	wr32(VHPET_REG_CMP(2), rd32(VHPET_REG_COUNTER) + 1000);
	uint64_t due = update();
	/* a stale `now` is the last one seen: time does not run back */
	uint64_t c = rd64(VHPET_REG_COUNTER);
	now -= 50 * US;
	assert_int_equal(rd64(VHPET_REG_COUNTER), c);
	assert_int_equal(update(), due);
	/* power-on state again */
	vhpet_init(&hpet, set_irq, &hpet, now);
	assert_int_equal(rd64(VHPET_REG_CONFIG), 0);
	assert_int_equal(rd64(VHPET_REG_COUNTER), 0);
	assert_int_equal(rd64(VHPET_REG_TIMER(2)) & 0xffffffffu, 0);
	assert_int_equal(update(), VHPET_NO_DEADLINE);
}

static void test_clock_conversion(void **state)
{
	(void)state;
	assert_int_equal(vhpet_ns_to_ticks(SEC), VHPET_HZ);
	assert_int_equal(vhpet_ns_to_ticks(99), 0);
	assert_int_equal(vhpet_ns_to_ticks(100), 1);
	assert_int_equal(vhpet_ticks_to_ns(1), 100);
	/* no overflow at large guest times */
	uint64_t big = 400ull * 24 * 3600 * SEC;
	assert_int_equal(vhpet_ns_to_ticks(big), big / 100);
	for (uint64_t t = 12345678901ull; t < 12345678901ull + 50; t++)
		assert_int_equal(vhpet_ns_to_ticks(vhpet_ticks_to_ns(t)), t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_capabilities, setup),
		cmocka_unit_test_setup(test_counter_runs_only_when_enabled, setup),
		cmocka_unit_test_setup(test_counter_halves, setup),
		cmocka_unit_test_setup(test_oneshot_edge, setup),
		cmocka_unit_test_setup(test_oneshot_64bit, setup),
		cmocka_unit_test_setup(test_periodic_linux_sequence, setup),
		cmocka_unit_test_setup(test_periodic_64bit, setup),
		cmocka_unit_test_setup(test_level_and_status, setup),
		cmocka_unit_test_setup(test_shared_line, setup),
		cmocka_unit_test_setup(test_legacy_replacement, setup),
		cmocka_unit_test_setup(test_route_caps, setup),
		cmocka_unit_test_setup(test_bad_accesses, setup),
		cmocka_unit_test_setup(test_reset_and_stale_time, setup),
		cmocka_unit_test_setup(test_clock_conversion, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

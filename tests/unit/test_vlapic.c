// SOURCES: guest/vlapic.c guest/apic_bus.c kernel/lib/string.c kernel/lib/format.c
/*
 * The local APIC driven as Linux's arch/x86/kernel/apic/ drives it:
 * setup_local_APIC (SVR enable, flat LDR/DFR, LINT0 ExtINT/LINT1 NMI, the
 * ESR write-then-read dance), calibrate_APIC_clock (masked one-shot counting
 * from 0xffffffff/16), periodic and one-shot clockevents, TSC-deadline via
 * MSR 0x6e0, EOI of level interrupts, IPIs including the INIT-SIPI-SIPI of
 * wakeup_secondary_cpu_via_init, the x2APIC switch and MSR interface, and
 * priorities with TPR/PPR and nested ISR. A four-vCPU "machine" routes IPIs
 * as the VM core would, with vlapic_matches and vlapic_deliver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/apic_bus.h"
#include "guest/vlapic.h"

#define NCPU 4
#define TSC_KHZ 2000000u	/* a 2 GHz guest TSC */
#define TSC_OFFSET 123456789ull
#define MS 1000000ull

static struct vlapic cpu[NCPU];
static uint64_t now;
static unsigned ipis_sent;
static struct {
	unsigned dest_mode, shorthand, mode;
	uint32_t dest;
	uint8_t vector;
	bool level, trigger;
} last_ipi;
static uint8_t eoi_log[16];
static unsigned eoi_count;

/* The VM core's router: the APIC bus picks the targets (lowest priority: one of them). */
static void send_ipi(void *ctx, unsigned dest_mode, uint32_t dest, unsigned shorthand,
		     unsigned mode, uint8_t vector, bool level, bool trigger)
{
	struct vlapic *src = ctx;
	ipis_sent++;
	last_ipi.dest_mode = dest_mode;
	last_ipi.dest = dest;
	last_ipi.shorthand = shorthand;
	last_ipi.mode = mode;
	last_ipi.vector = vector;
	last_ipi.level = level;
	last_ipi.trigger = trigger;
	static unsigned rotor;
	uint32_t t = apic_bus_targets(cpu, NCPU, src, dest_mode, dest, shorthand, mode, vector,
				      &rotor);
	for (unsigned i = 0; i < NCPU; i++)
		if (t >> i & 1)
			vlapic_deliver(&cpu[i], mode, vector, trigger, level);
}

static void eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	assert_true(eoi_count < 16);
	eoi_log[eoi_count++] = vector;
}

static void make_cpu(unsigned i, uint32_t apic_id)
{
	struct vlapic_config cfg = {
		.apic_id = apic_id,
		.bsp = i == 0,
		.x2apic = true,
		.phys_bits = 39,
		.tsc_khz = TSC_KHZ,
		.tsc_offset = TSC_OFFSET,
	};
	struct vlapic_ops ops = { .send_ipi = send_ipi, .eoi = eoi, .ctx = &cpu[i] };
	vlapic_init(&cpu[i], &cfg, &ops, now);
}

static int setup(void **state)
{
	(void)state;
	now = 7000000123ull; /* guest time does not start at 0 */
	ipis_sent = eoi_count = 0;
	for (unsigned i = 0; i < NCPU; i++)
		make_cpu(i, i);
	return 0;
}

static uint32_t apic_read(unsigned c, uint32_t off)
{
	return vlapic_mmio_read(&cpu[c], off, now);
}

static void apic_write(unsigned c, uint32_t off, uint32_t val)
{
	vlapic_mmio_write(&cpu[c], off, val, now);
}

static uint64_t rdmsr(unsigned c, uint32_t msr)
{
	uint64_t v;
	assert_int_equal(vlapic_msr_read(&cpu[c], msr, &v, now), VLAPIC_OK);
	return v;
}

static void wrmsr(unsigned c, uint32_t msr, uint64_t v)
{
	assert_int_equal(vlapic_msr_write(&cpu[c], msr, v, now), VLAPIC_OK);
}

static bool irr_has(unsigned c, uint8_t v)
{
	return apic_read(c, VLAPIC_IRR + (v >> 5) * 0x10) >> (v & 31) & 1;
}

static bool isr_has(unsigned c, uint8_t v)
{
	return apic_read(c, VLAPIC_ISR + (v >> 5) * 0x10) >> (v & 31) & 1;
}

static bool tmr_has(unsigned c, uint8_t v)
{
	return apic_read(c, VLAPIC_TMR + (v >> 5) * 0x10) >> (v & 31) & 1;
}

/* What the core does before entry: take the pending vector into service. */
static int inject(unsigned c)
{
	int v = vlapic_pending_vector(&cpu[c]);
	if (v >= 0)
		vlapic_ack(&cpu[c], (uint8_t)v);
	return v;
}

/* setup_local_APIC for a flat-logical xAPIC, vCPU c. */
static void linux_setup_local_apic(unsigned c)
{
	uint32_t v;
	/* Clear TPR, then ack anything left in ISR (Linux loops over ISR/IRR). */
	v = apic_read(c, VLAPIC_TPR);
	apic_write(c, VLAPIC_TPR, v & ~0xffu);
	apic_write(c, VLAPIC_DFR, 0xffffffff);				/* APIC_DFR_FLAT */
	apic_write(c, VLAPIC_LDR, (apic_read(c, VLAPIC_LDR) & 0x00ffffff) | 1u << (24 + c));
	v = apic_read(c, VLAPIC_SVR);
	v &= ~0xffu;
	v |= VLAPIC_SVR_ENABLE | 0xff;					/* SPURIOUS_APIC_VECTOR */
	apic_write(c, VLAPIC_SVR, v);
	if (c == 0) {
		apic_write(c, VLAPIC_LVT_LINT0, VLAPIC_DM_EXTINT << 8);
		apic_write(c, VLAPIC_LVT_LINT1, VLAPIC_DM_NMI << 8);
	} else {
		apic_write(c, VLAPIC_LVT_LINT0, VLAPIC_DM_EXTINT << 8 | VLAPIC_LVT_MASKED);
		apic_write(c, VLAPIC_LVT_LINT1, VLAPIC_DM_NMI << 8 | VLAPIC_LVT_MASKED);
	}
	/* lapic_setup_esr */
	apic_write(c, VLAPIC_ESR, 0);
	apic_write(c, VLAPIC_LVT_ERROR, 0xfe);				/* ERROR_APIC_VECTOR */
	apic_write(c, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(c, VLAPIC_ESR), 0);
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(apic_read(0, VLAPIC_VER), 0x00050014);
	assert_int_equal(apic_read(2, VLAPIC_ID), 2u << 24);
	assert_int_equal(apic_read(0, VLAPIC_SVR), 0xff);
	assert_int_equal(apic_read(0, VLAPIC_DFR), 0xffffffff);
	for (uint32_t off = VLAPIC_LVT_TIMER; off <= VLAPIC_LVT_ERROR; off += 0x10)
		assert_int_equal(apic_read(1, off), VLAPIC_LVT_MASKED);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0);
	assert_int_equal(apic_read(0, VLAPIC_PAGE_SIZE + VLAPIC_VER), 0xffffffff);
	assert_int_equal(rdmsr(0, VLAPIC_MSR_APIC_BASE), 0xfee00900);	/* EN | BSP */
	assert_int_equal(rdmsr(1, VLAPIC_MSR_APIC_BASE), 0xfee00800);
	assert_true(vlapic_enabled(&cpu[0]));
	assert_false(vlapic_sw_enabled(&cpu[0]));
	/* Software-disabled: a fixed interrupt is not accepted. */
	assert_false(vlapic_accept(&cpu[0], 0x40, false));
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
}

static void test_linux_setup(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	assert_int_equal(apic_read(0, VLAPIC_SVR), 0x1ff);
	assert_int_equal(apic_read(0, VLAPIC_LDR), 1u << 24);
	assert_int_equal(apic_read(0, VLAPIC_LVT_LINT0), 0x700);
	assert_int_equal(apic_read(0, VLAPIC_LVT_LINT1), 0x400);
	assert_int_equal(apic_read(0, VLAPIC_LVT_ERROR), 0xfe);
	assert_true(vlapic_accepts_pic_interrupt(&cpu[0]));
	assert_true(vlapic_accept(&cpu[0], 0x40, false));
	assert_int_equal(inject(0), 0x40);

	/* A reserved register: reads 0 and is logged as an illegal register address. */
	assert_int_equal(apic_read(0, 0x2f0), 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), 0);	/* not yet latched */
	apic_write(0, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), VLAPIC_ESR_ILLEGAL_REG);
	assert_true(irr_has(0, 0xfe));			/* through the error LVT */
	apic_write(0, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), 0);

	/* Read-only registers ignore writes in xAPIC mode. */
	apic_write(0, VLAPIC_VER, 0);
	apic_write(0, VLAPIC_PPR, 0xff);
	assert_int_equal(apic_read(0, VLAPIC_VER), 0x00050014);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x40);
	apic_write(0, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), 0);

	/* An illegal error vector adds its own error instead of an interrupt. */
	apic_write(0, VLAPIC_LVT_ERROR, 0x05);
	apic_read(0, 0x3c0);
	apic_write(0, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), VLAPIC_ESR_ILLEGAL_REG | VLAPIC_ESR_RECV_ILLEGAL);
	assert_false(irr_has(0, 0x05));
}

static void test_virtual_wire_and_lint(void **state)
{
	(void)state;
	assert_false(vlapic_accepts_pic_interrupt(&cpu[0]));	/* LINT0 masked at reset */
	vlapic_setup_virtual_wire(&cpu[0]);
	assert_true(vlapic_accepts_pic_interrupt(&cpu[0]));
	/* LINT1 is NMI: a rising edge latches one NMI. */
	vlapic_set_lint(&cpu[0], 1, true);
	vlapic_set_lint(&cpu[0], 1, true);
	assert_true(vlapic_take_nmi(&cpu[0]));
	assert_false(vlapic_take_nmi(&cpu[0]));
	/* LINT1 reprogrammed as fixed vector 0x55. */
	apic_write(0, VLAPIC_LVT_LINT1, 0x55);
	vlapic_set_lint(&cpu[0], 1, false);
	vlapic_set_lint(&cpu[0], 1, true);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), 0x55);
	/* Masking LINT0 cuts the 8259 off. */
	apic_write(0, VLAPIC_LVT_LINT0, 0x700 | VLAPIC_LVT_MASKED);
	assert_false(vlapic_accepts_pic_interrupt(&cpu[0]));
	/* A globally disabled APIC passes INTR straight through. */
	wrmsr(0, VLAPIC_MSR_APIC_BASE, 0xfee00000);
	assert_true(vlapic_accepts_pic_interrupt(&cpu[0]));
}

static void test_sw_disable(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	assert_int_equal(apic_read(0, VLAPIC_LVT_TIMER), 0xec);
	assert_true(vlapic_accept(&cpu[0], 0x80, false));

	apic_write(0, VLAPIC_SVR, 0xff);	/* software disable */
	for (uint32_t off = VLAPIC_LVT_TIMER; off <= VLAPIC_LVT_ERROR; off += 0x10)
		assert_true(apic_read(0, off) & VLAPIC_LVT_MASKED);
	/* LVT mask bits cannot be cleared while disabled. */
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	assert_int_equal(apic_read(0, VLAPIC_LVT_TIMER), 0xec | VLAPIC_LVT_MASKED);
	/* New fixed interrupts are dropped; what was in IRR is held. */
	assert_false(vlapic_accept(&cpu[0], 0x90, false));
	assert_false(irr_has(0, 0x90));
	assert_true(irr_has(0, 0x80));
	/* IPIs still go out, NMI and INIT still come in. */
	assert_true(vlapic_deliver(&cpu[0], VLAPIC_DM_NMI, 0, false, true));
	assert_true(vlapic_take_nmi(&cpu[0]));

	apic_write(0, VLAPIC_SVR, 0x1ff);
	assert_true(apic_read(0, VLAPIC_LVT_TIMER) & VLAPIC_LVT_MASKED); /* stays masked */
	assert_true(vlapic_accept(&cpu[0], 0x90, false));
}

static void test_priorities(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	/* TPR of ISR's class: PPR takes TPR, subclass and all. */
	vlapic_accept(&cpu[0], 0x51, false);
	assert_int_equal(inject(0), 0x51);
	apic_write(0, VLAPIC_TPR, 0x55);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x55);
	apic_write(0, VLAPIC_TPR, 0x45);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x50);
	apic_write(0, VLAPIC_TPR, 0);
	apic_write(0, VLAPIC_EOI, 0);

	vlapic_accept(&cpu[0], 0x31, false);
	vlapic_accept(&cpu[0], 0x51, false);
	vlapic_accept(&cpu[0], 0x41, false);
	assert_int_equal(inject(0), 0x51);
	assert_true(isr_has(0, 0x51));
	assert_false(irr_has(0, 0x51));
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x50);
	/* Lower classes wait; so does another vector of the same class. */
	vlapic_accept(&cpu[0], 0x5f, false);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	/* A higher class nests. */
	vlapic_accept(&cpu[0], 0x61, false);
	assert_int_equal(inject(0), 0x61);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x60);
	/* EOI retires the highest in service first. */
	apic_write(0, VLAPIC_EOI, 0);
	assert_false(isr_has(0, 0x61));
	assert_true(isr_has(0, 0x51));
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x50);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0);
	assert_int_equal(eoi_count, 0);			/* edge: no broadcast */

	/* TPR: PPR follows TPR when it is higher than ISR's class. */
	apic_write(0, VLAPIC_TPR, 0x5f);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x5f);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);	/* 0x5f: class 5 is not above 5 */
	apic_write(0, VLAPIC_TPR, 0x4f);
	assert_int_equal(inject(0), 0x5f);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x50);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0x4f);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);	/* 0x41 held by TPR */
	apic_write(0, VLAPIC_TPR, 0);
	assert_int_equal(inject(0), 0x41);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(inject(0), 0x31);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(inject(0), -1);
	/* An EOI with nothing in service is harmless. */
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(apic_read(0, VLAPIC_PPR), 0);
}

static void test_level_eoi_broadcast(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	assert_true(vlapic_accept(&cpu[0], 0x71, true));
	assert_true(vlapic_accept(&cpu[0], 0x62, false));
	/* Linux's ioapic_ack_level checks TMR to tell a level interrupt. */
	assert_true(tmr_has(0, 0x71));
	assert_false(tmr_has(0, 0x62));
	assert_int_equal(inject(0), 0x71);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(eoi_count, 1);
	assert_int_equal(eoi_log[0], 0x71);
	assert_int_equal(inject(0), 0x62);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(eoi_count, 1);
	/* Illegal vectors are refused and logged. */
	assert_false(vlapic_accept(&cpu[0], 7, false));
	apic_write(0, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), VLAPIC_ESR_RECV_ILLEGAL);
}

static void test_timer_calibration(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	/* __setup_APIC_LVTT(0xffffffff, 0, 0): masked one-shot, divide by 16. */
	apic_write(0, VLAPIC_LVT_TIMER, 0xec | VLAPIC_LVT_MASKED);
	apic_write(0, VLAPIC_TIMER_DCR, 0x3);
	apic_write(0, VLAPIC_TIMER_ICR, 0xffffffffu / 16);
	uint64_t start = now;
	assert_int_equal(apic_read(0, VLAPIC_TIMER_ICR), 0xffffffffu / 16);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0xffffffffu / 16);
	assert_int_equal(vlapic_update(&cpu[0], now), start + (0xffffffffull / 16) * 16);

	/* 100 ms of PIT ticks later: 100 ms / (16 ns per count) counted. */
	now += 100 * MS;
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0xffffffffu / 16 - 6250000);
	now += 7;	/* within the same count */
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0xffffffffu / 16 - 6250000);
	now += 9;
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0xffffffffu / 16 - 6250001);

	/* Masked: it runs out without an interrupt and stays at 0. */
	now = start + 0xffffffffull;
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	/* Linux then stops it: initial count 0. */
	apic_write(0, VLAPIC_TIMER_ICR, 0);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0);
}

static void test_timer_periodic(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	/* lapic_timer_set_periodic at HZ=1000 with a 62.5 MHz (1 GHz / 16) clock. */
	apic_write(0, VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec);
	apic_write(0, VLAPIC_TIMER_DCR, 0x3);
	apic_write(0, VLAPIC_TIMER_ICR, 62500);
	uint64_t start = now;
	assert_int_equal(vlapic_update(&cpu[0], now), start + MS);

	now = start + MS - 1;
	assert_int_equal(vlapic_update(&cpu[0], now), start + MS);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	now = start + MS;
	assert_int_equal(vlapic_update(&cpu[0], now), start + 2 * MS);
	assert_int_equal(inject(0), 0xec);
	apic_write(0, VLAPIC_EOI, 0);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 62500);	/* reloaded */

	/* The core was late by several periods: one interrupt, the next on the grid. */
	now = start + 5 * MS + MS / 2;
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 31250);
	assert_int_equal(vlapic_update(&cpu[0], now), start + 6 * MS);
	assert_int_equal(inject(0), 0xec);
	assert_int_equal(inject(0), -1);
	apic_write(0, VLAPIC_EOI, 0);

	/* Masking the LVT keeps it counting, silently. */
	apic_write(0, VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec | VLAPIC_LVT_MASKED);
	now = start + 6 * MS;
	assert_int_equal(vlapic_update(&cpu[0], now), start + 7 * MS);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);

	/* Changing the mode disarms the timer (SDM: any mode change). */
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_ICR), 0);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	now = start + 8 * MS;
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	/* Rewriting the same mode (mask only) does not. */
	apic_write(0, VLAPIC_TIMER_ICR, 62500);
	apic_write(0, VLAPIC_LVT_TIMER, 0xec | VLAPIC_LVT_MASKED);
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	assert_int_equal(vlapic_update(&cpu[0], now), now + MS);
}

static void test_timer_oneshot_and_divide(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	/* lapic_next_event: one-shot, divide by 1, count in bus clocks (ns). */
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	apic_write(0, VLAPIC_TIMER_DCR, 0xb);
	apic_write(0, VLAPIC_TIMER_ICR, 1000);
	assert_int_equal(vlapic_update(&cpu[0], now), now + 1000);
	now += 999;
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 1);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	now += 1;
	/* The register access itself notices the expiry. */
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0);
	assert_true(irr_has(0, 0xec));
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	assert_int_equal(inject(0), 0xec);
	apic_write(0, VLAPIC_EOI, 0);
	now += 10 * MS;
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);	/* one shot only */

	/* Every divide value: 2, 4, 8, 16, 32, 64, 128, 1 (SDM Figure 11-10). */
	static const struct { uint32_t dcr, div; } divs[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	for (unsigned i = 0; i < 8; i++) {
		apic_write(0, VLAPIC_TIMER_DCR, divs[i].dcr);
		assert_int_equal(apic_read(0, VLAPIC_TIMER_DCR), divs[i].dcr);
		apic_write(0, VLAPIC_TIMER_ICR, 100000);
		assert_int_equal(vlapic_update(&cpu[0], now), now + 100000ull * divs[i].div);
		now += 1000 * divs[i].div;
		assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 99000);
	}

	/* A new divisor mid-count: the remaining count goes on at the new rate. */
	apic_write(0, VLAPIC_TIMER_DCR, 0x3);			/* by 16 */
	apic_write(0, VLAPIC_TIMER_ICR, 1000);
	now += 16 * 400;
	apic_write(0, VLAPIC_TIMER_DCR, 0xb);			/* by 1 */
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 600);
	assert_int_equal(vlapic_update(&cpu[0], now), now + 600);

	/* Initial count 0 stops the timer. */
	apic_write(0, VLAPIC_TIMER_ICR, 0);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
}

static void test_tsc_deadline(void **state)
{
	(void)state;
	linux_setup_local_apic(0);
	/* In one-shot mode the MSR ignores writes and reads 0. */
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, vlapic_guest_tsc(&cpu[0], now) + 1000);
	assert_int_equal(rdmsr(0, VLAPIC_MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);

	/* lapic_timer_set_oneshot with TSC-deadline, then lapic_next_deadline. */
	apic_write(0, VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0xec);
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, 0);
	uint64_t tsc = vlapic_guest_tsc(&cpu[0], now);
	assert_int_equal(tsc, now * 2 + TSC_OFFSET);		/* 2 GHz */
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, tsc + 2000000);	/* 1 ms of TSC */
	assert_int_equal(rdmsr(0, VLAPIC_MSR_TSC_DEADLINE), tsc + 2000000);
	assert_int_equal(vlapic_update(&cpu[0], now), now + MS);
	/* The initial count is ignored, the current count reads 0. */
	apic_write(0, VLAPIC_TIMER_ICR, 5);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_ICR), 0);
	assert_int_equal(apic_read(0, VLAPIC_TIMER_CCR), 0);

	now += MS - 1;
	assert_int_equal(vlapic_update(&cpu[0], now), now + 1);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
	now += 1;
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	assert_int_equal(inject(0), 0xec);
	assert_int_equal(rdmsr(0, VLAPIC_MSR_TSC_DEADLINE), 0);	/* cleared when it fires */
	apic_write(0, VLAPIC_EOI, 0);

	/* An odd TSC count rounds up: the first ns at which the TSC reaches it. */
	tsc = vlapic_guest_tsc(&cpu[0], now);
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, tsc + 3);
	assert_int_equal(vlapic_update(&cpu[0], now), now + 2);
	/* Writing 0 disarms. */
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, 0);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);

	/* A deadline already past fires at once. */
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, 1);
	assert_true(irr_has(0, 0xec));
	assert_int_equal(inject(0), 0xec);
	apic_write(0, VLAPIC_EOI, 0);

	/* Leaving TSC-deadline mode disarms it. */
	wrmsr(0, VLAPIC_MSR_TSC_DEADLINE, vlapic_guest_tsc(&cpu[0], now) + 1000);
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	apic_write(0, VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0xec);
	assert_int_equal(rdmsr(0, VLAPIC_MSR_TSC_DEADLINE), 0);
	/* And entering it stops a counting one-shot timer. */
	apic_write(0, VLAPIC_LVT_TIMER, 0xec);
	apic_write(0, VLAPIC_TIMER_ICR, 1000);
	apic_write(0, VLAPIC_LVT_TIMER, VLAPIC_TIMER_TSC_DEADLINE | 0xec);
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	now += 10 * MS;
	assert_int_equal(vlapic_update(&cpu[0], now), VLAPIC_NO_DEADLINE);
	assert_int_equal(vlapic_pending_vector(&cpu[0]), -1);
}

static void all_up(void)
{
	for (unsigned i = 0; i < NCPU; i++)
		linux_setup_local_apic(i);
}

static void test_ipi_destinations(void **state)
{
	(void)state;
	all_up();
	/* Physical: __default_send_IPI_dest_field. */
	apic_write(0, VLAPIC_ICR_HI, 2u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x4000 | 0xfb);		/* fixed, assert, edge */
	assert_int_equal(ipis_sent, 1);
	assert_int_equal(last_ipi.dest, 2);
	assert_int_equal(last_ipi.dest_mode, VLAPIC_DEST_PHYSICAL);
	assert_true(irr_has(2, 0xfb));
	assert_false(irr_has(1, 0xfb));
	assert_false(irr_has(0, 0xfb));
	/* The ICR reads back idle (delivery status 0). */
	assert_int_equal(apic_read(0, VLAPIC_ICR_LO), 0x40fb);
	assert_int_equal(apic_read(0, VLAPIC_ICR_HI), 2u << 24);

	/* Logical flat: LDR bit i on vCPU i; a mask of vCPUs 1 and 3. */
	apic_write(0, VLAPIC_ICR_HI, 0x0au << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x4800 | 0xfa);
	assert_true(irr_has(1, 0xfa));
	assert_true(irr_has(3, 0xfa));
	assert_false(irr_has(2, 0xfa));
	assert_false(irr_has(0, 0xfa));

	/* Logical cluster: cluster 1, members bit 0 (vCPU 2) and bit 1 (vCPU 3). */
	for (unsigned i = 0; i < NCPU; i++) {
		apic_write(i, VLAPIC_DFR, 0x0fffffff);
		apic_write(i, VLAPIC_LDR, ((i / 2) << 4 | 1u << (i % 2)) << 24);
		assert_int_equal(apic_read(i, VLAPIC_DFR), 0x0fffffff);
	}
	apic_write(0, VLAPIC_ICR_HI, 0x11u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x4800 | 0xf9);
	assert_true(irr_has(2, 0xf9));
	assert_false(irr_has(3, 0xf9));
	assert_false(irr_has(0, 0xf9));	/* bit 0 too, but cluster 0 */

	/* Shorthands. */
	apic_write(1, VLAPIC_ICR_LO, 0xc4000 | 0xf8);	/* all but self */
	assert_int_equal(last_ipi.shorthand, VLAPIC_SH_OTHERS);
	assert_true(irr_has(0, 0xf8) && irr_has(2, 0xf8) && irr_has(3, 0xf8));
	assert_false(irr_has(1, 0xf8));
	apic_write(1, VLAPIC_ICR_LO, 0x44000 | 0xf7);	/* self */
	assert_true(irr_has(1, 0xf7));
	assert_false(irr_has(0, 0xf7));
	apic_write(1, VLAPIC_ICR_LO, 0x84000 | 0xf6);	/* all including self */
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(irr_has(i, 0xf6));

	/* Physical broadcast 0xff. */
	apic_write(3, VLAPIC_ICR_HI, 0xffu << 24);
	apic_write(3, VLAPIC_ICR_LO, 0x4000 | 0xf5);
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(irr_has(i, 0xf5));

	/* Lowest priority is handed to the router, which picks one. */
	apic_write(0, VLAPIC_ICR_LO, 0xc4000 | 0x100 | 0xf4);
	assert_int_equal(last_ipi.mode, VLAPIC_DM_LOWEST);
	assert_int_equal(irr_has(1, 0xf4) + irr_has(2, 0xf4) + irr_has(3, 0xf4), 1);

	/* An illegal vector is not sent: ESR and the error LVT tell the sender. */
	unsigned sent = ipis_sent;
	apic_write(0, VLAPIC_ICR_HI, 1u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x4000 | 0x05);
	assert_int_equal(ipis_sent, sent);
	apic_write(0, VLAPIC_ESR, 0);
	assert_int_equal(apic_read(0, VLAPIC_ESR), VLAPIC_ESR_SEND_ILLEGAL);
	assert_true(irr_has(0, 0xfe));
	/* A changed xAPIC ID is what physical destinations match. */
	apic_write(3, VLAPIC_ID, 0x17u << 24);
	assert_true(vlapic_matches(&cpu[3], &cpu[0], VLAPIC_DEST_PHYSICAL, 0x17, VLAPIC_SH_NONE));
	assert_false(vlapic_matches(&cpu[3], &cpu[0], VLAPIC_DEST_PHYSICAL, 3, VLAPIC_SH_NONE));
}

static void test_nmi_ipi(void **state)
{
	(void)state;
	all_up();
	apic_write(0, VLAPIC_ICR_HI, 3u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x4000 | VLAPIC_DM_NMI << 8);
	assert_true(vlapic_take_nmi(&cpu[3]));
	assert_false(vlapic_take_nmi(&cpu[3]));
	assert_false(vlapic_take_nmi(&cpu[1]));
	assert_int_equal(vlapic_pending_vector(&cpu[3]), -1);
}

static void test_init_sipi_sipi(void **state)
{
	(void)state;
	all_up();
	uint8_t vec = 0;
	/* At power-up, nothing to take. */
	assert_false(vlapic_take_init(&cpu[2]));
	assert_false(vlapic_take_sipi(&cpu[2], &vec));
	vlapic_accept(&cpu[2], 0x60, false);

	/* wakeup_secondary_cpu_via_init(apicid 2, start_eip 0x9a000). */
	apic_write(0, VLAPIC_ESR, 0);
	apic_write(0, VLAPIC_ICR_HI, 2u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x8000 | 0x4000 | VLAPIC_DM_INIT << 8);	/* assert */
	apic_write(0, VLAPIC_ICR_HI, 2u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x8000 | VLAPIC_DM_INIT << 8);		/* de-assert */
	assert_int_equal(ipis_sent, 1);		/* the de-assert is not a message */
	assert_true(vlapic_take_init(&cpu[2]));
	assert_false(vlapic_take_init(&cpu[2]));
	assert_false(vlapic_take_init(&cpu[1]));
	/* INIT reset the AP's APIC, ID kept. */
	assert_int_equal(apic_read(2, VLAPIC_SVR), 0xff);
	assert_false(irr_has(2, 0x60));
	assert_int_equal(apic_read(2, VLAPIC_ID), 2u << 24);
	assert_int_equal(apic_read(2, VLAPIC_LDR), 0);

	for (int i = 0; i < 2; i++) {
		apic_write(0, VLAPIC_ESR, 0);
		apic_write(0, VLAPIC_ICR_HI, 2u << 24);
		apic_write(0, VLAPIC_ICR_LO, VLAPIC_DM_SIPI << 8 | (0x9a000 >> 12));
		apic_write(0, VLAPIC_ESR, 0);
		assert_int_equal(apic_read(0, VLAPIC_ESR), 0);
		assert_int_equal(last_ipi.mode, VLAPIC_DM_SIPI);
		if (i == 0) {
			assert_true(vlapic_take_sipi(&cpu[2], &vec));
			assert_int_equal(vec, 0x9a);
		} else {
			/* The second SIPI found the AP running and was ignored. */
			assert_false(vlapic_take_sipi(&cpu[2], &vec));
		}
	}
	assert_int_equal(ipis_sent, 3);
	assert_false(vlapic_take_sipi(&cpu[1], &vec));

	/* A SIPI not yet acted on is void after a new INIT; the next SIPI counts. */
	vlapic_deliver(&cpu[1], VLAPIC_DM_INIT, 0, false, true);
	vlapic_deliver(&cpu[1], VLAPIC_DM_SIPI, 0x10, false, true);
	vlapic_deliver(&cpu[1], VLAPIC_DM_INIT, 0, false, true);
	assert_false(vlapic_take_sipi(&cpu[1], &vec));
	vlapic_deliver(&cpu[1], VLAPIC_DM_SIPI, 0x20, false, true);
	assert_true(vlapic_take_sipi(&cpu[1], &vec));
	assert_int_equal(vec, 0x20);

	/* INIT to the BSP resets it but it does not wait for a SIPI. */
	assert_true(vlapic_deliver(&cpu[0], VLAPIC_DM_INIT, 0, false, true));
	assert_true(vlapic_take_init(&cpu[0]));
	assert_false(vlapic_deliver(&cpu[0], VLAPIC_DM_SIPI, 0x10, false, true));
	assert_false(vlapic_take_sipi(&cpu[0], &vec));
}

static void test_apic_base_transitions(void **state)
{
	(void)state;
	struct vlapic *l = &cpu[1];
	uint64_t v;
	linux_setup_local_apic(1);
	/* Reserved bits: 9, bits 0-7, above MAXPHYADDR (39). */
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00a00, now), VLAPIC_GP);
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00801, now), VLAPIC_GP);
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0x8000000000ull | 0xfee00800, now), VLAPIC_GP);
	/* EN=0 EXTD=1 is invalid. */
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00400, now), VLAPIC_GP);
	/* x2APIC MSRs fault in xAPIC mode. */
	assert_int_equal(vlapic_msr_read(l, 0x802, &v, now), VLAPIC_GP);
	assert_int_equal(vlapic_msr_write(l, 0x808, 0, now), VLAPIC_GP);

	/* xAPIC -> disabled -> xAPIC: power-up state, a rewritten ID included. */
	apic_write(1, VLAPIC_ID, 0x42u << 24);
	assert_int_equal(apic_read(1, VLAPIC_ID), 0x42u << 24);
	wrmsr(1, 0x1b, 0xfee00000);
	wrmsr(1, 0x1b, 0xfee00800);
	assert_int_equal(apic_read(1, VLAPIC_ID), 1u << 24);
	assert_int_equal(apic_read(1, VLAPIC_SVR), 0xff);
	linux_setup_local_apic(1);

	/* xAPIC -> x2APIC. */
	wrmsr(1, 0x1b, 0xfee00c00);
	assert_true(vlapic_x2apic_mode(l));
	assert_int_equal(rdmsr(1, 0x1b), 0xfee00c00);
	assert_int_equal(rdmsr(1, 0x80f), 0x1ff);	/* state kept across the switch */
	/* x2APIC -> xAPIC is illegal. */
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00800, now), VLAPIC_GP);
	assert_true(vlapic_x2apic_mode(l));
	/* x2APIC -> disabled: registers reset. */
	wrmsr(1, 0x1b, 0xfee00000);
	assert_false(vlapic_enabled(l));
	assert_int_equal(apic_read(1, VLAPIC_SVR), 0xffffffff);	/* page not decoded */
	assert_false(vlapic_accept(l, 0x40, false));
	/* disabled -> x2APIC is illegal; -> xAPIC is fine, at a new base. */
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00c00, now), VLAPIC_GP);
	wrmsr(1, 0x1b, 0xfed00800 | VLAPIC_BASE_BSP);	/* the BSP flag is not the guest's */
	assert_int_equal(rdmsr(1, 0x1b), 0xfed00800);
	assert_int_equal(vlapic_base_address(l), 0xfed00000);
	assert_int_equal(apic_read(1, VLAPIC_SVR), 0xff);
	assert_int_equal(apic_read(1, VLAPIC_ID), 1u << 24);
	assert_int_equal(apic_read(1, VLAPIC_LVT_LINT0), VLAPIC_LVT_MASKED);

	/* Without x2APIC offered in CPUID, EXTD is reserved. */
	struct vlapic_config cfg = { .apic_id = 1, .tsc_khz = TSC_KHZ };
	vlapic_init(l, &cfg, NULL, now);
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00c00, now), VLAPIC_GP);
	assert_int_equal(vlapic_msr_write(l, 0x1b, 0xfee00800, now), VLAPIC_OK);
	/* Not ours. */
	assert_false(vlapic_handles_msr(0x1a));
	assert_true(vlapic_handles_msr(0x83f));
	assert_int_equal(vlapic_msr_read(l, 0x900, &v, now), VLAPIC_GP);
}

static void to_x2apic(unsigned c)
{
	wrmsr(c, 0x1b, rdmsr(c, 0x1b) | VLAPIC_BASE_EXTD);
	wrmsr(c, 0x80f, 0x1ff);
}

static void test_x2apic_registers(void **state)
{
	(void)state;
	uint64_t v;
	make_cpu(3, 0x23);
	struct vlapic *l = &cpu[3];
	to_x2apic(3);
	/* ID is the full 32-bit ID; the LDR derives from it (cluster 2, bit 3). */
	assert_int_equal(rdmsr(3, 0x802), 0x23);
	assert_int_equal(rdmsr(3, 0x80d), 0x00020008);
	assert_int_equal(rdmsr(3, 0x803), 0x00050014);
	/* The xAPIC page is gone. */
	assert_int_equal(apic_read(3, VLAPIC_VER), 0xffffffff);
	apic_write(3, VLAPIC_TPR, 0x20);
	assert_int_equal(rdmsr(3, 0x808), 0);

	/* Read-only, absent, write-only. */
	assert_int_equal(vlapic_msr_write(l, 0x802, 5, now), VLAPIC_GP);	/* ID */
	assert_int_equal(vlapic_msr_write(l, 0x803, 0, now), VLAPIC_GP);	/* version */
	assert_int_equal(vlapic_msr_write(l, 0x80d, 0, now), VLAPIC_GP);	/* LDR */
	assert_int_equal(vlapic_msr_write(l, 0x80a, 0, now), VLAPIC_GP);	/* PPR */
	assert_int_equal(vlapic_msr_write(l, 0x810, 0, now), VLAPIC_GP);	/* ISR */
	assert_int_equal(vlapic_msr_write(l, 0x839, 0, now), VLAPIC_GP);	/* CCR */
	assert_int_equal(vlapic_msr_read(l, 0x80e, &v, now), VLAPIC_GP);	/* DFR */
	assert_int_equal(vlapic_msr_read(l, 0x831, &v, now), VLAPIC_GP);	/* ICR high */
	assert_int_equal(vlapic_msr_read(l, 0x809, &v, now), VLAPIC_GP);	/* APR */
	assert_int_equal(vlapic_msr_read(l, 0x82f, &v, now), VLAPIC_GP);	/* CMCI */
	assert_int_equal(vlapic_msr_read(l, 0x80b, &v, now), VLAPIC_GP);	/* EOI */
	assert_int_equal(vlapic_msr_read(l, 0x83f, &v, now), VLAPIC_GP);	/* SELF_IPI */
	assert_int_equal(vlapic_msr_read(l, 0x8ff, &v, now), VLAPIC_GP);
	assert_int_equal(vlapic_msr_write(l, 0x80b, 1, now), VLAPIC_GP);	/* EOI != 0 */
	assert_int_equal(vlapic_msr_write(l, 0x828, 1, now), VLAPIC_GP);	/* ESR != 0 */
	assert_int_equal(vlapic_msr_write(l, 0x808, 1ull << 32, now), VLAPIC_GP);
	/* ICR reserved bits. */
	assert_int_equal(vlapic_msr_write(l, 0x830, 1u << 13 | 0x40, now), VLAPIC_GP);
	assert_int_equal(vlapic_msr_write(l, 0x830, 1u << 20 | 0x40, now), VLAPIC_GP);

	/* Ordinary registers. */
	wrmsr(3, 0x808, 0x30);
	assert_int_equal(rdmsr(3, 0x808), 0x30);
	assert_int_equal(rdmsr(3, 0x80a), 0x30);
	wrmsr(3, 0x808, 0);
	wrmsr(3, 0x828, 0);
	assert_int_equal(rdmsr(3, 0x828), 0);
	wrmsr(3, 0x835, 0x700);
	assert_int_equal(rdmsr(3, 0x835), 0x700);
	/* Priorities and EOI through MSRs. */
	assert_true(vlapic_accept(l, 0x91, true));
	assert_int_equal(rdmsr(3, 0x824), 1u << (0x91 - 0x80));	/* IRR word 4 */
	assert_int_equal(rdmsr(3, 0x81c), 1u << (0x91 - 0x80));	/* TMR word 4 */
	assert_int_equal(inject(3), 0x91);
	assert_int_equal(rdmsr(3, 0x814), 1u << (0x91 - 0x80));	/* ISR word 4 */
	assert_int_equal(rdmsr(3, 0x80a), 0x90);
	wrmsr(3, 0x80b, 0);
	assert_int_equal(rdmsr(3, 0x814), 0);
	assert_int_equal(eoi_count, 1);
	assert_int_equal(eoi_log[0], 0x91);

	/* Timer through MSRs. */
	wrmsr(3, 0x832, 0xec);
	wrmsr(3, 0x83e, 0xb);
	wrmsr(3, 0x838, 500);
	now += 200;
	assert_int_equal(rdmsr(3, 0x839), 300);
	assert_int_equal(rdmsr(3, 0x838), 500);
}

static void test_x2apic_ipis(void **state)
{
	(void)state;
	make_cpu(0, 0);
	make_cpu(1, 0x11);	/* cluster 1, bit 1 */
	make_cpu(2, 0x12);	/* cluster 1, bit 2 */
	make_cpu(3, 0x20);	/* cluster 2, bit 0 */
	for (unsigned i = 0; i < NCPU; i++)
		to_x2apic(i);

	/* Physical, 32-bit destination in ICR[63:32], one WRMSR sends. */
	wrmsr(0, 0x830, 0x12ull << 32 | 0x4000 | 0xe1);
	assert_int_equal(last_ipi.dest, 0x12);
	assert_true(vlapic_pending_vector(&cpu[2]) == 0xe1);
	assert_int_equal(vlapic_pending_vector(&cpu[1]), -1);
	assert_int_equal(rdmsr(0, 0x830), 0x12ull << 32 | 0x4000 | 0xe1);

	/* Logical: cluster 1, bits 1 and 2. */
	wrmsr(0, 0x830, 0x00010006ull << 32 | 0x4800 | 0xe2);
	assert_int_equal(inject(1), 0xe2);
	assert_int_equal(rdmsr(1, 0x817), 1u << 2);				/* ISR 0xe2 */
	assert_int_equal(rdmsr(1, 0x827), 0);
	assert_true(rdmsr(2, 0x827) & 1u << 2);					/* IRR 0xe2 */
	assert_false(rdmsr(3, 0x827) & 1u << 2);

	/* Broadcast is 0xffffffff in x2APIC format. */
	wrmsr(1, 0x830, 0xffffffffull << 32 | 0x4000 | 0xe3);
	for (unsigned i = 0; i < NCPU; i++)
		assert_true(rdmsr(i, 0x827) & 1u << 3);
	/* 0xff is an ordinary ID in x2APIC format. */
	assert_false(vlapic_matches(&cpu[3], &cpu[0], VLAPIC_DEST_PHYSICAL, 0xff, VLAPIC_SH_NONE));

	/* SELF_IPI. */
	wrmsr(3, 0x83f, 0xe4);
	assert_int_equal(last_ipi.shorthand, VLAPIC_SH_SELF);
	assert_true(rdmsr(3, 0x827) & 1u << 4);
	assert_false(rdmsr(2, 0x827) & 1u << 4);

	/* An xAPIC-format (IOAPIC) message: 8-bit physical ID, 0xff broadcast. */
	assert_true(vlapic_matches(&cpu[1], NULL, VLAPIC_DEST_PHYSICAL, 0x11, VLAPIC_SH_NONE));
	assert_true(vlapic_matches(&cpu[1], NULL, VLAPIC_DEST_PHYSICAL, 0xff, VLAPIC_SH_NONE));
	assert_false(vlapic_matches(&cpu[1], NULL, VLAPIC_DEST_PHYSICAL, 0x12, VLAPIC_SH_NONE));
}

static unsigned nmis(unsigned c)
{
	return vlapic_take_nmi(&cpu[c]);
}

/* NMI IPIs with each shorthand and to a logical destination, xAPIC and x2APIC. */
static void test_nmi_ipi_shorthands(void **state)
{
	(void)state;
	all_up();
	apic_write(2, VLAPIC_ICR_LO, 0x44000 | VLAPIC_DM_NMI << 8);	/* self */
	assert_int_equal(nmis(2), 1);
	assert_int_equal(nmis(0) + nmis(1) + nmis(3), 0);
	apic_write(2, VLAPIC_ICR_LO, 0x84000 | VLAPIC_DM_NMI << 8);	/* all including self */
	for (unsigned i = 0; i < NCPU; i++)
		assert_int_equal(nmis(i), 1);
	apic_write(2, VLAPIC_ICR_LO, 0xc4000 | VLAPIC_DM_NMI << 8);	/* all excluding self */
	assert_int_equal(nmis(2), 0);
	assert_int_equal(nmis(0) + nmis(1) + nmis(3), 3);
	apic_write(0, VLAPIC_ICR_HI, 0x09u << 24);			/* logical flat: 0 and 3 */
	apic_write(0, VLAPIC_ICR_LO, 0x4800 | VLAPIC_DM_NMI << 8);
	assert_int_equal(nmis(0) + nmis(3), 2);
	assert_int_equal(nmis(1) + nmis(2), 0);
	/* NMIs pile up to two for the core to take; IRR stays clean */
	for (unsigned k = 0; k < 5; k++)
		apic_write(1, VLAPIC_ICR_LO, 0x44000 | VLAPIC_DM_NMI << 8);
	assert_int_equal(nmis(1), 2);
	assert_int_equal(vlapic_pending_vector(&cpu[1]), -1);
	/* a software-disabled APIC still takes NMIs (SDM Vol. 3A §11.4.7.2) */
	apic_write(3, VLAPIC_SVR, 0xff);
	apic_write(0, VLAPIC_ICR_HI, 3u << 24);
	apic_write(0, VLAPIC_ICR_LO, 0x4000 | VLAPIC_DM_NMI << 8);
	assert_int_equal(nmis(3), 1);

	/* x2APIC: the same through the ICR MSR and with a 32-bit destination */
	for (unsigned i = 0; i < NCPU; i++)
		to_x2apic(i);
	wrmsr(1, 0x830, 0x44000 | VLAPIC_DM_NMI << 8);
	assert_int_equal(nmis(1), 1);
	wrmsr(1, 0x830, 0xc4000 | VLAPIC_DM_NMI << 8);
	assert_int_equal(nmis(0) + nmis(2) + nmis(3), 3);
	assert_int_equal(nmis(1), 0);
	wrmsr(0, 0x830, 2ull << 32 | 0x4000 | VLAPIC_DM_NMI << 8);
	assert_int_equal(nmis(2), 1);
	wrmsr(0, 0x830, 0x0000000cull << 32 | 0x4800 | VLAPIC_DM_NMI << 8); /* cluster 0: 2, 3 */
	assert_int_equal(nmis(2) + nmis(3), 2);
	assert_int_equal(nmis(0) + nmis(1), 0);
}

static void test_lint1_nmi(void **state)
{
	(void)state;
	all_up(); /* LINT1 NMI unmasked on CPU 0 only, as Linux leaves it */
	vlapic_set_lint(&cpu[0], 1, true);
	assert_int_equal(nmis(0), 1);
	vlapic_set_lint(&cpu[0], 1, true);	/* held: no new edge */
	assert_int_equal(nmis(0), 0);
	vlapic_set_lint(&cpu[0], 1, false);
	vlapic_set_lint(&cpu[0], 1, true);
	assert_int_equal(nmis(0), 1);
	vlapic_set_lint(&cpu[1], 1, true);	/* masked there */
	assert_int_equal(nmis(1), 0);
	/* LINT1 as a fixed interrupt instead */
	apic_write(1, VLAPIC_LVT_LINT1, 0x55);
	vlapic_set_lint(&cpu[1], 1, false);
	vlapic_set_lint(&cpu[1], 1, true);
	assert_int_equal(nmis(1), 0);
	assert_int_equal(vlapic_pending_vector(&cpu[1]), 0x55);
}

/* Logical destinations across eight vCPUs of two x2APIC clusters, lowest priority included. */
static void test_x2apic_cluster_lowest_priority(void **state)
{
	(void)state;
	make_cpu(0, 0x00);
	make_cpu(1, 0x01);
	make_cpu(2, 0x10);	/* cluster 1, bit 0 */
	make_cpu(3, 0x13);	/* cluster 1, bit 3 */
	for (unsigned i = 0; i < NCPU; i++)
		to_x2apic(i);
	assert_int_equal(rdmsr(3, 0x80d), 0x00010008);		/* LDR */
	/* cluster 1, both members: lowest priority gives it to one, then the other */
	uint32_t seen = 0;
	for (unsigned k = 0; k < 4; k++) {
		wrmsr(0, 0x830, 0x00010009ull << 32 | 0x4900 | 0xd0);
		unsigned got = 0;
		for (unsigned i = 0; i < NCPU; i++)
			if (inject(i) == 0xd0) {
				got++;
				seen |= 1u << i;
				wrmsr(i, 0x80b, 0);
			}
		assert_int_equal(got, 1);
	}
	assert_int_equal(seen, 0x0c);
	/* TPR decides: CPU 2 raised, CPU 3 takes them all */
	wrmsr(2, 0x808, 0x40);
	for (unsigned k = 0; k < 3; k++) {
		wrmsr(1, 0x830, 0x00010009ull << 32 | 0x4900 | 0xd1);
		assert_int_equal(inject(3), 0xd1);
		wrmsr(3, 0x80b, 0);
		assert_int_equal(vlapic_pending_vector(&cpu[2]), -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_linux_setup, setup),
		cmocka_unit_test_setup(test_virtual_wire_and_lint, setup),
		cmocka_unit_test_setup(test_sw_disable, setup),
		cmocka_unit_test_setup(test_priorities, setup),
		cmocka_unit_test_setup(test_level_eoi_broadcast, setup),
		cmocka_unit_test_setup(test_timer_calibration, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_timer_oneshot_and_divide, setup),
		cmocka_unit_test_setup(test_tsc_deadline, setup),
		cmocka_unit_test_setup(test_ipi_destinations, setup),
		cmocka_unit_test_setup(test_nmi_ipi, setup),
		cmocka_unit_test_setup(test_init_sipi_sipi, setup),
		cmocka_unit_test_setup(test_apic_base_transitions, setup),
		cmocka_unit_test_setup(test_x2apic_registers, setup),
		cmocka_unit_test_setup(test_x2apic_ipis, setup),
		cmocka_unit_test_setup(test_nmi_ipi_shorthands, setup),
		cmocka_unit_test_setup(test_lint1_nmi, setup),
		cmocka_unit_test_setup(test_x2apic_cluster_lowest_priority, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: guest/vlapic.c guest/apic_bus.c kernel/lib/string.c kernel/lib/format.c
/*
 * The local APIC driven as Linux's arch/x86/kernel/apic/ drives it:
 * setup_local_APIC (SVR enable, flat LDR/DFR, LINT0 ExtINT/LINT1 NMI, the
 * ESR write-then-read dance), calibrate_APIC_clock (masked one-shot counting
 * from 0xffffffff/16), periodic and one-shot clockevents, TSC-deadline via
 * MSR 0x6e0, EOI of level interrupts, and priorities with TPR/PPR and nested
 * ISR. IPIs, x2APIC and NMIs are in test_vlapic_ipi.c; the machine both
 * drive is in vlapic_fixture.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/vlapic_fixture.h"

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

/*
 * The exit fast path's EOI (vlapic_fast_eoi): done only where it changes ISR
 * alone, then with the slow path's result; refused, with nothing changed,
 * outside x2APIC mode, for a non-zero write, a level-triggered vector, or
 * when retiring the vector lets an IRR vector through.
 */
static bool isr_has_x2(unsigned c, uint8_t v)
{
	return rdmsr(c, VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_ISR >> 4) + (v >> 5)) >> (v & 31) & 1;
}

static void test_fast_eoi(void **state)
{
	(void)state;
	const uint32_t eoi_msr = VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_EOI >> 4);
	apic_write(0, VLAPIC_SVR, VLAPIC_SVR_ENABLE | 0xff);
	assert_true(vlapic_accept(&cpu[0], 0x40, false));
	assert_int_equal(inject(0), 0x40);
	assert_false(vlapic_fast_eoi(&cpu[0], 0)); /* xAPIC mode: the slow path's */
	assert_true(isr_has(0, 0x40));

	wrmsr(0, VLAPIC_MSR_APIC_BASE, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD |
					       VLAPIC_BASE_BSP);
	assert_false(vlapic_fast_eoi(&cpu[0], 1)); /* #GP */
	assert_int_equal(cpu[0].isr[2], 1u << 0);
	assert_true(vlapic_fast_eoi(&cpu[0], 0)); /* edge, nothing waiting */
	assert_int_equal(cpu[0].isr[2], 0);
	assert_true(vlapic_fast_eoi(&cpu[0], 0)); /* nothing in service */

	/* nested: 0x50 under 0x60, 0x55 and 0x65 arriving */
	vlapic_accept(&cpu[0], 0x50, false);
	assert_int_equal(inject(0), 0x50);
	vlapic_accept(&cpu[0], 0x60, false);
	assert_int_equal(inject(0), 0x60);
	vlapic_accept(&cpu[0], 0x55, false);
	assert_true(vlapic_fast_eoi(&cpu[0], 0)); /* 0x60 retired; 0x55 still below PPR 0x50 */
	assert_false(isr_has_x2(0, 0x60));
	assert_true(isr_has_x2(0, 0x50));
	vlapic_accept(&cpu[0], 0x65, false);
	assert_int_equal(inject(0), 0x65);
	vlapic_accept(&cpu[0], 0x68, false); /* same class as 0x65: waits */
	struct vlapic before = cpu[0];
	assert_false(vlapic_fast_eoi(&cpu[0], 0)); /* retiring 0x65 lets 0x68 through */
	assert_memory_equal(&before, &cpu[0], sizeof(before));
	wrmsr(0, eoi_msr, 0); /* the slow path */
	assert_int_equal(inject(0), 0x68);
	assert_true(vlapic_fast_eoi(&cpu[0], 0)); /* 0x68; 0x55 still below 0x50 */
	assert_false(vlapic_fast_eoi(&cpu[0], 0)); /* 0x50 retired would let 0x55 through */

	/* a level-triggered vector: the IOAPIC hears of its EOI, on the slow path */
	wrmsr(0, eoi_msr, 0);
	assert_int_equal(inject(0), 0x55);
	wrmsr(0, eoi_msr, 0);
	vlapic_accept(&cpu[0], 0x71, true);
	assert_int_equal(inject(0), 0x71);
	assert_false(vlapic_fast_eoi(&cpu[0], 0));
	assert_int_equal(eoi_count, 0);
	wrmsr(0, eoi_msr, 0);
	assert_int_equal(eoi_count, 1);
	assert_int_equal(eoi_log[0], 0x71);
}

/*
 * KVM's PV EOI (kernel/vm/pveoi.h): the guest's next EOI may be left to its
 * flag only with an edge vector in service and nothing in IRR; the EOI done
 * later (vlapic_eoi) retires the highest
 * vector, as the guest's own EOI write would.
 */
static void test_pv_eoi_conditions(void **state)
{
	(void)state;
	apic_write(0, VLAPIC_SVR, VLAPIC_SVR_ENABLE | 0xff);
	assert_false(vlapic_pv_eoi_ok(&cpu[0])); /* nothing in service */
	vlapic_accept(&cpu[0], 0x40, false);
	assert_false(vlapic_pv_eoi_ok(&cpu[0])); /* in IRR, not yet in service */
	assert_int_equal(inject(0), 0x40);
	assert_true(vlapic_pv_eoi_ok(&cpu[0]));
	vlapic_accept(&cpu[0], 0x30, false); /* waits below PPR: its EOI must exit */
	assert_false(vlapic_pv_eoi_ok(&cpu[0]));
	vlapic_eoi(&cpu[0]);
	assert_false(isr_has(0, 0x40));
	assert_int_equal(inject(0), 0x30);
	assert_true(vlapic_pv_eoi_ok(&cpu[0]));
	vlapic_eoi(&cpu[0]);
	assert_false(isr_has(0, 0x30));

	/* nested: the flag stands for the highest in service, which the next EOI retires */
	vlapic_accept(&cpu[0], 0x50, false);
	assert_int_equal(inject(0), 0x50);
	vlapic_accept(&cpu[0], 0x60, false);
	assert_int_equal(inject(0), 0x60);
	assert_true(vlapic_pv_eoi_ok(&cpu[0]));
	vlapic_eoi(&cpu[0]);
	assert_false(isr_has(0, 0x60));
	assert_true(isr_has(0, 0x50));
	vlapic_eoi(&cpu[0]);

	/* level-triggered: the IOAPIC must hear of the EOI when the guest writes it */
	vlapic_accept(&cpu[0], 0x71, true);
	assert_int_equal(inject(0), 0x71);
	assert_false(vlapic_pv_eoi_ok(&cpu[0]));
	vlapic_eoi(&cpu[0]);
	assert_int_equal(eoi_count, 1);
	assert_int_equal(eoi_log[0], 0x71);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_linux_setup, setup),
		cmocka_unit_test_setup(test_virtual_wire_and_lint, setup),
		cmocka_unit_test_setup(test_sw_disable, setup),
		cmocka_unit_test_setup(test_priorities, setup),
		cmocka_unit_test_setup(test_level_eoi_broadcast, setup),
		cmocka_unit_test_setup(test_fast_eoi, setup),
		cmocka_unit_test_setup(test_timer_calibration, setup),
		cmocka_unit_test_setup(test_timer_periodic, setup),
		cmocka_unit_test_setup(test_timer_oneshot_and_divide, setup),
		cmocka_unit_test_setup(test_tsc_deadline, setup),
		cmocka_unit_test_setup(test_pv_eoi_conditions, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

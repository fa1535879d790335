/*
 * The local APIC tests' fixture, shared by test_vlapic*.c: a four-vCPU
 * "machine" whose IPIs are routed as the VM core routes them (apic_bus),
 * a guest clock, register and MSR accessors, and Linux's setup_local_APIC.
 * Include after <cmocka.h>.
 */
#ifndef TESTS_UNIT_VLAPIC_FIXTURE_H
#define TESTS_UNIT_VLAPIC_FIXTURE_H

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
static __attribute__((unused)) void send_ipi(void *ctx, unsigned dest_mode, uint32_t dest, unsigned shorthand,
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
	uint64_t t[APIC_BUS_WORDS(NCPU)];
	apic_bus_targets(cpu, NCPU, src, dest_mode, dest, shorthand, mode, vector, &rotor, t);
	for (unsigned i = 0; i < NCPU; i++)
		if (apic_bus_has(t, i))
			vlapic_deliver(&cpu[i], mode, vector, trigger, level);
}

static __attribute__((unused)) void eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	assert_true(eoi_count < 16);
	eoi_log[eoi_count++] = vector;
}

static __attribute__((unused)) void make_cpu(unsigned i, uint32_t apic_id)
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

static __attribute__((unused)) int setup(void **state)
{
	(void)state;
	now = 7000000123ull; /* guest time does not start at 0 */
	ipis_sent = eoi_count = 0;
	for (unsigned i = 0; i < NCPU; i++)
		make_cpu(i, i);
	return 0;
}

static __attribute__((unused)) uint32_t apic_read(unsigned c, uint32_t off)
{
	return vlapic_mmio_read(&cpu[c], off, now);
}

static __attribute__((unused)) void apic_write(unsigned c, uint32_t off, uint32_t val)
{
	vlapic_mmio_write(&cpu[c], off, val, now);
}

static __attribute__((unused)) uint64_t rdmsr(unsigned c, uint32_t msr)
{
	uint64_t v;
	assert_int_equal(vlapic_msr_read(&cpu[c], msr, &v, now), VLAPIC_OK);
	return v;
}

static __attribute__((unused)) void wrmsr(unsigned c, uint32_t msr, uint64_t v)
{
	assert_int_equal(vlapic_msr_write(&cpu[c], msr, v, now), VLAPIC_OK);
}

static __attribute__((unused)) bool irr_has(unsigned c, uint8_t v)
{
	return apic_read(c, VLAPIC_IRR + (v >> 5) * 0x10) >> (v & 31) & 1;
}

static __attribute__((unused)) bool isr_has(unsigned c, uint8_t v)
{
	return apic_read(c, VLAPIC_ISR + (v >> 5) * 0x10) >> (v & 31) & 1;
}

static __attribute__((unused)) bool tmr_has(unsigned c, uint8_t v)
{
	return apic_read(c, VLAPIC_TMR + (v >> 5) * 0x10) >> (v & 31) & 1;
}

/* What the core does before entry: take the pending vector into service. */
static __attribute__((unused)) int inject(unsigned c)
{
	int v = vlapic_pending_vector(&cpu[c]);
	if (v >= 0)
		vlapic_ack(&cpu[c], (uint8_t)v);
	return v;
}

/* setup_local_APIC for a flat-logical xAPIC, vCPU c. */
static __attribute__((unused)) void linux_setup_local_apic(unsigned c)
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


#endif

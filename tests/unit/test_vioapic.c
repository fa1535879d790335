// SOURCES: guest/vioapic.c guest/vlapic.c guest/apic_bus.c kernel/lib/string.c kernel/lib/format.c
/*
 * The I/O APIC driven as Linux's arch/x86/kernel/apic/io_apic.c drives it:
 * the ID/version probe, ioapic_write_entry (high dword first, then low),
 * masking, edge ISA lines and level PCI lines with Remote IRR, the EOI that
 * re-delivers a line still asserted, and the edge-and-back trick that
 * __eoi_ioapic_pin uses on a version 0x11 chip to clear a stuck Remote IRR.
 * The last tests route its messages into local APICs (vlapic.c) as the VM
 * core would, with the guest's EOI flowing back through TMR and the eoi
 * callback. The last ones route through the APIC bus (apic_bus.c) to two to
 * eight local APICs: logical flat and cluster destinations per the targets'
 * DFR/LDR, x2APIC targets, lowest priority, and the NMI delivery mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/vioapic.h"
#include "guest/apic_bus.h"
#include "guest/vlapic.h"

static struct vioapic io;
static struct vlapic lapic[2];
static bool route_to_lapics;
static unsigned deliveries;
static struct {
	unsigned dest_mode, mode;
	uint32_t dest;
	uint8_t vector;
	bool level;
} last;

static void deliver(void *ctx, unsigned dest_mode, uint32_t dest, unsigned mode, uint8_t vector,
		    bool level_triggered)
{
	assert_ptr_equal(ctx, &io);
	deliveries++;
	last.dest_mode = dest_mode;
	last.dest = dest;
	last.mode = mode;
	last.vector = vector;
	last.level = level_triggered;
	if (!route_to_lapics)
		return;
	for (unsigned i = 0; i < 2; i++)
		if (vlapic_matches(&lapic[i], NULL, dest_mode, dest, VLAPIC_SH_NONE))
			vlapic_deliver(&lapic[i], mode, vector, level_triggered, true);
}

static void lapic_eoi(void *ctx, uint8_t vector)
{
	assert_ptr_equal(ctx, &io);
	vioapic_eoi(&io, vector);
}

static int setup(void **state)
{
	(void)state;
	deliveries = 0;
	route_to_lapics = false;
	vioapic_init(&io, 2, deliver, &io);
	struct vlapic_ops ops = { .eoi = lapic_eoi, .ctx = &io };
	for (unsigned i = 0; i < 2; i++) {
		struct vlapic_config cfg = { .apic_id = i, .bsp = i == 0, .tsc_khz = 1000000 };
		vlapic_init(&lapic[i], &cfg, &ops, 0);
		vlapic_mmio_write(&lapic[i], VLAPIC_SVR, 0x1ff, 0);
	}
	return 0;
}

static uint32_t io_read(uint32_t reg)
{
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, reg);
	return vioapic_mmio_read(&io, VIOAPIC_IOWIN);
}

static void io_write(uint32_t reg, uint32_t val)
{
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, reg);
	vioapic_mmio_write(&io, VIOAPIC_IOWIN, val);
}

/* ioapic_write_entry: the high dword first, so the low one (with mask) arms it. */
static void write_entry(unsigned pin, uint64_t rte)
{
	io_write(0x11 + 2 * pin, (uint32_t)(rte >> 32));
	io_write(0x10 + 2 * pin, (uint32_t)rte);
}

static uint64_t read_entry(unsigned pin)
{
	return (uint64_t)io_read(0x11 + 2 * pin) << 32 | io_read(0x10 + 2 * pin);
}

static void test_probe_and_reset(void **state)
{
	(void)state;
	assert_int_equal(io_read(0x01), 0x00170011);		/* 24 entries, version 0x11 */
	assert_int_equal(io_read(0x00), 2u << 24);
	assert_int_equal(io_read(0x02), 2u << 24);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL), 0x02);
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
		assert_int_equal(read_entry(pin), VIOAPIC_RTE_MASKED);
	/* Linux's setup_ioapic_ids_from_mpc rewrites the ID: bits 27:24 only. */
	io_write(0x00, 0xffffffff);
	assert_int_equal(io_read(0x00), 0x0f000000);
	assert_int_equal(io_read(0x02), 0x0f000000);
	/* Version and arbitration are read-only. */
	io_write(0x01, 0);
	io_write(0x02, 0);
	assert_int_equal(io_read(0x01), 0x00170011);
	assert_int_equal(io_read(0x02), 0x0f000000);
	/* Past the table and between the registers: all ones. */
	assert_int_equal(io_read(0x40), 0xffffffff);
	assert_int_equal(io_read(0x03), 0xffffffff);
	assert_int_equal(vioapic_mmio_read(&io, 0x20), 0xffffffff);
	assert_int_equal(vioapic_mmio_read(&io, 0x40), 0xffffffff);
	io_write(0x40, 0x1234);
	vioapic_mmio_write(&io, 0x40, 0x31);	/* no EOI register on 0x11 */
	/* IOREGSEL keeps 8 bits. */
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 0x1ff);
	assert_int_equal(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL), 0xff);
	assert_int_equal(deliveries, 0);
}

static void test_entry_fields(void **state)
{
	(void)state;
	/* Every writable field; delivery status and remote IRR read-only. */
	write_entry(5, 0xffffffffffffffffull);
	assert_int_equal(read_entry(5), 0xff0000000001afffull);
	write_entry(5, 0x0300000000000000ull | VIOAPIC_RTE_MASKED | 0x900 | 0x41);
	assert_int_equal(read_entry(5), 0x0300000000010941ull);
	assert_int_equal(vioapic_entry(&io, 5), 0x0300000000010941ull);
	assert_int_equal(read_entry(6), VIOAPIC_RTE_MASKED);	/* neighbours untouched */
	assert_int_equal(read_entry(4), VIOAPIC_RTE_MASKED);
}

static void test_edge(void **state)
{
	(void)state;
	/* ISA IRQ 1 on pin 1: fixed, physical, edge, active high, to APIC 1. */
	write_entry(1, 1ull << 56 | 0x31);
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(deliveries, 1);
	assert_int_equal(last.vector, 0x31);
	assert_int_equal(last.dest, 1);
	assert_int_equal(last.dest_mode, 0);
	assert_int_equal(last.mode, 0);
	assert_false(last.level);
	/* Held high: no new edge. Low, then high: one more. */
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(deliveries, 1);
	vioapic_set_irq(&io, 1, false);
	assert_int_equal(deliveries, 1);
	vioapic_set_irq(&io, 1, true);
	assert_int_equal(deliveries, 2);
	/* No remote IRR in edge mode; an EOI of the vector changes nothing. */
	assert_false(read_entry(1) & VIOAPIC_RTE_REMOTE_IRR);
	vioapic_eoi(&io, 0x31);
	assert_int_equal(deliveries, 2);
	vioapic_set_irq(&io, 1, false);

	/* An edge on a masked pin is lost, not held. */
	write_entry(1, 1ull << 56 | VIOAPIC_RTE_MASKED | 0x31);
	vioapic_set_irq(&io, 1, true);
	vioapic_set_irq(&io, 1, false);
	write_entry(1, 1ull << 56 | 0x31);
	assert_int_equal(deliveries, 2);
	/* Pins out of range are ignored. */
	vioapic_set_irq(&io, 24, true);
	vioapic_set_irq(&io, 100, true);
	assert_int_equal(deliveries, 2);
}

static void test_level_remote_irr(void **state)
{
	(void)state;
	/* A PCI line: logical destination 0x03, lowest priority, level, active low. */
	write_entry(16, 0x03ull << 56 | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_POLARITY_LOW |
				VIOAPIC_RTE_DEST_LOGICAL | 0x100 | 0x61);
	vioapic_set_irq(&io, 16, true);
	assert_int_equal(deliveries, 1);
	assert_true(last.level);
	assert_int_equal(last.dest_mode, 1);
	assert_int_equal(last.dest, 3);
	assert_int_equal(last.mode, 1);
	assert_true(read_entry(16) & VIOAPIC_RTE_REMOTE_IRR);
	/* Still asserted, remote IRR set: nothing more. */
	vioapic_set_irq(&io, 16, true);
	assert_int_equal(deliveries, 1);
	/* An EOI of another vector leaves it alone. */
	vioapic_eoi(&io, 0x62);
	assert_true(read_entry(16) & VIOAPIC_RTE_REMOTE_IRR);
	/* EOI while the device still asserts: delivered again. */
	vioapic_eoi(&io, 0x61);
	assert_int_equal(deliveries, 2);
	assert_true(read_entry(16) & VIOAPIC_RTE_REMOTE_IRR);
	/* The handler quiets the device, then EOIs: remote IRR clears, no more. */
	vioapic_set_irq(&io, 16, false);
	vioapic_eoi(&io, 0x61);
	assert_int_equal(deliveries, 2);
	assert_false(read_entry(16) & VIOAPIC_RTE_REMOTE_IRR);
	/* The guest cannot write remote IRR. */
	io_write(0x10 + 2 * 16, (uint32_t)read_entry(16) | VIOAPIC_RTE_REMOTE_IRR);
	assert_false(read_entry(16) & VIOAPIC_RTE_REMOTE_IRR);
}

static void test_level_masked_then_unmasked(void **state)
{
	(void)state;
	write_entry(10, VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED | 0x52);
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(deliveries, 0);
	assert_false(read_entry(10) & VIOAPIC_RTE_REMOTE_IRR);
	/* Unmasking an asserted level line delivers it. */
	write_entry(10, VIOAPIC_RTE_LEVEL | 0x52);
	assert_int_equal(deliveries, 1);
	assert_int_equal(last.vector, 0x52);
	/* Masked with remote IRR set: the EOI clears it but delivers nothing. */
	write_entry(10, VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_MASKED | 0x52);
	assert_true(read_entry(10) & VIOAPIC_RTE_REMOTE_IRR);
	vioapic_eoi(&io, 0x52);
	assert_int_equal(deliveries, 1);
	assert_false(read_entry(10) & VIOAPIC_RTE_REMOTE_IRR);
	write_entry(10, VIOAPIC_RTE_LEVEL | 0x52);
	assert_int_equal(deliveries, 2);
}

static void test_linux_edge_and_back(void **state)
{
	(void)state;
	const uint64_t rte = VIOAPIC_RTE_LEVEL | 0x71;
	write_entry(11, rte);
	vioapic_set_irq(&io, 11, true);
	vioapic_set_irq(&io, 11, false);
	assert_true(read_entry(11) & VIOAPIC_RTE_REMOTE_IRR);
	/* __eoi_ioapic_pin on a chip without an EOI register: mask + edge, then restore. */
	uint64_t entry = read_entry(11);
	write_entry(11, (entry | VIOAPIC_RTE_MASKED) & ~VIOAPIC_RTE_LEVEL);
	assert_false(read_entry(11) & VIOAPIC_RTE_REMOTE_IRR);
	write_entry(11, rte);
	assert_false(read_entry(11) & VIOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(deliveries, 1);
	/* And the line works again. */
	vioapic_set_irq(&io, 11, true);
	assert_int_equal(deliveries, 2);
}

static void test_nmi_and_extint_entries(void **state)
{
	(void)state;
	/* ExtINT on pin 0 (virtual wire through the IOAPIC) and an NMI entry. */
	write_entry(0, (uint64_t)VLAPIC_DM_EXTINT << 8);
	vioapic_set_irq(&io, 0, true);
	assert_int_equal(last.mode, VLAPIC_DM_EXTINT);
	write_entry(3, VIOAPIC_RTE_LEVEL | (uint64_t)VLAPIC_DM_NMI << 8);
	vioapic_set_irq(&io, 3, true);
	assert_int_equal(last.mode, VLAPIC_DM_NMI);
	/* Level NMI does not use remote IRR: it would never be EOI'd. */
	assert_false(read_entry(3) & VIOAPIC_RTE_REMOTE_IRR);
	assert_int_equal(deliveries, 2);
	/* NMI acts on edges only (the datasheet wants edge): held high, no more. */
	vioapic_set_irq(&io, 3, true);
	write_entry(3, VIOAPIC_RTE_LEVEL | (uint64_t)VLAPIC_DM_NMI << 8);
	assert_int_equal(deliveries, 2);
	vioapic_set_irq(&io, 3, false);
	vioapic_set_irq(&io, 3, true);
	assert_int_equal(deliveries, 3);
	/* An unmasked NMI entry is a way for a halted VM to wake. */
	assert_true(vioapic_routes_nmi(&io));
	write_entry(3, VIOAPIC_RTE_MASKED | (uint64_t)VLAPIC_DM_NMI << 8);
	assert_false(vioapic_routes_nmi(&io));
}

/* Through the local APICs: a level interrupt from device to guest EOI. */
static void test_level_through_lapic(void **state)
{
	(void)state;
	struct vlapic *cpu = &lapic[1];
	route_to_lapics = true;
	write_entry(19, 1ull << 56 | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_POLARITY_LOW | 0x63);
	vioapic_set_irq(&io, 19, true);
	assert_int_equal(vlapic_pending_vector(cpu), 0x63);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);
	/* The guest's ioapic_ack_level sees TMR set: a level interrupt. */
	assert_true(vlapic_mmio_read(cpu, VLAPIC_TMR + 0x30, 0) & 1u << 3);
	vlapic_ack(cpu, 0x63);

	/* Handler runs; the device still asserts; EOI: delivered again at once. */
	vlapic_mmio_write(cpu, VLAPIC_EOI, 0, 0);
	assert_int_equal(deliveries, 2);
	assert_int_equal(vlapic_pending_vector(cpu), 0x63);
	vlapic_ack(cpu, 0x63);
	/* This time the handler quiets the device first. */
	vioapic_set_irq(&io, 19, false);
	vlapic_mmio_write(cpu, VLAPIC_EOI, 0, 0);
	assert_int_equal(deliveries, 2);
	assert_int_equal(vlapic_pending_vector(cpu), -1);
	assert_false(read_entry(19) & VIOAPIC_RTE_REMOTE_IRR);

	/* An edge interrupt's EOI does not reach the IOAPIC. */
	write_entry(4, 0x34);	/* physical APIC 0 */
	write_entry(20, VIOAPIC_RTE_LEVEL | 0x64);
	vioapic_set_irq(&io, 20, true);
	vioapic_set_irq(&io, 4, true);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x64);
	vlapic_ack(&lapic[0], 0x64);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);	/* 0x34 below PPR 0x60 */
	vlapic_mmio_write(&lapic[0], VLAPIC_EOI, 0, 0);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x64);	/* still asserted */
	vlapic_ack(&lapic[0], 0x64);
	vioapic_set_irq(&io, 20, false);
	vlapic_mmio_write(&lapic[0], VLAPIC_EOI, 0, 0);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x34);
	vlapic_ack(&lapic[0], 0x34);
	unsigned before = deliveries;
	vlapic_mmio_write(&lapic[0], VLAPIC_EOI, 0, 0);
	assert_int_equal(deliveries, before);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), -1);

	/* Broadcast destination 0xff reaches both APICs. */
	write_entry(5, 0xffull << 56 | 0x45);
	vioapic_set_irq(&io, 5, true);
	assert_int_equal(vlapic_pending_vector(&lapic[0]), 0x45);
	assert_int_equal(vlapic_pending_vector(&lapic[1]), 0x45);
}

/* ---- Many local APICs behind the bus ---- */

#define BUS_MAX 8
static struct vlapic bus[BUS_MAX];
static unsigned bus_n, bus_rotor;

static void bus_deliver(void *ctx, unsigned dest_mode, uint32_t dest, unsigned mode,
			uint8_t vector, bool level_triggered)
{
	(void)ctx;
	uint64_t t[APIC_BUS_WORDS(BUS_MAX)];
	apic_bus_targets(bus, bus_n, NULL, dest_mode, dest, VLAPIC_SH_NONE, mode, vector,
			 &bus_rotor, t);
	for (unsigned i = 0; i < bus_n; i++)
		if (apic_bus_has(t, i))
			vlapic_deliver(&bus[i], mode, vector, level_triggered, true);
}

/* n local APICs, IDs 0..n-1, software-enabled, and the IOAPIC wired to them. */
static void bus_setup(unsigned n)
{
	bus_n = n;
	bus_rotor = 0;
	vioapic_init(&io, (uint8_t)n, bus_deliver, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct vlapic_config cfg = { .apic_id = i, .bsp = i == 0, .x2apic = true,
					     .tsc_khz = 1000000 };
		vlapic_init(&bus[i], &cfg, NULL, 0);
		vlapic_mmio_write(&bus[i], VLAPIC_SVR, 0x1ff, 0);
	}
}

/* Which APICs hold `vector` in IRR, as a bitmask; and clears it there. */
static uint32_t took(uint8_t vector)
{
	uint32_t m = 0;
	for (unsigned i = 0; i < bus_n; i++) {
		if (vlapic_pending_vector(&bus[i]) == vector) {
			m |= 1u << i;
			vlapic_ack(&bus[i], vector);
			if (vlapic_x2apic_mode(&bus[i]))
				vlapic_msr_write(&bus[i], 0x80b, 0, 0); /* x2APIC EOI */
			else
				vlapic_mmio_write(&bus[i], VLAPIC_EOI, 0, 0);
		}
	}
	return m;
}

/* Fires pin 9 once (edge) with this entry. */
static void fire(uint64_t rte)
{
	write_entry(9, rte);
	vioapic_set_irq(&io, 9, true);
	vioapic_set_irq(&io, 9, false);
}

#define LOGICAL VIOAPIC_RTE_DEST_LOGICAL
#define DEST(d) ((uint64_t)(d) << 56)
#define LOWEST ((uint64_t)VLAPIC_DM_LOWEST << 8)

static void test_logical_flat_eight_cpus(void **state)
{
	(void)state;
	bus_setup(8);
	/* Linux's flat mode: DFR all ones, LDR bit i for CPU i (default_init_apic_ldr). */
	for (unsigned i = 0; i < 8; i++)
		vlapic_mmio_write(&bus[i], VLAPIC_LDR, 1u << (24 + i), 0);
	fire(LOGICAL | DEST(0x01) | 0x40);
	assert_int_equal(took(0x40), 0x01);
	fire(LOGICAL | DEST(0xa5) | 0x41);
	assert_int_equal(took(0x41), 0xa5);
	fire(LOGICAL | DEST(0xff) | 0x42); /* every CPU */
	assert_int_equal(took(0x42), 0xff);
	fire(LOGICAL | DEST(0x00) | 0x43); /* nobody */
	assert_int_equal(took(0x43), 0);
	/* physical 5 is not logical 5 */
	fire(DEST(5) | 0x44);
	assert_int_equal(took(0x44), 0x20);
	/* two CPUs with one LDR bit both take it; a CPU without an LDR none */
	vlapic_mmio_write(&bus[3], VLAPIC_LDR, 1u << 24, 0);
	vlapic_mmio_write(&bus[7], VLAPIC_LDR, 0, 0);
	fire(LOGICAL | DEST(0x81) | 0x45);
	assert_int_equal(took(0x45), 0x09);
}

static void test_logical_cluster_six_cpus(void **state)
{
	(void)state;
	bus_setup(6);
	/* Cluster model: clusters of up to 4, cluster in LDR 31:28, member bit in 27:24. */
	for (unsigned i = 0; i < 6; i++) {
		vlapic_mmio_write(&bus[i], VLAPIC_DFR, 0x0fffffff, 0);
		vlapic_mmio_write(&bus[i], VLAPIC_LDR, ((i / 4) << 4 | 1u << (i % 4)) << 24, 0);
	}
	fire(LOGICAL | DEST(0x03) | 0x50); /* cluster 0, members 0 and 1 */
	assert_int_equal(took(0x50), 0x03);
	fire(LOGICAL | DEST(0x12) | 0x51); /* cluster 1, member 1: CPU 5 */
	assert_int_equal(took(0x51), 0x20);
	fire(LOGICAL | DEST(0x1c) | 0x52); /* cluster 1, members 2, 3: nobody there */
	assert_int_equal(took(0x52), 0);
	fire(LOGICAL | DEST(0x2f) | 0x53); /* cluster 2 does not exist */
	assert_int_equal(took(0x53), 0);
	fire(LOGICAL | DEST(0xff) | 0x54); /* broadcast */
	assert_int_equal(took(0x54), 0x3f);
}

static void test_logical_to_x2apic_targets(void **state)
{
	(void)state;
	bus_setup(4);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t base;
		vlapic_msr_read(&bus[i], VLAPIC_MSR_APIC_BASE, &base, 0);
		assert_int_equal(vlapic_msr_write(&bus[i], VLAPIC_MSR_APIC_BASE,
						  base | VLAPIC_BASE_EXTD, 0), VLAPIC_OK);
	}
	/* without remapping, the 8-bit destination reads as x2APIC cluster 0 */
	fire(LOGICAL | DEST(0x06) | 0x60);
	assert_int_equal(took(0x60), 0x06);
	fire(DEST(3) | 0x61);
	assert_int_equal(took(0x61), 0x08);
	fire(DEST(0xff) | 0x62);
	assert_int_equal(took(0x62), 0x0f);
}

static void test_lowest_priority_two_to_eight(void **state)
{
	(void)state;
	for (unsigned n = 2; n <= 8; n++) {
		bus_setup(n);
		for (unsigned i = 0; i < n; i++)
			vlapic_mmio_write(&bus[i], VLAPIC_LDR, 1u << (24 + i), 0);
		uint32_t all = (1u << n) - 1, seen = 0;
		/* equal priorities: one CPU each time, every one in turn */
		for (unsigned k = 0; k < 2 * n; k++) {
			fire(LOGICAL | LOWEST | DEST(0xff) | 0x70);
			uint32_t t = took(0x70);
			assert_int_equal(__builtin_popcount(t), 1);
			seen |= t;
		}
		assert_int_equal(seen, all);
		/* TPR raised everywhere but on the last CPU: it is the lowest */
		for (unsigned i = 0; i + 1 < n; i++)
			vlapic_mmio_write(&bus[i], VLAPIC_TPR, 0x20, 0);
		for (unsigned k = 0; k < n; k++) {
			fire(LOGICAL | LOWEST | DEST(0xff) | 0x71);
			assert_int_equal(took(0x71), 1u << (n - 1));
		}
		/* only among the destinations: CPUs 0 and 1, both TPR 0x20 */
		fire(LOGICAL | LOWEST | DEST(0x03) | 0x72);
		assert_int_equal(__builtin_popcount(took(0x72) & 0x3), 1);
		/* a software-disabled APIC does not compete */
		vlapic_mmio_write(&bus[n - 1], VLAPIC_SVR, 0xff, 0);
		fire(LOGICAL | LOWEST | DEST(0xff) | 0x73);
		uint32_t t = took(0x73);
		assert_int_equal(__builtin_popcount(t), 1);
		assert_false(t >> (n - 1) & 1);
	}
}

static void test_lowest_priority_focus(void **state)
{
	(void)state;
	bus_setup(3);
	for (unsigned i = 0; i < 3; i++)
		vlapic_mmio_write(&bus[i], VLAPIC_LDR, 1u << (24 + i), 0);
	/* CPU 2 is servicing 0x80 at a higher priority: still the focus for 0x80 */
	vlapic_accept(&bus[2], 0x80, false);
	vlapic_ack(&bus[2], 0x80);
	for (unsigned k = 0; k < 3; k++) {
		fire(LOGICAL | LOWEST | DEST(0x07) | 0x80);
		assert_true(vlapic_mmio_read(&bus[2], VLAPIC_IRR + 0x40, 0) & 1);
		assert_false(vlapic_mmio_read(&bus[0], VLAPIC_IRR + 0x40, 0) & 1);
		assert_false(vlapic_mmio_read(&bus[1], VLAPIC_IRR + 0x40, 0) & 1);
	}
	/* focus checking off (SVR bit 9): priorities decide, CPU 2 is busiest */
	vlapic_mmio_write(&bus[2], VLAPIC_SVR, 0x3ff, 0);
	vlapic_mmio_write(&bus[0], VLAPIC_SVR, 0x3ff, 0);
	vlapic_mmio_write(&bus[1], VLAPIC_SVR, 0x3ff, 0);
	fire(LOGICAL | LOWEST | DEST(0x07) | 0x81);
	assert_false(vlapic_mmio_read(&bus[2], VLAPIC_IRR + 0x40, 0) & 2);
}

static void test_nmi_through_the_bus(void **state)
{
	(void)state;
	bus_setup(4);
	for (unsigned i = 0; i < 4; i++)
		vlapic_mmio_write(&bus[i], VLAPIC_LDR, 1u << (24 + i), 0);
	/* NMI to CPUs 1 and 2 (logical flat): no vector, nothing in IRR */
	fire(LOGICAL | DEST(0x06) | (uint64_t)VLAPIC_DM_NMI << 8);
	assert_int_equal(vlapic_take_nmi(&bus[0]), 0);
	assert_int_equal(vlapic_take_nmi(&bus[1]), 1);
	assert_int_equal(vlapic_take_nmi(&bus[2]), 1);
	assert_int_equal(vlapic_take_nmi(&bus[3]), 0);
	assert_int_equal(vlapic_pending_vector(&bus[1]), -1);
	/* three before the core looks: two reach it (the latch then holds one) */
	for (unsigned k = 0; k < 3; k++)
		fire(DEST(3) | (uint64_t)VLAPIC_DM_NMI << 8);
	assert_int_equal(vlapic_take_nmi(&bus[3]), 2);
	assert_int_equal(vlapic_take_nmi(&bus[3]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_probe_and_reset, setup),
		cmocka_unit_test_setup(test_entry_fields, setup),
		cmocka_unit_test_setup(test_edge, setup),
		cmocka_unit_test_setup(test_level_remote_irr, setup),
		cmocka_unit_test_setup(test_level_masked_then_unmasked, setup),
		cmocka_unit_test_setup(test_linux_edge_and_back, setup),
		cmocka_unit_test_setup(test_nmi_and_extint_entries, setup),
		cmocka_unit_test_setup(test_level_through_lapic, setup),
		cmocka_unit_test(test_logical_flat_eight_cpus),
		cmocka_unit_test(test_logical_cluster_six_cpus),
		cmocka_unit_test(test_logical_to_x2apic_targets),
		cmocka_unit_test(test_lowest_priority_two_to_eight),
		cmocka_unit_test(test_lowest_priority_focus),
		cmocka_unit_test(test_nmi_through_the_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

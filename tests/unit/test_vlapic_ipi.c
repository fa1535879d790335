// SOURCES: guest/vlapic.c guest/apic_bus.c kernel/lib/string.c kernel/lib/format.c
/*
 * The local APIC's interrupt messages, as test_vlapic.c's machine routes
 * them: IPI destinations (physical, logical flat and cluster, shorthands,
 * lowest priority), INIT-SIPI-SIPI, the APIC base and x2APIC switch with
 * its MSR interface and cluster IDs, and NMIs (IPIs, shorthands, LINT1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/vlapic_fixture.h"

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

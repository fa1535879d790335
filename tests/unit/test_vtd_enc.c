// SOURCES: kernel/iommu/vtd_enc.c kernel/lib/format.c kernel/lib/string.c
/*
 * The VT-d formats (kernel/iommu/vtd_enc.c) bit by bit against VT-d 4.1:
 * root and context entries (§9.1, §9.3), the queued-invalidation
 * descriptors (§6.5.2), interrupt-remapping entries in the xAPIC and
 * x2APIC layouts (§9.10), the remappable MSI address and IOAPIC RTE
 * (§5.1.5), and the capability decoding the boot lines print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/iommu/vtd_hw.h"

static void test_root_and_context_entries(void **state)
{
	(void)state;
	struct vtd_entry r = vtd_root_entry(0x12345000);
	assert_int_equal(r.lo, 0x12345001); /* CTP, P */
	assert_int_equal(r.hi, 0);
	r = vtd_root_entry(0x12345fff); /* low bits never leak into the flags */
	assert_int_equal(r.lo, 0x12345001);

	struct vtd_entry c = vtd_context_entry(0xabcde000, 4, 0x1234);
	assert_int_equal(c.lo, 0xabcde001); /* SLPTPTR, TT 00, FPD 0, P */
	assert_int_equal(c.hi, 0x123402);   /* DID 23:8, AW 2 (48-bit, 4 levels) */
	c = vtd_context_entry(0x7000, 3, 1);
	assert_int_equal(c.lo, 0x7001);
	assert_int_equal(c.hi, 0x101); /* AW 1: 39-bit, 3 levels */
}

static void test_invalidation_descriptors(void **state)
{
	(void)state;
	struct vtd_entry d = vtd_qi_context_global();
	assert_int_equal(d.lo, 0x11);
	assert_int_equal(d.hi, 0);
	d = vtd_qi_context_domain(7);
	assert_int_equal(d.lo, 0x70021);
	d = vtd_qi_context_device(3, 0x0428); /* DID 3, source 04:05.0 */
	assert_int_equal(d.lo, 0x042800030031ull);

	d = vtd_qi_iotlb_global();
	assert_int_equal(d.lo, 0xd2); /* type 2, G 01, DW, DR */
	d = vtd_qi_iotlb_domain(5);
	assert_int_equal(d.lo, 0x500e2);
	d = vtd_qi_iotlb_page(5, 0x40200000, 9);
	assert_int_equal(d.lo, 0x500f2);
	assert_int_equal(d.hi, 0x40200009); /* ADDR, IH 0, AM 9 (2 MiB) */

	d = vtd_qi_iec_global();
	assert_int_equal(d.lo, 0x4);
	d = vtd_qi_iec_index(0x1234, 0);
	assert_int_equal(d.lo, 0x123400000014ull);
	d = vtd_qi_iec_index(8, 3);
	assert_int_equal(d.lo, 0x800000000ull | 3u << 27 | 0x14);

	d = vtd_qi_wait(0xcafe, 0x5000);
	assert_int_equal(d.lo, 0xcafe00000065ull); /* status data, FN, SW, type 5 */
	assert_int_equal(d.hi, 0x5000);
	d = vtd_qi_wait(1, 0x5003); /* the address is dword-aligned */
	assert_int_equal(d.hi, 0x5000);
}

static void test_irte_formats(void **state)
{
	(void)state;
	/* xAPIC: APIC ID 3 in bits 47:40 (dest << 8), vector 0x41, verify all 16 SID bits */
	struct vtd_entry e = vtd_irte(0x41, 3, false, 0x0020);
	assert_int_equal(e.lo, 0x0000030000410001ull);
	assert_int_equal(e.hi, 0x40020); /* SVT 01, SQ 00, SID 00:04.0 */
	/* an xAPIC ID never spills into the reserved bits */
	e = vtd_irte(0xff, 0x1ff, false, 0);
	assert_int_equal(e.lo >> 32, 0xff00);
	/* x2APIC: the 32-bit ID as is */
	e = vtd_irte(0x50, 0x12345, true, 0xff00);
	assert_int_equal(e.lo, 0x0001234500500001ull);
	assert_int_equal(e.hi, 0x4ff00);
	/* fixed delivery, physical destination, edge, remapped format, FPD 0 */
	assert_int_equal(e.lo & 0xfffe, 0);
	/* an IOAPIC pin: level-triggered (TM, bit 4), from the IOAPIC's source-id */
	e = vtd_irte_level(0x61, 1, false, 0xff00);
	assert_int_equal(e.lo, 0x0000010000610011ull);
	assert_int_equal(e.hi, 0x4ff00);
}

static void test_remappable_messages(void **state)
{
	(void)state;
	uint64_t addr;
	uint32_t data;
	vtd_msi_remappable(5, &addr, &data);
	assert_int_equal(addr, 0xfee000b0); /* handle 5 at 19:5, IF bit 4, SHV 0 */
	assert_int_equal(data, 0);
	vtd_msi_remappable(0x8001, &addr, &data); /* handle[15] in bit 2 */
	assert_int_equal(addr, 0xfee00034);
	vtd_msi_remappable(0x7fff, &addr, &data);
	assert_int_equal(addr, 0xfeeffff0);

	uint64_t rte = vtd_ioapic_rte_remappable(3, 0x30, true, true);
	assert_int_equal(rte, 0x30 | 1ull << 15 | 1ull << 16 | 1ull << 48 | 3ull << 49);
	rte = vtd_ioapic_rte_remappable(0x8000, 0x31, false, false);
	assert_int_equal(rte, 0x31 | 1ull << 11 | 1ull << 48);
}

static void test_capabilities_in_words(void **state)
{
	(void)state;
	/* QEMU 7.2's intel-iommu, aw-bits=48, intremap=on (as read from its registers) */
	uint64_t cap = 0x00d2008c222f0606ull, ecap = 0xf00f4aull;
	char buf[256];
	assert_int_equal(vtd_levels(cap), 4);
	assert_int_equal(vtd_domains(cap), 65536);
	assert_int_equal(VTD_CAP_SLLPS(cap), 3);
	assert_int_equal(VTD_CAP_NFR(cap), 1);
	assert_int_equal(VTD_CAP_FRO(cap), 0x220);
	assert_int_equal(VTD_ECAP_IRO(ecap), 0xf0);
	vtd_describe(cap, ecap, buf, sizeof(buf));
	assert_string_equal(buf, "48-bit tables (4 levels), 4K+2M+1G pages, 65536 domains, queued "
				 "invalidation, interrupt remapping (xAPIC only: no EIM), page "
				 "walks not coherent (tables flushed)");
	/* a small unit: 39-bit, 4K pages, 16 domains, no queue, no IR, coherent, RWBF */
	cap = 0x10 | 1u << 9;
	ecap = VTD_ECAP_C;
	assert_int_equal(vtd_levels(cap), 3);
	vtd_describe(cap, ecap, buf, sizeof(buf));
	assert_string_equal(buf, "39-bit tables (3 levels), 4K only pages, 16 domains, no queued "
				 "invalidation (registers used), no interrupt remapping, needs "
				 "write-buffer flush");
	/* x2APIC-capable, caching mode */
	vtd_describe(1u << 10 | VTD_CAP_CM, VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_EIM,
		     buf, sizeof(buf));
	assert_non_null(strstr(buf, "interrupt remapping (x2APIC)"));
	assert_non_null(strstr(buf, "caching mode"));
	/* SAGAW with neither: refused in words */
	assert_int_equal(vtd_levels(1u << 11), 0);
	vtd_describe(1u << 11, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, "no usable table depth (SAGAW 0x8)"));
}

static void test_fault_reasons(void **state)
{
	(void)state;
	assert_string_equal(vtd_fault_reason(2), "context entry not present (device blocked)");
	assert_string_equal(vtd_fault_reason(5), "write to a page not mapped, or mapped read-only");
	assert_string_equal(vtd_fault_reason(6), "read of a page not mapped");
	assert_string_equal(vtd_fault_reason(0x26), "interrupt from the wrong source-id");
	assert_string_equal(vtd_fault_reason(0x99), "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_root_and_context_entries),
	    cmocka_unit_test(test_invalidation_descriptors),
	    cmocka_unit_test(test_irte_formats),
	    cmocka_unit_test(test_remappable_messages),
	    cmocka_unit_test(test_capabilities_in_words),
	    cmocka_unit_test(test_fault_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

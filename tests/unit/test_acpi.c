// SOURCES: kernel/acpi/acpi.c kernel/lib/format.c kernel/lib/string.c
/*
 * The host's ACPI tables as firmware lays them out: ACPI 1.0 (RSDT) and 2.0+
 * (XSDT) trees with MADT, FADT, MCFG, DMAR and HPET; damaged tables; the RSDP
 * search in the EBDA and the BIOS ROM area.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/acpi/acpi.h"
#include "tests/unit/acpi_builder.h"

#define T(n) (0x7ffe0000ull + (n) * 0x1000ull) /* where the tables go */

static struct acpi_info ai;
static struct ab_table tb;
static char err[160];

static int teardown(void **state)
{
	(void)state;
	fake_mem_reset();
	return 0;
}

/* Parses from an exact-size heap copy of the RSDP. */
static int parse(const uint8_t *rsdp, size_t len)
{
	uint8_t *copy = malloc(len);
	memcpy(copy, rsdp, len);
	memset(err, 0, sizeof(err));
	int rc = acpi_parse(&ai, copy, len, fake_phys, err, sizeof(err));
	free(copy);
	return rc;
}

/* A server-like MADT: 2 enabled LAPICs (also listed as x2APIC), one disabled,
 * one online-capable, two x2APIC-only CPUs, 2 IOAPICs, overrides, NMIs. */
static uint64_t place_full_madt(uint64_t at)
{
	ab_madt_begin(&tb, 0xfee00000, 1);
	ab_madt_lapic(&tb, 0, 0, 1);
	ab_madt_lapic(&tb, 1, 2, 1);
	ab_madt_lapic(&tb, 2, 4, 0); /* disabled, not hot-pluggable: not a CPU for us */
	ab_madt_lapic(&tb, 3, 6, 2); /* online capable */
	ab_madt_x2apic(&tb, 0, 1, 0); /* the same CPUs again, in x2APIC form */
	ab_madt_x2apic(&tb, 2, 1, 1);
	ab_madt_x2apic(&tb, 0x100, 1, 0x100); /* IDs above 254 only exist in x2APIC form */
	ab_madt_x2apic(&tb, 0x101, 3, 0x101);
	ab_madt_x2apic(&tb, 0xffffffff, 0, 0x200); /* placeholder, disabled */
	ab_madt_ioapic(&tb, 8, 0xfec00000, 0);
	ab_madt_ioapic(&tb, 9, 0xfec01000, 24);
	ab_madt_override(&tb, 0, 2, 0);
	ab_madt_override(&tb, 9, 9, 0xd); /* active high, level */
	ab_madt_lapic_nmi(&tb, 0xff, 5, 1);
	ab_madt_x2apic_nmi(&tb, 5, 0xffffffff, 1);
	return ab_place(&tb, at);
}

static void check_full_madt(void)
{
	assert_true(ai.have_madt);
	assert_true(ai.pcat_compat);
	assert_int_equal(ai.lapic_address, 0xfee00000);
	assert_int_equal(ai.ncpus, 5);
	assert_false(ai.cpus_truncated);
	const struct {
		uint32_t id, uid;
		bool enabled, online, x2;
	} want[] = {
		{0, 0, true, false, false},      {2, 1, true, false, false},
		{6, 3, false, true, false},      {0x100, 0x100, true, false, true},
		{0x101, 0x101, true, true, true},
	};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(ai.cpus[i].apic_id, want[i].id);
		assert_int_equal(ai.cpus[i].uid, want[i].uid);
		assert_int_equal(ai.cpus[i].enabled, want[i].enabled);
		assert_int_equal(ai.cpus[i].online_capable, want[i].online);
		assert_int_equal(ai.cpus[i].x2apic_entry, want[i].x2);
	}
	assert_int_equal(ai.nioapics, 2);
	assert_int_equal(ai.ioapics[0].id, 8);
	assert_int_equal(ai.ioapics[0].address, 0xfec00000);
	assert_int_equal(ai.ioapics[0].gsi_base, 0);
	assert_int_equal(ai.ioapics[1].id, 9);
	assert_int_equal(ai.ioapics[1].gsi_base, 24);
	assert_int_equal(ai.noverrides, 2);
	assert_int_equal(ai.overrides[0].source_irq, 0);
	assert_int_equal(ai.overrides[0].gsi, 2);
	assert_int_equal(ai.overrides[1].source_irq, 9);
	assert_int_equal(ai.overrides[1].gsi, 9);
	assert_int_equal(ai.overrides[1].flags, 0xd);
	assert_int_equal(ai.lapic_nmi_entries, 2);
}

static void test_rsdp_valid(void **state)
{
	(void)state;
	uint8_t r[36];

	ab_rsdp(r, 0, 0x7ffe0000, 0);
	assert_true(acpi_rsdp_valid(r, 20));
	assert_false(acpi_rsdp_valid(r, 19));
	r[8]++;
	assert_false(acpi_rsdp_valid(r, 20)); /* checksum */
	ab_rsdp(r, 0, 0x7ffe0000, 0);
	r[0] = 'r';
	assert_false(acpi_rsdp_valid(r, 20)); /* signature */

	ab_rsdp(r, 2, 0x7ffe0000, 0x7ffe1000);
	assert_true(acpi_rsdp_valid(r, 36));
	assert_false(acpi_rsdp_valid(r, 35)); /* shorter than its own length field */
	r[32]++;
	assert_false(acpi_rsdp_valid(r, 36)); /* extended checksum */
	ab_rsdp(r, 2, 0x7ffe0000, 0x7ffe1000);
	r[24] ^= 0x10;
	r[32] = 0;
	r[32] = (uint8_t)(0 - ab_sum(r, 36)) ^ 1;
	assert_false(acpi_rsdp_valid(r, 36));
}

static void test_rsdp_v2_copy_of_only_20_bytes(void **state)
{
	(void)state;
	/* a loader's ACPI 1.0 copy (20 bytes) of a revision-2 RSDP: checking it
	 * must not read past the 20 bytes, and the RSDT can still be used */
	uint8_t r[36];
	ab_rsdp(r, 2, (uint32_t)T(1), T(2));
	uint8_t *copy = malloc(20);
	memcpy(copy, r, 20);
	assert_true(acpi_rsdp_valid(copy, 20));
	free(copy);

	place_full_madt(T(5));
	uint64_t tabs[] = {T(5)};
	ab_root(&tb, 0, tabs, 1);
	ab_place(&tb, T(1));
	assert_int_equal(parse(r, 20), 0);
	assert_false(ai.root_is_xsdt);
	assert_int_equal(ai.root_address, T(1));
	assert_true(ai.have_madt);
}

/* ACPI 1.0: RSDT with 32-bit pointers, a 116-byte FADT, MADT, HPET. */
static void test_acpi1_rsdt_tree(void **state)
{
	(void)state;
	place_full_madt(T(3));
	ab_fadt(&tb, FADT_LEN_V1, 1, 0x408, 0); /* 24-bit PM timer */
	ab_place(&tb, T(2));
	ab_hpet(&tb, 0xfed00000);
	ab_place(&tb, T(4));
	uint64_t tabs[] = {T(2), T(3), T(4)};
	ab_root(&tb, 0, tabs, 3);
	ab_place(&tb, T(1));
	uint8_t r[36];
	ab_rsdp(r, 0, (uint32_t)T(1), 0);

	assert_int_equal(parse(r, 20), 0);
	assert_string_equal(err, "");
	assert_int_equal(ai.rsdp_revision, 0);
	assert_string_equal(ai.oem_id, "HVOEM ");
	assert_false(ai.root_is_xsdt);
	assert_int_equal(ai.root_address, T(1));
	assert_int_equal(ai.ntables, 3);
	assert_string_equal(ai.tables[0].signature, "FACP");
	assert_int_equal(ai.tables[0].address, T(2));
	assert_int_equal(ai.tables[0].length, FADT_LEN_V1);
	assert_true(ai.tables[0].checksum_ok);
	check_full_madt();

	assert_true(ai.have_fadt);
	assert_int_equal(ai.pm_timer_port, 0x408);
	assert_false(ai.pm_timer_32bit);
	assert_int_equal(ai.sci_irq, 9);
	assert_int_equal(ai.pm1a_control_port, 0x604);
	assert_int_equal(ai.century_index, 0x32);
	assert_false(ai.reset_supported);

	assert_int_equal(ai.hpet_address, T(4));
	assert_int_equal(ai.hpet_base, 0xfed00000);
	assert_int_equal(ai.dmar_address, 0);
	assert_int_equal(ai.nmcfg, 0);
	assert_ptr_equal(acpi_table(&ai, "HPET"), &ai.tables[2]);
	assert_null(acpi_table(&ai, "DMAR"));
}

/* ACPI 2.0+: XSDT with 64-bit pointers (the RSDT is ignored), every table we read. */
static void place_acpi2_tree(uint8_t r[36], bool bad_mcfg)
{
	/* FADT rev 6 with a 32-bit PM timer, X_PM_TMR_BLK and a reset register */
	ab_fadt(&tb, FADT_LEN_V6, 6, 0x608, FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
	ab_set_gas(&tb, FADT_RESET_REG, ACPI_SPACE_IO, 8, 0, 1, 0xcf9);
	ab_set8(&tb, FADT_RESET_VALUE, 0x06);
	ab_set_gas(&tb, FADT_X_PM_TMR_BLK, ACPI_SPACE_IO, 32, 0, 3, 0xb008);
	ab_place(&tb, T(2));
	place_full_madt(T(3));
	ab_mcfg_begin(&tb);
	ab_mcfg_entry(&tb, 0xb0000000, 0, 0, 255);
	ab_mcfg_entry(&tb, 0x3f000000000ull, 1, 0x80, 0xff);
	ab_finish(&tb);
	if (bad_mcfg)
		tb.b[40] ^= 0x55; /* damaged after its checksum was computed */
	ab_place_raw(&tb, tb.len, T(4));
	ab_dmar_begin(&tb, 38, 1);
	ab_dmar_drhd(&tb, 0, 0, 0xfed90000);
	ab_dmar_rmrr(&tb, 0x7c000000, 0x7c7fffff);
	ab_dmar_drhd(&tb, 1, 0, 0xfed91000); /* INCLUDE_PCI_ALL */
	ab_place(&tb, T(5));
	ab_hpet(&tb, 0xfed00000);
	ab_place(&tb, T(6));
	ab_begin(&tb, "SSDT", 2);
	ab_u32(&tb, 0x12345678);
	ab_place(&tb, T(7));

	uint64_t tabs[] = {T(2), T(3), T(4), T(5), T(6), T(7)};
	ab_root(&tb, 1, tabs, 6);
	ab_place(&tb, T(1));
	/* an RSDT naming only the SSDT: must not be what is used */
	uint64_t old[] = {T(7)};
	ab_root(&tb, 0, old, 1);
	ab_place(&tb, T(8));
	ab_rsdp(r, 2, (uint32_t)T(8), T(1));
}

static void test_acpi2_xsdt_tree(void **state)
{
	(void)state;
	uint8_t r[36];
	place_acpi2_tree(r, false);

	assert_int_equal(parse(r, 36), 0);
	assert_int_equal(ai.rsdp_revision, 2);
	assert_true(ai.root_is_xsdt);
	assert_int_equal(ai.root_address, T(1));
	assert_int_equal(ai.ntables, 6);
	for (size_t i = 0; i < 6; i++)
		assert_true(ai.tables[i].checksum_ok);
	check_full_madt();

	assert_true(ai.have_fadt);
	assert_int_equal(ai.pm_timer_port, 0xb008); /* X_PM_TMR_BLK wins */
	assert_true(ai.pm_timer_32bit);
	assert_true(ai.reset_supported);
	assert_int_equal(ai.reset_register.space, ACPI_SPACE_IO);
	assert_int_equal(ai.reset_register.bit_width, 8);
	assert_int_equal(ai.reset_register.access_size, 1);
	assert_int_equal(ai.reset_register.address, 0xcf9);
	assert_int_equal(ai.reset_value, 6);
	assert_int_equal(ai.boot_arch, 3);

	assert_int_equal(ai.nmcfg, 2);
	assert_int_equal(ai.mcfg[0].base, 0xb0000000);
	assert_int_equal(ai.mcfg[0].segment, 0);
	assert_int_equal(ai.mcfg[0].bus_start, 0);
	assert_int_equal(ai.mcfg[0].bus_end, 255);
	assert_true(ai.mcfg[1].base == 0x3f000000000ull);
	assert_int_equal(ai.mcfg[1].segment, 1);
	assert_int_equal(ai.mcfg[1].bus_start, 0x80);

	assert_int_equal(ai.dmar_address, T(5));
	assert_int_equal(ai.dmar_units, 2);
	assert_int_equal(ai.dmar_host_address_width, 39);
	assert_int_equal(ai.hpet_address, T(6));
	assert_int_equal(ai.hpet_base, 0xfed00000);

	const struct acpi_table_ref *ssdt = acpi_table(&ai, "SSDT");
	assert_non_null(ssdt);
	assert_int_equal(ssdt->address, T(7));
	assert_null(acpi_table(&ai, "BGRT"));
}

static void test_bad_checksum_skips_only_that_table(void **state)
{
	(void)state;
	uint8_t r[36];
	place_acpi2_tree(r, true);

	assert_int_equal(parse(r, 36), 0);
	assert_int_equal(ai.ntables, 6);
	assert_string_equal(ai.tables[2].signature, "MCFG");
	assert_false(ai.tables[2].checksum_ok);
	assert_int_equal(ai.nmcfg, 0);
	assert_null(acpi_table(&ai, "MCFG"));
	/* the rest is intact */
	check_full_madt();
	assert_true(ai.have_fadt);
	assert_int_equal(ai.dmar_units, 2);
	assert_int_equal(ai.hpet_base, 0xfed00000);
}

static void test_damaged_root_fails_with_reason(void **state)
{
	(void)state;
	uint8_t r[36];

	/* XSDT with a bad checksum */
	uint64_t tabs[] = {T(2)};
	ab_root(&tb, 1, tabs, 1);
	ab_finish(&tb);
	tb.b[36] ^= 1;
	ab_place_raw(&tb, tb.len, T(1));
	ab_rsdp(r, 2, 0, T(1));
	assert_int_equal(parse(r, 36), -1);
	assert_non_null(strstr(err, "XSDT"));
	assert_non_null(strstr(err, "0x7ffe1000"));
	fake_mem_reset();

	/* wrong signature where the XSDT should be */
	ab_root(&tb, 0, tabs, 1);
	ab_place(&tb, T(1));
	assert_int_equal(parse(r, 36), -1);
	assert_non_null(strstr(err, "XSDT"));
	fake_mem_reset();

	/* a length smaller than the header */
	ab_root(&tb, 1, NULL, 0);
	ab_finish(&tb);
	ab_set32(&tb, 4, 20);
	ab_place_raw(&tb, 36, T(1));
	assert_int_equal(parse(r, 36), -1);
	assert_non_null(strstr(err, "XSDT"));
	fake_mem_reset();

	/* a damaged RSDT on ACPI 1.0 */
	ab_root(&tb, 0, tabs, 1);
	ab_finish(&tb);
	tb.b[37] ^= 0x80;
	ab_place_raw(&tb, tb.len, T(1));
	ab_rsdp(r, 0, (uint32_t)T(1), 0);
	assert_int_equal(parse(r, 20), -1);
	assert_non_null(strstr(err, "RSDT"));
	fake_mem_reset();

	/* no root at all */
	ab_rsdp(r, 2, 0, 0);
	assert_int_equal(parse(r, 36), -1);
	assert_string_equal(err, "RSDP names no RSDT or XSDT");

	/* a bad RSDP */
	ab_rsdp(r, 0, (uint32_t)T(1), 0);
	r[3] = 'X';
	assert_int_equal(parse(r, 20), -1);
	assert_string_equal(err, "RSDP signature or checksum is wrong");
}

static void test_xsdt_preferred_but_zero_xsdt_uses_rsdt(void **state)
{
	(void)state;
	ab_hpet(&tb, 0xfed00000);
	ab_place(&tb, T(2));
	uint64_t tabs[] = {T(2)};
	ab_root(&tb, 0, tabs, 1);
	ab_place(&tb, T(1));
	uint8_t r[36];
	ab_rsdp(r, 2, (uint32_t)T(1), 0);
	assert_int_equal(parse(r, 36), 0);
	assert_false(ai.root_is_xsdt);
	assert_int_equal(ai.hpet_base, 0xfed00000);
}

static int parse_rsdt_with(uint64_t table_at)
{
	uint64_t tabs[] = {table_at};
	ab_root(&tb, 0, tabs, 1);
	ab_place(&tb, T(1));
	uint8_t r[36];
	ab_rsdp(r, 0, (uint32_t)T(1), 0);
	return parse(r, 20);
}

static void test_truncated_madt_entries(void **state)
{
	(void)state;
	/* the last entry claims more bytes than the table has */
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_madt_lapic(&tb, 0, 0, 1);
	ab_madt_ioapic(&tb, 1, 0xfec00000, 0);
	tb.len -= 4; /* cut the IOAPIC entry short */
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 1);
	assert_int_equal(ai.nioapics, 0);
	fake_mem_reset();

	/* a zero-length entry would loop for ever: parsing stops */
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_madt_lapic(&tb, 0, 0, 1);
	ab_u8(&tb, 0);
	ab_u8(&tb, 0);
	ab_madt_lapic(&tb, 1, 1, 1);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 1);
	fake_mem_reset();

	/* a single trailing byte after the entries */
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_madt_lapic(&tb, 0, 0, 1);
	ab_u8(&tb, 9);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 1);
	fake_mem_reset();

	/* entries shorter than their type needs are ignored, later ones still read */
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_u8(&tb, 0); /* LAPIC of 6 bytes */
	ab_u8(&tb, 6);
	ab_u32(&tb, 0x01000000);
	ab_u8(&tb, 9); /* x2APIC of 12 bytes */
	ab_u8(&tb, 12);
	ab_u16(&tb, 0);
	ab_u32(&tb, 5);
	ab_u32(&tb, 1);
	ab_u8(&tb, 1); /* IOAPIC of 8 bytes */
	ab_u8(&tb, 8);
	ab_u16(&tb, 0);
	ab_u32(&tb, 0xfec00000);
	ab_u8(&tb, 2); /* override of 8 bytes */
	ab_u8(&tb, 8);
	ab_u16(&tb, 0);
	ab_u32(&tb, 2);
	ab_u8(&tb, 5); /* LAPIC address override of 8 bytes */
	ab_u8(&tb, 8);
	ab_u16(&tb, 0);
	ab_u32(&tb, 0x12345000);
	ab_madt_lapic(&tb, 7, 7, 1);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 1);
	assert_int_equal(ai.cpus[0].apic_id, 7);
	assert_int_equal(ai.nioapics, 0);
	assert_int_equal(ai.noverrides, 0);
	assert_int_equal(ai.lapic_address, 0xfee00000);
	fake_mem_reset();

	/* a MADT too short for its own fixed fields (local APIC address, flags) */
	ab_begin(&tb, "APIC", 5);
	ab_u16(&tb, 0);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 0);
}

static void test_lapic_address_override(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_madt_lapic_override(&tb, 0x1fee00000ull);
	ab_madt_lapic(&tb, 0, 0, 1);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_true(ai.lapic_address == 0x1fee00000ull);
	assert_false(ai.pcat_compat);
}

static void test_duplicate_cpu_listed_x2apic_first(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 1);
	ab_madt_x2apic(&tb, 3, 1, 10);
	ab_madt_lapic(&tb, 10, 3, 1);
	ab_madt_lapic(&tb, 11, 3, 1); /* a firmware bug: same ID twice in one form */
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 1);
	assert_int_equal(ai.cpus[0].apic_id, 3);
	assert_true(ai.cpus[0].x2apic_entry);
}

/*
 * A two-socket server in x2APIC form: sparse IDs (a gap between the
 * sockets, the second socket above 255), the low ones listed twice (LAPIC
 * and x2APIC entries), hot-pluggable slots, placeholders.
 */
static void test_sparse_and_large_x2apic_ids(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 1);
	for (uint32_t i = 0; i < 128; i++) /* socket 0: 0x00-0x7f, in both forms */
		ab_madt_lapic(&tb, (uint8_t)i, (uint8_t)i, 1);
	for (uint32_t i = 0; i < 128; i++)
		ab_madt_x2apic(&tb, i, 1, i);
	for (uint32_t i = 0; i < 128; i++) /* socket 1: 0x100-0x17f, x2APIC only */
		ab_madt_x2apic(&tb, 0x100 + i, 1, 128 + i);
	ab_madt_x2apic(&tb, 0x180, 2, 256);	  /* online capable: may come later */
	ab_madt_x2apic(&tb, 0x181, 0, 257);	  /* disabled for good: not a CPU */
	ab_madt_x2apic(&tb, 0xffffffff, 1, 258);  /* a placeholder, even "enabled" */
	ab_madt_lapic(&tb, 0xfe, 0xff, 1);	  /* the xAPIC broadcast ID: not a CPU */
	ab_madt_x2apic(&tb, 0xfffffffe, 1, 259);  /* the largest real x2APIC ID */
	ab_madt_x2apic_nmi(&tb, 5, 0xffffffff, 1);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 128 + 128 + 1 + 1);
	assert_false(ai.cpus_truncated);
	for (uint32_t i = 0; i < 128; i++) {
		assert_int_equal(ai.cpus[i].apic_id, i);
		assert_false(ai.cpus[i].x2apic_entry); /* the first listing wins */
		assert_int_equal(ai.cpus[128 + i].apic_id, 0x100 + i);
		assert_int_equal(ai.cpus[128 + i].uid, 128 + i);
		assert_true(ai.cpus[128 + i].enabled);
		assert_true(ai.cpus[128 + i].x2apic_entry);
	}
	assert_int_equal(ai.cpus[256].apic_id, 0x180);
	assert_false(ai.cpus[256].enabled);
	assert_true(ai.cpus[256].online_capable);
	assert_int_equal(ai.cpus[257].apic_id, 0xfffffffe);
	assert_true(ai.cpus[257].enabled);
	assert_int_equal(ai.lapic_nmi_entries, 1);
}

/* Entries whose lengths lie: longer than needed (fine), shorter (skipped), past the end (stop). */
static void test_x2apic_entry_lengths(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 1);
	/* an x2APIC entry of 24 bytes: the fields at their offsets, the rest ignored */
	ab_u8(&tb, 9);
	ab_u8(&tb, 24);
	ab_u16(&tb, 0);
	ab_u32(&tb, 0x200);
	ab_u32(&tb, 1);
	ab_u32(&tb, 7);
	ab_u32(&tb, 0xdeadbeef);
	ab_u32(&tb, 0xdeadbeef);
	/* an x2APIC NMI entry of 11 bytes (needs 12): counted as seen, nothing read */
	ab_u8(&tb, 0x0a);
	ab_u8(&tb, 11);
	for (int i = 0; i < 9; i++)
		ab_u8(&tb, 0);
	/* an x2APIC entry of 15 bytes (needs 16): skipped, the next one still read */
	ab_u8(&tb, 9);
	ab_u8(&tb, 15);
	for (int i = 0; i < 13; i++)
		ab_u8(&tb, 1);
	ab_madt_x2apic(&tb, 0x300, 1, 8);
	/* one of 255 bytes that runs past the table's end: parsing stops there */
	ab_u8(&tb, 9);
	ab_u8(&tb, 255);
	ab_u16(&tb, 0);
	ab_u32(&tb, 0x400);
	ab_u32(&tb, 1);
	ab_u32(&tb, 9);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 2);
	assert_int_equal(ai.cpus[0].apic_id, 0x200);
	assert_int_equal(ai.cpus[0].uid, 7);
	assert_int_equal(ai.cpus[1].apic_id, 0x300);
}

/* A table of thousands of copies of one CPU: one CPU, and no overflow of the list. */
static void test_many_duplicate_entries(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 1);
	for (uint32_t i = 0; i < 4000; i++)
		ab_madt_x2apic(&tb, 0x1234, 1, i);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, 1);
	assert_false(ai.cpus_truncated);
	assert_int_equal(ai.cpus[0].uid, 0);
}

static void test_too_many_cpus(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 1);
	for (uint32_t i = 0; i < ACPI_MAX_CPUS + 10; i++)
		ab_madt_x2apic(&tb, i, 1, i);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.ncpus, ACPI_MAX_CPUS);
	assert_true(ai.cpus_truncated);
	assert_int_equal(ai.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
}

static void test_only_first_madt_counts(void **state)
{
	(void)state;
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_madt_lapic(&tb, 0, 0, 1);
	ab_place(&tb, T(2));
	ab_madt_begin(&tb, 0xfee00000, 0);
	ab_madt_lapic(&tb, 1, 1, 1);
	ab_madt_lapic(&tb, 2, 2, 1);
	ab_place(&tb, T(3));
	uint64_t tabs[] = {T(2), T(3)};
	ab_root(&tb, 0, tabs, 2);
	ab_place(&tb, T(1));
	uint8_t r[36];
	ab_rsdp(r, 0, (uint32_t)T(1), 0);
	assert_int_equal(parse(r, 20), 0);
	assert_int_equal(ai.ncpus, 1);
}

static void test_fadt_pm_timer_variants(void **state)
{
	(void)state;
	/* 24-bit timer, legacy block only */
	ab_fadt(&tb, FADT_LEN_V6, 6, 0x408, 0);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.pm_timer_port, 0x408);
	assert_false(ai.pm_timer_32bit);
	assert_false(ai.reset_supported);
	fake_mem_reset();

	/* 32-bit timer */
	ab_fadt(&tb, FADT_LEN_V6, 6, 0x408, FADT_TMR_VAL_EXT);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_true(ai.pm_timer_32bit);
	fake_mem_reset();

	/* PM_TMR_LEN not 4: no PM timer */
	ab_fadt(&tb, FADT_LEN_V6, 6, 0x408, 0);
	ab_set8(&tb, FADT_PM_TMR_LEN, 0);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.pm_timer_port, 0);
	fake_mem_reset();

	/* only X_PM_TMR_BLK (hardware-reduced style firmware leaves the old one 0) */
	ab_fadt(&tb, FADT_LEN_V6, 6, 0, FADT_TMR_VAL_EXT);
	ab_set_gas(&tb, FADT_X_PM_TMR_BLK, ACPI_SPACE_IO, 32, 0, 3, 0x1808);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.pm_timer_port, 0x1808);
	fake_mem_reset();

	/* an X_PM_TMR_BLK in memory space is not a port: the legacy block stays */
	ab_fadt(&tb, FADT_LEN_V6, 6, 0x408, 0);
	ab_set_gas(&tb, FADT_X_PM_TMR_BLK, ACPI_SPACE_MEMORY, 32, 0, 3, 0xfed80008);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.pm_timer_port, 0x408);
	fake_mem_reset();

	/* an ACPI 1.0 FADT ends before X_PM_TMR_BLK and the reset register */
	ab_fadt(&tb, FADT_LEN_V1, 1, 0x408, FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.pm_timer_port, 0x408);
	assert_true(ai.pm_timer_32bit);
	assert_int_equal(ai.reset_register.address, 0);
	fake_mem_reset();

	/* a FADT cut off in the middle: what is there is read, nothing past it */
	ab_fadt(&tb, 80, 1, 0x408, 0);
	assert_int_equal(tb.len, 80);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_true(ai.have_fadt);
	assert_int_equal(ai.sci_irq, 9);
	assert_int_equal(ai.pm_timer_port, 0);
}

static void test_mcfg_and_dmar_limits(void **state)
{
	(void)state;
	ab_mcfg_begin(&tb);
	for (int i = 0; i < ACPI_MAX_MCFG + 2; i++)
		ab_mcfg_entry(&tb, 0xe0000000ull + (uint64_t)i * 0x10000000, (uint16_t)i, 0, 255);
	ab_u32(&tb, 0xffffffff); /* a partial entry */
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.nmcfg, ACPI_MAX_MCFG);
	assert_int_equal(ai.mcfg[ACPI_MAX_MCFG - 1].segment, ACPI_MAX_MCFG - 1);
	fake_mem_reset();

	/* a DMAR structure running past the table stops the count */
	ab_dmar_begin(&tb, 47, 0);
	ab_dmar_drhd(&tb, 0, 0, 0xfed90000);
	ab_u16(&tb, 0);
	ab_u16(&tb, 200);
	ab_u32(&tb, 0);
	ab_place(&tb, T(2));
	assert_int_equal(parse_rsdt_with(T(2)), 0);
	assert_int_equal(ai.dmar_address, T(2));
	assert_int_equal(ai.dmar_units, 1);
	assert_int_equal(ai.dmar_host_address_width, 48);
}

static void test_short_or_oversized_table_headers(void **state)
{
	(void)state;
	/* a length below the header size is never parsed */
	ab_begin(&tb, "HPET", 1);
	ab_finish(&tb);
	ab_set32(&tb, 4, 20);
	ab_place_raw(&tb, 36, T(2));
	/* a length that is absurd is never summed */
	ab_begin(&tb, "APIC", 1);
	ab_finish(&tb);
	ab_set32(&tb, 4, 0x40000000);
	ab_place_raw(&tb, 36, T(3));
	uint64_t tabs[] = {T(2), 0, T(3)}; /* a null entry is skipped */
	ab_root(&tb, 1, tabs, 3);
	ab_place(&tb, T(1));
	uint8_t r[36];
	ab_rsdp(r, 2, 0, T(1));
	assert_int_equal(parse(r, 36), 0);
	assert_int_equal(ai.ntables, 2);
	assert_false(ai.tables[0].checksum_ok);
	assert_false(ai.tables[1].checksum_ok);
	assert_int_equal(ai.hpet_address, 0);
	assert_false(ai.have_madt);
}

/* ---- the RSDP search in low memory (ACPI 6.5 §5.2.5.1) ---- */

static uint8_t *low;

static void set_ebda(uint16_t segment)
{
	memcpy(low + 0x40e, &segment, 2);
}

static void put_rsdp(uint64_t at, uint8_t revision)
{
	uint8_t r[36];
	ab_rsdp(r, revision, 0x7ffe0000, revision >= 2 ? 0x7ffe1000 : 0);
	memcpy(low + at, r, revision >= 2 ? 36 : 20);
}

static int setup_low(void **state)
{
	(void)state;
	low = fake_mem_add(0, 0x100000);
	return 0;
}

static void test_find_rsdp_in_ebda(void **state)
{
	(void)state;
	set_ebda(0x9fc0);
	put_rsdp(0x9fc00 + 0x40, 2);
	put_rsdp(0xf5a40, 2); /* the EBDA comes first */
	assert_int_equal(acpi_find_rsdp_bios(fake_phys), 0x9fc40);
}

static void test_find_rsdp_in_bios_area(void **state)
{
	(void)state;
	set_ebda(0x9fc0);
	put_rsdp(0xf5a40, 0);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys), 0xf5a40);

	/* no EBDA pointer at all */
	set_ebda(0);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys), 0xf5a40);
}

static void test_find_rsdp_skips_bad_candidates(void **state)
{
	(void)state;
	set_ebda(0x9fc0);
	/* not on a 16-byte boundary: not an RSDP */
	put_rsdp(0xe0008, 0);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys), 0);
	/* a signature with a bad checksum, then a good one */
	put_rsdp(0xe1000, 0);
	low[0xe1000 + 8]++;
	put_rsdp(0xfffe0, 0); /* the last slot that fits */
	assert_int_equal(acpi_find_rsdp_bios(fake_phys), 0xfffe0);
	/* beyond the first KiB of the EBDA is not searched */
	memset(low + 0xe0000, 0, 0x20000);
	put_rsdp(0x9fc00 + 1024, 0);
	assert_int_equal(acpi_find_rsdp_bios(fake_phys), 0);
}

#define ACPI_TEST(f) cmocka_unit_test_teardown(f, teardown)
#define LOW_TEST(f) cmocka_unit_test_setup_teardown(f, setup_low, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		ACPI_TEST(test_rsdp_valid),
		ACPI_TEST(test_rsdp_v2_copy_of_only_20_bytes),
		ACPI_TEST(test_acpi1_rsdt_tree),
		ACPI_TEST(test_acpi2_xsdt_tree),
		ACPI_TEST(test_bad_checksum_skips_only_that_table),
		ACPI_TEST(test_damaged_root_fails_with_reason),
		ACPI_TEST(test_xsdt_preferred_but_zero_xsdt_uses_rsdt),
		ACPI_TEST(test_truncated_madt_entries),
		ACPI_TEST(test_lapic_address_override),
		ACPI_TEST(test_duplicate_cpu_listed_x2apic_first),
		ACPI_TEST(test_sparse_and_large_x2apic_ids),
		ACPI_TEST(test_x2apic_entry_lengths),
		ACPI_TEST(test_many_duplicate_entries),
		ACPI_TEST(test_too_many_cpus),
		ACPI_TEST(test_only_first_madt_counts),
		ACPI_TEST(test_fadt_pm_timer_variants),
		ACPI_TEST(test_mcfg_and_dmar_limits),
		ACPI_TEST(test_short_or_oversized_table_headers),
		LOW_TEST(test_find_rsdp_in_ebda),
		LOW_TEST(test_find_rsdp_in_bios_area),
		LOW_TEST(test_find_rsdp_skips_bad_candidates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

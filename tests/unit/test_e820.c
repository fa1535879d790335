// SOURCES: guest/e820.c kernel/lib/string.c
/*
 * The VM's E820 memory map: the map each VM size gives, with the platform's
 * MMIO windows and ACPI tables reserved, and the range editing under it
 * (splitting, merging, a full map, bad ranges).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/e820.h"

#define MIB 0x100000ull

static void assert_entry(const struct e820_map *m, size_t i, uint64_t addr, uint64_t end,
			 uint32_t type)
{
	assert_true(i < m->count);
	assert_int_equal(m->entry[i].addr, addr);
	assert_int_equal(m->entry[i].addr + m->entry[i].size, end);
	assert_int_equal(m->entry[i].type, type);
}

/* Sorted, no overlaps, no zero sizes, neighbours of one type merged. */
static void assert_well_formed(const struct e820_map *m)
{
	for (size_t i = 0; i < m->count; i++) {
		assert_true(m->entry[i].size > 0);
		if (i == 0)
			continue;
		const struct e820_entry *a = &m->entry[i - 1], *b = &m->entry[i];
		assert_true(a->addr + a->size <= b->addr);
		assert_false(a->addr + a->size == b->addr && a->type == b->type);
	}
}

static void test_plain_vm(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = { .ram_bytes = 64 * MIB };
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(m.count, 3);
	assert_entry(&m, 0, 0, 0x9fc00, E820_RAM);
	assert_entry(&m, 1, 0x9fc00, 0x100000, E820_RESERVED);
	assert_entry(&m, 2, 0x100000, 64 * MIB, E820_RAM);
	assert_int_equal(e820_total(&m, E820_RAM), 64 * MIB - (0x100000 - 0x9fc00));
	assert_well_formed(&m);
}

static void test_one_mib_vm_has_no_high_ram(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = { .ram_bytes = MIB };
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(m.count, 2);
	assert_entry(&m, 1, 0x9fc00, 0x100000, E820_RESERVED);
}

static void test_platform_mmio_reserved(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = {
		.ram_bytes = 3ull << 30, .ioapic = true, .hpet = true, .lapic = true
	};
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(m.count, 6);
	assert_entry(&m, 2, 0x100000, 3ull << 30, E820_RAM);
	assert_entry(&m, 3, 0xfec00000, 0xfec01000, E820_RESERVED);
	assert_entry(&m, 4, 0xfed00000, 0xfed00400, E820_RESERVED);
	assert_entry(&m, 5, 0xfee00000, 0xfee01000, E820_RESERVED);
	assert_int_equal(e820_type_at(&m, 0xfee00300), E820_RESERVED);
	assert_int_equal(e820_type_at(&m, 0xfee01000), 0);
	assert_well_formed(&m);
}

/* The MCFG area: reserved (Linux uses ECAM only then), between 3 GiB of RAM and the 32-bit window */
static void test_pci_ecam_reserved_above_the_most_ram(void **state)
{
	struct e820_layout l = { .ram_bytes = E820_RAM_MAX, .pci_ecam = true };
	struct e820_map m;

	(void)state;
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_true(e820_range_is(&m, 0xc0000000ull, 0x100000ull, E820_RESERVED));
	assert_int_equal(e820_type_at(&m, 0xbfffffffull), E820_RAM);
	assert_int_equal(e820_type_at(&m, 0xc0100000ull), 0); /* the 32-bit PCI window: a hole */
	assert_int_equal(e820_type_at(&m, 0xfebfffffull), 0);
	assert_int_equal(e820_total(&m, E820_RAM), E820_RAM_MAX - 0x60400);
	l.pci_ecam = false;
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(e820_type_at(&m, 0xc0000000ull), 0);
}

static void test_acpi_in_bios_area_needs_no_entry(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = { .ram_bytes = 64 * MIB,
				 .acpi_base = E820_ACPI_DEFAULT_BASE,
				 .acpi_size = E820_ACPI_DEFAULT_SIZE };
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(m.count, 3);
	assert_int_equal(e820_type_at(&m, 0xe0000), E820_RESERVED);
}

static void test_acpi_at_top_of_ram(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = { .ram_bytes = 64 * MIB,
				 .acpi_base = 64 * MIB - 0x10000,
				 .acpi_size = 0x10000,
				 .ioapic = true,
				 .lapic = true };
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(m.count, 6);
	assert_entry(&m, 2, 0x100000, 64 * MIB - 0x10000, E820_RAM);
	assert_entry(&m, 3, 64 * MIB - 0x10000, 64 * MIB, E820_ACPI);
	assert_true(e820_range_is(&m, 64 * MIB - 0x10000, 0x10000, E820_ACPI));
	assert_false(e820_range_is(&m, 64 * MIB - 0x10000 - 1, 2, E820_RAM));
	assert_well_formed(&m);
}

static void test_acpi_in_the_middle_splits_ram(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = { .ram_bytes = 64 * MIB, .acpi_base = 8 * MIB, .acpi_size = 0x3000 };
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(m.count, 5);
	assert_entry(&m, 2, 0x100000, 8 * MIB, E820_RAM);
	assert_entry(&m, 3, 8 * MIB, 8 * MIB + 0x3000, E820_ACPI);
	assert_entry(&m, 4, 8 * MIB + 0x3000, 64 * MIB, E820_RAM);
	assert_string_equal(e820_type_name(m.entry[3].type), "ACPI data");
	assert_well_formed(&m);
}

static void test_bad_layouts(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout small = { .ram_bytes = MIB - 4096 };
	struct e820_layout big = { .ram_bytes = E820_RAM_MAX + 2 * MIB };
	struct e820_layout acpi_past_ram = { .ram_bytes = 64 * MIB,
					     .acpi_base = 64 * MIB - 0x1000,
					     .acpi_size = 0x2000 };
	assert_int_equal(e820_build(&small, &m), E820_ERR_INVAL);
	assert_int_equal(m.count, 0);
	assert_int_equal(e820_build(&big, &m), E820_ERR_INVAL);
	assert_int_equal(e820_build(&acpi_past_ram, &m), E820_ERR_INVAL);
	assert_int_equal(e820_build(NULL, &m), E820_ERR_INVAL);
}

static void test_set_splits_and_merges(void **state)
{
	(void)state;
	struct e820_map m;
	e820_init(&m);
	assert_int_equal(e820_set(&m, 0x1000, 0x9000, E820_RAM), E820_OK);
	/* a hole in the middle: three pieces */
	assert_int_equal(e820_set(&m, 0x4000, 0x1000, E820_NVS), E820_OK);
	assert_int_equal(m.count, 3);
	assert_entry(&m, 0, 0x1000, 0x4000, E820_RAM);
	assert_entry(&m, 1, 0x4000, 0x5000, E820_NVS);
	assert_entry(&m, 2, 0x5000, 0xa000, E820_RAM);
	/* back to RAM: one entry again */
	assert_int_equal(e820_set(&m, 0x4000, 0x1000, E820_RAM), E820_OK);
	assert_int_equal(m.count, 1);
	assert_entry(&m, 0, 0x1000, 0xa000, E820_RAM);
	/* a range over both ends and beyond */
	assert_int_equal(e820_set(&m, 0x20000, 0x1000, E820_RESERVED), E820_OK);
	assert_int_equal(e820_set(&m, 0x8000, 0x19000, E820_UNUSABLE), E820_OK);
	assert_int_equal(m.count, 2);
	assert_entry(&m, 0, 0x1000, 0x8000, E820_RAM);
	assert_entry(&m, 1, 0x8000, 0x21000, E820_UNUSABLE);
	/* before everything, touching: stays separate when types differ */
	assert_int_equal(e820_set(&m, 0, 0x1000, E820_RESERVED), E820_OK);
	assert_entry(&m, 0, 0, 0x1000, E820_RESERVED);
	assert_well_formed(&m);
}

static void test_set_rejects_bad_ranges(void **state)
{
	(void)state;
	struct e820_map m;
	e820_init(&m);
	assert_int_equal(e820_set(&m, 0x1000, 0, E820_RAM), E820_ERR_INVAL);
	assert_int_equal(e820_set(&m, ~0ull - 0xfff, 0x2000, E820_RAM), E820_ERR_INVAL);
	assert_int_equal(e820_set(NULL, 0, 0x1000, E820_RAM), E820_ERR_INVAL);
	assert_int_equal(m.count, 0);
}

static void test_full_map_is_left_unchanged(void **state)
{
	(void)state;
	struct e820_map m, before;
	e820_init(&m);
	for (uint64_t i = 0; i < E820_MAX_ENTRIES; i++)
		assert_int_equal(e820_set(&m, i * 0x2000, 0x1000, E820_RAM), E820_OK);
	assert_int_equal(m.count, E820_MAX_ENTRIES);
	before = m;
	/* one more, apart from all: no room */
	assert_int_equal(e820_set(&m, 0x100000, 0x1000, E820_RAM), E820_ERR_FULL);
	/* splitting one entry in the middle: no room either */
	assert_int_equal(e820_set(&m, 0x400, 0x100, E820_RESERVED), E820_ERR_FULL);
	assert_memory_equal(&m, &before, sizeof(m));
	/* filling a gap merges two into one: fits */
	assert_int_equal(e820_set(&m, 0x1000, 0x1000, E820_RAM), E820_OK);
	assert_int_equal(m.count, E820_MAX_ENTRIES - 1);
	assert_entry(&m, 0, 0, 0x3000, E820_RAM);
}

static void test_queries(void **state)
{
	(void)state;
	struct e820_map m;
	struct e820_layout l = { .ram_bytes = 32 * MIB };
	assert_int_equal(e820_build(&l, &m), E820_OK);
	assert_int_equal(e820_type_at(&m, 0), E820_RAM);
	assert_int_equal(e820_type_at(&m, 0x9fbff), E820_RAM);
	assert_int_equal(e820_type_at(&m, 0x9fc00), E820_RESERVED);
	assert_int_equal(e820_type_at(&m, 32 * MIB), 0);
	assert_true(e820_range_is(&m, 0x100000, 31 * MIB, E820_RAM));
	assert_false(e820_range_is(&m, 0x100000, 31 * MIB + 1, E820_RAM));
	assert_false(e820_range_is(&m, 0x9f000, 0x2000, E820_RAM)); /* crosses into reserved */
	assert_false(e820_range_is(&m, 0x1000, 0, E820_RAM));
	assert_string_equal(e820_type_name(E820_RAM), "usable");
	assert_string_equal(e820_type_name(E820_RESERVED), "reserved");
	assert_string_equal(e820_type_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_vm),
		cmocka_unit_test(test_one_mib_vm_has_no_high_ram),
		cmocka_unit_test(test_platform_mmio_reserved),
		cmocka_unit_test(test_pci_ecam_reserved_above_the_most_ram),
		cmocka_unit_test(test_acpi_in_bios_area_needs_no_entry),
		cmocka_unit_test(test_acpi_at_top_of_ram),
		cmocka_unit_test(test_acpi_in_the_middle_splits_ram),
		cmocka_unit_test(test_bad_layouts),
		cmocka_unit_test(test_set_splits_and_merges),
		cmocka_unit_test(test_set_rejects_bad_ranges),
		cmocka_unit_test(test_full_map_is_left_unchanged),
		cmocka_unit_test(test_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

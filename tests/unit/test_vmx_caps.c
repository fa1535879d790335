// SOURCES: vmx/vmx_caps.c ept/ept.c ept/gpa_map.c kernel/mm/pagetable.c kernel/lib/string.c
/*
 * VMX control fields from capability MSRs, CR fixed bits, the EPT pointer,
 * and EPT entries written from a guest-physical map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/ept.h"
#include "vmx/vmx_caps.h"

static void test_must_be_one_bits_are_added(void **state)
{
	(void)state;
	/* pin-based on many CPUs: bits 1, 2, 4 must be 1; 0, 3, 5, 6 may be 1 */
	uint64_t cap = ((uint64_t)0x7f << 32) | 0x16;
	uint32_t out, missing;
	assert_true(vmx_adjust_controls(cap, 0x9, 0x9, &out, &missing));
	assert_int_equal(out, 0x1f);
	assert_int_equal(missing, 0);
}

static void test_unsupported_optional_bits_are_dropped(void **state)
{
	(void)state;
	uint64_t cap = ((uint64_t)0x0000000f << 32) | 0x1; /* only bits 0-3 may be 1 */
	uint32_t out, missing;
	assert_true(vmx_adjust_controls(cap, 0x30 | 0x2, 0x2, &out, &missing));
	assert_int_equal(out, 0x3);
}

static void test_missing_required_bits_are_reported(void **state)
{
	(void)state;
	/* secondary controls without EPT (bit 1) or unrestricted guest (bit 7) */
	uint64_t cap = (uint64_t)0x20 << 32;
	uint32_t out = 0xdead, missing;
	assert_false(vmx_adjust_controls(cap, 0xa2, 0x82, &out, &missing));
	assert_int_equal(missing, 0x82);
	assert_int_equal(out, 0xdead); /* nothing written on failure */
}

static void test_cr_fixed_bits(void **state)
{
	(void)state;
	/* CR0: PE, NE, PG fixed to 1; CR4: VMXE fixed to 1, bits above 22 fixed to 0 */
	assert_int_equal(vmx_fix_cr(0x11, 0x80000021, 0xffffffff), 0x80000031);
	assert_int_equal(vmx_fix_cr(0xffffffffffull, 0x2000, 0x7fffff), 0x7fffff);
	assert_int_equal(vmx_fix_cr(0, 0x2000, 0x3727ff), 0x2000);
}

static void test_eptp_encoding(void **state)
{
	(void)state;
	/* WB (6) in 2:0, walk length 4 (3) in 5:3, the root's page frame above */
	assert_int_equal(vmx_eptp(0x12345000), 0x1234501e);
	assert_int_equal(vmx_eptp(0x12345fff), 0x1234501e);
}

static uint8_t *arena;
static uint64_t next_table = 64 << 20;

static void *p2v(uint64_t pa)
{
	return arena + pa;
}

static uint64_t alloc_table(void *arg)
{
	(void)arg;
	uint64_t t = next_table;
	next_table += 4096;
	memset(arena + t, 0, 4096);
	return t;
}

static void test_ept_entries_from_the_map(void **state)
{
	(void)state;
	arena = calloc(1, 80 << 20);
	uint64_t chunks[4] = {8 << 20, 10 << 20, 30 << 20, 32 << 20};
	struct gpa_map m = {.ram_bytes = 8 << 20, .low_bytes = 8 << 20, .nchunks = 4, .chunk_hpa = chunks,
			    .phys_to_virt = p2v};
	struct pagetable pt = {.alloc_table = alloc_table, .phys_to_virt = p2v};
	assert_int_equal(pt_init(&pt), 0);
	assert_int_equal(ept_build(&m, &pt, true), 0);

	/* walk by hand: PML4[0] -> PDPT[0] -> PD[0..3], 2 MiB leaves */
	uint64_t *pml4 = p2v(pt.root);
	assert_int_equal(pml4[0] & 7, 7); /* tables grant read, write, execute */
	uint64_t *pdpt = p2v(pml4[0] & PTE_ADDR_MASK);
	assert_int_equal(pdpt[0] & 7, 7);
	uint64_t *pd = p2v(pdpt[0] & PTE_ADDR_MASK);
	for (int i = 0; i < 4; i++) {
		uint64_t e = pd[i];
		assert_int_equal(e & PTE_ADDR_MASK, chunks[i]);
		assert_int_equal(e & 7, EPT_READ | EPT_WRITE | EPT_EXEC);
		assert_int_equal((e >> 3) & 7, 6); /* write-back */
		assert_true(e & (1 << 7));	   /* a 2 MiB page */
		assert_false(e & (1ull << 63));	   /* no suppress-#VE */
	}
	assert_int_equal(pd[4], 0); /* beyond RAM: an EPT violation, the MMIO path */

	/* a passed-through BAR: read/write, not executable, memory type UC (0) */
	assert_int_equal(ept_map_mmio(&pt, 0xe0000000, 0xfea00000, 0x200000), 0);
	uint64_t pa, flags;
	enum page_level level;
	assert_true(pt_lookup(&pt, 0xe0000010, &pa, &flags, &level));
	assert_int_equal(pa, 0xfea00010);
	assert_int_equal(level, PAGE_2M);
	assert_int_equal(flags & 7, EPT_READ | EPT_WRITE);
	assert_int_equal((flags >> 3) & 7, 0);
	free(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_must_be_one_bits_are_added),
	    cmocka_unit_test(test_unsupported_optional_bits_are_dropped),
	    cmocka_unit_test(test_missing_required_bits_are_reported),
	    cmocka_unit_test(test_cr_fixed_bits),
	    cmocka_unit_test(test_eptp_encoding),
	    cmocka_unit_test(test_ept_entries_from_the_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

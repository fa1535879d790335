// SOURCES: kernel/mm/pagetable.c kernel/lib/string.c
/*
 * x86-64 4-level page tables (SDM Vol. 3A §4.5) built on the host: page-size
 * selection, splitting large pages, unmapping, lookups, leaf flags and the
 * number of tables used. Table frames come from a fake physical arena.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mm/pagetable.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

/* Table frames live at physical ARENA_BASE.. in a heap block. */
#define ARENA_BASE 0x40000000ull
#define ARENA_PAGES 1100u

static uint8_t *arena;
static unsigned arena_used;
static unsigned arena_limit; /* allocations allowed before "out of memory" */

static uint64_t fake_alloc_table(void *arg)
{
	assert_ptr_equal(arg, &arena);
	if (arena_used >= arena_limit)
		return 0;
	uint64_t phys = ARENA_BASE + (uint64_t)arena_used * 4096;
	memset(arena + (size_t)arena_used * 4096, 0xcc, 4096);
	memset(arena + (size_t)arena_used * 4096, 0, 4096); /* zeroed, as promised */
	arena_used++;
	return phys;
}

static void *fake_phys_to_virt(uint64_t phys)
{
	assert_true(phys >= ARENA_BASE && phys < ARENA_BASE + (uint64_t)arena_used * 4096);
	assert_int_equal(phys & 0xfff, 0);
	return arena + (phys - ARENA_BASE);
}

static struct pagetable pt;

static int setup(void **state)
{
	(void)state;
	arena = malloc((size_t)ARENA_PAGES * 4096);
	arena_used = 0;
	arena_limit = ARENA_PAGES;
	pt = (struct pagetable){.alloc_table = fake_alloc_table, .phys_to_virt = fake_phys_to_virt, .arg = &arena};
	if (!arena || pt_init(&pt) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(arena);
	arena = NULL;
	return 0;
}

/* Checks that va translates to pa at the given level with the given flags set. */
static void expect_map(uint64_t va, uint64_t pa, enum page_level level, uint64_t flags)
{
	uint64_t got_pa = 0, got_flags = 0;
	enum page_level got_level = PAGE_1G;
	if (!pt_lookup(&pt, va, &got_pa, &got_flags, &got_level))
		fail_msg("va 0x%llx not mapped", (unsigned long long)va);
	if (got_pa != pa)
		fail_msg("va 0x%llx -> 0x%llx, want 0x%llx", (unsigned long long)va,
			 (unsigned long long)got_pa, (unsigned long long)pa);
	assert_int_equal(got_level, level);
	assert_true(got_flags & PTE_P);
	assert_int_equal(got_flags & flags, flags);
	assert_int_equal(got_flags & PTE_PS, 0); /* PS is structure, not a leaf flag */
}

static void expect_unmapped(uint64_t va)
{
	uint64_t pa = 0x1234;
	if (pt_lookup(&pt, va, &pa, NULL, NULL))
		fail_msg("va 0x%llx still mapped to 0x%llx", (unsigned long long)va,
			 (unsigned long long)pa);
}

static uint64_t *table(uint64_t phys)
{
	return fake_phys_to_virt(phys & PTE_ADDR_MASK);
}

static void test_init(void **state)
{
	(void)state;
	assert_int_equal(pt.tables, 1);
	assert_int_equal(pt.root, ARENA_BASE);
	for (int i = 0; i < 512; i++)
		assert_int_equal(table(pt.root)[i], 0);
	expect_unmapped(0);
	expect_unmapped(0xffff800000000000ull);

	struct pagetable bad = {.alloc_table = fake_alloc_table, .phys_to_virt = fake_phys_to_virt, .arg = &arena, .tables = 7};
	arena_limit = arena_used;
	assert_int_equal(pt_init(&bad), -1);
	assert_int_equal(bad.tables, 0);
}

static void test_1g_page_when_aligned(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 1 * GiB, 2 * GiB, 1 * GiB, PTE_W, PAGE_1G), 0);
	assert_int_equal(pt.tables, 2); /* PML4 + PDPT */
	expect_map(1 * GiB, 2 * GiB, PAGE_1G, PTE_W);
	expect_map(1 * GiB + 0x123456, 2 * GiB + 0x123456, PAGE_1G, PTE_W);
	expect_map(2 * GiB - 1, 3 * GiB - 1, PAGE_1G, PTE_W);
	expect_unmapped(1 * GiB - 4096);
	expect_unmapped(2 * GiB);

	/* upper levels grant everything; the leaf decides */
	uint64_t pml4e = table(pt.root)[0];
	assert_int_equal(pml4e & (PTE_P | PTE_W | PTE_PS), PTE_P | PTE_W);
	uint64_t pdpte = table(pml4e)[1];
	assert_int_equal(pdpte & PTE_PS, PTE_PS);
	assert_int_equal(pdpte & PTE_ADDR_MASK, 2 * GiB);
}

static void test_identity_map_4g_uses_four_1g_pages(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 4 * GiB, PTE_W, PAGE_1G), 0);
	assert_int_equal(pt.tables, 2);
	for (uint64_t g = 0; g < 4; g++)
		expect_map(g * GiB + 0x5000, g * GiB + 0x5000, PAGE_1G, PTE_W);
}

/*
 * The host's direct map on a machine with more than 1 TiB of RAM (what
 * mm.c's build_host_tables asks for: [0, end of RAM) identity-mapped).
 * With 1 GiB pages 6 TiB take a PML4 and 12 PDPTs; with 2 MiB pages (no
 * 1 GiB pages on the CPU) 1 TiB + 1 GiB take one PD per GiB.
 */
static void test_direct_map_beyond_1tib(void **state)
{
	(void)state;
	const uint64_t TiB = 1024 * GiB;
	assert_int_equal(pt_map(&pt, 0, 0, 6 * TiB, PTE_W | PTE_NX, PAGE_1G), 0);
	assert_int_equal(pt.tables, 1 + 12);
	expect_map(TiB - 1, TiB - 1, PAGE_1G, PTE_W | PTE_NX);
	expect_map(TiB, TiB, PAGE_1G, PTE_W | PTE_NX);
	expect_map(TiB + 0x123456789ull, TiB + 0x123456789ull, PAGE_1G, PTE_W);
	expect_map(6 * TiB - 1, 6 * TiB - 1, PAGE_1G, PTE_W);
	expect_unmapped(6 * TiB);
	/* a guard page carved out above 1 TiB (a CPU's stack) splits only its own GiB */
	assert_int_equal(pt_unmap(&pt, 3 * TiB + 4096, 4096), 0);
	expect_unmapped(3 * TiB + 4096);
	expect_map(3 * TiB, 3 * TiB, PAGE_4K, PTE_W);
	expect_map(3 * TiB + 2 * MiB, 3 * TiB + 2 * MiB, PAGE_2M, PTE_W);
	expect_map(3 * TiB + GiB, 3 * TiB + GiB, PAGE_1G, PTE_W);
	assert_int_equal(pt.tables, 1 + 12 + 2);
}

static void test_direct_map_beyond_1tib_2m_pages(void **state)
{
	(void)state;
	const uint64_t TiB = 1024 * GiB;
	assert_int_equal(pt_map(&pt, 0, 0, TiB + GiB, PTE_W, PAGE_2M), 0);
	assert_int_equal(pt.tables, 1 + 3 + 1025);
	expect_map(TiB + 5 * MiB, TiB + 5 * MiB, PAGE_2M, PTE_W);
	expect_map(TiB + GiB - 1, TiB + GiB - 1, PAGE_2M, PTE_W);
	expect_unmapped(TiB + GiB);
}

static void test_2m_pages_when_only_2m_aligned(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 2 * MiB, 4 * MiB, 4 * MiB, 0, PAGE_1G), 0);
	assert_int_equal(pt.tables, 3); /* PML4, PDPT, PD */
	expect_map(2 * MiB, 4 * MiB, PAGE_2M, 0);
	expect_map(4 * MiB + 0x1000, 6 * MiB + 0x1000, PAGE_2M, 0);
	expect_unmapped(6 * MiB);
	expect_unmapped(2 * MiB - 1);
}

static void test_mixed_sizes_by_alignment(void **state)
{
	(void)state;
	/* [2M-4K, 6M+4K): a 4K page, two 2M pages, a 4K page */
	uint64_t va = 2 * MiB - 4 * KiB, size = 4 * MiB + 8 * KiB;
	assert_int_equal(pt_map(&pt, va, va, size, PTE_W, PAGE_1G), 0);
	expect_map(2 * MiB - 4 * KiB, 2 * MiB - 4 * KiB, PAGE_4K, PTE_W);
	expect_map(2 * MiB, 2 * MiB, PAGE_2M, PTE_W);
	expect_map(4 * MiB + 0x7654, 4 * MiB + 0x7654, PAGE_2M, PTE_W);
	expect_map(6 * MiB, 6 * MiB, PAGE_4K, PTE_W);
	expect_unmapped(6 * MiB + 4 * KiB);
	expect_unmapped(2 * MiB - 8 * KiB);
	assert_int_equal(pt.tables, 5); /* PML4, PDPT, PD, two PTs */
}

static void test_pa_alignment_limits_page_size(void **state)
{
	(void)state;
	/* va is 1G aligned, pa only 4K aligned: nothing larger than 4K may be used */
	assert_int_equal(pt_map(&pt, 1 * GiB, 0x5000, 4 * MiB, 0, PAGE_1G), 0);
	expect_map(1 * GiB, 0x5000, PAGE_4K, 0);
	expect_map(1 * GiB + 3 * MiB + 0x10, 0x5000 + 3 * MiB + 0x10, PAGE_4K, 0);
	/* va 2M aligned, pa 2M but not 1G aligned: 2M pages */
	assert_int_equal(pt_map(&pt, 2 * GiB, 2 * MiB, 1 * GiB, 0, PAGE_1G), 0);
	expect_map(2 * GiB, 2 * MiB, PAGE_2M, 0);
	expect_map(3 * GiB - 1, 2 * MiB + 1 * GiB - 1, PAGE_2M, 0);
}

static void test_largest_caps_page_size(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 1 * GiB, 0, PAGE_2M), 0);
	assert_int_equal(pt.tables, 3);
	expect_map(512 * MiB, 512 * MiB, PAGE_2M, 0);

	assert_int_equal(pt_map(&pt, 1 * GiB, 1 * GiB, 4 * MiB, 0, PAGE_4K), 0);
	assert_int_equal(pt.tables, 3 + 1 + 2); /* a PD and two PTs */
	expect_map(1 * GiB + 2 * MiB, 1 * GiB + 2 * MiB, PAGE_4K, 0);
}

static void test_4k_pages_over_1g_table_count(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 1 * GiB, PTE_W, PAGE_4K), 0);
	assert_int_equal(pt.tables, 1 + 1 + 1 + 512);
	assert_int_equal(arena_used, pt.tables);
	expect_map(1 * GiB - 4 * KiB, 1 * GiB - 4 * KiB, PAGE_4K, PTE_W);
}

/* Checks a 1G region [va, va+1G) -> pa everywhere but one hole, sampling each 2M. */
static void expect_1g_region_intact(uint64_t va, uint64_t pa, uint64_t hole_2m, uint64_t flags)
{
	for (uint64_t off = 0; off < 1 * GiB; off += 2 * MiB) {
		if (off == hole_2m)
			continue;
		expect_map(va + off, pa + off, PAGE_2M, flags);
		expect_map(va + off + 2 * MiB - 1, pa + off + 2 * MiB - 1, PAGE_2M, flags);
	}
}

static void test_unmap_4k_inside_1g_splits_and_keeps_the_rest(void **state)
{
	(void)state;
	const uint64_t flags = PTE_W | PTE_NX | PTE_G;
	assert_int_equal(pt_map(&pt, 1 * GiB, 3 * GiB, 1 * GiB, flags, PAGE_1G), 0);
	assert_int_equal(pt.tables, 2);

	uint64_t hole = 1 * GiB + 10 * MiB + 0x3000;
	assert_int_equal(pt_unmap(&pt, hole, 4 * KiB), 0);
	assert_int_equal(pt.tables, 4); /* the 1G page became a PD, one 2M a PT */
	expect_unmapped(hole);
	expect_unmapped(hole + 0xfff);

	/* the 2M page around the hole is now 4K pages, all but one intact */
	uint64_t base2m = 1 * GiB + 10 * MiB;
	for (uint64_t off = 0; off < 2 * MiB; off += 4 * KiB) {
		if (base2m + off == hole)
			continue;
		expect_map(base2m + off, 3 * GiB + 10 * MiB + off, PAGE_4K, flags);
	}
	expect_1g_region_intact(1 * GiB, 3 * GiB, 10 * MiB, flags);
	expect_unmapped(2 * GiB);
}

static void test_remap_4k_inside_1g(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 1 * GiB, PTE_W, PAGE_1G), 0);
	/* one page becomes read-only, non-executable, elsewhere (a guard, say) */
	uint64_t va = 300 * MiB + 0x5000;
	assert_int_equal(pt_map(&pt, va, 0x7000000000ull, 4 * KiB, PTE_NX, PAGE_1G), 0);
	uint64_t flags = 0;
	uint64_t pa = 0;
	enum page_level level;
	assert_true(pt_lookup(&pt, va + 0x10, &pa, &flags, &level));
	assert_true(pa == 0x7000000010ull);
	assert_int_equal(level, PAGE_4K);
	assert_int_equal(flags & PTE_W, 0);
	assert_int_equal(flags & PTE_NX, PTE_NX);

	/* neighbours keep the original mapping and flags */
	expect_map(va - 4 * KiB, va - 4 * KiB, PAGE_4K, PTE_W);
	expect_map(va + 4 * KiB, va + 4 * KiB, PAGE_4K, PTE_W);
	assert_true(pt_lookup(&pt, va + 4 * KiB, NULL, &flags, NULL));
	assert_int_equal(flags & PTE_NX, 0);
	expect_1g_region_intact(0, 0, 300 * MiB, PTE_W);
	assert_int_equal(pt.tables, 4);
}

static void test_unmap_2m_inside_1g(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 1 * GiB, PTE_W, PAGE_1G), 0);
	assert_int_equal(pt_unmap(&pt, 6 * MiB, 2 * MiB), 0);
	assert_int_equal(pt.tables, 3); /* only the 1G page had to split */
	expect_unmapped(6 * MiB);
	expect_unmapped(8 * MiB - 1);
	expect_1g_region_intact(0, 0, 6 * MiB, PTE_W);
}

static void test_unmap_range_across_sizes(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 2 * GiB, PTE_W, PAGE_1G), 0);
	/* [1G-4K, 1G+2M+4K) spans the end of one 1G page and the start of the next */
	assert_int_equal(pt_unmap(&pt, 1 * GiB - 4 * KiB, 2 * MiB + 8 * KiB), 0);
	expect_unmapped(1 * GiB - 4 * KiB);
	expect_unmapped(1 * GiB);
	expect_unmapped(1 * GiB + 2 * MiB);
	expect_map(1 * GiB - 8 * KiB, 1 * GiB - 8 * KiB, PAGE_4K, PTE_W);
	expect_map(1 * GiB + 2 * MiB + 4 * KiB, 1 * GiB + 2 * MiB + 4 * KiB, PAGE_4K, PTE_W);
	expect_map(1 * GiB - 4 * MiB, 1 * GiB - 4 * MiB, PAGE_2M, PTE_W);
	expect_map(1 * GiB + 4 * MiB, 1 * GiB + 4 * MiB, PAGE_2M, PTE_W);
	expect_map(0, 0, PAGE_2M, PTE_W);
}

static void test_unmap_whole_1g_and_unmapped_ranges(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0, 0, 2 * GiB, PTE_W, PAGE_1G), 0);
	assert_int_equal(pt_unmap(&pt, 1 * GiB, 1 * GiB), 0);
	assert_int_equal(pt.tables, 2); /* no split needed */
	expect_unmapped(1 * GiB);
	expect_map(1 * GiB - 1, 1 * GiB - 1, PAGE_1G, PTE_W);

	/* unmapping what is not mapped allocates nothing */
	unsigned before = pt.tables;
	assert_int_equal(pt_unmap(&pt, 64 * GiB, 4 * KiB), 0);
	assert_int_equal(pt_unmap(&pt, 0xffff800000000000ull, 2 * MiB + 4 * KiB), 0);
	assert_int_equal(pt.tables, before);
	assert_int_equal(arena_used, before);
}

static void test_remap_replaces_mapping(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0x400000, 0x1000, 4 * KiB, PTE_W, PAGE_1G), 0);
	unsigned tables = pt.tables;
	assert_int_equal(pt_map(&pt, 0x400000, 0x2000, 4 * KiB, 0, PAGE_1G), 0);
	assert_int_equal(pt.tables, tables);
	uint64_t flags;
	expect_map(0x400000, 0x2000, PAGE_4K, 0);
	assert_true(pt_lookup(&pt, 0x400000, NULL, &flags, NULL));
	assert_int_equal(flags & PTE_W, 0);

	/* a 2M mapping over 4K ones: every address follows the new mapping */
	assert_int_equal(pt_map(&pt, 0x400000, 0x10000000, 2 * MiB, PTE_W, PAGE_1G), 0);
	for (uint64_t off = 0; off < 2 * MiB; off += 64 * KiB)
		assert_true(pt_lookup(&pt, 0x400000 + off, NULL, NULL, NULL));
	uint64_t pa;
	assert_true(pt_lookup(&pt, 0x400000 + 0x1234, &pa, NULL, NULL));
	assert_int_equal(pa, 0x10001234);
	assert_true(pt_lookup(&pt, 0x5ff000, &pa, NULL, NULL));
	assert_int_equal(pa, 0x101ff000);
}

static void test_leaf_flags(void **state)
{
	(void)state;
	const uint64_t want = PTE_W | PTE_U | PTE_PCD | PTE_PWT | PTE_G | PTE_NX;
	assert_int_equal(pt_map(&pt, 0x1000, 0x1000, 4 * KiB, want, PAGE_1G), 0);
	assert_int_equal(pt_map(&pt, 2 * MiB, 2 * MiB, 2 * MiB, want, PAGE_1G), 0);
	assert_int_equal(pt_map(&pt, 1 * GiB, 1 * GiB, 1 * GiB, want, PAGE_1G), 0);
	expect_map(0x1000, 0x1000, PAGE_4K, want);
	expect_map(2 * MiB, 2 * MiB, PAGE_2M, want);
	expect_map(1 * GiB, 1 * GiB, PAGE_1G, want);

	/* read-only, executable */
	assert_int_equal(pt_map(&pt, 0x3000, 0x3000, 4 * KiB, 0, PAGE_1G), 0);
	uint64_t flags;
	assert_true(pt_lookup(&pt, 0x3000, NULL, &flags, NULL));
	assert_int_equal(flags & (PTE_W | PTE_NX), 0);
	assert_int_equal(flags & PTE_P, PTE_P); /* present is implied */

	/* address bits and PS in the flags cannot corrupt the leaf */
	assert_int_equal(pt_map(&pt, 0x5000, 0x5000, 4 * KiB, PTE_W | PTE_PS | 0xabc000ull, PAGE_1G),
			 0);
	uint64_t pa;
	enum page_level level;
	assert_true(pt_lookup(&pt, 0x5000, &pa, &flags, &level));
	assert_int_equal(pa, 0x5000);
	assert_int_equal(level, PAGE_4K);
	assert_int_equal(flags & PTE_PS, 0);

	/* lookup reports the offset within large pages */
	assert_true(pt_lookup(&pt, 1 * GiB + 0x3456789, &pa, NULL, NULL));
	assert_int_equal(pa, 1 * GiB + 0x3456789);
}

static void test_split_keeps_flags_at_every_level(void **state)
{
	(void)state;
	const uint64_t flags = PTE_W | PTE_NX | PTE_PCD;
	assert_int_equal(pt_map(&pt, 0, 0, 1 * GiB, flags, PAGE_1G), 0);
	assert_int_equal(pt_unmap(&pt, 0x1000, 4 * KiB), 0);
	/* raw entries: 2M entries keep PS, 4K entries have no PS (bit 7 is PAT there) */
	uint64_t pdpte = table(table(pt.root)[0])[0];
	assert_int_equal(pdpte & PTE_PS, 0);
	uint64_t *pd = table(pdpte);
	assert_int_equal(pd[1] & PTE_PS, PTE_PS);
	assert_int_equal(pd[1] & flags, flags);
	assert_int_equal(pd[1] & PTE_ADDR_MASK, 2 * MiB);
	uint64_t *ptab = table(pd[0]);
	assert_int_equal(ptab[0] & PTE_PS, 0);
	assert_int_equal(ptab[0] & flags, flags);
	assert_int_equal(ptab[0] & PTE_ADDR_MASK, 0);
	assert_int_equal(ptab[1], 0);
	assert_int_equal(ptab[2] & PTE_ADDR_MASK, 0x2000);
}

static void test_higher_half_and_pml4_crossing(void **state)
{
	(void)state;
	uint64_t kva = 0xffff800000000000ull;
	assert_int_equal(pt_map(&pt, kva, 0, 2 * GiB, PTE_W, PAGE_1G), 0);
	expect_map(kva + 0x1234, 0x1234, PAGE_1G, PTE_W);
	expect_map(kva + 2 * GiB - 1, 2 * GiB - 1, PAGE_1G, PTE_W);
	assert_int_not_equal(table(pt.root)[256], 0);
	expect_unmapped(0);

	/* a range across a 512 GiB boundary uses two PML4 entries */
	uint64_t edge = 512 * GiB;
	assert_int_equal(pt_map(&pt, edge - 2 * MiB, 0x200000, 4 * MiB, 0, PAGE_1G), 0);
	expect_map(edge - 2 * MiB, 0x200000, PAGE_2M, 0);
	expect_map(edge, 0x400000, PAGE_2M, 0);
	assert_int_not_equal(table(pt.root)[0], 0);
	assert_int_not_equal(table(pt.root)[1], 0);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(pt_map(&pt, 0x1001, 0, 4 * KiB, 0, PAGE_1G), -1);
	assert_int_equal(pt_map(&pt, 0x1000, 0x10, 4 * KiB, 0, PAGE_1G), -1);
	assert_int_equal(pt_map(&pt, 0x1000, 0, 100, 0, PAGE_1G), -1);
	assert_int_equal(pt_unmap(&pt, 0x800, 4 * KiB), -1);
	assert_int_equal(pt_unmap(&pt, 0x1000, 1), -1);
	assert_int_equal(pt.tables, 1);
	assert_int_equal(pt_map(&pt, 0x1000, 0, 0, 0, PAGE_1G), 0); /* empty: nothing to do */
	assert_int_equal(pt.tables, 1);
}

static void test_table_allocation_failure(void **state)
{
	(void)state;
	arena_limit = arena_used + 2; /* PDPT and PD, but no PT */
	assert_int_equal(pt_map(&pt, 0x1000, 0x1000, 4 * KiB, 0, PAGE_1G), -1);
	expect_unmapped(0x1000);

	/* a split that cannot get its table fails and leaves the large page alone */
	arena_limit = ARENA_PAGES;
	assert_int_equal(pt_map(&pt, 1 * GiB, 1 * GiB, 1 * GiB, PTE_W, PAGE_1G), 0);
	arena_limit = arena_used;
	assert_int_equal(pt_unmap(&pt, 1 * GiB + 4 * KiB, 4 * KiB), -1);
	expect_map(1 * GiB + 4 * KiB, 1 * GiB + 4 * KiB, PAGE_1G, PTE_W);
}

#define PT_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		PT_TEST(test_init),
		PT_TEST(test_1g_page_when_aligned),
		PT_TEST(test_identity_map_4g_uses_four_1g_pages),
		PT_TEST(test_direct_map_beyond_1tib),
		PT_TEST(test_direct_map_beyond_1tib_2m_pages),
		PT_TEST(test_2m_pages_when_only_2m_aligned),
		PT_TEST(test_mixed_sizes_by_alignment),
		PT_TEST(test_pa_alignment_limits_page_size),
		PT_TEST(test_largest_caps_page_size),
		PT_TEST(test_4k_pages_over_1g_table_count),
		PT_TEST(test_unmap_4k_inside_1g_splits_and_keeps_the_rest),
		PT_TEST(test_remap_4k_inside_1g),
		PT_TEST(test_unmap_2m_inside_1g),
		PT_TEST(test_unmap_range_across_sizes),
		PT_TEST(test_unmap_whole_1g_and_unmapped_ranges),
		PT_TEST(test_remap_replaces_mapping),
		PT_TEST(test_leaf_flags),
		PT_TEST(test_split_keeps_flags_at_every_level),
		PT_TEST(test_higher_half_and_pml4_crossing),
		PT_TEST(test_bad_arguments),
		PT_TEST(test_table_allocation_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: ept/vtd_slpt.c ept/gpa_map.c kernel/mm/pagetable.c kernel/lib/string.c
/*
 * VT-d second-level tables (ept/vtd_slpt.c) from a VM's guest-physical map,
 * checked by a walker written here from VT-d 4.1 §3.7 and §9.8 rather
 * than by the builder's own lookup: Read (bit 0) and Write (bit 1) on
 * every level, bit 7 a superpage only at the 2M and 1G levels, nothing
 * else set in a table entry; 4-level walks from the PML4 and 3-level walks
 * from the table under its first entry translate alike; the largest page
 * follows what the unit supports (SLLPS); read-only mappings; every table
 * visited once for flushing and freeing; unmapping (large pages split
 * around a hole); the page-selective invalidation's blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/vtd_slpt.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ARENA_BASE 0x7000000000ull
#define ARENA_PAGES 64u

static uint8_t *arena;
static unsigned arena_used;

static uint64_t fake_alloc_table(void *arg)
{
	(void)arg;
	if (arena_used >= ARENA_PAGES)
		return 0;
	memset(arena + (size_t)arena_used * 4096, 0, 4096);
	return ARENA_BASE + (uint64_t)arena_used++ * 4096;
}

static void *fake_phys_to_virt(uint64_t phys)
{
	assert_true(phys >= ARENA_BASE && phys < ARENA_BASE + (uint64_t)arena_used * 4096);
	return arena + (phys - ARENA_BASE);
}

static struct pagetable pt;

static int setup(void **state)
{
	(void)state;
	arena = malloc((size_t)ARENA_PAGES * 4096);
	arena_used = 0;
	pt = (struct pagetable){.alloc_table = fake_alloc_table, .phys_to_virt = fake_phys_to_virt};
	return arena && pt_init(&pt) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

/* ---- the reference walk (VT-d 4.1 §3.7.1) ---- */

struct walk {
	bool ok, r, w;
	uint64_t hpa;
	int leaf_level; /* 0: 4K, 1: 2M, 2: 1G */
};

static struct walk vtd_walk(uint64_t root, unsigned levels, uint64_t iova)
{
	struct walk res = {.r = true, .w = true};
	uint64_t table = root;
	for (int l = (int)levels - 1; l >= 0; l--) {
		const uint64_t *t = fake_phys_to_virt(table);
		uint64_t e = t[(iova >> (12 + 9 * l)) & 511];
		if (!(e & 3))
			return (struct walk){0};
		res.r &= (e & 1) != 0;
		res.w &= (e & 2) != 0;
		bool ps = e & (1ull << 7);
		if (l == 0 || ps) {
			/* bit 7 means a superpage only at the 2M and 1G levels */
			assert_true(l <= 2);
			uint64_t span = 1ull << (12 + 9 * l);
			res.hpa = (e & 0x000ffffffffff000ull & ~(span - 1)) | (iova & (span - 1));
			res.leaf_level = l;
			res.ok = res.r;
			/* no snoop (11), TM (62), ignored-but-used bits: all clear */
			assert_int_equal(e & (1ull << 11 | 1ull << 62), 0);
			return res;
		}
		/* a table entry: Read and Write, nothing else below bit 12 */
		assert_int_equal(e & 0xfff, 3);
		table = e & 0x000ffffffffff000ull;
	}
	return (struct walk){0};
}

/* ---- a guest-physical map from a chunk list ---- */

static uint64_t chunk_list[600], chunk_table[600];
static size_t chunk_next;

static uint64_t next_chunk(void *ctx)
{
	(void)ctx;
	return chunk_list[chunk_next++];
}

static void no_free(void *ctx, uint64_t hpa)
{
	(void)ctx;
	(void)hpa;
}

static void make_map(struct gpa_map *m, size_t n)
{
	chunk_next = 0;
	assert_int_equal(gpa_map_init(m, n * 2 * MiB, chunk_table, next_chunk, no_free, NULL, NULL), 0);
}

static void check_ram(const struct gpa_map *m, uint64_t root, unsigned levels)
{
	for (size_t c = 0; c < m->nchunks; c++)
		for (uint64_t off = 0; off < 2 * MiB; off += 0x7f000) {
			struct walk w = vtd_walk(root, levels, c * 2 * MiB + off);
			assert_true(w.ok && w.w);
			assert_int_equal(w.hpa, m->chunk_hpa[c] + off);
		}
	/* past the RAM: nothing */
	assert_false(vtd_walk(root, levels, m->nchunks * 2 * MiB).ok);
	assert_false(vtd_walk(root, levels, 3 * GiB + 0x1000).ok);
}

static void test_vm_map_both_depths(void **state)
{
	(void)state;
	/* chunks 0-1 contiguous, 2 elsewhere, 3-5 contiguous again */
	uint64_t hpas[] = {0x80000000, 0x80200000, 0x10400000, 0xc0000000, 0xc0200000, 0xc0400000};
	memcpy(chunk_list, hpas, sizeof(hpas));
	struct gpa_map m;
	make_map(&m, 6);
	assert_int_equal(vtd_slpt_build(&m, &pt, PAGE_1G), 0);
	check_ram(&m, vtd_slpt_root(&pt, 4), 4);
	uint64_t r3 = vtd_slpt_root(&pt, 3);
	assert_true(r3 != 0 && r3 != pt.root);
	assert_int_equal(vtd_slpt_root(&pt, 3), r3); /* the same table each time */
	check_ram(&m, r3, 3);
	/* the chunks are 2 MiB pages */
	assert_int_equal(vtd_walk(pt.root, 4, 0x200000).leaf_level, 1);
	assert_int_equal(vtd_slpt_root(&pt, 5), 0);
}

static void test_largest_page_follows_the_unit(void **state)
{
	(void)state;
	for (size_t i = 0; i < 512; i++)
		chunk_list[i] = 4 * GiB + i * 2 * MiB; /* one aligned GiB */
	struct gpa_map m;
	make_map(&m, 512);
	assert_int_equal(vtd_slpt_build(&m, &pt, PAGE_1G), 0);
	struct walk w = vtd_walk(pt.root, 4, 0x12345678);
	assert_true(w.ok);
	assert_int_equal(w.leaf_level, 2);
	assert_int_equal(w.hpa, 4 * GiB + 0x12345678);
	assert_int_equal(pt.tables, 2); /* PML4 and one PDPT */
}

static void test_4k_only_unit(void **state)
{
	(void)state;
	chunk_list[0] = 0x40000000;
	struct gpa_map m;
	make_map(&m, 1);
	assert_int_equal(vtd_slpt_build(&m, &pt, PAGE_4K), 0);
	struct walk w = vtd_walk(pt.root, 4, 0x1ff123);
	assert_true(w.ok);
	assert_int_equal(w.leaf_level, 0);
	assert_int_equal(w.hpa, 0x401ff123);
	check_ram(&m, pt.root, 4);
}

static void test_read_only_and_identity(void **state)
{
	(void)state;
	/* the hypervisor domain's shape: identity over ranges, one read-only window */
	assert_int_equal(vtd_slpt_map(&pt, 0x100000, 0x100000, 0x300000, true, PAGE_2M), 0);
	assert_int_equal(vtd_slpt_map(&pt, 0x7d000000, 0x7d000000, 0x1000, false, PAGE_2M), 0);
	struct walk w = vtd_walk(pt.root, 4, 0x2abcde);
	assert_true(w.ok && w.w);
	assert_int_equal(w.hpa, 0x2abcde);
	assert_int_equal(w.leaf_level, 1); /* 2-4 MiB is a whole, aligned 2 MiB */
	assert_int_equal(vtd_walk(pt.root, 4, 0x1ff000).leaf_level, 0);
	w = vtd_walk(pt.root, 4, 0x7d000010);
	assert_true(w.ok);
	assert_false(w.w);
	assert_false(vtd_walk(pt.root, 4, 0xff000).ok);
	assert_false(vtd_walk(pt.root, 4, 0x400000).ok);
	/* unaligned requests are refused */
	assert_int_equal(vtd_slpt_map(&pt, 0x1001, 0x1000, 0x1000, true, PAGE_4K), -1);
}

static unsigned visits;
static uint64_t last_visit;

static void visit(void *ctx, uint64_t phys)
{
	(void)ctx;
	visits++;
	last_visit = phys;
	assert_true(phys >= ARENA_BASE && phys < ARENA_BASE + (uint64_t)arena_used * 4096);
}

static void test_every_table_visited(void **state)
{
	(void)state;
	assert_int_equal(vtd_slpt_map(&pt, 0x1000, 0x9000, 0x2000, true, PAGE_2M), 0);
	assert_int_equal(vtd_slpt_map(&pt, 5 * GiB, 5 * GiB, 4 * MiB, true, PAGE_2M), 0);
	assert_int_equal(vtd_slpt_map(&pt, 600 * GiB, 0x1000, 0x1000, true, PAGE_2M), 0);
	visits = 0;
	vtd_slpt_for_each_table(&pt, visit, NULL);
	assert_int_equal(visits, pt.tables);
	assert_int_equal(last_visit, pt.root); /* the root last: freed after what hangs off it */
}

static void test_out_of_tables(void **state)
{
	(void)state;
	arena_used = ARENA_PAGES; /* nothing left */
	assert_int_equal(vtd_slpt_map(&pt, 0, 0x1000, 0x1000, true, PAGE_2M), -1);
	struct pagetable fresh = pt;
	uint64_t *pml4 = fake_phys_to_virt(fresh.root);
	pml4[0] = 0;
	assert_int_equal(vtd_slpt_root(&fresh, 3), 0);
}

static uint64_t blocks[64];
static unsigned ams[64], nblocks;

static void record(void *ctx, uint64_t block, unsigned am)
{
	(void)ctx;
	blocks[nblocks] = block;
	ams[nblocks++] = am;
}

static void test_psi_blocks(void **state)
{
	(void)state;
	/* one aligned 2 MiB page: one block of 2^9 pages */
	nblocks = 0;
	assert_int_equal(vtd_psi_blocks(0x200000, 0x200000, 18, 16, record, NULL), 1);
	assert_int_equal(blocks[0], 0x200000);
	assert_int_equal(ams[0], 9);
	/* 0x1000-0x5000: 4 KiB at 0x1000, 8 KiB at 0x2000, 4 KiB at 0x4000 */
	nblocks = 0;
	assert_int_equal(vtd_psi_blocks(0x1000, 0x4000, 18, 16, record, NULL), 3);
	assert_int_equal(blocks[0], 0x1000);
	assert_int_equal(ams[0], 0);
	assert_int_equal(blocks[1], 0x2000);
	assert_int_equal(ams[1], 1);
	assert_int_equal(blocks[2], 0x4000);
	assert_int_equal(ams[2], 0);
	/* the unit's MAMV caps the block: 2 MiB at most 2^2 pages each, too many blocks */
	nblocks = 0;
	assert_int_equal(vtd_psi_blocks(0x200000, 0x200000, 2, 16, record, NULL), -1);
	assert_int_equal(nblocks, 0);
	assert_int_equal(vtd_psi_blocks(0x200000, 0x10000, 2, 16, record, NULL), 4);
	assert_int_equal(ams[3], 2);
	assert_int_equal(vtd_psi_blocks(0x200000, 0, 2, 16, record, NULL), 0);
	/* an unaligned byte range covers the pages it touches */
	nblocks = 0;
	assert_int_equal(vtd_psi_blocks(0x1ff8, 0x10, 9, 16, record, NULL), 2);
	assert_int_equal(blocks[0], 0x1000);
	assert_int_equal(blocks[1], 0x2000);
}

static void test_unmap_splits_and_removes(void **state)
{
	(void)state;
	assert_int_equal(vtd_slpt_map(&pt, 0, 0x40000000, 4 * 1024 * 1024, true, PAGE_2M), 0);
	assert_int_equal(vtd_slpt_unmap(&pt, 0x203000, 0x1000), 0);
	assert_false(vtd_walk(pt.root, 4, 0x203000).ok);
	struct walk w = vtd_walk(pt.root, 4, 0x204000);
	assert_true(w.ok && w.w);
	assert_int_equal(w.hpa, 0x40204000);
	assert_int_equal(w.leaf_level, 0); /* the 2 MiB page was split around the hole */
	assert_int_equal(vtd_walk(pt.root, 4, 0x1000).leaf_level, 1);
	assert_int_equal(vtd_slpt_unmap(&pt, 0, 0x400000), 0);
	assert_false(vtd_walk(pt.root, 4, 0x1000).ok);
	assert_false(vtd_walk(pt.root, 4, 0x3ff000).ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_vm_map_both_depths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_largest_page_follows_the_unit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_4k_only_unit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_and_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_table_visited, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_tables, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_psi_blocks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unmap_splits_and_removes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

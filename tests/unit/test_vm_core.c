// SOURCES: kernel/vm/iobus.c ept/gpa_map.c ept/npt.c kernel/mm/pagetable.c kernel/lib/string.c
/*
 * The vendor-neutral VM core's pure parts: the device bus, the guest-physical
 * map, and the nested page tables written from it (the CPUID policy has its
 * own test, test_cpuid_policy.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/gpa_map.h"
#include "ept/npt.h"
#include "kernel/vm/iobus.h"

/* ---- the bus ---- */

struct fake_dev {
	uint64_t last_offset, last_value;
	unsigned last_size, reads, writes;
};

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
	struct fake_dev *d = opaque;
	d->reads++;
	d->last_offset = off;
	d->last_size = size;
	return 0x1122334455667788ull;
}

static void dev_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
	struct fake_dev *d = opaque;
	d->writes++;
	d->last_offset = off;
	d->last_size = size;
	d->last_value = v;
}

static void test_bus_routes_by_range_with_offsets(void **state)
{
	(void)state;
	struct io_bus b = {0};
	struct fake_dev com1 = {0}, exitp = {0};
	assert_int_equal(iobus_register(&b, 0x3f8, 8, dev_read, dev_write, &com1, "com1"), 0);
	assert_int_equal(iobus_register(&b, 0xf4, 1, NULL, dev_write, &exitp, "exit"), 0);

	iobus_write(&b, 0x3fd, 1, 0x1ff); /* value masked to the access size */
	assert_int_equal(com1.writes, 1);
	assert_int_equal(com1.last_offset, 5);
	assert_int_equal(com1.last_value, 0xff);
	/* reads are masked to their size */
	assert_int_equal(iobus_read(&b, 0x3f8, 2), 0x7788);
	assert_int_equal(com1.last_size, 2);
	iobus_write(&b, 0xf4, 1, 3);
	assert_int_equal(exitp.last_value, 3);
	assert_int_equal(b.unclaimed, 0);
}

static void test_bus_unclaimed_reads_all_ones_and_drops_writes(void **state)
{
	(void)state;
	struct io_bus b = {0};
	struct fake_dev exitp = {0};
	assert_int_equal(iobus_register(&b, 0xf4, 1, NULL, dev_write, &exitp, "exit"), 0);
	assert_int_equal(iobus_read(&b, 0x80, 1), 0xff);
	assert_int_equal(iobus_read(&b, 0xcfc, 4), 0xffffffffu);
	assert_int_equal(iobus_read(&b, 0xfee000b0, 8), ~0ull);
	/* a write-only device reads as nothing there */
	assert_int_equal(iobus_read(&b, 0xf4, 1), 0xff);
	iobus_write(&b, 0x80, 1, 0x12);
	assert_int_equal(b.unclaimed, 5);
}

static void test_bus_rejects_overlaps_and_overflow(void **state)
{
	(void)state;
	struct io_bus b = {0};
	struct fake_dev d = {0};
	assert_int_equal(iobus_register(&b, 0x3f8, 8, dev_read, dev_write, &d, "a"), 0);
	assert_int_equal(iobus_register(&b, 0x3ff, 1, dev_read, dev_write, &d, "b"), -1);
	assert_int_equal(iobus_register(&b, 0x3f0, 9, dev_read, dev_write, &d, "c"), -1);
	assert_int_equal(iobus_register(&b, 0x3f0, 8, dev_read, dev_write, &d, "d"), 0);
	assert_int_equal(iobus_register(&b, ~0ull - 1, 4, dev_read, dev_write, &d, "e"), -1);
	assert_int_equal(iobus_register(&b, 0x10, 0, dev_read, dev_write, &d, "f"), -1);
	for (unsigned i = 2; i < IOBUS_MAX_RANGES; i++)
		assert_int_equal(iobus_register(&b, 0x1000 + i, 1, NULL, NULL, &d, "x"), 0);
	assert_int_equal(iobus_register(&b, 0x5000, 1, NULL, NULL, &d, "full"), -1);
}

/* ---- guest-physical map and NPT ---- */

/* A fake host: physical addresses 0.. map onto this arena. */
#define ARENA (96ull << 20)
static uint8_t *arena;
static uint64_t next_chunk, next_table;
static unsigned freed_chunks;

static void *p2v(uint64_t pa)
{
	assert_true(pa < ARENA);
	return arena + pa;
}

static uint64_t alloc_chunk(void *ctx)
{
	uint64_t limit = ctx ? *(uint64_t *)ctx : ARENA / 2;
	if (next_chunk + GPA_CHUNK_SIZE > limit)
		return 0;
	uint64_t c = next_chunk;
	next_chunk += GPA_CHUNK_SIZE;
	/* leave a hole after the third chunk, so runs are not all contiguous */
	if (c == 4 * GPA_CHUNK_SIZE)
		next_chunk += GPA_CHUNK_SIZE;
	return c;
}

static void free_chunk(void *ctx, uint64_t hpa)
{
	(void)ctx;
	(void)hpa;
	freed_chunks++;
}

static uint64_t alloc_table(void *arg)
{
	(void)arg;
	uint64_t t = next_table;
	next_table += 4096;
	memset(arena + t, 0, 4096);
	return t;
}

static int setup(void **state)
{
	(void)state;
	arena = aligned_alloc(1 << 21, ARENA);
	memset(arena, 0, ARENA);
	next_chunk = 2 * GPA_CHUNK_SIZE; /* host chunk 0 and 1 are "the hypervisor" */
	next_table = ARENA / 2;
	freed_chunks = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(arena);
	return 0;
}

static void test_map_translates_and_copies_across_chunks(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[8];
	assert_int_equal(gpa_map_init(&m, 8 * GPA_CHUNK_SIZE, table, alloc_chunk, free_chunk, NULL,
				      p2v),
			 0);
	uint64_t hpa;
	assert_true(gpa_to_hpa(&m, 0x1234, &hpa));
	assert_int_equal(hpa, 2 * GPA_CHUNK_SIZE + 0x1234);
	/* chunk 3 (gpa 6 MiB) comes after the hole in host memory */
	assert_true(gpa_to_hpa(&m, 3 * GPA_CHUNK_SIZE + 8, &hpa));
	assert_int_equal(hpa, 6 * GPA_CHUNK_SIZE + 8);
	assert_false(gpa_to_hpa(&m, 8 * GPA_CHUNK_SIZE, &hpa));

	/* a copy that straddles the discontiguous chunks lands in both */
	uint8_t buf[64], back[64];
	for (int i = 0; i < 64; i++)
		buf[i] = (uint8_t)(i * 7);
	uint64_t gpa = 3 * GPA_CHUNK_SIZE - 32;
	assert_int_equal(gpa_write(&m, gpa, buf, sizeof(buf)), 0);
	assert_memory_equal(arena + 5 * GPA_CHUNK_SIZE - 32, buf, 32);
	assert_memory_equal(arena + 6 * GPA_CHUNK_SIZE, buf + 32, 32);
	assert_int_equal(gpa_read(&m, gpa, back, sizeof(back)), 0);
	assert_memory_equal(back, buf, 64);
	assert_int_equal(gpa_zero(&m, gpa, 64), 0);
	assert_int_equal(arena[6 * GPA_CHUNK_SIZE], 0);
	/* nothing outside RAM, not even partly */
	assert_int_equal(gpa_write(&m, 8 * GPA_CHUNK_SIZE - 4, buf, 8), -1);
	assert_int_equal(gpa_read(&m, ~0ull - 2, back, 8), -1);
}

static void test_map_rejects_bad_sizes_and_gives_back_on_failure(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[64];
	assert_int_equal(gpa_map_init(&m, 0, table, alloc_chunk, free_chunk, NULL, p2v), -1);
	assert_int_equal(gpa_map_init(&m, GPA_CHUNK_SIZE + 4096, table, alloc_chunk, free_chunk,
				      NULL, p2v),
			 -1);
	assert_int_equal(
	    gpa_map_init(&m, GPA_RAM_MAX + GPA_CHUNK_SIZE, table, alloc_chunk, free_chunk, NULL, p2v),
	    -1);
	/* the host runs out after three chunks: all three go back */
	uint64_t limit = next_chunk + 3 * GPA_CHUNK_SIZE;
	assert_int_equal(
	    gpa_map_init(&m, 8 * GPA_CHUNK_SIZE, table, alloc_chunk, free_chunk, &limit, p2v), -1);
	assert_int_equal(freed_chunks, 3);
}

static void test_npt_maps_ram_only_with_user_writable_leaves(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[8];
	assert_int_equal(gpa_map_init(&m, 8 * GPA_CHUNK_SIZE, table, alloc_chunk, free_chunk, NULL,
				      p2v),
			 0);
	struct pagetable pt = {.alloc_table = alloc_table, .phys_to_virt = p2v};
	assert_int_equal(pt_init(&pt), 0);
	assert_int_equal(npt_build(&m, &pt, true), 0);

	for (uint64_t gpa = 0; gpa < 8 * GPA_CHUNK_SIZE; gpa += GPA_CHUNK_SIZE / 2) {
		uint64_t pa, flags, want;
		enum page_level level;
		assert_true(pt_lookup(&pt, gpa + 0x10, &pa, &flags, &level));
		assert_true(gpa_to_hpa(&m, gpa + 0x10, &want));
		assert_int_equal(pa, want);
		assert_int_equal(level, PAGE_2M); /* RAM in 2 MiB pages */
		assert_true(flags & PTE_U);	  /* NPT walks are user accesses */
		assert_true(flags & PTE_W);
		assert_false(flags & PTE_NX);
	}
	/* beyond RAM, the MMIO hole, high memory: all trap */
	assert_false(pt_lookup(&pt, 8 * GPA_CHUNK_SIZE, NULL, NULL, NULL));
	assert_false(pt_lookup(&pt, 0xfee00000, NULL, NULL, NULL));
	assert_false(pt_lookup(&pt, 1ull << 32, NULL, NULL, NULL));
	/* PML4 + PDPT + one PD covers 16 MiB; the walk is a user access on every level */
	assert_int_equal(pt.tables, 3);
	uint64_t *pml4 = p2v(pt.root);
	assert_true(pml4[0] & PTE_U);
	uint64_t *pdpt = p2v(pml4[0] & PTE_ADDR_MASK);
	assert_true(pdpt[0] & PTE_U);
}

/* A passed-through BAR: uncached (PCD|PWT), writable, user; moved by unmap + map. */
static void test_npt_maps_a_bar_uncached_and_moves_it(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[1];
	assert_int_equal(gpa_map_init(&m, GPA_CHUNK_SIZE, table, alloc_chunk, free_chunk, NULL, p2v),
			 0);
	struct pagetable pt = {.alloc_table = alloc_table, .phys_to_virt = p2v};
	assert_int_equal(pt_init(&pt), 0);
	assert_int_equal(npt_build(&m, &pt, true), 0);
	uint64_t pa, flags;
	enum page_level level;
	assert_int_equal(npt_map_mmio(&pt, 0xc1000000, 0xfea00000, 0x100000), 0);
	assert_true(pt_lookup(&pt, 0xc1000000 + 0x1234, &pa, &flags, &level));
	assert_int_equal(pa, 0xfea01234);
	assert_int_equal(level, PAGE_4K); /* 1 MiB: no 2 MiB page fits */
	assert_true((flags & (PTE_PCD | PTE_PWT | PTE_W | PTE_U)) ==
		    (PTE_PCD | PTE_PWT | PTE_W | PTE_U));
	/* the guest moves it: the old place traps again, the new one reaches the BAR */
	assert_int_equal(pt_unmap(&pt, 0xc1000000, 0x100000), 0);
	assert_false(pt_lookup(&pt, 0xc1000000 + 0x1234, NULL, NULL, NULL));
	assert_int_equal(npt_map_mmio(&pt, 0xe0000000, 0xfea00000, 0x100000), 0);
	assert_true(pt_lookup(&pt, 0xe00ffffc, &pa, NULL, NULL));
	assert_int_equal(pa, 0xfeaffffc);
	/* RAM is untouched */
	assert_true(pt_lookup(&pt, 0x1000, &pa, &flags, NULL));
	assert_false(flags & PTE_PCD);
}

static void test_npt_uses_1g_pages_where_ram_runs_align(void **state)
{
	(void)state;
	static uint64_t table[1024];
	/* a map whose chunks are contiguous in host memory from 1 GiB on */
	struct gpa_map m, *mm = &m;
	memset(mm, 0, sizeof(*mm));
	mm->phys_to_virt = p2v;
	mm->chunk_hpa = table;
	for (size_t i = 0; i < 512 + 2; i++)
		table[i] = (1ull << 30) + i * GPA_CHUNK_SIZE; /* host 1 GiB and up */
	mm->nchunks = 514;
	mm->ram_bytes = mm->low_bytes = 514 * GPA_CHUNK_SIZE;
	struct pagetable pt = {.alloc_table = alloc_table, .phys_to_virt = p2v};
	assert_int_equal(pt_init(&pt), 0);
	assert_int_equal(npt_build(mm, &pt, true), 0);
	uint64_t pa;
	enum page_level level;
	assert_true(pt_lookup(&pt, 0x12345, &pa, NULL, &level));
	assert_int_equal(level, PAGE_1G);
	assert_int_equal(pa, (1ull << 30) + 0x12345);
	assert_true(pt_lookup(&pt, (1ull << 30) + 0x10, &pa, NULL, &level));
	assert_int_equal(level, PAGE_2M);
	/* without 1 GiB page support, 2 MiB pages everywhere */
	struct pagetable pt2 = {.alloc_table = alloc_table, .phys_to_virt = p2v};
	assert_int_equal(pt_init(&pt2), 0);
	assert_int_equal(npt_build(mm, &pt2, false), 0);
	assert_true(pt_lookup(&pt2, 0x12345, &pa, NULL, &level));
	assert_int_equal(level, PAGE_2M);
}

/* Host chunks for a big map: addresses only (nothing reads the RAM), from 64 GiB up. */
static uint64_t fake_next;
static uint64_t fake_chunk(void *ctx)
{
	(void)ctx;
	uint64_t c = fake_next;
	fake_next += GPA_CHUNK_SIZE;
	return c;
}

static void fake_free(void *ctx, uint64_t hpa)
{
	(void)ctx;
	(void)hpa;
}

struct run_log {
	uint64_t gpa[8], size[8];
	unsigned n;
};

static int log_run(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct run_log *l = ctx;
	(void)hpa;
	assert_true(l->n < 8);
	l->gpa[l->n] = gpa;
	l->size[l->n++] = size;
	return 0;
}

/*
 * A 6 GiB VM: 3 GiB from 0, the 32-bit hole, 3 GiB from 4 GiB. Translation,
 * the RAM test, the runs a table writer sees and the NPT itself all keep
 * the hole out; a 16 MiB VM has no high part.
 */
static void test_map_puts_ram_above_4g_past_the_hole(void **state)
{
	(void)state;
	static uint64_t table[3072];
	struct gpa_map m;
	fake_next = 64ull << 30;
	assert_int_equal(gpa_map_init(&m, 6ull << 30, table, fake_chunk, fake_free, NULL, p2v), 0);
	assert_int_equal(m.low_bytes, 3ull << 30);
	assert_int_equal(m.high_bytes, 3ull << 30);
	assert_int_equal(m.nchunks, 3072);
	uint64_t hpa;
	assert_true(gpa_to_hpa(&m, (3ull << 30) - 1, &hpa));
	assert_int_equal(hpa, table[1535] + GPA_CHUNK_SIZE - 1);
	assert_false(gpa_to_hpa(&m, 3ull << 30, &hpa));
	assert_false(gpa_to_hpa(&m, 0xfee00000, &hpa));
	assert_true(gpa_to_hpa(&m, (4ull << 30) + 0x1234, &hpa));
	assert_int_equal(hpa, table[1536] + 0x1234);
	assert_true(gpa_to_hpa(&m, (7ull << 30) - 1, &hpa));
	assert_int_equal(hpa, table[3071] + GPA_CHUNK_SIZE - 1);
	assert_false(gpa_to_hpa(&m, 7ull << 30, &hpa));
	assert_true(gpa_is_ram(&m, (3ull << 30) - 4096, 4096));
	assert_false(gpa_is_ram(&m, (3ull << 30) - 4096, 8192)); /* into the hole */
	assert_false(gpa_is_ram(&m, (4ull << 30) - 4096, 8192)); /* out of it */
	assert_true(gpa_is_ram(&m, 4ull << 30, 3ull << 30));
	assert_false(gpa_is_ram(&m, 4ull << 30, (3ull << 30) + 1));
	uint8_t b[8] = {0};
	assert_int_equal(gpa_write(&m, (3ull << 30) - 4, b, 8), -1);

	/* the host chunks are contiguous: one run each side of the hole */
	struct run_log log = {.n = 0};
	assert_int_equal(gpa_map_for_each_run(&m, log_run, &log), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.gpa[0], 0);
	assert_int_equal(log.size[0], 3ull << 30);
	assert_int_equal(log.gpa[1], 4ull << 30);
	assert_int_equal(log.size[1], 3ull << 30);

	struct pagetable pt = {.alloc_table = alloc_table, .phys_to_virt = p2v};
	assert_int_equal(pt_init(&pt), 0);
	assert_int_equal(npt_build(&m, &pt, true), 0);
	uint64_t pa;
	enum page_level level;
	assert_true(pt_lookup(&pt, (4ull << 30) + 0x12345, &pa, NULL, &level));
	assert_int_equal(pa, table[1536] + 0x12345);
	assert_int_equal(level, PAGE_1G);
	assert_true(pt_lookup(&pt, (6ull << 30) + 5, &pa, NULL, NULL));
	assert_int_equal(pa, table[3072 - 512] + 5);
	assert_false(pt_lookup(&pt, (3ull << 30) + 0x1000, NULL, NULL, NULL));
	assert_false(pt_lookup(&pt, 7ull << 30, NULL, NULL, NULL));

	struct gpa_map small;
	assert_int_equal(gpa_map_init(&small, 16 << 20, table, fake_chunk, fake_free, NULL, p2v),
			 0);
	assert_int_equal(small.low_bytes, 16 << 20);
	assert_int_equal(small.high_bytes, 0);
	assert_false(gpa_to_hpa(&small, 4ull << 30, &hpa));
	/* the largest VM fits below the 64-bit PCI window, one chunk more does not */
	uint64_t low, high;
	gpa_ram_split(GPA_RAM_MAX, &low, &high);
	assert_int_equal(GPA_HIGH_RAM_BASE + high, GPA_HIGH_RAM_END);
}

/* ---- lazy zeroing ---- */

struct lazy_log {
	unsigned n;
	uint64_t gpa[16], hpa[16], size[16];
};

static int lazy_run(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct lazy_log *r = ctx;
	assert_true(r->n < 16);
	r->gpa[r->n] = gpa;
	r->hpa[r->n] = hpa;
	r->size[r->n++] = size;
	return 0;
}

/* What the fault handler's builder does: for_each_run, limited by gpa_map_fault. */
struct fault_ctx {
	const struct gpa_map *m;
	struct lazy_log log;
	int calls, fail;
};

static int map_cb(void *ctx)
{
	struct fault_ctx *f = ctx;
	f->calls++;
	if (f->fail)
		return -1;
	return gpa_map_for_each_run(f->m, lazy_run, &f->log);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

/* Eight chunks of RAM, lazily zeroed, each holding another VM's data (0xaa) */
static void lazy_map8(struct gpa_map *m, uint64_t *table, uint64_t *bits, struct gpa_lazy *lazy)
{
	assert_int_equal(gpa_map_init(m, 8 * GPA_CHUNK_SIZE, table, alloc_chunk, free_chunk, NULL,
				      p2v),
			 0);
	for (unsigned i = 0; i < 8; i++)
		memset(arena + table[i], 0xaa, GPA_CHUNK_SIZE);
	gpa_map_set_lazy(m, lazy, &bits[0], &bits[1]);
}

static void test_lazy_map_zeroes_each_chunk_at_first_use_and_maps_it_on_fault(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[8], bits[2];
	struct gpa_lazy lazy;
	lazy_map8(&m, table, bits, &lazy);
	assert_int_equal(gpa_lazy_words(&m), 1);
	assert_int_equal(gpa_map_zeroed_bytes(&m), 0);

	/* nothing is in the nested tables yet */
	struct lazy_log all = {0};
	assert_int_equal(gpa_map_for_each_run(&m, lazy_run, &all), 0);
	assert_int_equal(all.n, 0);

	/* the hypervisor's read of chunk 1 sees zeroes, and the whole chunk is zeroed */
	uint8_t buf[16];
	assert_int_equal(gpa_read(&m, GPA_CHUNK_SIZE + 100, buf, sizeof(buf)), 0);
	assert_true(all_bytes(buf, sizeof(buf), 0));
	assert_true(all_bytes(arena + table[1], GPA_CHUNK_SIZE, 0));
	assert_true(all_bytes(arena + table[2], GPA_CHUNK_SIZE, 0xaa)); /* not its neighbour */
	assert_int_equal(gpa_map_zeroed_bytes(&m), GPA_CHUNK_SIZE);
	/* and gpa_to_hpa zeroes too: a pointer into the chunk never sees old data */
	uint64_t hpa;
	assert_true(gpa_to_hpa(&m, 2 * GPA_CHUNK_SIZE + 8, &hpa));
	assert_true(all_bytes(arena + table[2], GPA_CHUNK_SIZE, 0));
	/* a write lands, and the zeroing never runs again over it */
	memset(buf, 0x5c, sizeof(buf));
	assert_int_equal(gpa_write(&m, GPA_CHUNK_SIZE + 100, buf, sizeof(buf)), 0);
	assert_int_equal(gpa_read(&m, GPA_CHUNK_SIZE + 100, buf, sizeof(buf)), 0);
	assert_true(all_bytes(buf, sizeof(buf), 0x5c));
	/* touched by the hypervisor only: still not in the tables */
	assert_int_equal(gpa_map_for_each_run(&m, lazy_run, &all), 0);
	assert_int_equal(all.n, 0);

	/* the guest's first touch of chunk 3: zeroed, then exactly that chunk mapped */
	struct fault_ctx f = {&m, {0}, 0, 0};
	assert_int_equal(gpa_map_fault(&m, 3 * GPA_CHUNK_SIZE + 0x123, map_cb, &f), 1);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.log.n, 1);
	assert_int_equal(f.log.gpa[0], 3 * GPA_CHUNK_SIZE);
	assert_int_equal(f.log.hpa[0], table[3]);
	assert_int_equal(f.log.size[0], GPA_CHUNK_SIZE);
	assert_true(all_bytes(arena + table[3], GPA_CHUNK_SIZE, 0));
	/* a second fault there (another vCPU's, raced): already mapped, no builder call */
	assert_int_equal(gpa_map_fault(&m, 3 * GPA_CHUNK_SIZE, map_cb, &f), 0);
	assert_int_equal(f.calls, 1);
	/* chunk 1 was zeroed by the hypervisor: its fault maps it without zeroing again */
	f.log.n = 0;
	assert_int_equal(gpa_map_fault(&m, GPA_CHUNK_SIZE + 100, map_cb, &f), 1);
	assert_int_equal(f.log.n, 1);
	assert_int_equal(arena[table[1] + 100], 0x5c);
	/* not RAM: the MMIO path's */
	assert_int_equal(gpa_map_fault(&m, 8 * GPA_CHUNK_SIZE, map_cb, &f), -1);
	/* a failed mapping leaves the chunk out, to be tried again */
	f.fail = 1;
	assert_int_equal(gpa_map_fault(&m, 6 * GPA_CHUNK_SIZE, map_cb, &f), -1);
	f.fail = 0;
	f.log.n = 0;
	assert_int_equal(gpa_map_fault(&m, 6 * GPA_CHUNK_SIZE, map_cb, &f), 1);
	assert_int_equal(f.log.n, 1);

	/* a full build (a rebuilt table) now holds the touched chunks only: 1, 3, 6 */
	all.n = 0;
	assert_int_equal(gpa_map_for_each_run(&m, lazy_run, &all), 0);
	assert_int_equal(all.n, 3);
	assert_int_equal(all.gpa[0], GPA_CHUNK_SIZE);
	assert_int_equal(all.gpa[1], 3 * GPA_CHUNK_SIZE);
	assert_int_equal(all.gpa[2], 6 * GPA_CHUNK_SIZE);

	/* a reboot's zeroing: written chunks zeroed, untouched ones left for their first use */
	gpa_zero_all(&m);
	assert_true(all_bytes(arena + table[1], GPA_CHUNK_SIZE, 0));
	assert_true(all_bytes(arena + table[5], GPA_CHUNK_SIZE, 0xaa));
	assert_int_equal(gpa_map_zeroed_bytes(&m), 4 * GPA_CHUNK_SIZE);
	assert_int_equal(gpa_read(&m, 5 * GPA_CHUNK_SIZE, buf, sizeof(buf)), 0);
	assert_true(all_bytes(buf, sizeof(buf), 0));
}

static void test_lazy_map_zero_now_zeroes_and_maps_everything(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[8], bits[2];
	struct gpa_lazy lazy;
	lazy_map8(&m, table, bits, &lazy);
	gpa_map_zero_now(&m); /* a VM whose devices DMA through an IOMMU */
	for (unsigned i = 0; i < 8; i++)
		assert_true(all_bytes(arena + table[i], GPA_CHUNK_SIZE, 0));
	/* the runs of an eagerly zeroed map: the host hole after the third chunk splits them */
	struct lazy_log all = {0};
	assert_int_equal(gpa_map_for_each_run(&m, lazy_run, &all), 0);
	assert_int_equal(all.n, 2);
	assert_int_equal(all.size[0], 3 * GPA_CHUNK_SIZE);
	assert_int_equal(all.size[1], 5 * GPA_CHUNK_SIZE);
	struct fault_ctx f = {&m, {0}, 0, 0};
	assert_int_equal(gpa_map_fault(&m, 0, map_cb, &f), 0);
}

static void test_lazy_expose_maps_what_the_loader_wrote_and_nothing_else(void **state)
{
	(void)state;
	struct gpa_map m;
	uint64_t table[8], bits[2];
	struct gpa_lazy lazy;
	lazy_map8(&m, table, bits, &lazy);
	/* the loader writes a kernel into chunk 2 and a ramdisk across chunks 4 and 5 */
	uint8_t buf[64];
	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(gpa_write(&m, 2 * GPA_CHUNK_SIZE + 8, buf, sizeof(buf)), 0);
	assert_int_equal(gpa_write(&m, 5 * GPA_CHUNK_SIZE - 32, buf, sizeof(buf)), 0);
	struct fault_ctx f = {&m, {0}, 0, 0};
	assert_int_equal(gpa_map_expose_zeroed(&m, map_cb, &f), 0);
	assert_int_equal(f.log.n, 3);
	assert_int_equal(f.log.gpa[0], 2 * GPA_CHUNK_SIZE);
	assert_int_equal(f.log.gpa[1], 4 * GPA_CHUNK_SIZE);
	assert_int_equal(f.log.gpa[2], 5 * GPA_CHUNK_SIZE);
	/* the others stay out, with their old contents until their first use */
	assert_true(all_bytes(arena + table[3], GPA_CHUNK_SIZE, 0xaa));
	assert_int_equal(gpa_map_fault(&m, 2 * GPA_CHUNK_SIZE, map_cb, &f), 0);
	assert_int_equal(gpa_map_fault(&m, 3 * GPA_CHUNK_SIZE, map_cb, &f), 1);
	/* again: nothing new to map */
	f.log.n = 0;
	assert_int_equal(gpa_map_expose_zeroed(&m, map_cb, &f), 0);
	assert_int_equal(f.log.n, 0);
	/* a builder that fails says so */
	assert_int_equal(gpa_write(&m, 7 * GPA_CHUNK_SIZE, buf, 1), 0);
	f.fail = 1;
	assert_int_equal(gpa_map_expose_zeroed(&m, map_cb, &f), -1);
}

/* Every chunk on one host chunk: the addresses, not the contents, are checked. */
static uint64_t same_chunk(void *ctx)
{
	(void)ctx;
	return 2 * GPA_CHUNK_SIZE;
}

static void test_lazy_fault_above_4g_maps_the_chunk_past_the_hole(void **state)
{
	(void)state;
	enum { N = 1536 + 3 }; /* 3 GiB below the hole, 6 MiB from 4 GiB */
	static uint64_t table[N], bits[2 * ((N + 63) / 64)];
	struct gpa_map m;
	struct gpa_lazy lazy;
	assert_int_equal(gpa_map_init(&m, (uint64_t)N * GPA_CHUNK_SIZE, table, same_chunk, free_chunk,
				      NULL, p2v),
			 0);
	size_t words = gpa_lazy_words(&m);
	assert_int_equal(words, (N + 63) / 64);
	gpa_map_set_lazy(&m, &lazy, bits, bits + words);
	struct fault_ctx f = {&m, {0}, 0, 0};
	assert_int_equal(gpa_map_fault(&m, GPA_HIGH_RAM_BASE + GPA_CHUNK_SIZE + 5, map_cb, &f), 1);
	assert_int_equal(f.log.n, 1);
	assert_int_equal(f.log.gpa[0], GPA_HIGH_RAM_BASE + GPA_CHUNK_SIZE);
	/* the hole and past the end are no RAM of it */
	assert_int_equal(gpa_map_fault(&m, GPA_LOW_RAM_MAX + 4096, map_cb, &f), -1);
	assert_int_equal(gpa_map_fault(&m, GPA_HIGH_RAM_BASE + 3 * GPA_CHUNK_SIZE, map_cb, &f), -1);
	/* the last word holds bits for the 3 chunks from 1536 only: none past the end */
	assert_int_equal(gpa_map_fault(&m, GPA_HIGH_RAM_BASE + 2 * GPA_CHUNK_SIZE, map_cb, &f), 1);
	assert_int_equal(bits[words - 1], 1);	       /* unzeroed: chunk 1536, never touched */
	assert_int_equal(bits[2 * words - 1], 1);      /* unmapped: the same */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bus_routes_by_range_with_offsets),
	    cmocka_unit_test(test_bus_unclaimed_reads_all_ones_and_drops_writes),
	    cmocka_unit_test(test_bus_rejects_overlaps_and_overflow),
	    cmocka_unit_test_setup_teardown(test_map_translates_and_copies_across_chunks, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_map_rejects_bad_sizes_and_gives_back_on_failure,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_npt_maps_ram_only_with_user_writable_leaves, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_npt_uses_1g_pages_where_ram_runs_align, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_npt_maps_a_bar_uncached_and_moves_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_lazy_map_zeroes_each_chunk_at_first_use_and_maps_it_on_fault, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lazy_map_zero_now_zeroes_and_maps_everything, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_lazy_expose_maps_what_the_loader_wrote_and_nothing_else,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lazy_fault_above_4g_maps_the_chunk_past_the_hole,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_map_puts_ram_above_4g_past_the_hole, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

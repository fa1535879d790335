// SOURCES: kernel/mm/frame.c kernel/lib/string.c
/*
 * The physical frame allocator over boot memory maps: what it hands out,
 * what it must never hand out (reserved ranges, non-RAM, frames below
 * min_addr, its own bitmap, frame 0), exhaustion, contiguous runs, reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mm/frame.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define KiB 1024ull
#define MiB (1024ull * KiB)

/*
 * The allocator touches physical memory only through its bitmap. The fake
 * phys_to_virt hands it a heap block of exactly the size the bitmap must
 * have, so AddressSanitizer catches a write past it.
 */
static uint8_t *bitmap_mem;
static uint64_t bitmap_bytes;
static uint64_t bitmap_phys;
static int phys_calls;

static void *fake_phys_to_virt(uint64_t phys)
{
	phys_calls++;
	assert_null(bitmap_mem);
	bitmap_phys = phys;
	bitmap_mem = malloc(bitmap_bytes);
	return bitmap_mem;
}

static int teardown(void **state)
{
	(void)state;
	free(bitmap_mem);
	bitmap_mem = NULL;
	phys_calls = 0;
	return 0;
}

static int init(struct frame_allocator *fa, const struct mem_region *map, size_t n,
		const struct phys_range *res, size_t nres, uint64_t min_addr)
{
	uint64_t top = 0;
	for (size_t i = 0; i < n; i++)
		if (map[i].type == MEM_USABLE && map[i].base + map[i].length > top)
			top = map[i].base + map[i].length;
	uint64_t nframes = top / FRAME_SIZE;
	bitmap_bytes = ((nframes + 63) / 64 * 8 + FRAME_SIZE - 1) / FRAME_SIZE * FRAME_SIZE;
	free(bitmap_mem);
	bitmap_mem = NULL;
	return frame_init(fa, map, n, res, nres, min_addr, fake_phys_to_virt);
}

static bool in_range(uint64_t a, uint64_t s, uint64_t e)
{
	return a >= s && a < e;
}

/*
 * Allocates every frame, checking each is new, aligned and allowed; returns
 * how many there were. `seen` is indexed by frame number.
 */
static uint64_t drain(struct frame_allocator *fa, bool *seen, uint64_t nseen)
{
	uint64_t count = 0;
	for (;;) {
		uint64_t a = frame_alloc(fa);
		if (!a)
			break;
		assert_int_equal(a % FRAME_SIZE, 0);
		assert_true(a / FRAME_SIZE < nseen);
		assert_false(seen[a / FRAME_SIZE]);
		seen[a / FRAME_SIZE] = true;
		assert_false(frame_is_free(fa, a));
		assert_false(in_range(a, fa->bitmap_range.start, fa->bitmap_range.end));
		count++;
	}
	return count;
}

static const struct mem_region pc_map[] = {
	{0x0, 0x9fc00, MEM_USABLE},
	{0x9fc00, 0x400, MEM_RESERVED},
	{0xf0000, 0x10000, MEM_RESERVED},
	{0x100000, 127 * MiB, MEM_USABLE}, /* up to 128 MiB */
	{0xfffc0000, 0x40000, MEM_RESERVED},
};

static void test_all_usable_frames_handed_out_once(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	static bool seen[128 * MiB / FRAME_SIZE];
	memset(seen, 0, sizeof(seen));

	assert_int_equal(init(&fa, pc_map, NELEM(pc_map), NULL, 0, 1 * MiB), 0);
	assert_int_equal(phys_calls, 1);
	assert_int_equal(fa.nframes, 128 * MiB / FRAME_SIZE);
	/* 32768 frames need 4 KiB of bitmap: the lowest usable frame at min_addr */
	assert_int_equal(fa.bitmap_range.start, 1 * MiB);
	assert_int_equal(fa.bitmap_range.end, 1 * MiB + 4 * KiB);
	assert_int_equal(bitmap_phys, 1 * MiB);
	uint64_t expected = 127 * MiB / FRAME_SIZE - 1;
	assert_int_equal(fa.managed_frames, expected);
	assert_int_equal(fa.free_frames, expected);

	assert_int_equal(drain(&fa, seen, NELEM(seen)), expected);
	assert_int_equal(fa.free_frames, 0);
	for (uint64_t f = 0; f < 256; f++)
		assert_false(seen[f]); /* below min_addr */
	assert_int_equal(frame_alloc(&fa), 0); /* still exhausted */
}

static void test_reserved_ranges_honoured(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	static bool seen[64 * MiB / FRAME_SIZE];
	memset(seen, 0, sizeof(seen));
	const struct mem_region map[] = {{0x100000, 63 * MiB, MEM_USABLE}};
	const struct phys_range res[] = {
		{0x100000, 0x101000},   /* where the bitmap would go first */
		{0x200000, 0x400000},   /* the hypervisor image */
		{0x1000800, 0x1001800}, /* a module not frame-aligned: two frames touched */
		{0x3fff000, 0x5000000}, /* runs past the end of RAM */
	};
	assert_int_equal(init(&fa, map, NELEM(map), res, NELEM(res), 0), 0);
	/* the bitmap avoids the reserved range */
	assert_int_equal(fa.bitmap_range.start, 0x101000);

	uint64_t n = drain(&fa, seen, NELEM(seen));
	uint64_t expected = (63 * MiB - 4 * KiB - 2 * MiB - 8 * KiB - 4 * KiB) / FRAME_SIZE - 1;
	assert_int_equal(n, expected);
	for (size_t r = 0; r < NELEM(res); r++)
		for (uint64_t a = res[r].start & ~(FRAME_SIZE - 1); a < res[r].end && a < 64 * MiB;
		     a += FRAME_SIZE)
			assert_false(seen[a / FRAME_SIZE]);
	assert_true(seen[0x1002000 / FRAME_SIZE]);
	assert_true(seen[0x1000000 / FRAME_SIZE - 1]);
}

static void test_non_ram_overlapping_usable_is_never_handed_out(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	static bool seen[32 * MiB / FRAME_SIZE];
	memset(seen, 0, sizeof(seen));
	const struct mem_region map[] = {
		{0x100000, 31 * MiB, MEM_USABLE},
		{0x800800, 0x800, MEM_RESERVED},     /* inside usable RAM, half a frame */
		{0x900000, 0x3000, MEM_ACPI_NVS},    /* firmware overlap */
		{0xa00000, 0x1000, MEM_BAD},
		{0x1f00000, 2 * MiB, MEM_ACPI_RECLAIMABLE}, /* overlaps the end */
		{0x4000000, 0x1000, MEM_RESERVED},   /* beyond RAM: harmless */
		{0x100000, 0x1800, MEM_USABLE},      /* duplicate overlap: counted once */
	};
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 1 * MiB), 0);
	uint64_t n = drain(&fa, seen, NELEM(seen));
	assert_int_equal(n, fa.managed_frames);
	/* 31 MiB less: bitmap, reserved frame, 3 NVS, bad frame, 1 MiB of ACPI tables */
	assert_int_equal(n, 31 * MiB / FRAME_SIZE - 1 - 1 - 3 - 1 - 256);
	assert_false(seen[0x800000 / FRAME_SIZE]);
	assert_false(seen[0x900000 / FRAME_SIZE]);
	assert_false(seen[0x902000 / FRAME_SIZE]);
	assert_false(seen[0xa00000 / FRAME_SIZE]);
	assert_false(seen[0x1f00000 / FRAME_SIZE]);
	assert_true(seen[0x801000 / FRAME_SIZE]);
	assert_true(seen[0x7ff000 / FRAME_SIZE]);
	assert_true(seen[0x903000 / FRAME_SIZE]);
}

static void test_partial_frames_at_region_edges_not_used(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	static bool seen[0x400000 / FRAME_SIZE];
	memset(seen, 0, sizeof(seen));
	const struct mem_region map[] = {
		{0x100800, 0x1ff000, MEM_USABLE}, /* [0x100800, 0x2ff800) */
		{0x300000, 0x100000, MEM_USABLE},
	};
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 0), 0);
	drain(&fa, seen, NELEM(seen));
	assert_false(seen[0x100000 / FRAME_SIZE]);
	assert_true(seen[0x101000 / FRAME_SIZE] || fa.bitmap_range.start == 0x101000);
	assert_false(seen[0x2ff000 / FRAME_SIZE]);
	assert_true(seen[0x2fe000 / FRAME_SIZE]);
}

static void test_frame_zero_never_handed_out(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	static bool seen[256 * MiB / FRAME_SIZE];
	memset(seen, 0, sizeof(seen));
	/* 65536 frames: an 8 KiB bitmap does not fit below 4 KiB, so frame 0 stays free */
	const struct mem_region map[] = {
		{0x0, 0x1000, MEM_USABLE},
		{0x100000, 255 * MiB, MEM_USABLE},
	};
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 0), 0);
	assert_int_equal(fa.bitmap_range.start, 0x100000);
	/* address 0 means "no memory": it must not be a frame we hand out */
	assert_false(frame_is_free(&fa, 0));
	uint64_t n = drain(&fa, seen, NELEM(seen));
	assert_int_equal(n, fa.managed_frames);
	assert_int_equal(fa.free_frames, 0);
}

static void test_exhaustion_free_and_reuse(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	const struct mem_region map[] = {{0x100000, 0x10000, MEM_USABLE}}; /* 16 frames */
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 0), 0);
	assert_int_equal(fa.managed_frames, 15); /* one is the bitmap */

	uint64_t got[15];
	for (int i = 0; i < 15; i++) {
		got[i] = frame_alloc(&fa);
		assert_true(got[i] >= 0x101000 && got[i] < 0x110000);
	}
	assert_int_equal(frame_alloc(&fa), 0);
	assert_int_equal(frame_alloc_contig(&fa, 1, FRAME_SIZE), 0);
	assert_int_equal(fa.free_frames, 0);

	frame_free(&fa, got[7]);
	assert_true(frame_is_free(&fa, got[7]));
	assert_int_equal(fa.free_frames, 1);
	assert_int_equal(frame_alloc(&fa), got[7]);
	assert_int_equal(frame_alloc(&fa), 0);

	/* a double free does not make the count lie */
	frame_free(&fa, got[3]);
	frame_free(&fa, got[3]);
	assert_int_equal(fa.free_frames, 1);

	for (int i = 0; i < 15; i++)
		frame_free(&fa, got[i]);
	assert_int_equal(fa.free_frames, 15);
	for (int i = 0; i < 15; i++)
		assert_int_not_equal(frame_alloc(&fa), 0);
	assert_int_equal(frame_alloc(&fa), 0);
}

static void test_contiguous_aligned(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	const struct mem_region map[] = {{0x100000, 31 * MiB, MEM_USABLE}};
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 1 * MiB), 0);

	/* a 2 MiB page's worth, 2 MiB aligned: the bitmap at 1 MiB is skipped */
	uint64_t a = frame_alloc_contig(&fa, 512, 2 * MiB);
	assert_int_equal(a, 2 * MiB);
	for (uint64_t k = 0; k < 512; k++)
		assert_false(frame_is_free(&fa, a + k * FRAME_SIZE));
	uint64_t b = frame_alloc_contig(&fa, 512, 2 * MiB);
	assert_int_equal(b, 4 * MiB);

	/* a used frame in the way pushes the run to the next aligned slot */
	uint64_t one = frame_alloc(&fa);
	assert_int_equal(one, 6 * MiB);
	uint64_t c = frame_alloc_contig(&fa, 4, 16 * KiB);
	assert_int_equal(c % (16 * KiB), 0);
	assert_true(c > one);
	assert_true(c < one + 16 * KiB + 1);

	/* frees give the run back whole */
	frame_free_contig(&fa, a, 512);
	for (uint64_t k = 0; k < 512; k++)
		assert_true(frame_is_free(&fa, a + k * FRAME_SIZE));
	assert_int_equal(frame_alloc_contig(&fa, 512, 2 * MiB), a);

	/* 1 GiB aligned cannot be satisfied in 32 MiB, even with frames free */
	uint64_t before = fa.free_frames;
	assert_int_equal(frame_alloc_contig(&fa, 1, 1024 * MiB), 0);
	/* nor a run longer than any free stretch */
	assert_int_equal(frame_alloc_contig(&fa, 32 * MiB / FRAME_SIZE, FRAME_SIZE), 0);
	assert_int_equal(fa.free_frames, before);
}

static void test_contiguous_bad_arguments(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	const struct mem_region map[] = {{0x100000, 15 * MiB, MEM_USABLE}};
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 0), 0);
	uint64_t before = fa.free_frames;
	assert_int_equal(frame_alloc_contig(&fa, 0, FRAME_SIZE), 0);
	assert_int_equal(frame_alloc_contig(&fa, 1, 0), 0);
	assert_int_equal(frame_alloc_contig(&fa, 1, 2048), 0);
	assert_int_equal(frame_alloc_contig(&fa, 1, 3 * FRAME_SIZE), 0);
	assert_int_equal(frame_alloc_contig(&fa, before + 1, FRAME_SIZE), 0);
	assert_int_equal(fa.free_frames, before);
}

static void test_fragmented_search_wraps_to_start(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	const struct mem_region map[] = {{0x100000, 1 * MiB, MEM_USABLE}}; /* 256 frames */
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 0), 0);
	uint64_t first = frame_alloc(&fa);
	uint64_t last = 0;
	while (fa.free_frames)
		last = frame_alloc(&fa);
	assert_int_equal(last, 0x1ff000);
	/* the hint is at the end: a freed low frame must still be found */
	frame_free(&fa, first);
	frame_free(&fa, last);
	assert_int_equal(frame_alloc(&fa), first);
	assert_int_equal(frame_alloc(&fa), last);
}

static void test_frame_is_free_bounds(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	const struct mem_region map[] = {{0x100000, 1 * MiB, MEM_USABLE}};
	assert_int_equal(init(&fa, map, NELEM(map), NULL, 0, 0), 0);
	assert_false(frame_is_free(&fa, 0x80000));   /* not RAM */
	assert_true(frame_is_free(&fa, 0x150000));
	assert_true(frame_is_free(&fa, 0x150fff));   /* any address inside the frame */
	assert_false(frame_is_free(&fa, 0x200000));  /* past the end */
	assert_false(frame_is_free(&fa, ~0ull));
	frame_free(&fa, 0x900000000ull); /* out of range: ignored */
	assert_int_equal(fa.free_frames, fa.managed_frames);
}

static void test_init_failures(void **state)
{
	(void)state;
	static struct frame_allocator fa;
	const struct mem_region none[] = {{0x0, 16 * MiB, MEM_RESERVED}};
	assert_int_equal(init(&fa, none, NELEM(none), NULL, 0, 0), -1);

	const struct mem_region low[] = {{0x0, 0x9f000, MEM_USABLE}};
	assert_int_equal(init(&fa, low, NELEM(low), NULL, 0, 1 * MiB), -1);

	/* RAM exists but every frame of it is reserved: no room for the bitmap */
	const struct mem_region map[] = {{0x100000, 1 * MiB, MEM_USABLE}};
	const struct phys_range all[] = {{0x0, 0x200000}};
	assert_int_equal(init(&fa, map, NELEM(map), all, NELEM(all), 0), -1);
	assert_int_equal(phys_calls, 0);
}

static void test_phys_find_free(void **state)
{
	(void)state;
	const struct mem_region map[] = {
		{0x0, 0x9f000, MEM_USABLE},
		{0x100000, 0x700000, MEM_USABLE}, /* [1 MiB, 8 MiB) */
		{0x300000, 0x1000, MEM_RESERVED},
		{0x10000000, 0x10000000, MEM_USABLE},
	};
	const struct phys_range res[] = {{0x100000, 0x180000}};
	size_t n = NELEM(map);

	/* lowest fit */
	assert_int_equal(phys_find_free(map, n, NULL, 0, 0, ~0ull, 0x1000, 0x1000), 0);
	assert_int_equal(phys_find_free(map, n, NULL, 0, 0x1000, ~0ull, 0x1000, 0x1000), 0x1000);
	/* too big for low memory: the next region */
	assert_int_equal(phys_find_free(map, n, NULL, 0, 0, ~0ull, 0x100000, 0x1000), 0x100000);
	/* around a reserved range */
	assert_int_equal(phys_find_free(map, n, res, 1, 0x100000, ~0ull, 0x1000, 0x1000),
			 0x180000);
	/* around a non-usable region inside usable RAM */
	assert_int_equal(phys_find_free(map, n, NULL, 0, 0x2ff000, ~0ull, 0x2000, 0x1000),
			 0x301000);
	/* alignment */
	assert_int_equal(phys_find_free(map, n, res, 1, 0x100000, ~0ull, 0x1000, 0x200000),
			 0x200000);
	assert_int_equal(phys_find_free(map, n, NULL, 0, 0x100000, ~0ull, 0x200000, 0x400000),
			 0x400000);
	/* the hi bound is exclusive */
	assert_int_equal(phys_find_free(map, n, NULL, 0, 0x7ff000, 0x800000, 0x1000, 0x1000),
			 0x7ff000);
	assert_true(phys_find_free(map, n, NULL, 0, 0x7ff000, 0x800000, 0x2000, 0x1000) ==
		    UINT64_MAX);
	/* nothing fits */
	assert_true(phys_find_free(map, n, NULL, 0, 0, ~0ull, 0x20000000, 0x1000) == UINT64_MAX);
	assert_true(phys_find_free(map, n, NULL, 0, 0, 0x90000, 0x10000, 0x1000) == 0x0);
	assert_true(phys_find_free(map, n, NULL, 0, 0x30000000, ~0ull, 0x1000, 0x1000) ==
		    UINT64_MAX);
}

#define FRAME_TEST(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FRAME_TEST(test_all_usable_frames_handed_out_once),
		FRAME_TEST(test_reserved_ranges_honoured),
		FRAME_TEST(test_non_ram_overlapping_usable_is_never_handed_out),
		FRAME_TEST(test_partial_frames_at_region_edges_not_used),
		FRAME_TEST(test_frame_zero_never_handed_out),
		FRAME_TEST(test_exhaustion_free_and_reuse),
		FRAME_TEST(test_contiguous_aligned),
		FRAME_TEST(test_contiguous_bad_arguments),
		FRAME_TEST(test_fragmented_search_wraps_to_start),
		FRAME_TEST(test_frame_is_free_bounds),
		FRAME_TEST(test_init_failures),
		cmocka_unit_test(test_phys_find_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

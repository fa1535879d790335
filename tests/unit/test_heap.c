// SOURCES: kernel/mm/heap.c kernel/lib/string.c
/*
 * The host heap: size classes 16..2048, 16-byte alignment, reuse after free,
 * page-run allocations above 2 KiB, zeroing, and running out of pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mm/heap.h"

#define PAGE 4096u

/* A page provider with a budget; new pages are full of garbage, like real RAM. */
struct provider {
	size_t budget;      /* pages it may still hand out */
	size_t outstanding; /* pages handed out and not given back */
	unsigned calls;
};

/* Runs handed out, so a test's teardown can release what the heap keeps. */
#define MAX_RUNS 4096
static void *runs[MAX_RUNS];

static void track(void *p, void *replace)
{
	for (size_t i = 0; i < MAX_RUNS; i++) {
		if (runs[i] == replace) {
			runs[i] = p;
			return;
		}
	}
	fail_msg("page run %p not tracked", replace);
}

static void *prov_alloc(void *arg, size_t n)
{
	struct provider *pv = arg;
	pv->calls++;
	if (n == 0 || n > pv->budget)
		return NULL;
	void *p = aligned_alloc(PAGE, n * PAGE);
	assert_non_null(p);
	memset(p, 0xaa, n * PAGE);
	track(p, NULL);
	pv->budget -= n;
	pv->outstanding += n;
	return p;
}

static void prov_free(void *arg, void *p, size_t n)
{
	struct provider *pv = arg;
	assert_int_equal((uintptr_t)p % PAGE, 0);
	assert_true(n <= pv->outstanding);
	pv->outstanding -= n;
	pv->budget += n;
	track(NULL, p);
	free(p);
}

static int release_pages(void **state)
{
	(void)state;
	for (size_t i = 0; i < MAX_RUNS; i++) {
		free(runs[i]);
		runs[i] = NULL;
	}
	return 0;
}

static struct provider pv;
static struct heap heap;

static void heap_start(size_t budget)
{
	release_pages(NULL);
	pv = (struct provider){budget, 0, 0};
	struct heap_page_ops ops = {prov_alloc, prov_free, &pv};
	heap_init(&heap, &ops);
}

static void assert_aligned16(const void *p)
{
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
}

static void test_every_size_class(void **state)
{
	(void)state;
	heap_start(1000);
	const size_t sizes[] = {1, 15, 16, 17, 31, 32, 33, 64, 65, 100, 128, 200, 256,
				500, 512, 513, 1000, 1024, 1025, 2000, 2048};
	const size_t rounded[] = {16, 16, 16, 32, 32, 32, 64, 64, 128, 128, 128, 256, 256,
				  512, 512, 1024, 1024, 1024, 2048, 2048, 2048};
	enum { PER = 5 };
	static uint8_t *blocks[21][PER];

	for (size_t i = 0; i < 21; i++) {
		for (int k = 0; k < PER; k++) {
			size_t before = heap.bytes_in_use;
			uint8_t *p = heap_alloc(&heap, sizes[i]);
			assert_aligned16(p);
			assert_int_equal(heap.bytes_in_use - before, rounded[i]);
			/* the whole rounded size is usable (ASan would object otherwise) */
			memset(p, (int)(i * PER + k), rounded[i]);
			blocks[i][k] = p;
		}
	}
	/* no block overlapped another: every pattern survived */
	for (size_t i = 0; i < 21; i++)
		for (int k = 0; k < PER; k++)
			for (size_t b = 0; b < rounded[i]; b++)
				assert_int_equal(blocks[i][k][b], (uint8_t)(i * PER + k));
	for (size_t i = 0; i < 21; i++)
		for (int k = 0; k < PER; k++)
			heap_free(&heap, blocks[i][k]);
	assert_int_equal(heap.bytes_in_use, 0);
}

static void test_zero_size_gives_a_block(void **state)
{
	(void)state;
	heap_start(10);
	void *a = heap_alloc(&heap, 0);
	void *b = heap_alloc(&heap, 0);
	assert_aligned16(a);
	assert_aligned16(b);
	assert_ptr_not_equal(a, b);
	heap_free(&heap, a);
	heap_free(&heap, b);
	heap_free(&heap, NULL); /* harmless */
	assert_int_equal(heap.bytes_in_use, 0);
}

static void test_reuse_after_free(void **state)
{
	(void)state;
	heap_start(10);
	void *a = heap_alloc(&heap, 100);
	void *b = heap_alloc(&heap, 100);
	heap_free(&heap, a);
	assert_ptr_equal(heap_alloc(&heap, 120), a); /* same class, most recently freed */
	heap_free(&heap, b);
	heap_free(&heap, a);
	void *c = heap_alloc(&heap, 128);
	void *d = heap_alloc(&heap, 128);
	assert_true((c == a && d == b) || (c == b && d == a));
	/* a different class does not hand out the freed 128-byte blocks */
	heap_free(&heap, c);
	void *e = heap_alloc(&heap, 16);
	assert_ptr_not_equal(e, c);
	assert_int_equal(pv.outstanding, 2); /* one page per class used */
}

static void test_pages_are_filled_before_asking_for_more(void **state)
{
	(void)state;
	heap_start(100);
	/* a page holds (4096 - 64) / 64 = 63 objects of 64 bytes */
	static void *p[1000];
	for (int i = 0; i < 1000; i++) {
		p[i] = heap_alloc(&heap, 48);
		assert_aligned16(p[i]);
	}
	assert_int_equal(pv.outstanding, (1000 + 62) / 63);
	assert_int_equal(heap.pages_in_use, pv.outstanding);
	assert_int_equal(heap.bytes_in_use, 1000 * 64);
	for (int i = 0; i < 1000; i++)
		heap_free(&heap, p[i]);
	/* freed objects satisfy the next 1000 without new pages */
	size_t pages = pv.outstanding;
	for (int i = 0; i < 1000; i++)
		p[i] = heap_alloc(&heap, 64);
	assert_int_equal(pv.outstanding, pages);
}

static void test_large_allocations(void **state)
{
	(void)state;
	heap_start(1000);
	struct {
		size_t size, pages;
	} cases[] = {
		{2049, 1},        /* just above the largest class, header included */
		{4096 - 64, 1},
		{4096 - 63, 2},
		{4096, 2},
		{64 * 1024, 17},
		{1024 * 1024, 257},
	};
	void *p[6];
	size_t pages = 0;
	for (size_t i = 0; i < 6; i++) {
		p[i] = heap_alloc(&heap, cases[i].size);
		assert_aligned16(p[i]);
		memset(p[i], 0x5a, cases[i].size); /* the whole block is usable */
		pages += cases[i].pages;
		assert_int_equal(pv.outstanding, pages);
		assert_int_equal(heap.pages_in_use, pages);
	}
	assert_int_equal(heap.bytes_in_use, pages * PAGE);
	/* freeing gives the pages back to the provider */
	for (size_t i = 0; i < 6; i++) {
		heap_free(&heap, p[i]);
		pages -= cases[i].pages;
		assert_int_equal(pv.outstanding, pages);
	}
	assert_int_equal(heap.bytes_in_use, 0);
	assert_int_equal(heap.pages_in_use, 0);
}

static void test_zalloc_zeroes(void **state)
{
	(void)state;
	heap_start(100);
	/* a recycled small block */
	uint8_t *a = heap_alloc(&heap, 200);
	memset(a, 0xff, 200);
	heap_free(&heap, a);
	uint8_t *b = heap_zalloc(&heap, 200);
	assert_ptr_equal(a, b);
	for (int i = 0; i < 200; i++)
		assert_int_equal(b[i], 0);
	/* a fresh page run, which the provider filled with garbage */
	uint8_t *c = heap_zalloc(&heap, 10000);
	assert_aligned16(c);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(c[i], 0);
	/* a fresh small page */
	uint8_t *d = heap_zalloc(&heap, 1500);
	for (int i = 0; i < 1500; i++)
		assert_int_equal(d[i], 0);
}

static void test_out_of_memory_returns_null(void **state)
{
	(void)state;
	heap_start(0);
	assert_null(heap_alloc(&heap, 16));
	assert_null(heap_alloc(&heap, 5000));
	assert_null(heap_zalloc(&heap, 32));
	assert_int_equal(heap.bytes_in_use, 0);
	assert_int_equal(heap.pages_in_use, 0);

	/* one page: 252 sixteen-byte objects, then nothing */
	heap_start(1);
	for (int i = 0; i < (4096 - 64) / 16; i++)
		assert_non_null(heap_alloc(&heap, 16));
	assert_null(heap_alloc(&heap, 16));
	assert_null(heap_alloc(&heap, 32));

	/* a large run that does not fit fails cleanly; a smaller one still works */
	heap_start(3);
	assert_null(heap_alloc(&heap, 4 * PAGE));
	void *p = heap_alloc(&heap, 2 * PAGE);
	assert_non_null(p);
	heap_free(&heap, p);
	assert_int_equal(pv.outstanding, 0);
}

static void test_absurd_sizes_fail_without_overflow(void **state)
{
	(void)state;
	heap_start(1u << 20);
	assert_null(heap_alloc(&heap, SIZE_MAX));
	assert_null(heap_alloc(&heap, SIZE_MAX - 100));
	assert_null(heap_alloc(&heap, (size_t)1 << 41));
	assert_null(heap_zalloc(&heap, SIZE_MAX));
	assert_int_equal(pv.outstanding, 0);
}

#define HEAP_TEST(f) cmocka_unit_test_teardown(f, release_pages)

int main(void)
{
	const struct CMUnitTest tests[] = {
		HEAP_TEST(test_every_size_class),
		HEAP_TEST(test_zero_size_gives_a_block),
		HEAP_TEST(test_reuse_after_free),
		HEAP_TEST(test_pages_are_filled_before_asking_for_more),
		HEAP_TEST(test_large_allocations),
		HEAP_TEST(test_zalloc_zeroes),
		HEAP_TEST(test_out_of_memory_returns_null),
		HEAP_TEST(test_absurd_sizes_fail_without_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

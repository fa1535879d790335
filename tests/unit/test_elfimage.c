// SOURCES: loader/elfimage.c
/*
 * What hvboot.efi accepts as a hypervisor image before it takes any
 * memory: an x86-64 ELF executable with a multiboot2 header, its segments
 * inside the file and below 4 GiB, its entry inside what it loads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/elfimage.h"

#define FILE_SIZE 0x4000

static uint8_t *img;
static struct elfimage out;

static void put(size_t off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		img[off + i] = (uint8_t)(v >> (8 * i));
}

static void phdr(unsigned i, uint32_t type, uint64_t offset, uint64_t paddr, uint64_t filesz,
		 uint64_t memsz)
{
	size_t p = 64 + 56 * (size_t)i;
	put(p, type, 4);
	put(p + 8, offset, 8);
	put(p + 16, paddr, 8); /* vaddr */
	put(p + 24, paddr, 8);
	put(p + 32, filesz, 8);
	put(p + 40, memsz, 8);
}

static void mb2_header(size_t off)
{
	uint32_t magic = 0xe85250d6u, len = 24;
	put(off, magic, 4);
	put(off + 4, 0, 4);
	put(off + 8, len, 4);
	put(off + 12, (uint32_t)-(magic + len), 4);
}

/* Like hv.elf: text at 1 MiB with the headers, then data and bss sharing a page. */
static void good_image(void)
{
	memset(img, 0, FILE_SIZE);
	memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
	put(16, 2, 2);	/* ET_EXEC */
	put(18, 62, 2); /* EM_X86_64 */
	put(24, 0x100058, 8);
	put(32, 64, 8); /* phoff */
	put(54, 56, 2);
	put(56, 3, 2);
	phdr(0, 1, 0x1000, 0x100000, 0x1000, 0x1000);
	phdr(1, 4, 0x2000, 0, 0x10, 0x10); /* PT_NOTE: not loaded */
	phdr(2, 1, 0x2000, 0x101000, 0x800, 0x5000);
	mb2_header(0x1008);
}

static const char *check(void)
{
	/* an exact-size heap copy: reads past the end are reported */
	uint8_t *copy = malloc(FILE_SIZE);
	memcpy(copy, img, FILE_SIZE);
	const char *why = elfimage_check(copy, FILE_SIZE, &out);
	free(copy);
	return why;
}

static void a_good_image(void **state)
{
	(void)state;
	good_image();
	assert_null(check());
	assert_int_equal(out.entry, 0x100058);
	assert_int_equal(out.nseg, 2);
	assert_int_equal(out.seg[0].paddr, 0x100000);
	assert_int_equal(out.seg[0].offset, 0x1000);
	assert_int_equal(out.seg[1].paddr, 0x101000);
	assert_int_equal(out.seg[1].filesz, 0x800);
	assert_int_equal(out.seg[1].memsz, 0x5000);
}

static void not_an_executable(void **state)
{
	(void)state;
	good_image();
	img[1] = 'X';
	assert_string_equal(check(), "is not an x86-64 ELF executable");
	good_image();
	img[4] = 1; /* ELF-32 */
	assert_string_equal(check(), "is not an x86-64 ELF executable");
	good_image();
	put(18, 3, 2); /* i386 */
	assert_string_equal(check(), "is not an x86-64 ELF executable");
	good_image();
	put(16, 3, 2); /* a shared object */
	assert_string_equal(check(), "is not an x86-64 ELF executable");
	assert_string_equal(elfimage_check(img, 63, &out), "is not an x86-64 ELF executable");
}

static void multiboot2_header(void **state)
{
	(void)state;
	good_image();
	put(0x1008 + 12, 0, 4); /* a bad checksum */
	assert_string_equal(check(), "has no multiboot2 header: not a hypervisor image");
	good_image();
	memset(img + 0x1008, 0, 16);
	mb2_header(0x100c); /* not 8-aligned */
	assert_string_equal(check(), "has no multiboot2 header: not a hypervisor image");
}

static void bad_program_headers(void **state)
{
	(void)state;
	good_image();
	put(32, FILE_SIZE - 100, 8);
	assert_string_equal(check(), "has a malformed program header table");
	good_image();
	put(54, 32, 2);
	assert_string_equal(check(), "has a malformed program header table");
	good_image();
	phdr(2, 1, FILE_SIZE - 0x100, 0x101000, 0x800, 0x5000);
	assert_string_equal(check(), "has a segment outside the file");
	good_image();
	phdr(2, 1, 0x2000, 0x101000, 0x800, 0x700);
	assert_string_equal(check(), "has a segment outside the file");
	good_image();
	phdr(2, 1, 0x2000, 0xffffe000, 0x800, 0x5000);
	assert_string_equal(check(), "has a segment above 4 GiB");
	good_image();
	phdr(2, 1, 0x2000, 0x100800, 0x800, 0x5000);
	assert_string_equal(check(), "has overlapping segments");
	assert_int_equal(out.nseg, 0);
	good_image();
	phdr(0, 0, 0, 0, 0, 0);
	phdr(2, 1, 0x2000, 0x101000, 0x800, 0);
	assert_string_equal(check(), "has nothing to load");
}

static void entry_point(void **state)
{
	(void)state;
	good_image();
	put(24, 0x101800, 8); /* in the bss: nothing there to run */
	assert_string_equal(check(), "has its entry point outside what it loads");
	good_image();
	put(24, 0x100000100ull, 8);
	assert_string_equal(check(), "has its entry point above 4 GiB");
	good_image();
	put(24, 0, 8);
	assert_string_equal(check(), "has no entry point");
}

static void too_many_segments(void **state)
{
	(void)state;
	good_image();
	put(56, 20, 2);
	for (unsigned i = 0; i < 20; i++)
		phdr(i, 1, 0x1000, 0x100000 + 0x1000 * (uint64_t)i, 0x100, 0x100);
	assert_string_equal(check(), "has too many segments");
}

int main(void)
{
	img = malloc(FILE_SIZE);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_image),
		cmocka_unit_test(not_an_executable),
		cmocka_unit_test(multiboot2_header),
		cmocka_unit_test(bad_program_headers),
		cmocka_unit_test(entry_point),
		cmocka_unit_test(too_many_segments),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	free(img);
	return r;
}

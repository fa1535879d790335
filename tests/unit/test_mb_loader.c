// SOURCES: guest/mb_loader.c kernel/lib/string.c kernel/lib/format.c
/*
 * The multiboot1 guest loader, on the kernels a VM would boot: the real test
 * guests from build/guests/ (when `make guests` has run), and ELF32 and
 * a.out-kludge images built here, loaded into a fake guest RAM. Each broken
 * image gives the error a user would read, and writes nothing.
 */
#include <dirent.h>
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/mb_loader_fixture.h"

static void test_elf_segments_bss_entry(void **state)
{
	(void)state;
	struct image im = make_elf();

	assert_int_equal(load(im, "console=ttyS0", NULL), 0);
	assert_int_equal(entry.eip, ELF_TEXT_PADDR + 0x10);	/* translated from 0xc0200010 */
	assert_int_equal(entry.eax, 0x2badb002);
	assert_int_equal(entry.kernel_start, ELF_TEXT_PADDR);
	assert_int_equal(entry.kernel_end, ELF_DATA_PADDR + ELF_DATA_MEMSZ);
	assert_int_equal(entry.module_start, 0);
	assert_int_equal(entry.module_end, 0);
	assert_memory_equal(ram.bytes + ELF_TEXT_PADDR, im.bytes + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	assert_memory_equal(ram.bytes + ELF_DATA_PADDR, im.bytes + ELF_DATA_OFF, ELF_DATA_FILESZ);
	assert_true(ram_all(ELF_DATA_PADDR + ELF_DATA_FILESZ, ELF_DATA_MEMSZ - ELF_DATA_FILESZ, 0));
	/* Nothing around the segments, nor for the empty PT_LOAD or the PT_NOTE. */
	assert_true(ram_all(ELF_TEXT_PADDR + ELF_TEXT_SIZE,
			    ELF_DATA_PADDR - ELF_TEXT_PADDR - ELF_TEXT_SIZE, FILL));
	assert_true(ram_all(ELF_DATA_PADDR + ELF_DATA_MEMSZ, 0x1000, FILL));
	assert_true(ram_all(0x700000, 0x1000, FILL));
	assert_true(ram_all(0, 0x8000, FILL));
	free(im.bytes);
}

static void test_info_structure(void **state)
{
	(void)state;
	struct image im = make_elf();

	assert_int_equal(load(im, "seed=7 bare", NULL), 0);
	check_info(MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME,
		   "seed=7 bare");
	assert_int_equal(ram32(MB_INFO_ADDR), 0x245);	/* bits 0, 2, 6, 9 of §3.3 */
	assert_int_equal(ram32(MB_INFO_ADDR + 8), 15360);	/* (16 MiB - 1 MiB) / 1 KiB */
	free(im.bytes);
}

static void test_info_other_ram_size_and_null_cmdline(void **state)
{
	(void)state;
	struct image im = make_elf();

	ram_setup(34 * MIB + 0x1000);	/* not a whole MiB */
	assert_int_equal(load(im, NULL, NULL), 0);
	check_info(0x245, "");
	assert_int_equal(ram32(MB_INFO_ADDR + 8), (33 * MIB + 0x1000) / 1024);
	free(im.bytes);
}

static void test_module_placement(void **state)
{
	(void)state;
	struct image im = make_elf();
	uint8_t data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 3 + 1);
	struct mb_module mod = { data, sizeof(data), "/boot/initrd.img root=/dev/ram" };

	assert_int_equal(load(im, "root=/dev/ram0", &mod), 0);
	/* Kernel ends at 0x202010: the module starts on the next page. */
	assert_int_equal(entry.module_start, 0x203000);
	assert_int_equal(entry.module_start % 4096, 0);
	assert_int_equal(entry.module_end, 0x203000 + sizeof(data));
	assert_memory_equal(ram.bytes + 0x203000, data, sizeof(data));
	check_info(0x24d, "root=/dev/ram0");
	assert_int_equal(ram32(MB_INFO_ADDR + 20), 1);
	uint32_t m = ram32(MB_INFO_ADDR + 24);
	assert_int_equal(m, MB_MODS_ADDR);
	assert_int_equal(ram32(m), 0x203000);
	assert_int_equal(ram32(m + 4), 0x203000 + sizeof(data));
	assert_string_equal(ram_str(ram32(m + 8)), "/boot/initrd.img root=/dev/ram");
	assert_int_equal(ram32(m + 12), 0);
	free(im.bytes);
}

static void test_module_after_page_aligned_kernel_and_empty(void **state)
{
	(void)state;
	struct image im = make_elf();
	elf_phdr(&im, 3)->p_memsz = 0x1000;	/* kernel ends exactly at 0x202000 */
	struct mb_module mod = { NULL, 0, NULL };

	assert_int_equal(load(im, "", &mod), 0);
	assert_int_equal(entry.module_start, 0x202000);
	assert_int_equal(entry.module_end, 0x202000);
	assert_int_equal(ram32(MB_INFO_ADDR) & MB_INFO_MODS, MB_INFO_MODS);
	assert_string_equal(ram_str(ram32(ram32(MB_INFO_ADDR + 24) + 8)), "");
	free(im.bytes);
}

/* ---- a.out kludge ---- */

static void test_aout_kludge(void **state)
{
	(void)state;
	struct image im = make_aout(AOUT_LOAD + AOUT_LOAD_SIZE, AOUT_BSS_END);

	assert_int_equal(load(im, "aout", NULL), 0);
	assert_int_equal(entry.eip, AOUT_ENTRY);
	assert_int_equal(entry.kernel_start, AOUT_LOAD);
	assert_int_equal(entry.kernel_end, AOUT_BSS_END);
	assert_memory_equal(ram.bytes + AOUT_LOAD, im.bytes, AOUT_LOAD_SIZE);
	assert_true(ram_all(AOUT_LOAD + AOUT_LOAD_SIZE,
			    AOUT_BSS_END - AOUT_LOAD - AOUT_LOAD_SIZE, 0));
	assert_true(ram_all(AOUT_BSS_END, 0x1000, FILL));
	check_info(0x245, "aout");
	free(im.bytes);
}

static void test_aout_to_end_of_file_no_bss(void **state)
{
	(void)state;
	struct image im = make_aout(0, 0);

	assert_int_equal(load(im, "", NULL), 0);
	assert_int_equal(entry.kernel_end, AOUT_LOAD + AOUT_FILE_SIZE);
	assert_memory_equal(ram.bytes + AOUT_LOAD, im.bytes, AOUT_FILE_SIZE);
	assert_true(ram_all(AOUT_LOAD + AOUT_FILE_SIZE, 0x1000, FILL));
	free(im.bytes);
}

/* ---- the real test guests ---- */

/* Checks every PT_LOAD of a linked guest landed where its program header says. */
static void check_real_guest(const char *path)
{
	struct image im = read_file(path);
	const Elf32_Ehdr *eh = (const Elf32_Ehdr *)im.bytes;

	assert_true(im.len >= sizeof(*eh));
	assert_true(mb_is_multiboot(im.bytes, im.len));
	ram_setup(32 * MIB);
	assert_int_equal(load(im, "seed=7 bare", NULL), 0);
	assert_int_equal(entry.eip, eh->e_entry);
	/* at 1 MiB, or (lowmem) at 0x8000, where the information used to be */
	assert_true(entry.kernel_start >= MIB || entry.kernel_start == MB_INFO_BASE);
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf32_Phdr *ph = (const Elf32_Phdr *)(im.bytes + eh->e_phoff) + i;
		if (ph->p_type != PT_LOAD || ph->p_memsz == 0)
			continue;
		assert_memory_equal(ram.bytes + ph->p_paddr, im.bytes + ph->p_offset, ph->p_filesz);
		assert_true(ram_all(ph->p_paddr + ph->p_filesz, ph->p_memsz - ph->p_filesz, 0));
		assert_true(ph->p_paddr + ph->p_memsz <= entry.kernel_end);
	}
	/* a guest linked low finds the information elsewhere, clear of its image */
	want_info = entry.ebx;
	assert_int_equal(want_info % 0x1000, 0);
	assert_true(want_info + MB_INFO_AREA_SIZE <= entry.kernel_start ||
		    want_info >= entry.kernel_end);
	if (entry.kernel_start >= MB_INFO_BASE + MB_INFO_AREA_SIZE)
		assert_int_equal(want_info, MB_INFO_ADDR);
	check_info(0x245, "seed=7 bare");
	free(im.bytes);
}

static void test_real_guests(void **state)
{
	(void)state;
	DIR *d = opendir("build/guests");
	int loaded = 0;

	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			size_t n = strlen(de->d_name);
			if (n < 5 || strcmp(de->d_name + n - 4, ".elf"))
				continue;
			char path[512];
			snprintf(path, sizeof(path), "build/guests/%s", de->d_name);
			fprintf(stderr, "  loading %s\n", path);
			check_real_guest(path);
			loaded++;
		}
		closedir(d);
	}
	if (!loaded) {
		fprintf(stderr, "  no build/guests/*.elf (run `make guests` from the "
				"repository root)\n");
		skip();
	}
}

/* ---- finding the header ---- */

static void test_header_search_window(void **state)
{
	(void)state;
	uint8_t file[8192 + 64] = { 0 };
	struct mb_header h;

	/* The last 4-byte aligned slot whose 12 bytes fit in the first 8 KiB. */
	put_mb_header(file, 8180, 0, NULL);
	assert_int_equal(mb_find_header(file, sizeof(file), &h), 0);
	assert_int_equal(h.offset, 8180);
	memset(file, 0, sizeof(file));
	put_mb_header(file, 8184, 0, NULL);
	assert_int_equal(mb_find_header(file, sizeof(file), &h), MB_ERR_NO_HEADER);
	/* Not 4-byte aligned. */
	memset(file, 0, sizeof(file));
	put_mb_header(file, 0x102, 0, NULL);
	assert_false(mb_is_multiboot(file, sizeof(file)));
	/* A stray magic with a bad checksum before the real header is passed over. */
	memset(file, 0, sizeof(file));
	put32(file + 0x10, MB_HEADER_MAGIC);
	put_mb_header(file, 0x20, MB_HFLAG_MEMINFO, NULL);
	assert_int_equal(mb_find_header(file, sizeof(file), &h), 0);
	assert_int_equal(h.offset, 0x20);
	assert_int_equal(h.flags, MB_HFLAG_MEMINFO);
}

/* ---- errors ---- */

static void test_info_kernel_at_0x8000(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = { { 0x8000, 0x6000 } };
	struct image im = make_elf_segments(segs, 1);
	uint8_t data[100] = { 1, 2, 3 };
	struct mb_module mod = { data, sizeof(data), "initrd" };

	assert_int_equal(load(im, "console=ttyS0 low", &mod), 0);
	assert_int_equal(entry.eip, 0x8020);
	assert_int_equal(entry.kernel_start, 0x8000);
	assert_int_equal(entry.kernel_end, 0xe000);
	assert_int_equal(entry.module_start, MIB); /* never below 1 MiB */
	want_info = MB_INFO_LOW_START; /* the lowest free page-aligned spot */
	check_info(0x24d, "console=ttyS0 low");
	check_segments(im, segs, 1);
	assert_string_equal(ram_str(ram32(ram32(want_info + 24) + 8)), "initrd");
	/* page 0 is never used */
	assert_true(ram_all(0, 0x1000, FILL));
	free(im.bytes);
}

/* Kernel at 1 MiB (the test guests, most kernels): the information at 0x8000 as ever. */
static void test_info_kernel_at_1mib(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = { { 0x100000, 0x3000 } };
	struct image im = make_elf_segments(segs, 1);

	assert_int_equal(load(im, "x=1", NULL), 0);
	check_info(0x245, "x=1");
	assert_string_equal(ram_str(MB_CMDLINE_ADDR), "x=1");
	check_segments(im, segs, 1);
	free(im.bytes);
}

/* Segments with gaps: the first gap that holds the whole area, page aligned. */
static void test_info_between_segments(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = {
		{ 0x1000, 0x1800 },   /* to 0x2800: the gap up to 0x3000 is too small */
		{ 0x3000, 0x6000 },   /* over 0x8000 */
		{ 0xb000, 0x1000 },   /* 0x9000-0xb000: exactly the area */
	};
	struct image im = make_elf_segments(segs, 3);

	assert_int_equal(load(im, "", NULL), 0);
	want_info = 0x9000;
	check_info(0x245, "");
	check_segments(im, segs, 3);
	free(im.bytes);
}

/* A kernel filling most of low memory: the information goes above 1 MiB, past the module. */
static void test_info_kernel_fills_low_memory(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = { { 0x1000, 0x9e000 } }; /* 0x9f000-0x9fc00 left */
	struct image im = make_elf_segments(segs, 1);

	assert_int_equal(load(im, "big", NULL), 0);
	want_info = MIB;
	check_info(0x245, "big");
	check_segments(im, segs, 1);

	ram_setup(RAM_BYTES);
	uint8_t data[0x1800];
	memset(data, 0x77, sizeof(data));
	struct mb_module mod = { data, sizeof(data), "m" };
	assert_int_equal(load(im, "big", &mod), 0);
	assert_int_equal(entry.module_start, MIB);
	want_info = MIB + 0x2000; /* the page after the module */
	check_info(0x24d, "big");
	assert_memory_equal(ram.bytes + MIB, data, sizeof(data));
	check_segments(im, segs, 1);
	free(im.bytes);
}

/* No room anywhere: refused in words, nothing written. */

int main(void)
{
	const struct CMUnitTest tests[] = {
		RAM_TEST(test_elf_segments_bss_entry),
		RAM_TEST(test_info_structure),
		RAM_TEST(test_info_other_ram_size_and_null_cmdline),
		RAM_TEST(test_module_placement),
		RAM_TEST(test_module_after_page_aligned_kernel_and_empty),
		RAM_TEST(test_aout_kludge),
		RAM_TEST(test_aout_to_end_of_file_no_bss),
		RAM_TEST(test_real_guests),
		cmocka_unit_test(test_header_search_window),
		RAM_TEST(test_info_kernel_at_0x8000),
		RAM_TEST(test_info_kernel_at_1mib),
		RAM_TEST(test_info_between_segments),
		RAM_TEST(test_info_kernel_fills_low_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

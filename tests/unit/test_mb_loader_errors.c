// SOURCES: guest/mb_loader.c kernel/lib/string.c kernel/lib/format.c
/*
 * The multiboot1 loader on broken kernels: each gives the error a user would
 * read (no header, bad checksum, unsupported flags, wrong class or machine,
 * segments beyond RAM or over the low areas, no room for the information,
 * truncated files, bad a.out fields, oversize arguments), and writes nothing.
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

static void test_error_no_header(void **state)
{
	(void)state;
	struct image im = make_elf();
	memset(im.bytes + ELF_TEXT_OFF, 0, 12);
	expect_error(im, MB_ERR_NO_HEADER, "no multiboot1 header");
	/* A header past the first 8 KiB does not count. */
	struct image big = { calloc(1, 0x3000), 0x3000 };
	put_mb_header(big.bytes, 0x2000, 0, NULL);
	expect_error(big, MB_ERR_NO_HEADER, "first 8192 bytes");
	free(big.bytes);
	free(im.bytes);
}

static void test_error_bad_checksum(void **state)
{
	(void)state;
	struct image im = make_elf();
	im.bytes[ELF_TEXT_OFF + 8] ^= 1;
	expect_error(im, MB_ERR_CHECKSUM, "checksum");
	free(im.bytes);
}

static void test_error_unsupported_flag(void **state)
{
	(void)state;
	struct image im = make_elf();
	put_mb_header(im.bytes, ELF_TEXT_OFF, MB_HFLAG_MEMINFO | (1u << 3), NULL);
	expect_error(im, MB_ERR_FLAGS, "requires features 0x8");
	free(im.bytes);
}

static void test_error_elf64(void **state)
{
	(void)state;
	struct image im = make_elf();
	im.bytes[EI_CLASS] = ELFCLASS64;
	expect_error(im, MB_ERR_FORMAT, "ELF64");
	free(im.bytes);
}

static void test_error_not_elf_nor_aout(void **state)
{
	(void)state;
	struct image im = make_elf();
	im.bytes[1] = 'X';
	expect_error(im, MB_ERR_FORMAT, "not an ELF file");
	free(im.bytes);
}

static void test_error_wrong_machine(void **state)
{
	(void)state;
	struct image im = make_elf();
	((Elf32_Ehdr *)im.bytes)->e_machine = EM_X86_64;
	expect_error(im, MB_ERR_FORMAT, "machine 62");
	free(im.bytes);
}

static void test_error_segment_beyond_ram(void **state)
{
	(void)state;
	struct image im = make_elf();
	elf_phdr(&im, 3)->p_paddr = RAM_BYTES - 0x1000;	/* BSS runs past the end */
	expect_error(im, MB_ERR_RANGE, "ELF segment 3 0xfff000-0x1000010 lies beyond guest RAM");
	elf_phdr(&im, 3)->p_paddr = 0xfffff000u;	/* and past 4 GiB */
	expect_error(im, MB_ERR_RANGE, "beyond guest RAM");
	free(im.bytes);
}

static void test_error_segment_over_low_areas(void **state)
{
	(void)state;
	struct image im = make_elf();
	elf_phdr(&im, 1)->p_paddr = 0xb8000;
	expect_error(im, MB_ERR_RANGE, "overlaps the reserved area below 1 MiB");
	elf_phdr(&im, 1)->p_paddr = 0xfff00;	/* straddles 1 MiB */
	expect_error(im, MB_ERR_RANGE, "overlaps the reserved area below 1 MiB");
	free(im.bytes);
}

static void test_error_no_room_for_info(void **state)
{
	(void)state;
	static const struct seg_spec segs[] = {
		{ 0x1000, 0x9e000 },
		{ 0x100000, RAM_BYTES - 0x100000 - 0x1000 }, /* a page short of the end */
	};
	struct image im = make_elf_segments(segs, 2);
	expect_error(im, MB_ERR_RANGE, "no room for the multiboot information (0x2000 bytes)");
	free(im.bytes);
}

static void test_error_entry_outside(void **state)
{
	(void)state;
	struct image im = make_elf();
	((Elf32_Ehdr *)im.bytes)->e_entry = 0x12345678;
	expect_error(im, MB_ERR_FORMAT, "entry point 0x12345678");
	free(im.bytes);
}

static void test_error_truncated(void **state)
{
	(void)state;
	struct image im = make_elf();
	struct image cut = { malloc(ELF_FILE_SIZE), 0 };
	memcpy(cut.bytes, im.bytes, ELF_FILE_SIZE);

	cut.len = ELF_FILE_SIZE - 1;	/* the data segment's last byte */
	expect_error(cut, MB_ERR_TRUNCATED, "ELF segment 3 needs file bytes 0x300-0x380");
	/* Program headers past the end of the file (the header moved up to stay inside). */
	((Elf32_Ehdr *)cut.bytes)->e_phoff = 0x370;
	cut.len = ELF_FILE_SIZE;
	expect_error(cut, MB_ERR_TRUNCATED, "program headers end at 0x3f0");
	/* Shorter than an ELF header, multiboot header still in it. */
	struct image tiny = { calloc(1, 40), 40 };
	memcpy(tiny.bytes, ELFMAG, SELFMAG);
	put_mb_header(tiny.bytes, 16, 0, NULL);
	expect_error(tiny, MB_ERR_TRUNCATED, "shorter than an ELF header");
	/* An a.out kludge whose load_end_addr runs past the file. */
	struct image aout = make_aout(AOUT_LOAD + AOUT_FILE_SIZE + 4, 0);
	expect_error(aout, MB_ERR_TRUNCATED, "a.out kludge loads 0x904 bytes");
	/* An a.out-kludge header cut off inside its address fields. */
	aout.len = AOUT_HDR_OFF + 20;
	expect_error(aout, MB_ERR_TRUNCATED, "address fields are cut off");
	free(aout.bytes);
	free(tiny.bytes);
	free(cut.bytes);
	free(im.bytes);
}

static void test_error_aout_fields(void **state)
{
	(void)state;
	struct image im = make_aout(AOUT_LOAD + AOUT_LOAD_SIZE, AOUT_LOAD + 0x10);
	expect_error(im, MB_ERR_FORMAT, "bss_end_addr 0x300010 below");
	free(im.bytes);
	im = make_aout(AOUT_LOAD - 4, 0);
	expect_error(im, MB_ERR_FORMAT, "load_end_addr 0x2ffffc below load_addr");
	free(im.bytes);
	/* header_addr - load_addr larger than the header's file offset. */
	uint32_t fields[5] = { AOUT_LOAD + 0x1000, AOUT_LOAD, 0, 0, AOUT_ENTRY };
	im = make_aout(0, 0);
	put_mb_header(im.bytes, AOUT_HDR_OFF, MB_HFLAG_AOUT_KLUDGE, fields);
	expect_error(im, MB_ERR_FORMAT, "do not fit the header's file offset");
	free(im.bytes);
	im = make_aout(AOUT_LOAD + 0x2000, 0);
	expect_error(im, MB_ERR_TRUNCATED, "truncated");
	free(im.bytes);
	im = make_aout(0, 0);
	uint32_t low[5] = { 0x9f800 + AOUT_HDR_OFF, 0x9f800, 0, 0, 0x9f900 };
	put_mb_header(im.bytes, AOUT_HDR_OFF, MB_HFLAG_AOUT_KLUDGE, low);
	expect_error(im, MB_ERR_RANGE, "a.out kludge image 0x9f800-0xa0100 overlaps the reserved");
	free(im.bytes);
}

static void test_error_cmdline_and_module(void **state)
{
	(void)state;
	struct image im = make_elf();
	char *cmd = malloc(MB_CMDLINE_MAX + 1);
	memset(cmd, 'a', MB_CMDLINE_MAX);
	cmd[MB_CMDLINE_MAX] = 0;
	assert_int_equal(mb_load(im.bytes, im.len, &mem, cmd, NULL, &entry, err, sizeof(err)),
			 MB_ERR_TOO_LONG);
	assert_non_null(strstr(err, "command line longer than 4095"));
	cmd[MB_CMDLINE_MAX - 1] = 0;	/* exactly the limit: fits */
	assert_int_equal(mb_load(im.bytes, im.len, &mem, cmd, NULL, &entry, err, sizeof(err)), 0);
	assert_string_equal(ram_str(MB_CMDLINE_ADDR), cmd);
	free(cmd);

	ram_setup(RAM_BYTES);
	static uint8_t big[RAM_BYTES];
	struct mb_module mod = { big, RAM_BYTES - 0x203000 + 1, "big" };
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", &mod, &entry, err, sizeof(err)),
			 MB_ERR_RANGE);
	assert_non_null(strstr(err, "module of 0xdfd001 bytes at 0x203000 does not fit"));
	assert_int_equal(ram.calls, 0);
	mod.len--;	/* up to the last byte of RAM: fits */
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", &mod, &entry, err, sizeof(err)), 0);
	assert_int_equal(entry.module_end, RAM_BYTES);
	free(im.bytes);
}

static void test_error_small_ram_and_args(void **state)
{
	(void)state;
	struct image im = make_elf();
	mem.ram_bytes = 2 * MIB - 1;
	expect_error(im, MB_ERR_RANGE, "at least 2 MiB");
	mem.ram_bytes = ram.size;
	assert_int_equal(mb_load(NULL, 0, &mem, "", NULL, &entry, err, sizeof(err)), MB_ERR_INVAL);
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", NULL, NULL, err, sizeof(err)),
			 MB_ERR_INVAL);
	/* No error buffer at all is allowed. */
	assert_int_equal(mb_load(im.bytes, 8, &mem, "", NULL, &entry, NULL, 0), MB_ERR_NO_HEADER);
	free(im.bytes);
}

static void test_error_memory_callback(void **state)
{
	(void)state;
	struct image im = make_elf();
	for (int fail = 1; fail <= 7; fail++) {
		ram_setup(RAM_BYTES);
		ram.fail_at = fail;
		int rc = mb_load(im.bytes, im.len, &mem, "", NULL, &entry, err, sizeof(err));
		assert_int_equal(rc, MB_ERR_MEM);
		assert_non_null(strstr(err, "guest memory at 0x"));
	}
	ram_setup(RAM_BYTES);
	ram.fail_at = 9;	/* past the last call: succeeds */
	assert_int_equal(mb_load(im.bytes, im.len, &mem, "", NULL, &entry, err, sizeof(err)), 0);
	assert_int_equal(ram.calls, 7);	/* 2 segments + 1 BSS + mmap, name, cmdline, info */
	free(im.bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RAM_TEST(test_error_no_header),
		RAM_TEST(test_error_bad_checksum),
		RAM_TEST(test_error_unsupported_flag),
		RAM_TEST(test_error_elf64),
		RAM_TEST(test_error_not_elf_nor_aout),
		RAM_TEST(test_error_wrong_machine),
		RAM_TEST(test_error_segment_beyond_ram),
		RAM_TEST(test_error_segment_over_low_areas),
		RAM_TEST(test_error_no_room_for_info),
		RAM_TEST(test_error_entry_outside),
		RAM_TEST(test_error_truncated),
		RAM_TEST(test_error_aout_fields),
		RAM_TEST(test_error_cmdline_and_module),
		RAM_TEST(test_error_small_ram_and_args),
		RAM_TEST(test_error_memory_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

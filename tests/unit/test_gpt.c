// SOURCES: kernel/blk/gpt.c kernel/lib/string.c kernel/lib/format.c
/*
 * GPT parsing on tables built in memory (512- and 4096-byte blocks): a good
 * table read whole, each kind of damage to the primary answered by the
 * backup, damage to both refused with the reason, hostile headers and
 * entries refused by name, read errors reported as such; names, GUIDs and
 * the CRC; and random corruption of a good table that never crashes (the
 * unit build runs under ASan and UBSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/blk/gpt.h"

struct disk {
	uint8_t *data;
	uint64_t blocks;
	uint32_t bs;
	int64_t fail_lba; /* -1: none; -2: every read fails */
	unsigned reads;
};

static int disk_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	struct disk *d = ctx;

	d->reads++;
	if (d->fail_lba == -2 || lba >= d->blocks || count > d->blocks - lba)
		return -1;
	if (d->fail_lba >= 0 && (uint64_t)d->fail_lba >= lba && (uint64_t)d->fail_lba < lba + count)
		return -1;
	memcpy(buf, d->data + lba * d->bs, (size_t)count * d->bs);
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

struct spec_part {
	unsigned slot; /* 1-based */
	uint64_t first, last;
	const char *name;
};

/* The layout a table was written with: where each copy's pieces lie. */
struct layout {
	uint32_t nentries, entry_size;
	uint64_t array_blocks, primary_array, backup_array, backup_hdr;
};

static const uint8_t linux_type[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
				       0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};

static uint8_t *hdr(struct disk *d, uint64_t lba)
{
	return d->data + lba * d->bs;
}

/* Recomputes a copy's array CRC (into its header) and then its header CRC. */
static void fix_crcs(struct disk *d, uint64_t hdr_lba)
{
	uint8_t *h = hdr(d, hdr_lba);
	uint64_t entries = get64(h + 72);
	uint32_t n = get32(h + 80), size = get32(h + 84), hsize = get32(h + 12);

	if ((uint64_t)n * size <= d->blocks * d->bs && entries < d->blocks &&
	    (uint64_t)n * size <= (d->blocks - entries) * d->bs)
		put32(h + 88, gpt_crc32(d->data + entries * d->bs, (size_t)n * size));
	put32(h + 16, 0);
	if (hsize <= d->bs)
		put32(h + 16, gpt_crc32(h, hsize));
}

static void write_entries(struct disk *d, uint64_t lba, const struct layout *l,
			  const struct spec_part *parts, unsigned nparts)
{
	uint8_t *a = d->data + lba * d->bs;

	memset(a, 0, l->array_blocks * d->bs);
	for (unsigned i = 0; i < nparts; i++) {
		uint8_t *e = a + (size_t)(parts[i].slot - 1) * l->entry_size;

		memcpy(e, linux_type, 16);
		for (int k = 0; k < 16; k++)
			e[16 + k] = (uint8_t)(parts[i].slot * 16 + k);
		put64(e + 32, parts[i].first);
		put64(e + 40, parts[i].last);
		for (size_t k = 0; parts[i].name[k] && k < 36; k++)
			put16(e + 56 + 2 * k, (uint8_t)parts[i].name[k]);
	}
}

static void write_header(struct disk *d, uint64_t lba, uint64_t alt, uint64_t entries,
			 const struct layout *l)
{
	uint8_t *h = hdr(d, lba);

	memset(h, 0, d->bs);
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, 92);
	put64(h + 24, lba);
	put64(h + 32, alt);
	put64(h + 40, l->primary_array + l->array_blocks);
	put64(h + 48, l->backup_array - 1);
	for (int k = 0; k < 16; k++)
		h[56 + k] = (uint8_t)(0xa0 + k);
	put64(h + 72, entries);
	put32(h + 80, l->nentries);
	put32(h + 84, l->entry_size);
	fix_crcs(d, lba);
}

/* A fresh disk of `blocks` blocks holding a whole GPT (both copies) with these partitions. */
static struct layout make_disk(struct disk *d, uint64_t blocks, uint32_t bs, uint32_t nentries,
			       uint32_t entry_size, const struct spec_part *parts,
			       unsigned nparts)
{
	struct layout l = {.nentries = nentries, .entry_size = entry_size};

	free(d->data);
	d->data = calloc(blocks, bs);
	assert_non_null(d->data);
	d->blocks = blocks;
	d->bs = bs;
	d->fail_lba = -1;
	d->reads = 0;
	l.array_blocks = ((uint64_t)nentries * entry_size + bs - 1) / bs;
	l.primary_array = 2;
	l.backup_hdr = blocks - 1;
	l.backup_array = blocks - 1 - l.array_blocks;
	write_entries(d, l.primary_array, &l, parts, nparts);
	write_entries(d, l.backup_array, &l, parts, nparts);
	write_header(d, 1, l.backup_hdr, l.primary_array, &l);
	write_header(d, l.backup_hdr, 1, l.backup_array, &l);
	return l;
}

static struct disk disk;
static struct gpt_table table;
static char why[256];

static enum gpt_result read_table(void)
{
	return gpt_read(disk_read, &disk, disk.blocks, disk.bs, &table, why, sizeof(why));
}

static const struct spec_part two[] = {
	{1, 2048, 4095, "vm-alpha"},
	{2, 4096, 8191, "vm-beta"},
};

static int teardown(void **state)
{
	(void)state;
	free(disk.data);
	disk.data = NULL;
	return 0;
}

static void check_two(uint64_t scale)
{
	assert_int_equal(table.nparts, 2);
	assert_int_equal(table.parts[0].number, 1);
	assert_int_equal(table.parts[0].first_lba, 2048 / scale);
	assert_int_equal(table.parts[0].last_lba, 4095 / scale);
	assert_string_equal(table.parts[0].name, "vm-alpha");
	assert_int_equal(table.parts[1].number, 2);
	assert_string_equal(table.parts[1].name, "vm-beta");
	assert_memory_equal(table.parts[0].type_guid, linux_type, 16);
	assert_int_equal(table.parts[1].uuid[0], 0x20);
	assert_int_equal(table.disk_guid[0], 0xa0);
}

static void test_good_table_512(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	assert_int_equal(read_table(), GPT_OK);
	check_two(1);
	assert_false(table.used_backup);
	assert_false(table.backup_damaged);
	assert_string_equal(why, "");
	assert_int_equal(table.first_usable, 34);
	assert_int_equal(table.last_usable, 16384 - 34);
}

static void test_good_table_4096(void **state)
{
	struct spec_part p[] = {{1, 256, 511, "vm-alpha"}, {2, 512, 1023, "vm-beta"}};

	(void)state;
	make_disk(&disk, 2048, 4096, 128, 128, p, 2);
	assert_int_equal(read_table(), GPT_OK);
	check_two(8);
	assert_int_equal(table.first_usable, 6); /* 16 KiB of entries: 4 blocks */
	assert_false(table.used_backup);
}

static void test_sparse_slots_and_big_entries(void **state)
{
	/* slots 3 and 7 only; 1 KiB entries: each starts a new 512-byte block pair */
	struct spec_part p[] = {{3, 100, 199, "three"}, {7, 300, 399, "seven"}};

	(void)state;
	make_disk(&disk, 4096, 512, 16, 1024, p, 2);
	assert_int_equal(read_table(), GPT_OK);
	assert_int_equal(table.nparts, 2);
	assert_int_equal(table.parts[0].number, 3);
	assert_int_equal(table.parts[1].number, 7);
	assert_string_equal(table.parts[1].name, "seven");
}

static void test_primary_header_crc_bad_uses_backup(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	hdr(&disk, 1)[40] ^= 1; /* FirstUsableLBA, CRC not fixed */
	assert_int_equal(read_table(), GPT_OK);
	check_two(1);
	assert_true(table.used_backup);
	assert_string_equal(why, "primary GPT damaged (header CRC mismatch): using the backup");
}

static void test_primary_array_crc_bad_uses_backup(void **state)
{
	(void)state;
	struct layout l = make_disk(&disk, 16384, 512, 128, 128, two, 2);
	disk.data[l.primary_array * 512 + 56] = 'X'; /* the first name's first letter */
	assert_int_equal(read_table(), GPT_OK);
	check_two(1);
	assert_true(table.used_backup);
	assert_string_equal(why, "primary GPT damaged (entry array CRC mismatch): using the backup");
}

static void test_primary_missing_uses_backup_4096(void **state)
{
	struct spec_part p[] = {{1, 256, 511, "vm-alpha"}, {2, 512, 1023, "vm-beta"}};

	(void)state;
	make_disk(&disk, 2048, 4096, 128, 128, p, 2);
	memset(hdr(&disk, 1), 0, 4096);
	assert_int_equal(read_table(), GPT_OK);
	check_two(8);
	assert_true(table.used_backup);
	assert_string_equal(why, "primary GPT missing (no GPT signature at LBA 1): using the backup");
}

static void test_backup_damaged_primary_used(void **state)
{
	(void)state;
	struct layout l = make_disk(&disk, 16384, 512, 128, 128, two, 2);
	disk.data[l.backup_array * 512 + 3] ^= 0xff;
	assert_int_equal(read_table(), GPT_OK);
	check_two(1);
	assert_false(table.used_backup);
	assert_true(table.backup_damaged);
	assert_string_equal(why, "backup GPT damaged (entry array CRC mismatch): using the primary");

	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	memset(hdr(&disk, 16383), 0, 512);
	assert_int_equal(read_table(), GPT_OK);
	assert_true(table.backup_damaged);
	assert_string_equal(why, "backup GPT missing (no GPT signature at LBA 16383): using the "
				 "primary");
}

static void test_copies_that_differ(void **state)
{
	(void)state;
	struct layout l = make_disk(&disk, 16384, 512, 128, 128, two, 2);
	disk.data[l.backup_array * 512 + 56] = 'Y';
	fix_crcs(&disk, l.backup_hdr);
	assert_int_equal(read_table(), GPT_OK);
	assert_string_equal(table.parts[0].name, "vm-alpha"); /* the primary's */
	assert_true(table.backup_damaged);
	assert_string_equal(why, "the backup GPT differs from the primary: using the primary");
}

static void test_both_bad_refused_with_reason(void **state)
{
	(void)state;
	struct layout l = make_disk(&disk, 16384, 512, 128, 128, two, 2);
	hdr(&disk, 1)[40] ^= 1;
	disk.data[l.backup_array * 512 + 3] ^= 0xff;
	assert_int_equal(read_table(), GPT_BAD);
	assert_int_equal(table.nparts, 0);
	assert_string_equal(why, "primary GPT: header CRC mismatch; backup GPT: entry array CRC "
				 "mismatch");
}

static void test_no_gpt(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	memset(disk.data, 0, (size_t)16384 * 512);
	assert_int_equal(read_table(), GPT_NONE);
	assert_string_equal(why, "no GPT");
	disk.blocks = 5;
	assert_int_equal(read_table(), GPT_NONE);
	assert_string_equal(why, "the disk (5 blocks) is too small for a GPT");
	assert_int_equal(gpt_read(disk_read, &disk, 16384, 1000, &table, why, sizeof(why)),
			 GPT_BAD);
	assert_string_equal(why, "block size 1000 is not 512..4096");
}

/* Writes both copies' entries as given, with good CRCs: only the content is wrong. */
static void both_copies(const struct spec_part *p, unsigned n)
{
	struct layout l = make_disk(&disk, 16384, 512, 128, 128, p, n);
	(void)l;
}

static void test_overlapping_partitions(void **state)
{
	struct spec_part p[] = {{1, 2048, 4095, "a"}, {2, 8192, 9000, "b"}, {3, 4000, 5000, "c"}};

	(void)state;
	both_copies(p, 3);
	assert_int_equal(read_table(), GPT_BAD);
	assert_string_equal(why, "primary GPT: partitions 1 (LBA 2048..4095) and 3 (LBA 4000..5000) "
				 "overlap; backup GPT: partitions 1 (LBA 2048..4095) and 3 (LBA "
				 "4000..5000) overlap");
	/* touching is not overlapping */
	struct spec_part q[] = {{1, 2048, 4095, "a"}, {2, 4096, 4096, "b"}};
	both_copies(q, 2);
	assert_int_equal(read_table(), GPT_OK);
	/* the same range twice */
	struct spec_part r[] = {{1, 2048, 4095, "a"}, {2, 2048, 4095, "b"}};
	both_copies(r, 2);
	assert_int_equal(read_table(), GPT_BAD);
}

static void test_entry_outside_usable_range(void **state)
{
	struct spec_part low[] = {{1, 33, 4095, "a"}};
	struct spec_part high[] = {{1, 2048, 16351, "a"}};
	struct spec_part huge[] = {{1, 2048, UINT64_MAX, "a"}};

	(void)state;
	both_copies(low, 1);
	assert_int_equal(read_table(), GPT_BAD);
	assert_non_null(strstr(why, "partition 1 (LBA 33..4095) outside the usable LBAs 34..16350"));
	both_copies(high, 1);
	assert_int_equal(read_table(), GPT_BAD);
	assert_non_null(strstr(why, "partition 1 (LBA 2048..16351) outside the usable LBAs"));
	both_copies(huge, 1);
	assert_int_equal(read_table(), GPT_BAD);
	assert_non_null(strstr(why, "outside the usable LBAs"));
}

static void test_first_after_last(void **state)
{
	struct spec_part p[] = {{2, 4096, 4095, "a"}};

	(void)state;
	both_copies(p, 1);
	assert_int_equal(read_table(), GPT_BAD);
	assert_non_null(strstr(why, "primary GPT: partition 2: first LBA 4096 > last LBA 4095"));
}

/* Sets a 32- or 64-bit header field in both copies and fixes their CRCs. */
static void set_field(unsigned off, unsigned width, uint64_t v)
{
	for (int c = 0; c < 2; c++) {
		uint64_t lba = c ? disk.blocks - 1 : 1;
		if (width == 4)
			put32(hdr(&disk, lba) + off, (uint32_t)v);
		else
			put64(hdr(&disk, lba) + off, v);
		fix_crcs(&disk, lba);
	}
}

static void expect_bad(const char *primary_reason)
{
	char want[200];

	assert_int_equal(read_table(), GPT_BAD);
	snprintf(want, sizeof(want), "primary GPT: %s;", primary_reason);
	if (strncmp(why, want, strlen(want)) != 0)
		fail_msg("why: \"%s\", want it to start \"%s\"", why, want);
}

static void test_huge_entry_count(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(80, 4, 0xffffffffu);
	expect_bad("4294967295 partition entries, more than 128");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(80, 4, 129);
	expect_bad("129 partition entries, more than 128");
	/* fewer entries than written: the CRC covers only those, the rest is ignored */
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(80, 4, 1);
	assert_int_equal(read_table(), GPT_OK);
	assert_int_equal(table.nparts, 1);
	/* none at all: a GPT with no partitions */
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(80, 4, 0);
	assert_int_equal(read_table(), GPT_OK);
	assert_int_equal(table.nparts, 0);
}

static void test_entry_sizes(void **state)
{
	static const uint32_t bad[] = {0, 1, 64, 100, 129, 192, 384, 0x80000080u};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char reason[80];

		make_disk(&disk, 16384, 512, 128, 128, two, 2);
		set_field(84, 4, bad[i]);
		snprintf(reason, sizeof(reason), "partition entry size %u is not 128 x 2^n", bad[i]);
		expect_bad(reason);
	}
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(84, 4, 8192);
	expect_bad("partition entry size 8192 is larger than 4096");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(84, 4, 0x80000000u); /* 128 x 2^24 */
	expect_bad("partition entry size 2147483648 is larger than 4096");
	/* 256-byte entries laid out as such are fine */
	make_disk(&disk, 16384, 512, 128, 256, two, 2);
	assert_int_equal(read_table(), GPT_OK);
	check_two(1);
}

static void test_header_size(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(12, 4, 91);
	expect_bad("header size 91 outside 92..512");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(12, 4, 513);
	expect_bad("header size 513 outside 92..512");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(12, 4, 0xffffffffu);
	expect_bad("header size 4294967295 outside 92..512");
	/* the whole block is allowed, and covered by the CRC */
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(12, 4, 512);
	assert_int_equal(read_table(), GPT_OK);
}

static void test_my_lba_and_alternate(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	put64(hdr(&disk, 1) + 24, 5);
	fix_crcs(&disk, 1);
	assert_int_equal(read_table(), GPT_OK); /* the backup still is whole */
	assert_true(table.used_backup);
	assert_string_equal(why, "primary GPT damaged (the header says it lies at LBA 5, not 1): "
				 "using the backup");
	set_field(24, 8, 5);
	expect_bad("the header says it lies at LBA 5, not 1");
	assert_non_null(strstr(why, "backup GPT: the header says it lies at LBA 5, not 16383"));

	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	put64(hdr(&disk, 1) + 32, 99999);
	fix_crcs(&disk, 1);
	put64(hdr(&disk, 16383) + 32, 7);
	fix_crcs(&disk, 16383);
	expect_bad("backup header LBA 99999 outside the disk (LBA 2..16383)");
	assert_non_null(strstr(why, "backup GPT: the backup header names LBA 7 as the primary's, "
				    "not 1"));
}

static void test_usable_range_and_array_place(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(40, 8, 9000);
	set_field(48, 8, 8000);
	expect_bad("first usable LBA 9000 > last usable LBA 8000");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(48, 8, UINT64_MAX);
	expect_bad("usable LBAs 34..18446744073709551615 not inside LBA 2..16382");
	/* the array pointed into the usable range, and past the disk's end (with a wrap) */
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(72, 8, 100);
	expect_bad("the entry array (LBA 100..131) overlaps the usable LBAs or its header");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(72, 8, UINT64_MAX - 3);
	expect_bad("the entry array (32 blocks at LBA 18446744073709551612) is not inside "
		   "LBA 2..16383");
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	set_field(72, 8, 16380);
	expect_bad("the entry array (32 blocks at LBA 16380) is not inside LBA 2..16383");
}

static void test_grown_disk(void **state)
{
	(void)state;
	/* a 8192-block image written to a 16384-block disk: the backup sits mid-disk */
	struct spec_part p[] = {{1, 2048, 4095, "vm-alpha"}};
	make_disk(&disk, 8192, 512, 128, 128, p, 1);
	uint8_t *big = calloc(16384, 512);
	memcpy(big, disk.data, (size_t)8192 * 512);
	free(disk.data);
	disk.data = big;
	disk.blocks = 16384;
	assert_int_equal(read_table(), GPT_OK);
	assert_false(table.backup_damaged);
	assert_string_equal(why, "the backup GPT is at LBA 8191, not at the disk's end (LBA 16383): "
				 "the disk grew?");
}

static void test_read_errors(void **state)
{
	(void)state;
	make_disk(&disk, 16384, 512, 128, 128, two, 2);
	disk.fail_lba = -2;
	assert_int_equal(read_table(), GPT_IOERR);
	assert_string_equal(why, "read error at LBA 1");
	/* only the primary header unreadable: the backup answers */
	disk.fail_lba = 1;
	assert_int_equal(read_table(), GPT_OK);
	assert_true(table.used_backup);
	assert_string_equal(why, "primary GPT unreadable (read error at LBA 1): using the backup");
	/* a block of the primary's array unreadable, and of the backup's */
	disk.fail_lba = 5;
	assert_int_equal(read_table(), GPT_OK);
	assert_true(table.used_backup);
	disk.fail_lba = 16383 - 32 + 4;
	assert_int_equal(read_table(), GPT_OK);
	assert_true(table.backup_damaged);
	assert_string_equal(why, "backup GPT unreadable (read error at LBA 16355): using the "
				 "primary");
	/* primary damaged and the backup unreadable: an I/O error, not a bad table */
	hdr(&disk, 1)[40] ^= 1;
	disk.fail_lba = 16383;
	assert_int_equal(read_table(), GPT_IOERR);
	assert_string_equal(why, "read error at LBA 16383");
}

static void test_names(void **state)
{
	(void)state;
	struct layout l = make_disk(&disk, 16384, 512, 128, 128, two, 2);
	for (uint64_t a = 0; a < 2; a++) {
		uint8_t *n = disk.data + (a ? l.backup_array : l.primary_array) * 512 + 56;
		memset(n, 0, 72);
		/* "é-x" then a surrogate pair (U+1F600) then "!" */
		put16(n + 0, 0x00e9);
		put16(n + 2, '-');
		put16(n + 4, 'x');
		put16(n + 6, 0xd83d);
		put16(n + 8, 0xde00);
		put16(n + 10, '!');
		put16(n + 12, 0x0007);
		/* the second entry: all 36 units, no terminator */
		n += 128;
		for (int k = 0; k < 36; k++)
			put16(n + 2 * k, (uint16_t)('a' + k % 26));
	}
	fix_crcs(&disk, 1);
	fix_crcs(&disk, 16383);
	assert_int_equal(read_table(), GPT_OK);
	assert_string_equal(table.parts[0].name, "?-x?!?");
	assert_string_equal(table.parts[1].name, "abcdefghijklmnopqrstuvwxyzabcdefghij");
}

static void test_guid_text(void **state)
{
	/* Linux filesystem data: 0FC63DAF-8483-4772-8E79-3D69D8477DE4 */
	char text[40];
	uint8_t g[16];

	(void)state;
	gpt_guid_format(linux_type, text, sizeof(text));
	assert_string_equal(text, "0fc63daf-8483-4772-8e79-3d69d8477de4");
	assert_true(gpt_guid_parse("0FC63DAF-8483-4772-8E79-3D69D8477DE4", g));
	assert_memory_equal(g, linux_type, 16);
	for (int i = 0; i < 200; i++) {
		uint8_t r[16], back[16];
		for (int k = 0; k < 16; k++)
			r[k] = (uint8_t)rand();
		gpt_guid_format(r, text, sizeof(text));
		assert_int_equal(strlen(text), 36);
		assert_true(gpt_guid_parse(text, back));
		assert_memory_equal(r, back, 16);
	}
	memset(g, 0x55, 16);
	assert_false(gpt_guid_parse("0fc63daf-8483-4772-8e79-3d69d8477de", g));
	assert_false(gpt_guid_parse("0fc63daf-8483-4772-8e79-3d69d8477de44", g));
	assert_false(gpt_guid_parse("0fc63daf+8483-4772-8e79-3d69d8477de4", g));
	assert_false(gpt_guid_parse("0fc63dag-8483-4772-8e79-3d69d8477de4", g));
	assert_false(gpt_guid_parse("{fc63daf-8483-4772-8e79-3d69d8477de4", g));
	assert_false(gpt_guid_parse("", g));
	assert_int_equal(g[0], 0x55); /* untouched when malformed */
	/* a short buffer is cut, never overrun */
	gpt_guid_format(linux_type, text, 9);
	assert_string_equal(text, "0fc63daf");
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(gpt_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(gpt_crc32("", 0), 0);
}

/* Whatever the corruption, the answer is one of the four and an OK table is sane. */
static void check_sane(enum gpt_result r)
{
	assert_true(r == GPT_OK || r == GPT_NONE || r == GPT_BAD || r == GPT_IOERR);
	assert_true(strlen(why) < sizeof(why));
	if (r != GPT_OK) {
		assert_int_equal(table.nparts, 0);
		assert_true(why[0] != 0);
		return;
	}
	assert_true(table.nparts <= GPT_MAX_PARTS);
	assert_true(table.first_usable <= table.last_usable);
	assert_true(table.last_usable < disk.blocks);
	for (unsigned i = 0; i < table.nparts; i++) {
		const struct gpt_part *p = &table.parts[i];
		assert_true(p->number >= 1 && p->number <= GPT_MAX_ENTRIES);
		assert_true(p->first_lba <= p->last_lba);
		assert_true(p->first_lba >= table.first_usable && p->last_lba <= table.last_usable);
		assert_true(strlen(p->name) <= GPT_NAME_MAX);
		for (unsigned j = 0; j < i; j++)
			assert_true(p->last_lba < table.parts[j].first_lba ||
				    p->first_lba > table.parts[j].last_lba);
	}
}

static void test_random_corruption_never_crashes(void **state)
{
	static const unsigned fields[] = {12, 24, 32, 40, 48, 72, 80, 84, 88};
	uint32_t seed = 12345;

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		uint32_t bs = iter & 1 ? 4096 : 512;
		uint64_t blocks = bs == 512 ? 16384 : 2048;
		struct spec_part p[] = {{1, bs == 512 ? 2048 : 256, bs == 512 ? 4095 : 511, "a"},
					{2, bs == 512 ? 4096 : 512, bs == 512 ? 8191 : 1023, "b"}};
		make_disk(&disk, blocks, bs, 128, 128, p, 2);
		seed = seed * 1103515245u + 12345u;
		int flips = 1 + (int)(seed >> 28);
		for (int f = 0; f < flips; f++) {
			seed = seed * 1103515245u + 12345u;
			/* the first and last 40 blocks hold both copies */
			uint64_t span = 40ull * bs, off = (seed >> 4) % span;
			if (seed & 1)
				off = blocks * bs - 1 - off;
			disk.data[off] ^= (uint8_t)(1u << (seed >> 29));
		}
		if (iter % 3 == 0) {
			/* a field set to a hostile value with the CRCs made good again */
			seed = seed * 1103515245u + 12345u;
			unsigned fld = fields[(seed >> 8) % (sizeof(fields) / sizeof(fields[0]))];
			uint64_t v = (uint64_t)seed << 32 | (seed * 7u);
			if (seed & 2)
				v &= 0xffff;
			set_field(fld, fld >= 80 || fld <= 16 ? 4 : 8, v);
		}
		if (iter % 7 == 0) {
			seed = seed * 1103515245u + 12345u;
			disk.fail_lba = (int64_t)(seed % blocks);
		}
		check_sane(read_table());
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_good_table_512, teardown),
		cmocka_unit_test_teardown(test_good_table_4096, teardown),
		cmocka_unit_test_teardown(test_sparse_slots_and_big_entries, teardown),
		cmocka_unit_test_teardown(test_primary_header_crc_bad_uses_backup, teardown),
		cmocka_unit_test_teardown(test_primary_array_crc_bad_uses_backup, teardown),
		cmocka_unit_test_teardown(test_primary_missing_uses_backup_4096, teardown),
		cmocka_unit_test_teardown(test_backup_damaged_primary_used, teardown),
		cmocka_unit_test_teardown(test_copies_that_differ, teardown),
		cmocka_unit_test_teardown(test_both_bad_refused_with_reason, teardown),
		cmocka_unit_test_teardown(test_no_gpt, teardown),
		cmocka_unit_test_teardown(test_overlapping_partitions, teardown),
		cmocka_unit_test_teardown(test_entry_outside_usable_range, teardown),
		cmocka_unit_test_teardown(test_first_after_last, teardown),
		cmocka_unit_test_teardown(test_huge_entry_count, teardown),
		cmocka_unit_test_teardown(test_entry_sizes, teardown),
		cmocka_unit_test_teardown(test_header_size, teardown),
		cmocka_unit_test_teardown(test_my_lba_and_alternate, teardown),
		cmocka_unit_test_teardown(test_usable_range_and_array_place, teardown),
		cmocka_unit_test_teardown(test_grown_disk, teardown),
		cmocka_unit_test_teardown(test_read_errors, teardown),
		cmocka_unit_test_teardown(test_names, teardown),
		cmocka_unit_test(test_guid_text),
		cmocka_unit_test(test_crc32),
		cmocka_unit_test_teardown(test_random_corruption_never_crashes, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

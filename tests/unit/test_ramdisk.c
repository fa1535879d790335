// SOURCES: kernel/blk/ramdisk.c kernel/blk/blk_check.c kernel/blk/disk_claim.c kernel/lib/string.c kernel/lib/format.c
/*
 * A RAM disk driven as virtio-blk drives it: requests of guest-memory segments, each
 * completed inside submit, with the data in the module's bytes and in guest RAM where a
 * real disk would put it; and the rule that shares boot modules between VMs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/blk/disk_claim.h"
#include "kernel/blk/ramdisk.h"

/* Guest RAM: 64 KiB at GPA 0x100000; anything else is not RAM. */
#define GUEST_BASE 0x100000ull
#define GUEST_SIZE 0x10000ull
static uint8_t guest[GUEST_SIZE];

static bool in_guest(uint64_t gpa, size_t len)
{
	return gpa >= GUEST_BASE && len <= GUEST_SIZE && gpa - GUEST_BASE <= GUEST_SIZE - len;
}

static int guest_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (!in_guest(gpa, len))
		return -1;
	memcpy(dst, guest + (gpa - GUEST_BASE), len);
	return 0;
}

static int guest_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	if (!in_guest(gpa, len))
		return -1;
	memcpy(guest + (gpa - GUEST_BASE), src, len);
	return 0;
}

static const struct blk_guest_mem mem = {.read = guest_read, .write = guest_write};

/* The module: 16 sectors and 100 bytes of tail that the disk must never touch. */
#define MODULE_BYTES (16 * 512 + 100)
static uint8_t module[MODULE_BYTES];
static struct ramdisk rd;

static int completions, last_status;

static void done(struct blk_request *r, int status)
{
	(void)r;
	completions++;
	last_status = status;
}

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(module); i++)
		module[i] = (uint8_t)(i * 7 + 3);
	memset(guest, 0xee, sizeof(guest));
	completions = 0;
	assert_int_equal(ramdisk_init(&rd, "ram:/boot/root.img", module, sizeof(module), false), 0);
	return 0;
}

/* Submits one request; checks it completed exactly once inside submit; returns its status. */
static int submit(enum blk_op op, uint64_t sector, uint64_t nsectors, const struct blk_seg *segs,
		  unsigned nseg)
{
	struct blk_request r = { .op = op, .sector = sector, .nsectors = nsectors,
				 .segs = segs, .nseg = nseg, .mem = &mem, .done = done };
	int before = completions;

	rd.dev.ops->submit(&rd.dev, &r);
	assert_int_equal(completions, before + 1);
	return last_status;
}

static void test_geometry(void **state)
{
	struct ramdisk small;

	(void)state;
	assert_int_equal(rd.dev.sectors, 16); /* the 100-byte tail is not part of the disk */
	assert_int_equal(rd.dev.block_size, 512);
	assert_false(rd.dev.read_only);
	assert_false(rd.dev.volatile_cache);
	assert_true(rd.dev.can_discard && rd.dev.can_write_zeroes);
	assert_string_equal(rd.dev.name, "ram:/boot/root.img");
	assert_ptr_equal(rd.dev.priv, &rd);
	assert_int_equal(ramdisk_init(&small, "tiny", module, 511, false), -1);
	assert_int_equal(ramdisk_init(&small, "one", module, 512, true), 0);
	assert_int_equal(small.dev.sectors, 1);
	assert_true(small.dev.read_only);
	/* a long name is cut to fit, NUL-terminated */
	assert_int_equal(ramdisk_init(&small, "ram:/boot/a/very/long/path/to/a/disk/image.img",
				      module, 4096, false), 0);
	assert_int_equal(strlen(small.dev.name), BLK_NAME_LEN - 1);
}

static void test_read_scatters_into_guest_segments(void **state)
{
	/* sectors 2-4 (1536 bytes) into three segments of 100, 1000 and 436 bytes */
	const struct blk_seg segs[] = { { GUEST_BASE + 0x3000, 100 },
					{ GUEST_BASE + 0x100, 1000 },
					{ GUEST_BASE + 0x8000, 436 } };

	(void)state;
	assert_int_equal(submit(BLK_OP_READ, 2, 3, segs, 3), BLK_OK);
	assert_memory_equal(guest + 0x3000, module + 1024, 100);
	assert_memory_equal(guest + 0x100, module + 1124, 1000);
	assert_memory_equal(guest + 0x8000, module + 2124, 436);
	assert_int_equal(guest[0xff], 0xee); /* nothing outside the segments */
	assert_int_equal(guest[0x100 + 1000], 0xee);
	assert_int_equal(rd.dev.stats.reads, 1);
	assert_int_equal(rd.dev.stats.bytes_read, 1536);
	assert_int_equal(rd.dev.stats.errors, 0);
}

static void test_write_gathers_and_persists(void **state)
{
	const struct blk_seg segs[] = { { GUEST_BASE + 0x2000, 512 }, { GUEST_BASE, 512 } };
	const struct blk_seg back = { GUEST_BASE + 0x4000, 1024 };

	(void)state;
	memset(guest + 0x2000, 0xaa, 512);
	memset(guest, 0x55, 512);
	assert_int_equal(submit(BLK_OP_WRITE, 15, 2, segs, 2), BLK_ERANGE); /* 15-16: past 16 */
	assert_int_equal(submit(BLK_OP_WRITE, 14, 2, segs, 2), BLK_OK);
	assert_int_equal(module[14 * 512], 0xaa);
	assert_int_equal(module[15 * 512 + 511], 0x55);
	assert_int_equal(module[16 * 512], (uint8_t)(16 * 512 * 7 + 3)); /* the tail is not the disk's */
	assert_int_equal(submit(BLK_OP_READ, 14, 2, &back, 1), BLK_OK);
	assert_memory_equal(guest + 0x4000, module + 14 * 512, 1024);
	assert_int_equal(rd.dev.stats.writes, 1);
	assert_int_equal(rd.dev.stats.bytes_written, 1024);
	assert_int_equal(rd.dev.stats.errors, 1);
}

static void test_bad_requests(void **state)
{
	const struct blk_seg seg = { GUEST_BASE, 512 };
	const struct blk_seg outside = { GUEST_BASE + GUEST_SIZE - 256, 512 };
	const struct blk_seg two[] = { { GUEST_BASE, 512 }, { 0xdead0000, 512 } };
	uint8_t before[sizeof(module)];

	(void)state;
	memcpy(before, module, sizeof(module));
	assert_int_equal(submit(BLK_OP_READ, 16, 1, &seg, 1), BLK_ERANGE);
	assert_int_equal(submit(BLK_OP_READ, UINT64_MAX, 1, &seg, 1), BLK_ERANGE);
	/* the segments (512 bytes) do not make UINT64_MAX sectors: refused before the range */
	assert_int_equal(submit(BLK_OP_READ, 1, UINT64_MAX, &seg, 1), BLK_EIO);
	assert_int_equal(submit(BLK_OP_DISCARD, 8, UINT64_MAX - 4, NULL, 0), BLK_ERANGE);
	assert_int_equal(submit(BLK_OP_READ, 0, 2, &seg, 1), BLK_EIO); /* segments != nsectors */
	assert_int_equal(submit(BLK_OP_READ, 0, 1, &outside, 1), BLK_EIO); /* not guest RAM */
	/* a write whose second segment is not RAM: the first sector went, the request failed */
	memset(guest, 0x11, 512);
	assert_int_equal(submit(BLK_OP_WRITE, 3, 2, two, 2), BLK_EIO);
	assert_int_equal(module[3 * 512], 0x11);
	assert_memory_equal(module + 4 * 512, before + 4 * 512, 512);
	assert_int_equal(submit((enum blk_op)77, 0, 0, NULL, 0), BLK_ENOTSUP);
	assert_int_equal(rd.dev.stats.errors, 8);
}

static void test_read_only(void **state)
{
	const struct blk_seg seg = { GUEST_BASE, 512 };
	uint8_t before[sizeof(module)];

	(void)state;
	memcpy(before, module, sizeof(module));
	rd.dev.read_only = true;
	memset(guest, 0x77, 512);
	assert_int_equal(submit(BLK_OP_WRITE, 0, 1, &seg, 1), BLK_EROFS);
	assert_int_equal(submit(BLK_OP_DISCARD, 0, 1, NULL, 0), BLK_EROFS);
	assert_int_equal(submit(BLK_OP_WRITE_ZEROES, 0, 16, NULL, 0), BLK_EROFS);
	assert_memory_equal(module, before, sizeof(module));
	assert_int_equal(submit(BLK_OP_READ, 0, 1, &seg, 1), BLK_OK);
	assert_int_equal(submit(BLK_OP_FLUSH, 0, 0, NULL, 0), BLK_OK);
	assert_int_equal(rd.dev.stats.errors, 3);
}

static void test_flush_discard_write_zeroes(void **state)
{
	const struct blk_seg seg = { GUEST_BASE, 1024 };

	(void)state;
	assert_int_equal(submit(BLK_OP_FLUSH, 0, 0, NULL, 0), BLK_OK);
	assert_int_equal(rd.dev.stats.flushes, 1);
	assert_int_equal(submit(BLK_OP_DISCARD, 1, 2, NULL, 0), BLK_OK);
	assert_int_equal(submit(BLK_OP_READ, 1, 2, &seg, 1), BLK_OK);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(guest[i], 0);
	assert_int_equal(module[512 - 1], (uint8_t)(511 * 7 + 3)); /* sector 0 untouched */
	assert_int_equal(module[3 * 512], (uint8_t)(3 * 512 * 7 + 3)); /* sector 3 untouched */
	assert_int_equal(submit(BLK_OP_WRITE_ZEROES, 0, 16, NULL, 0), BLK_OK);
	for (unsigned i = 0; i < 16 * 512; i++)
		assert_int_equal(module[i], 0);
	assert_int_equal(module[16 * 512], (uint8_t)(16 * 512 * 7 + 3));
	assert_int_equal(rd.dev.stats.discards, 1);
	assert_int_equal(rd.dev.stats.writes, 1);
	assert_int_equal(rd.dev.stats.bytes_written, 16 * 512);
	rd.dev.can_discard = false; /* a device without discard says so */
	assert_int_equal(submit(BLK_OP_DISCARD, 0, 1, NULL, 0), BLK_ENOTSUP);
}

static void test_sharing_rule(void **state)
{
	static struct disk_claims t;
	char err[160];
	int web, db1, db2, other;

	(void)state;
	memset(&t, 0, sizeof(t));
	web = disk_claim_take(&t, "/boot/root.img", "web-1", true, err, sizeof(err));
	assert_true(web >= 0);
	assert_int_equal(disk_claim_take(&t, "/boot/root.img", "web-2", true, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target /boot/root.img is in use read-write by VM web-1");
	assert_int_equal(disk_claim_take(&t, "/boot/root.img", "web-2", false, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target /boot/root.img is in use read-write by VM web-1");
	other = disk_claim_take(&t, "/boot/data.img", "web-2", true, err, sizeof(err));
	assert_true(other >= 0);

	/* destroyed: the target is free again, for readers as for a writer */
	disk_claim_release(&t, web);
	db1 = disk_claim_take(&t, "/boot/root.img", "db-1", false, err, sizeof(err));
	db2 = disk_claim_take(&t, "/boot/root.img", "db-2", false, err, sizeof(err));
	assert_true(db1 >= 0 && db2 >= 0 && db1 != db2);
	assert_int_equal(disk_claim_holders(&t, "/boot/root.img"), 2);
	assert_int_equal(disk_claim_take(&t, "/boot/root.img", "web-1", true, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target /boot/root.img is in use read-only by VM db-1");
	disk_claim_release(&t, db1);
	disk_claim_release(&t, db2);
	disk_claim_release(&t, -1); /* never attached: nothing */
	assert_int_equal(disk_claim_holders(&t, "/boot/root.img"), 0);
	assert_true(disk_claim_take(&t, "/boot/root.img", "web-1", true, err, sizeof(err)) >= 0);

	/* the table is finite, and says so */
	memset(&t, 0, sizeof(t));
	for (int i = 0; i < DISK_CLAIMS_MAX; i++)
		assert_int_equal(disk_claim_take(&t, "/boot/ro.img", "vm", false, err, sizeof(err)), i);
	assert_int_equal(disk_claim_take(&t, "/boot/ro.img", "vm", false, err, sizeof(err)), -1);
	assert_string_equal(err, "disk target /boot/ro.img: too many disks attached (at most 128)");
}

/* Host disks: claims are sector ranges on a device, conflicting only where they overlap. */
static void test_claims_overlap_by_range(void **state)
{
	static struct disk_claims t;
	char err[160], users[80];
	int p2, p3, whole;

	(void)state;
	memset(&t, 0, sizeof(t));
	/* nvme0n1p2 = sectors 2048..4095, nvme0n1p3 = 4096..8191 */
	p2 = disk_claim_take_range(&t, "nvme0n1p2", "nvme0n1", 2048, 2048, "web", true, err,
				   sizeof(err));
	assert_true(p2 >= 0);
	p3 = disk_claim_take_range(&t, "nvme0n1p3", "nvme0n1", 4096, 4096, "db", true, err,
				   sizeof(err));
	assert_true(p3 >= 0); /* touching, not overlapping */
	assert_int_equal(disk_claim_take_range(&t, "nvme0n1p2", "nvme0n1", 2048, 2048, "db2",
					       false, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target nvme0n1p2 is in use read-write by VM web");
	/* the whole disk overlaps both; even read-only it is refused while they write */
	assert_int_equal(disk_claim_take_range(&t, "nvme0n1", "nvme0n1", 0, 1u << 20, "backup",
					       false, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target nvme0n1 overlaps nvme0n1p2, in use read-write by VM "
				 "web");
	/* the same sectors on another disk are another disk's */
	assert_true(disk_claim_take_range(&t, "sda2", "sda", 2048, 2048, "web", true, err,
					  sizeof(err)) >= 0);
	/* a range ending at 2^64 - 1 and one wrapping past it still meet */
	assert_true(disk_claim_take_range(&t, "weird2", "nvme0n1", UINT64_MAX - 5, 5, "y", true, err,
					  sizeof(err)) >= 0);
	assert_int_equal(disk_claim_take_range(&t, "weird", "nvme0n1", UINT64_MAX - 1, 10, "x",
					       true, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target weird overlaps weird2, in use read-write by VM y");
	/* an empty range meets nothing */
	assert_true(disk_claim_take_range(&t, "none", "nvme0n1", 3000, 0, "z", true, err,
					  sizeof(err)) >= 0);

	assert_int_equal(disk_claim_users(&t, "nvme0n1", 0, UINT64_MAX, users, sizeof(users)), 3);
	assert_string_equal(users, "web (rw), db (rw), y (rw)");
	assert_int_equal(disk_claim_users(&t, "nvme0n1", 4000, 96, users, sizeof(users)), 1);
	assert_string_equal(users, "web (rw)");
	assert_int_equal(disk_claim_users(&t, "nvme0n1", 9000, 10, users, sizeof(users)), 0);
	assert_string_equal(users, "");
	assert_int_equal(disk_claim_users(&t, "nvme0n1", 0, UINT64_MAX, users, 10), 3);
	assert_string_equal(users, "web (rw),"); /* cut to fit */

	/* both released: the whole disk is free for a reader, then readers share */
	disk_claim_release(&t, p2);
	disk_claim_release(&t, p3);
	whole = disk_claim_take_range(&t, "nvme0n1", "nvme0n1", 0, 1u << 20, "backup", false, err,
				      sizeof(err));
	assert_true(whole >= 0);
	assert_true(disk_claim_take_range(&t, "nvme0n1p2", "nvme0n1", 2048, 2048, "ro-vm", false,
					  err, sizeof(err)) >= 0);
	assert_int_equal(disk_claim_take_range(&t, "nvme0n1p3", "nvme0n1", 4096, 4096, "db", true,
					       err, sizeof(err)),
			 -1);
	assert_string_equal(err, "disk target nvme0n1p3 overlaps nvme0n1, in use read-only by VM "
				 "backup");
	/* a boot module's claim is its whole path, as before */
	assert_true(disk_claim_take(&t, "/boot/x.img", "a", true, err, sizeof(err)) >= 0);
	assert_int_equal(disk_claim_take(&t, "/boot/x.img", "b", false, err, sizeof(err)), -1);
	assert_string_equal(err, "disk target /boot/x.img is in use read-write by VM a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_geometry, setup),
		cmocka_unit_test_setup(test_read_scatters_into_guest_segments, setup),
		cmocka_unit_test_setup(test_write_gathers_and_persists, setup),
		cmocka_unit_test_setup(test_bad_requests, setup),
		cmocka_unit_test_setup(test_read_only, setup),
		cmocka_unit_test_setup(test_flush_discard_write_zeroes, setup),
		cmocka_unit_test(test_sharing_rule),
		cmocka_unit_test(test_claims_overlap_by_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: kernel/blk/part_dev.c kernel/blk/ramdisk.c kernel/blk/blk_check.c kernel/lib/string.c kernel/lib/format.c
/*
 * A partition's window over a host disk: requests land at the window's
 * start on the disk below, never outside it (whatever the sector, length or
 * wrap-around), read-only windows refuse every write, and the completion is
 * the submitter's own, whether the disk below completes at once or later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/blk/part_dev.h"
#include "kernel/blk/ramdisk.h"

/* "Guest" memory: a plain buffer whose addresses are offsets. */
static uint8_t mem_buf[64 * 1024];

static int mread(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (gpa > sizeof(mem_buf) || len > sizeof(mem_buf) - gpa)
		return -1;
	memcpy(dst, mem_buf + gpa, len);
	return 0;
}

static int mwrite(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	if (gpa > sizeof(mem_buf) || len > sizeof(mem_buf) - gpa)
		return -1;
	memcpy(mem_buf + gpa, src, len);
	return 0;
}

static const struct blk_guest_mem mem = {.read = mread, .write = mwrite};

#define DISK_SECTORS 64
static uint8_t disk_bytes[DISK_SECTORS * 512];
static struct ramdisk rd;
static struct part_dev part;

static int completions, last_status;
static struct blk_request *last_req;

static void done(struct blk_request *r, int status)
{
	completions++;
	last_status = status;
	last_req = r;
}

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(disk_bytes); i++)
		disk_bytes[i] = (uint8_t)(i / 512); /* each sector's bytes are its number */
	memset(mem_buf, 0xee, sizeof(mem_buf));
	assert_int_equal(ramdisk_init(&rd, "disk", disk_bytes, sizeof(disk_bytes), false), 0);
	part_dev_init(&part, &rd.dev, 16, 16, false, "disk0p1");
	completions = 0;
	last_status = 99;
	return 0;
}

static struct blk_seg seg;
static struct blk_request req;

static int submit_to(struct blkdev *d, enum blk_op op, uint64_t sector, uint64_t n)
{
	int before = completions;

	seg = (struct blk_seg){.gpa = 0, .len = (uint32_t)(n * 512)};
	req = (struct blk_request){.op = op, .sector = sector, .nsectors = n, .mem = &mem,
				   .done = done, .ctx = &part};
	if (op == BLK_OP_READ || op == BLK_OP_WRITE) {
		req.segs = &seg;
		req.nseg = 1;
	}
	d->ops->submit(d, &req);
	assert_int_equal(completions, before + 1); /* exactly once */
	assert_ptr_equal(last_req, &req);
	assert_ptr_equal(req.done, done); /* still the submitter's */
	assert_ptr_equal(req.ctx, &part);
	return last_status;
}

static int submit(enum blk_op op, uint64_t sector, uint64_t n)
{
	return submit_to(&part.dev, op, sector, n);
}

static void test_geometry(void **state)
{
	(void)state;
	assert_string_equal(part.dev.name, "disk0p1");
	assert_int_equal(part.dev.sectors, 16);
	assert_int_equal(part.dev.block_size, 512);
	assert_false(part.dev.read_only);
	assert_true(part.dev.can_discard);
	assert_ptr_equal(part.lower, &rd.dev);
}

static void test_requests_land_inside_the_window(void **state)
{
	(void)state;
	assert_int_equal(submit(BLK_OP_READ, 0, 2), BLK_OK);
	assert_int_equal(mem_buf[0], 16);
	assert_int_equal(mem_buf[512], 17);
	assert_int_equal(req.sector, 16); /* moved on the way down */
	assert_int_equal(submit(BLK_OP_READ, 15, 1), BLK_OK);
	assert_int_equal(mem_buf[0], 31);

	memset(mem_buf, 0xab, 1024);
	assert_int_equal(submit(BLK_OP_WRITE, 3, 2), BLK_OK);
	assert_int_equal(disk_bytes[19 * 512], 0xab);
	assert_int_equal(disk_bytes[20 * 512 + 511], 0xab);
	assert_int_equal(disk_bytes[18 * 512 + 511], 18);
	assert_int_equal(disk_bytes[21 * 512], 21);

	assert_int_equal(submit(BLK_OP_WRITE_ZEROES, 0, 16), BLK_OK);
	assert_int_equal(disk_bytes[16 * 512], 0);
	assert_int_equal(disk_bytes[32 * 512 - 1], 0);
	assert_int_equal(disk_bytes[16 * 512 - 1], 15); /* the neighbours untouched */
	assert_int_equal(disk_bytes[32 * 512], 32);
	assert_int_equal(submit(BLK_OP_FLUSH, 0, 0), BLK_OK);
	assert_int_equal(part.dev.stats.reads, 2);
	assert_int_equal(part.dev.stats.writes, 2);
	assert_int_equal(part.dev.stats.bytes_read, 3 * 512);
	assert_int_equal(part.dev.stats.flushes, 1);
}

static void test_out_of_window_never_reaches_the_disk(void **state)
{
	static const uint64_t sectors[] = {16, 17, 31, 32, 48, UINT64_MAX, UINT64_MAX - 15,
					   UINT64_MAX - 16, (uint64_t)1 << 63};
	(void)state;
	uint64_t before = rd.dev.stats.reads + rd.dev.stats.writes + rd.dev.stats.discards;

	for (size_t i = 0; i < sizeof(sectors) / sizeof(sectors[0]); i++) {
		assert_int_equal(submit(BLK_OP_READ, sectors[i], 1), BLK_ERANGE);
		assert_int_equal(submit(BLK_OP_WRITE, sectors[i], 1), BLK_ERANGE);
		assert_int_equal(submit(BLK_OP_DISCARD, sectors[i], 1), BLK_ERANGE);
		assert_int_equal(submit(BLK_OP_WRITE_ZEROES, sectors[i], 1), BLK_ERANGE);
	}
	/* straddling the end, and lengths that wrap the sum */
	assert_int_equal(submit(BLK_OP_READ, 15, 2), BLK_ERANGE);
	assert_int_equal(submit(BLK_OP_DISCARD, 1, UINT64_MAX), BLK_ERANGE);
	assert_int_equal(submit(BLK_OP_WRITE_ZEROES, 8, UINT64_MAX - 7), BLK_ERANGE);
	assert_int_equal(submit(BLK_OP_DISCARD, 0, 17), BLK_ERANGE);
	assert_int_equal(rd.dev.stats.reads + rd.dev.stats.writes + rd.dev.stats.discards, before);
	assert_int_equal(part.dev.stats.errors, 9 * 4 + 4);
	for (size_t i = 0; i < sizeof(disk_bytes); i++)
		assert_int_equal(disk_bytes[i], (uint8_t)(i / 512));
}

static void test_read_only_window(void **state)
{
	(void)state;
	part_dev_init(&part, &rd.dev, 16, 16, true, "disk0p1");
	assert_true(part.dev.read_only);
	assert_int_equal(submit(BLK_OP_WRITE, 0, 1), BLK_EROFS);
	assert_int_equal(submit(BLK_OP_DISCARD, 0, 1), BLK_EROFS);
	assert_int_equal(submit(BLK_OP_WRITE_ZEROES, 0, 1), BLK_EROFS);
	assert_int_equal(submit(BLK_OP_READ, 0, 1), BLK_OK);
	assert_int_equal(submit(BLK_OP_FLUSH, 0, 0), BLK_OK);
	assert_int_equal(disk_bytes[16 * 512], 16);
	/* a read-only disk makes every window on it read-only */
	rd.dev.read_only = true;
	part_dev_init(&part, &rd.dev, 0, 8, false, "disk0p2");
	assert_true(part.dev.read_only);
	assert_int_equal(submit(BLK_OP_WRITE, 0, 1), BLK_EROFS);
}

static void test_windows_that_do_not_fit_have_no_sectors(void **state)
{
	(void)state;
	part_dev_init(&part, &rd.dev, 60, 8, false, "past-end");
	assert_int_equal(part.dev.sectors, 0);
	assert_int_equal(submit(BLK_OP_READ, 0, 1), BLK_ERANGE);
	part_dev_init(&part, &rd.dev, UINT64_MAX - 1, 4, false, "wraps");
	assert_int_equal(part.dev.sectors, 0);
	part_dev_init(&part, &rd.dev, 65, 0, false, "beyond");
	assert_int_equal(part.dev.sectors, 0);
	part_dev_init(&part, &rd.dev, 0, DISK_SECTORS, false, "whole");
	assert_int_equal(part.dev.sectors, DISK_SECTORS);
	assert_int_equal(submit(BLK_OP_READ, 63, 1), BLK_OK);
	assert_int_equal(mem_buf[0], 63);
	part_dev_init(&part, NULL, 0, 8, false, "nothing");
	assert_int_equal(part.dev.sectors, 0);
	assert_int_equal(submit(BLK_OP_FLUSH, 0, 0), BLK_EIO);
	/* a name longer than the field is cut */
	part_dev_init(&part, &rd.dev, 0, 1, false, "a-very-long-name-that-does-not-fit-in-32");
	assert_int_equal(strlen(part.dev.name), BLK_NAME_LEN - 1);
}

static void test_4k_disk(void **state)
{
	(void)state;
	rd.dev.block_size = 4096;
	part_dev_init(&part, &rd.dev, 12, 8, false, "misaligned");
	assert_int_equal(part.dev.sectors, 0);
	part_dev_init(&part, &rd.dev, 16, 20, false, "aligned");
	assert_int_equal(part.dev.sectors, 16); /* whole blocks only */
	assert_int_equal(part.dev.block_size, 4096);
	assert_int_equal(submit(BLK_OP_READ, 8, 8), BLK_OK);
	assert_int_equal(mem_buf[0], 24);
	assert_int_equal(submit(BLK_OP_READ, 4, 8), BLK_EIO);
	assert_int_equal(submit(BLK_OP_READ, 8, 4), BLK_EIO);
}

/* A disk that completes later, as an NVMe namespace does from deferred work. */
static struct blk_request *held;
static uint64_t held_sector;

static void later_submit(struct blkdev *d, struct blk_request *r)
{
	(void)d;
	held = r;
	held_sector = r->sector;
}

static const struct blkdev_ops later_ops = {.submit = later_submit};

static void test_async_completion_is_the_submitters(void **state)
{
	struct blkdev slow = {.name = "slow", .sectors = 1000, .block_size = 512, .ops = &later_ops};

	(void)state;
	part_dev_init(&part, &slow, 100, 50, false, "slow0p1");
	seg = (struct blk_seg){.gpa = 0, .len = 512};
	req = (struct blk_request){.op = BLK_OP_READ, .sector = 49, .nsectors = 1, .segs = &seg,
				   .nseg = 1, .mem = &mem, .done = done, .ctx = &part};
	completions = 0;
	part.dev.ops->submit(&part.dev, &req);
	assert_int_equal(completions, 0);
	assert_ptr_equal(held, &req);
	assert_int_equal(held_sector, 149);
	held->done(held, BLK_OK); /* the deferred work's completion */
	assert_int_equal(completions, 1);
	assert_int_equal(last_status, BLK_OK);
	/* a refused one completes at once and never goes down */
	held = NULL;
	req.sector = 50;
	part.dev.ops->submit(&part.dev, &req);
	assert_null(held);
	assert_int_equal(completions, 2);
	assert_int_equal(last_status, BLK_ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_geometry, setup),
		cmocka_unit_test_setup(test_requests_land_inside_the_window, setup),
		cmocka_unit_test_setup(test_out_of_window_never_reaches_the_disk, setup),
		cmocka_unit_test_setup(test_read_only_window, setup),
		cmocka_unit_test_setup(test_windows_that_do_not_fit_have_no_sectors, setup),
		cmocka_unit_test_setup(test_4k_disk, setup),
		cmocka_unit_test_setup(test_async_completion_is_the_submitters, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

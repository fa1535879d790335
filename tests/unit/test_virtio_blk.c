// SOURCES: guest/virtio/virtio_blk.c guest/virtio/virtio_dev.c guest/virtio/virtqueue.c kernel/blk/blk_check.c
/*
 * virtio-blk driven as Linux's virtio_blk driver drives it, over a RAM disk
 * that completes at once or later (in any order): reads, writes, flush,
 * GET_ID, discard and write-zeroes; refusals (read-only, out of range, bad
 * lengths, unknown types, 4 KiB alignment); malformed chains that put the
 * device in NEEDS_RESET; a reset with requests still at the disk. Also the
 * status handshake of virtio_dev.c and blk_request_check itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/virtio/virtio_blk.h"
#include "tests/unit/virtio_fixture.h"

#define DISK_SECTORS 64
#define QSIZE 16
#define HDR_GPA(h) (DATA_GPA + 32ull * (h))
#define STATUS_GPA(h) (DATA_GPA + 0x1000 + (h))
#define BUF_GPA (DATA_GPA + 0x10000) /* data buffers from here */
#define ALL_FEATURES                                                                        \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |                  \
	 (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |                 \
	 (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |                    \
	 (1ull << VIRTIO_BLK_F_WRITE_ZEROES))

static struct virtio_blk *vb;
static struct drv v;
static struct blkdev disk;
static uint8_t disk_data[DISK_SECTORS * 512];
static bool async;
static struct blk_request *pending[VBLK_QUEUE_SIZE];
static unsigned npending, submits, disk_flushes, disk_discards;

static void disk_do(struct blk_request *r)
{
	int rc = blk_request_check(&disk, r);
	uint64_t off = r->sector * 512;

	if (rc == BLK_OK) {
		switch (r->op) {
		case BLK_OP_READ:
		case BLK_OP_WRITE:
			for (unsigned i = 0; i < r->nseg && rc == BLK_OK; i++) {
				if (r->op == BLK_OP_READ)
					rc = r->mem->write(r->mem->ctx, r->segs[i].gpa, disk_data + off,
							   r->segs[i].len);
				else
					rc = r->mem->read(r->mem->ctx, r->segs[i].gpa, disk_data + off,
							  r->segs[i].len);
				rc = rc ? BLK_EIO : BLK_OK;
				off += r->segs[i].len;
			}
			break;
		case BLK_OP_FLUSH:
			disk_flushes++;
			break;
		case BLK_OP_DISCARD:
			disk_discards++;
			break;
		case BLK_OP_WRITE_ZEROES:
			memset(disk_data + off, 0, r->nsectors * 512);
			break;
		}
	}
	r->done(r, rc);
}

static void disk_submit(struct blkdev *d, struct blk_request *r)
{
	assert_ptr_equal(d, &disk);
	submits++;
	if (async) {
		assert_true(npending < VBLK_QUEUE_SIZE);
		pending[npending++] = r;
	} else {
		disk_do(r);
	}
}

static const struct blkdev_ops disk_ops = { .submit = disk_submit };

/* Completes pending request i (as the disk's interrupt would). */
static void disk_complete(unsigned i)
{
	struct blk_request *r = pending[i];

	assert_true(i < npending && r);
	pending[i] = NULL;
	disk_do(r);
}

static void make_disk(bool ro, bool cache, uint32_t block_size)
{
	memset(&disk, 0, sizeof(disk));
	strcpy(disk.name, "ram:/boot/vms/web-root.img");
	disk.sectors = DISK_SECTORS;
	disk.block_size = block_size;
	disk.read_only = ro;
	disk.volatile_cache = cache;
	disk.can_discard = disk.can_write_zeroes = true;
	disk.ops = &disk_ops;
	for (unsigned i = 0; i < sizeof(disk_data); i++)
		disk_data[i] = (uint8_t)(i * 7 + i / 512);
}

static void start(uint64_t features)
{
	virtio_blk_init(vb, &disk, NULL, &guest_mem);
	dev_up(&vb->dev, features & vb->dev.host_features, &v, 1, QSIZE);
}

static int setup(void **state)
{
	(void)state;
	ram_setup();
	if (!vb)
		vb = malloc(sizeof(*vb));
	assert_non_null(vb);
	memset(vb, 0, sizeof(*vb));
	async = false;
	npending = submits = disk_flushes = disk_discards = 0;
	make_disk(false, true, 512);
	start(ALL_FEATURES);
	return 0;
}

static void hdr(uint16_t h, uint32_t type, uint64_t sector)
{
	uint32_t zero = 0;

	memcpy(G(HDR_GPA(h)), &type, 4);
	memcpy(G(HDR_GPA(h) + 4), &zero, 4);
	memcpy(G(HDR_GPA(h) + 8), &sector, 8);
	*(uint8_t *)G(STATUS_GPA(h)) = 0xee; /* not a status */
}

/* A request as Linux builds it: header, data (if any), status; descriptors h, h+1, h+2. */
static void req(uint16_t h, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		bool writable)
{
	hdr(h, type, sector);
	if (len) {
		desc(&v, h, HDR_GPA(h), 16, VRING_DESC_F_NEXT, (uint16_t)(h + 1));
		desc(&v, (uint16_t)(h + 1), data, len,
		     VRING_DESC_F_NEXT | (writable ? VRING_DESC_F_WRITE : 0), (uint16_t)(h + 2));
		desc(&v, (uint16_t)(h + 2), STATUS_GPA(h), 1, VRING_DESC_F_WRITE, 0);
	} else {
		desc(&v, h, HDR_GPA(h), 16, VRING_DESC_F_NEXT, (uint16_t)(h + 1));
		desc(&v, (uint16_t)(h + 1), STATUS_GPA(h), 1, VRING_DESC_F_WRITE, 0);
	}
	avail(&v, h);
}

static void kick(void)
{
	vb->dev.ops->queue_notify(&vb->dev, 0);
}

static uint8_t status_of(uint16_t h)
{
	return *(uint8_t *)G(STATUS_GPA(h));
}

/* The next used element is h with length len and status st. */
static void expect_used(uint16_t h, uint32_t len, uint8_t st)
{
	uint32_t got_len;

	assert_int_equal(used_next(&v, &got_len), h);
	assert_int_equal(got_len, len);
	assert_int_equal(status_of(h), st);
}

static uint64_t cfg(uint32_t off, unsigned size)
{
	return vb->dev.ops->cfg_read(&vb->dev, off, size);
}

static void test_features_and_config(void **state)
{
	uint64_t f = vb->dev.host_features;

	(void)state;
	assert_int_equal(vb->dev.type, VIRTIO_ID_BLOCK);
	assert_int_equal(vb->dev.nqueues, 1);
	assert_int_equal(vb->dev.queue_max[0], VBLK_QUEUE_SIZE);
	assert_int_equal(f, ALL_FEATURES | (1ull << VIRTIO_F_EVENT_IDX));
	assert_int_equal(cfg(VIRTIO_BLK_CFG_CAPACITY, 8), DISK_SECTORS);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_CAPACITY, 4), DISK_SECTORS);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_SEG_MAX, 4), VBLK_SEG_MAX);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_BLK_SIZE, 4), 512);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_NUM_QUEUES, 2), 1);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4), VBLK_MAX_DISCARD_SECTORS);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), 1);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_DISCARD_ALIGNMENT, 4), 1);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_MAX_WZ_SECTORS, 4), VBLK_MAX_DISCARD_SECTORS);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_MAX_WZ_SEG, 4), 1);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_SIZE - 4, 8), 0); /* past the end reads 0 */
	assert_int_equal(vb->dev.cfg_size, VIRTIO_BLK_CFG_SIZE);

	/* A read-only disk without a cache, 4 KiB blocks. */
	make_disk(true, false, 4096);
	disk.sectors = 1ull << 40;
	virtio_blk_init(vb, &disk, NULL, &guest_mem);
	f = vb->dev.host_features;
	assert_true(f & (1ull << VIRTIO_BLK_F_RO));
	assert_false(f & (1ull << VIRTIO_BLK_F_FLUSH));
	assert_false(f & (1ull << VIRTIO_BLK_F_DISCARD));
	assert_false(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_true(f & (1ull << VIRTIO_F_VERSION_1));
	assert_int_equal(cfg(VIRTIO_BLK_CFG_CAPACITY, 8), 1ull << 40);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_CAPACITY + 4, 4), 1ull << 8);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_BLK_SIZE, 4), 4096);
	assert_int_equal(cfg(VIRTIO_BLK_CFG_TOPOLOGY, 1), 3); /* 8 sectors per block */
	assert_int_equal(cfg(VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, 4), 0);
}

static void test_feature_negotiation(void **state)
{
	struct virtio_dev *d = &vb->dev;
	const uint8_t drv = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	(void)state;
	assert_int_equal(d->guest_features, ALL_FEATURES);
	/* A bit not offered: FEATURES_OK does not stick. */
	virtio_dev_set_status(d, 0);
	assert_int_equal(d->status, 0);
	assert_int_equal(d->guest_features, 0);
	assert_int_equal(d->vq[0].size, VBLK_QUEUE_SIZE);
	virtio_dev_set_status(d, drv);
	d->guest_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << 34); /* packed ring */
	virtio_dev_set_status(d, drv | VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(d->status, drv);
	/* DRIVER_OK without FEATURES_OK is not latched; the queue is not served. */
	virtio_dev_set_status(d, drv | VIRTIO_STATUS_DRIVER_OK);
	assert_false(d->status & VIRTIO_STATUS_DRIVER_OK);
	assert_false(virtio_queue_ready(d, 0));
	/* Without VERSION_1 (a legacy driver): refused too. */
	virtio_dev_set_status(d, 0);
	virtio_dev_set_status(d, drv);
	d->guest_features = 1ull << VIRTIO_BLK_F_FLUSH;
	virtio_dev_set_status(d, drv | VIRTIO_STATUS_FEATURES_OK);
	assert_false(d->status & VIRTIO_STATUS_FEATURES_OK);
	/* The driver cannot set NEEDS_RESET itself, nor clear bits. */
	virtio_dev_set_status(d, 0);
	virtio_dev_set_status(d, drv);
	d->guest_features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX);
	virtio_dev_set_status(d, drv | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(d->status, drv | VIRTIO_STATUS_FEATURES_OK);
	assert_true(d->vq[0].event_idx);
	assert_false(d->vq[0].indirect);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(d->status, drv | VIRTIO_STATUS_FEATURES_OK);
	assert_false(virtio_queue_ready(d, 0));
	assert_false(virtio_queue_ready(d, 1));
}

static void test_write_then_read(void **state)
{
	uint8_t pattern[1024];

	(void)state;
	for (unsigned i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i ^ 0x5a);
	memcpy(G(BUF_GPA), pattern, sizeof(pattern));
	req(0, VIRTIO_BLK_T_OUT, 5, BUF_GPA, 1024, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_OK);
	assert_memory_equal(disk_data + 5 * 512, pattern, 1024);
	assert_int_equal(queue_irqs[0], 1);

	req(3, VIRTIO_BLK_T_IN, 5, BUF_GPA + 0x1000, 1024, true);
	kick();
	expect_used(3, 1025, VIRTIO_BLK_S_OK);
	assert_memory_equal(G(BUF_GPA + 0x1000), pattern, 1024);
	assert_int_equal(queue_irqs[0], 2);
	assert_int_equal(vb->stats.requests, 2);
	assert_int_equal(vb->stats.bytes_read, 1024);
	assert_int_equal(vb->stats.bytes_written, 1024);
	assert_int_equal(vb->stats.errors, 0);
	assert_int_equal(virtio_blk_in_flight(vb), 0);
}

static void test_indirect_request_many_segments(void **state)
{
	(void)state;
	/* Linux with INDIRECT_DESC: one descriptor pointing at header, 4 pages, status. */
	hdr(0, VIRTIO_BLK_T_IN, 8);
	desc_at(ITABLE_GPA, 0, HDR_GPA(0), 16, VRING_DESC_F_NEXT, 1);
	for (uint16_t i = 0; i < 4; i++)
		desc_at(ITABLE_GPA, 1u + i, BUF_GPA + 0x3000 - 0x1000ull * i, 512,
			VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, (uint16_t)(2 + i));
	desc_at(ITABLE_GPA, 5, STATUS_GPA(0), 1, VRING_DESC_F_WRITE, 0);
	desc(&v, 0, ITABLE_GPA, 6 * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	kick();
	expect_used(0, 2049, VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 4; i++)
		assert_memory_equal(G(BUF_GPA + 0x3000 - 0x1000ull * i), disk_data + (8 + i) * 512,
				    512);
}

static void test_status_sharing_the_last_data_buffer(void **state)
{
	(void)state;
	/* Data and status in one writable buffer of 513 bytes: legal, status is the last byte. */
	hdr(0, VIRTIO_BLK_T_IN, 2);
	desc(&v, 0, HDR_GPA(0), 16, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, BUF_GPA, 513, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	kick();
	assert_int_equal(used_next(&v, NULL), 0);
	assert_int_equal(*(uint8_t *)G(BUF_GPA + 512), VIRTIO_BLK_S_OK);
	assert_memory_equal(G(BUF_GPA), disk_data + 2 * 512, 512);
}

static void test_flush(void **state)
{
	(void)state;
	req(0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(disk_flushes, 1);
	/* Not negotiated: UNSUPP, the disk never sees it. */
	start(ALL_FEATURES & ~(1ull << VIRTIO_BLK_F_FLUSH));
	req(0, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(disk_flushes, 1);
	assert_int_equal(vb->stats.unsupported, 1);
}

static void test_get_id(void **state)
{
	(void)state;
	memset(G(BUF_GPA), 0xff, 32);
	req(0, VIRTIO_BLK_T_GET_ID, 0, BUF_GPA, 20, true);
	kick();
	expect_used(0, 21, VIRTIO_BLK_S_OK);
	/* "ram:/boot/vms/web-root.img" is 26 characters: its last 20. */
	assert_memory_equal(G(BUF_GPA), "oot/vms/web-root.img", 20);
	assert_int_equal(*(uint8_t *)G(BUF_GPA + 20), 0xff);

	/* A given serial, shorter than 20: NUL padded. A short buffer gets what fits. */
	virtio_blk_init(vb, &disk, "hv-disk-1", &guest_mem);
	dev_up(&vb->dev, ALL_FEATURES, &v, 1, QSIZE);
	memset(G(BUF_GPA), 0xff, 32);
	req(0, VIRTIO_BLK_T_GET_ID, 0, BUF_GPA, 20, true);
	req(3, VIRTIO_BLK_T_GET_ID, 0, BUF_GPA + 0x100, 4, true);
	kick();
	expect_used(0, 21, VIRTIO_BLK_S_OK);
	assert_memory_equal(G(BUF_GPA), "hv-disk-1\0\0\0\0\0\0\0\0\0\0\0", 20);
	expect_used(3, 5, VIRTIO_BLK_S_OK);
	assert_memory_equal(G(BUF_GPA + 0x100), "hv-d", 4);
}

static void dwz_seg(uint64_t gpa, uint64_t sector, uint32_t n, uint32_t flags)
{
	memcpy(G(gpa), &sector, 8);
	memcpy(G(gpa + 8), &n, 4);
	memcpy(G(gpa + 12), &flags, 4);
}

static void test_discard_and_write_zeroes(void **state)
{
	static const uint8_t zeros[3 * 512];

	(void)state;
	dwz_seg(BUF_GPA, 10, 3, VIRTIO_BLK_WZ_F_UNMAP);
	req(0, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF_GPA, 16, false);
	dwz_seg(BUF_GPA + 0x100, 20, 4, 0);
	req(3, VIRTIO_BLK_T_DISCARD, 0, BUF_GPA + 0x100, 16, false);
	dwz_seg(BUF_GPA + 0x200, 20, 4, VIRTIO_BLK_WZ_F_UNMAP); /* discard with unmap */
	req(6, VIRTIO_BLK_T_DISCARD, 0, BUF_GPA + 0x200, 16, false);
	dwz_seg(BUF_GPA + 0x300, 20, 4, 0x80); /* reserved flag */
	req(9, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF_GPA + 0x300, 16, false);
	dwz_seg(BUF_GPA + 0x400, 0, VBLK_MAX_DISCARD_SECTORS + 1, 0);
	req(12, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF_GPA + 0x400, 16, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_OK);
	assert_memory_equal(disk_data + 10 * 512, zeros, sizeof(zeros));
	assert_int_not_equal(disk_data[13 * 512], 0xff); /* untouched after the range */
	assert_int_equal(disk_data[13 * 512], (uint8_t)(13 * 512 * 7 + 13));
	expect_used(3, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(disk_discards, 1);
	expect_used(6, 1, VIRTIO_BLK_S_UNSUPP);
	expect_used(9, 1, VIRTIO_BLK_S_UNSUPP);
	expect_used(12, 1, VIRTIO_BLK_S_IOERR);

	/* Two ranges in one request (max_discard_seg is 1), and past the end. */
	dwz_seg(BUF_GPA, 0, 1, 0);
	dwz_seg(BUF_GPA + 16, 2, 1, 0);
	req(0, VIRTIO_BLK_T_DISCARD, 0, BUF_GPA, 32, false);
	dwz_seg(BUF_GPA + 0x100, DISK_SECTORS - 1, 2, 0);
	req(3, VIRTIO_BLK_T_WRITE_ZEROES, 0, BUF_GPA + 0x100, 16, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_IOERR);
	expect_used(3, 1, VIRTIO_BLK_S_IOERR);

	/* Not negotiated. */
	start(ALL_FEATURES & ~(1ull << VIRTIO_BLK_F_DISCARD));
	dwz_seg(BUF_GPA, 0, 1, 0);
	req(0, VIRTIO_BLK_T_DISCARD, 0, BUF_GPA, 16, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(disk_discards, 1);
}

static void test_read_only_disk(void **state)
{
	uint8_t before[512];

	(void)state;
	make_disk(true, false, 512);
	start(ALL_FEATURES | (1ull << VIRTIO_BLK_F_RO));
	assert_true(virtio_has_feature(&vb->dev, VIRTIO_BLK_F_RO));
	memcpy(before, disk_data, 512);
	memset(G(BUF_GPA), 0x11, 512);
	req(0, VIRTIO_BLK_T_OUT, 0, BUF_GPA, 512, false);
	req(3, VIRTIO_BLK_T_IN, 0, BUF_GPA + 0x1000, 512, true);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_IOERR);
	assert_memory_equal(disk_data, before, 512);
	expect_used(3, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(submits, 1); /* the write never reached the disk */
	assert_int_equal(vb->stats.errors, 1);
}

static void test_out_of_range(void **state)
{
	(void)state;
	req(0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, BUF_GPA, 1024, true);	     /* one past */
	req(3, VIRTIO_BLK_T_IN, 0xffffffffffffffffull, BUF_GPA, 512, true); /* wraps */
	req(6, VIRTIO_BLK_T_OUT, DISK_SECTORS, BUF_GPA, 512, false);
	req(9, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, BUF_GPA, 512, true); /* the last sector */
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_IOERR);
	expect_used(3, 1, VIRTIO_BLK_S_IOERR);
	expect_used(6, 1, VIRTIO_BLK_S_IOERR);
	expect_used(9, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(submits, 1);
	assert_int_equal(vb->stats.errors, 3);
	assert_null(vb->dev.failure);
}

static void test_bad_lengths_and_types(void **state)
{
	(void)state;
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 500, true);
	req(3, VIRTIO_BLK_T_OUT, 0, BUF_GPA, 513, false);
	req(6, 99, 0, BUF_GPA, 512, true);
	req(9, 10 /* GET_LIFETIME */, 0, BUF_GPA, 16, true);
	/* IN with readable data after the header */
	req(12, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, false);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_IOERR);
	expect_used(3, 1, VIRTIO_BLK_S_IOERR);
	expect_used(6, 1, VIRTIO_BLK_S_UNSUPP);
	expect_used(9, 1, VIRTIO_BLK_S_UNSUPP);
	expect_used(12, 1, VIRTIO_BLK_S_IOERR);
	assert_int_equal(submits, 0);
	assert_null(vb->dev.failure);
}

static void test_more_segments_than_seg_max(void **state)
{
	(void)state;
	/* header + 129 writable buffers, the status in the last one: 129 data segments. */
	hdr(0, VIRTIO_BLK_T_IN, 0);
	desc_at(ITABLE_GPA, 0, HDR_GPA(0), 16, VRING_DESC_F_NEXT, 1);
	for (uint16_t i = 1; i <= 129; i++)
		desc_at(ITABLE_GPA, i, BUF_GPA + 0x200 * i, i < 129 ? 512 : 513,
			VRING_DESC_F_WRITE | (i < 129 ? VRING_DESC_F_NEXT : 0), (uint16_t)(i + 1));
	desc(&v, 0, ITABLE_GPA, 130 * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	kick();
	assert_int_equal(used_next(&v, NULL), 0);
	assert_int_equal(*(uint8_t *)G(BUF_GPA + 0x200 * 129 + 512), VIRTIO_BLK_S_IOERR);
	assert_int_equal(submits, 0);
}

static void test_4k_disk_alignment(void **state)
{
	(void)state;
	make_disk(false, true, 4096);
	start(ALL_FEATURES);
	req(0, VIRTIO_BLK_T_IN, 1, BUF_GPA, 4096, true);
	req(3, VIRTIO_BLK_T_IN, 8, BUF_GPA, 2048, true);
	req(6, VIRTIO_BLK_T_IN, 8, BUF_GPA, 4096, true);
	kick();
	expect_used(0, 1, VIRTIO_BLK_S_IOERR);
	expect_used(3, 1, VIRTIO_BLK_S_IOERR);
	expect_used(6, 4097, VIRTIO_BLK_S_OK);
}

static void test_async_completion_out_of_order(void **state)
{
	(void)state;
	async = true;
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	req(3, VIRTIO_BLK_T_IN, 1, BUF_GPA + 0x1000, 512, true);
	req(6, VIRTIO_BLK_T_OUT, 2, BUF_GPA + 0x2000, 512, false);
	kick();
	assert_int_equal(npending, 3);
	assert_int_equal(virtio_blk_in_flight(vb), 3);
	assert_int_equal(used_idx(&v), 0);
	assert_int_equal(queue_irqs[0], 0);
	/* Kicks are back on after the drain (no EVENT_IDX: used.flags clear). */
	assert_int_equal(get16(v.used), 0);

	disk_complete(2);
	expect_used(6, 1, VIRTIO_BLK_S_OK);
	assert_int_equal(queue_irqs[0], 1);
	disk_complete(0);
	expect_used(0, 513, VIRTIO_BLK_S_OK);
	disk_complete(1);
	expect_used(3, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(queue_irqs[0], 3);
	assert_int_equal(virtio_blk_in_flight(vb), 0);
	assert_int_equal(vb->dev.vq[0].in_flight, 0);
	assert_memory_equal(G(BUF_GPA + 0x1000), disk_data + 512, 512);
}

/*
 * Poll mode: after the kick's drain, avail_event stays behind (no kick for
 * what the driver adds next); a poll serves it; an idle poll that may
 * re-arm moves avail_event up again, and a request that raced the re-arm is
 * still served.
 */
static void test_poll_mode(void **state)
{
	(void)state;
	start(ALL_FEATURES | (1ull << VIRTIO_F_EVENT_IDX));
	vb->poll_mode = true;
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	expect_used(0, 513, VIRTIO_BLK_S_OK);
	assert_true(vb->polling);
	assert_int_equal(avail_event(&v), 0); /* not re-armed: the driver will not kick */
	/* two requests without a kick: a poll takes both */
	req(3, VIRTIO_BLK_T_IN, 1, BUF_GPA, 512, true);
	req(6, VIRTIO_BLK_T_IN, 2, BUF_GPA + 0x1000, 512, true);
	assert_int_equal(virtio_blk_poll(vb, false), 2);
	expect_used(3, 513, VIRTIO_BLK_S_OK);
	expect_used(6, 513, VIRTIO_BLK_S_OK);
	assert_true(vb->polling);
	/* nothing new and not yet allowed to re-arm: still polling, still not armed */
	assert_int_equal(virtio_blk_poll(vb, false), 0);
	assert_true(vb->polling);
	assert_int_equal(avail_event(&v), 0);
	/* idle and allowed: kicks back on at the next request */
	assert_int_equal(virtio_blk_poll(vb, true), 0);
	assert_false(vb->polling);
	assert_int_equal(avail_event(&v), 3);
	assert_int_equal(virtio_blk_poll(vb, true), 0); /* not polling: nothing to do */
	assert_int_equal(vb->polls, 3);
	assert_int_equal(vb->polled, 2);
}

static void test_one_interrupt_per_batch(void **state)
{
	(void)state;
	for (uint16_t h = 0; h < 15; h += 3)
		req(h, VIRTIO_BLK_T_IN, h, BUF_GPA + 0x1000ull * h, 512, true);
	kick();
	for (uint16_t h = 0; h < 15; h += 3)
		expect_used(h, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(queue_irqs[0], 1);
}

static void test_event_idx(void **state)
{
	(void)state;
	start(ALL_FEATURES | (1ull << VIRTIO_F_EVENT_IDX));
	assert_true(vb->dev.vq[0].event_idx);
	set_used_event(&v, 0);
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	req(3, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	assert_int_equal(queue_irqs[0], 1);
	assert_int_equal(avail_event(&v), 2); /* kick me at the next one */
	/* The driver does not want to hear before the 4th completion. */
	set_used_event(&v, 3);
	req(6, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	assert_int_equal(queue_irqs[0], 1);
	req(9, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	assert_int_equal(queue_irqs[0], 2);
	assert_int_equal(avail_event(&v), 4);
}

static void test_malformed_header_needs_reset(void **state)
{
	(void)state;
	hdr(0, VIRTIO_BLK_T_IN, 0);
	desc(&v, 0, HDR_GPA(0), 8, VRING_DESC_F_NEXT, 1); /* half a header */
	desc(&v, 1, STATUS_GPA(0), 1, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	req(3, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	assert_true(vb->dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(vb->dev.failure);
	assert_int_equal(config_irqs, 1);
	assert_int_equal(used_idx(&v), 0);
	assert_int_equal(submits, 0);
	assert_false(virtio_queue_ready(&vb->dev, 0));
	/* Nothing more is served, nothing retried. */
	kick();
	kick();
	assert_int_equal(used_idx(&v), 0);
	assert_int_equal(config_irqs, 1);
	assert_int_equal(virtio_blk_in_flight(vb), 0);
	/* A reset brings it back. */
	dev_up(&vb->dev, ALL_FEATURES, &v, 1, QSIZE);
	assert_null(vb->dev.failure);
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	expect_used(0, 513, VIRTIO_BLK_S_OK);
}

static void test_no_status_byte_needs_reset(void **state)
{
	(void)state;
	hdr(0, VIRTIO_BLK_T_OUT, 0);
	desc(&v, 0, HDR_GPA(0), 16, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, BUF_GPA, 512, 0, 0); /* all readable */
	avail(&v, 0);
	kick();
	assert_true(vb->dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(vb->dev.failure, "status"));
	assert_int_equal(config_irqs, 1);

	/* Header not readable at all: only writable buffers. */
	dev_up(&vb->dev, ALL_FEATURES, &v, 1, QSIZE);
	desc(&v, 0, HDR_GPA(0), 16, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	kick();
	assert_non_null(strstr(vb->dev.failure, "header"));
}

static void test_broken_ring_needs_reset(void **state)
{
	(void)state;
	desc(&v, 0, HDR_GPA(0), 16, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, HDR_GPA(0), 16, VRING_DESC_F_NEXT, 0);
	avail(&v, 0);
	kick();
	assert_true(vb->dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_non_null(strstr(vb->dev.failure, "loop"));
	assert_int_equal(config_irqs, 1);
}

static void test_failure_before_driver_ok_no_config_irq(void **state)
{
	(void)state;
	virtio_dev_set_status(&vb->dev, 0);
	virtio_dev_fail(&vb->dev, "test");
	assert_true(vb->dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(config_irqs, 0);
	virtio_dev_fail(&vb->dev, "again");
	assert_string_equal(vb->dev.failure, "test");
}

static void test_reset_with_requests_at_the_disk(void **state)
{
	(void)state;
	async = true;
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	req(3, VIRTIO_BLK_T_IN, 1, BUF_GPA, 512, true);
	kick();
	assert_int_equal(virtio_blk_in_flight(vb), 2);
	/* The driver resets and sets the device up again with a fresh ring. */
	dev_up(&vb->dev, ALL_FEATURES, &v, 1, QSIZE);
	assert_int_equal(virtio_blk_in_flight(vb), 2);
	req(0, VIRTIO_BLK_T_IN, 2, BUF_GPA + 0x1000, 512, true);
	kick();
	assert_int_equal(npending, 3);
	/* The old ones complete: they must not touch the new ring. */
	disk_complete(0);
	disk_complete(1);
	assert_int_equal(used_idx(&v), 0);
	assert_null(vb->dev.vq[0].error);
	disk_complete(2);
	expect_used(0, 513, VIRTIO_BLK_S_OK);
	assert_int_equal(virtio_blk_in_flight(vb), 0);
	assert_null(vb->dev.failure);
}

static void test_completion_after_failure_is_dropped(void **state)
{
	(void)state;
	async = true;
	req(0, VIRTIO_BLK_T_IN, 0, BUF_GPA, 512, true);
	kick();
	virtio_dev_fail(&vb->dev, "test");
	disk_complete(0);
	assert_int_equal(used_idx(&v), 0);
	assert_int_equal(virtio_blk_in_flight(vb), 0);
}

static void test_blk_request_check(void **state)
{
	struct blk_seg seg[2] = { { 0x1000, 512 }, { 0x2000, 1024 } };
	struct blk_request r = { .op = BLK_OP_READ, .sector = 0, .nsectors = 3, .segs = seg,
				 .nseg = 2 };

	(void)state;
	make_disk(false, true, 512);
	assert_int_equal(blk_request_check(&disk, &r), BLK_OK);
	r.nsectors = 2; /* does not match the segments */
	assert_int_equal(blk_request_check(&disk, &r), BLK_EIO);
	r.nsectors = 3;
	r.sector = DISK_SECTORS - 3;
	assert_int_equal(blk_request_check(&disk, &r), BLK_OK);
	r.sector = DISK_SECTORS - 2;
	assert_int_equal(blk_request_check(&disk, &r), BLK_ERANGE);
	r.sector = UINT64_MAX - 1;
	assert_int_equal(blk_request_check(&disk, &r), BLK_ERANGE);
	r.op = BLK_OP_DISCARD;
	r.sector = 0;
	r.nsectors = UINT64_MAX;
	assert_int_equal(blk_request_check(&disk, &r), BLK_ERANGE);
	r.nsectors = DISK_SECTORS;
	assert_int_equal(blk_request_check(&disk, &r), BLK_OK);
	disk.can_discard = false;
	assert_int_equal(blk_request_check(&disk, &r), BLK_ENOTSUP);
	r.op = (enum blk_op)77;
	assert_int_equal(blk_request_check(&disk, &r), BLK_ENOTSUP);
	disk.read_only = true;
	r.op = BLK_OP_WRITE_ZEROES;
	assert_int_equal(blk_request_check(&disk, &r), BLK_EROFS);
	r.op = BLK_OP_FLUSH;
	r.sector = UINT64_MAX; /* ignored */
	assert_int_equal(blk_request_check(&disk, &r), BLK_OK);
	r.op = BLK_OP_WRITE;
	r.sector = 0;
	r.nsectors = 3;
	assert_int_equal(blk_request_check(&disk, &r), BLK_EROFS);
	disk.read_only = false;
	disk.block_size = 4096;
	disk.sectors = 64;
	seg[1].len = 4096 - 512;
	r.nsectors = 8;
	assert_int_equal(blk_request_check(&disk, &r), BLK_OK);
	r.sector = 4;
	assert_int_equal(blk_request_check(&disk, &r), BLK_EIO);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_features_and_config),
		T(test_feature_negotiation),
		T(test_write_then_read),
		T(test_indirect_request_many_segments),
		T(test_status_sharing_the_last_data_buffer),
		T(test_flush),
		T(test_get_id),
		T(test_discard_and_write_zeroes),
		T(test_read_only_disk),
		T(test_out_of_range),
		T(test_bad_lengths_and_types),
		T(test_more_segments_than_seg_max),
		T(test_4k_disk_alignment),
		T(test_async_completion_out_of_order),
		T(test_one_interrupt_per_batch),
		T(test_poll_mode),
		T(test_event_idx),
		T(test_malformed_header_needs_reset),
		T(test_no_status_byte_needs_reset),
		T(test_broken_ring_needs_reset),
		T(test_failure_before_driver_ok_no_config_irq),
		T(test_reset_with_requests_at_the_disk),
		T(test_completion_after_failure_is_dropped),
		T(test_blk_request_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

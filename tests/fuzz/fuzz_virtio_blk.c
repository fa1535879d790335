/*
 * Fuzz target for virtio-blk (guest/virtio/virtio_blk.c over virtqueue.c,
 * virtio_dev.c and blk_check.c): the input is a guest's RAM (rings,
 * requests, data), the features its driver accepts, the disk's properties,
 * and a script of kicks, disk completions in any order, device resets and
 * guest RAM changes. The promises: the disk sees only requests that pass
 * blk_request_check with every segment in RAM; the device writes only RAM
 * it checked; a kick does bounded work; when every disk request has
 * completed nothing is left in flight, and a failed device pushes nothing.
 *
 * Input: [0] log2 queue size, [1] features (bit0 EVENT_IDX, 1 INDIRECT,
 * 2 FLUSH, 3 DISCARD, 4 WRITE_ZEROES), [2] disk (bit0 read-only, 1 volatile
 * cache, 2 4 KiB blocks, 3 completes later, 4 can discard, 5 can write
 * zeroes), [3] script length n, [4..4+n) script, then the RAM image.
 */
#include "tests/fuzz/fuzz_guest.h"

#include "guest/virtio/virtio_blk.h"

#define HDR 4
#define DESC_OFF 0x0
#define AVAIL_OFF 0x800
#define USED_OFF 0x1000
#define DISK_SECTORS 64

static struct virtio_blk *vb;
static struct blkdev disk;
static uint8_t disk_data[DISK_SECTORS * 512];
static bool async;
static struct blk_request *pending[VBLK_QUEUE_SIZE];
static unsigned npending;
static uint16_t qsize;
static uint64_t features;

static void disk_do(struct blk_request *r)
{
	uint64_t off = r->sector * 512, total = 0;
	int rc = BLK_OK;

	/* The front end let nothing unchecked through. */
	CHECK(blk_request_check(&disk, r) == BLK_OK);
	CHECK(r->nseg <= VBLK_SEG_MAX);
	for (unsigned i = 0; i < r->nseg; i++) {
		CHECK(in_ram(r->segs[i].gpa, r->segs[i].len));
		total += r->segs[i].len;
	}
	if (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) {
		CHECK(total == r->nsectors * 512);
		for (unsigned i = 0; i < r->nseg && rc == BLK_OK; i++) {
			CHECK(off + r->segs[i].len <= sizeof(disk_data));
			if (r->op == BLK_OP_READ)
				rc = r->mem->write(r->mem->ctx, r->segs[i].gpa, disk_data + off,
						   r->segs[i].len);
			else
				rc = r->mem->read(r->mem->ctx, r->segs[i].gpa, disk_data + off,
						  r->segs[i].len);
			off += r->segs[i].len;
		}
	} else if (r->op == BLK_OP_WRITE_ZEROES) {
		CHECK(off + r->nsectors * 512 <= sizeof(disk_data));
		memset(disk_data + off, 0, r->nsectors * 512);
	}
	r->done(r, rc ? BLK_EIO : BLK_OK);
}

static void disk_submit(struct blkdev *d, struct blk_request *r)
{
	CHECK(d == &disk);
	if (async) {
		CHECK(npending < VBLK_QUEUE_SIZE);
		pending[npending++] = r;
	} else {
		disk_do(r);
	}
}

static const struct blkdev_ops disk_ops = { .submit = disk_submit };

static void complete(unsigned i)
{
	struct blk_request *r = pending[i];

	pending[i] = pending[--npending];
	disk_do(r);
}

static void notify_queue(struct virtio_dev *d, unsigned q)
{
	CHECK(d == &vb->dev && q == 0);
}

static void notify_config(struct virtio_dev *d)
{
	CHECK(d == &vb->dev && d->failure);
}

/* The driver's handshake (virtio 1.2 §3.1.1) over the rings in the image. */
static void dev_up(void)
{
	struct virtio_dev *d = &vb->dev;
	struct virtqueue *q = &d->vq[0];

	virtio_dev_set_status(d, 0);
	CHECK(d->status == 0 && !d->failure);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	d->guest_features = features & d->host_features;
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					 VIRTIO_STATUS_FEATURES_OK);
	CHECK(d->status & VIRTIO_STATUS_FEATURES_OK);
	q->size = qsize;
	q->desc_gpa = RAM_BASE + DESC_OFF;
	q->avail_gpa = RAM_BASE + AVAIL_OFF;
	q->used_gpa = RAM_BASE + USED_OFF;
	CHECK(vq_enable(q, &d->mem) == 0);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(virtio_queue_ready(d, 0));
}

static void kick(void)
{
	unsigned long before = mem_calls;
	uint16_t used_before = vb->dev.vq[0].used_idx;
	bool failed = vb->dev.failure != NULL;

	vb->dev.ops->queue_notify(&vb->dev, 0);
	/* At most a ring's worth of chains, each bounded (see fuzz_virtqueue.c), plus their
	 * data copies. */
	CHECK(mem_calls - before <= (unsigned long)(qsize + 2) * (qsize + 2 * VQ_MAX_SEGS + 16));
	if (failed)
		CHECK(vb->dev.vq[0].used_idx == used_before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *script;
	size_t nscript;

	if (size < HDR)
		return 0;
	nscript = data[3];
	if (size < HDR + nscript)
		nscript = size - HDR;
	script = data + HDR;
	ram_load(data + HDR + nscript, size - HDR - nscript);
	if (!vb)
		vb = malloc(sizeof(*vb));
	CHECK(vb);
	memset(vb, 0, sizeof(*vb));

	qsize = (uint16_t)(2u << (data[0] % 7)); /* 2 .. 128 */
	features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
		   (1ull << VIRTIO_BLK_F_BLK_SIZE) | (1ull << VIRTIO_BLK_F_RO);
	if (data[1] & 1)
		features |= 1ull << VIRTIO_F_EVENT_IDX;
	if (data[1] & 2)
		features |= 1ull << VIRTIO_F_INDIRECT_DESC;
	if (data[1] & 4)
		features |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (data[1] & 8)
		features |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (data[1] & 16)
		features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	memset(&disk, 0, sizeof(disk));
	strcpy(disk.name, "ram:fuzz");
	disk.sectors = DISK_SECTORS;
	disk.read_only = data[2] & 1;
	disk.volatile_cache = data[2] & 2;
	disk.block_size = data[2] & 4 ? 4096 : 512;
	async = data[2] & 8;
	disk.can_discard = data[2] & 16;
	disk.can_write_zeroes = data[2] & 32;
	disk.ops = &disk_ops;
	npending = 0;

	vb->dev.notify_queue = notify_queue;
	vb->dev.notify_config = notify_config;
	virtio_blk_init(vb, &disk, NULL, &guest_mem);
	dev_up();
	for (size_t pc = 0; pc < nscript; pc++) {
		uint8_t op = script[pc] & 15, arg = script[pc] >> 4;

		switch (op) {
		case 4:
		case 5:
		case 6:
		case 7:
			if (npending)
				complete(arg % npending);
			break;
		case 8:
			dev_up(); /* reset with requests possibly at the disk */
			break;
		case 9:
			if (pc + 2 < nscript) {
				ram[(script[pc + 1] | (unsigned)arg << 8) * 8u % RAM_SIZE] = script[pc + 2];
				pc += 2;
			}
			break;
		case 10:
			while (npending)
				complete(0);
			break;
		default:
			kick();
			break;
		}
		CHECK(virtio_blk_in_flight(vb) == npending);
	}
	kick();
	while (npending)
		complete(npending - 1);
	CHECK(virtio_blk_in_flight(vb) == 0);
	if (!vb->dev.failure)
		CHECK(vb->dev.vq[0].in_flight == 0 || vb->dev.vq[0].error);
	return 0;
}

/* One request of each kind, Linux's layout: header, data, status. */
static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const uint8_t script[] = { 0, 4, 0x14, 0, 8, 0, 10, 0 };
	static const uint32_t types[] = { VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_FLUSH,
					  VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD,
					  VIRTIO_BLK_T_WRITE_ZEROES, 99 };
	const unsigned nreq = sizeof(types) / sizeof(types[0]);
	size_t len = HDR + sizeof(script) + 0x3000;
	uint8_t *img;

	if (i >= 4 || cap < len)
		return 0;
	memset(buf, 0, len);
	buf[0] = 4;  /* 32 entries */
	buf[1] = i & 1 ? 0x1f : 0x1c;
	buf[2] = (uint8_t)(0x32 | (i & 2 ? 8 : 0));
	buf[3] = sizeof(script);
	memcpy(buf + HDR, script, sizeof(script));
	img = buf + HDR + sizeof(script);
	for (unsigned r = 0; r < nreq; r++) {
		uint64_t hdr = 0x1800 + 0x20 * r, data = 0x2000 + 0x200 * r, st = 0x1f00 + r;
		uint16_t h = (uint16_t)(3 * r);
		uint32_t dlen = types[r] == VIRTIO_BLK_T_GET_ID ? 20
				: types[r] >= VIRTIO_BLK_T_DISCARD && types[r] < 99 ? 16
				: types[r] == VIRTIO_BLK_T_FLUSH ? 0
								 : 512;
		bool wr = types[r] == VIRTIO_BLK_T_IN || types[r] == VIRTIO_BLK_T_GET_ID;

		put_le(img + hdr, types[r], 4);
		put_le(img + hdr + 8, r, 8);
		if (dlen == 16) { /* one range: sector r, 1 sector */
			put_le(img + data, r, 8);
			put_le(img + data + 8, 1, 4);
		}
		seed_desc(img, DESC_OFF, h, RAM_BASE + hdr, 16, VRING_DESC_F_NEXT, (uint16_t)(h + 1));
		if (dlen) {
			seed_desc(img, DESC_OFF, h + 1u, RAM_BASE + data, dlen,
				  VRING_DESC_F_NEXT | (wr ? VRING_DESC_F_WRITE : 0), (uint16_t)(h + 2));
			seed_desc(img, DESC_OFF, h + 2u, RAM_BASE + st, 1, VRING_DESC_F_WRITE, 0);
		} else {
			seed_desc(img, DESC_OFF, h + 1u, RAM_BASE + st, 1, VRING_DESC_F_WRITE, 0);
		}
		put_le(img + AVAIL_OFF + 4 + 2 * r, h, 2);
	}
	put_le(img + AVAIL_OFF + 2, nreq, 2);
	return len;
}

/*
 * The checks every block device makes before it starts a request (blkdev.h): the
 * operation is one the device does, it does not write a read-only device, it stays inside
 * the device without overflowing, it is aligned to the logical block, and for READ/WRITE
 * the segments carry exactly nsectors * 512 bytes. The request comes from a guest (through
 * virtio-blk), so every sum is checked for overflow.
 */
#include "kernel/blk/blkdev.h"

static bool op_supported(const struct blkdev *d, enum blk_op op)
{
	switch (op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
	case BLK_OP_FLUSH:
		return true;
	case BLK_OP_DISCARD:
		return d->can_discard;
	case BLK_OP_WRITE_ZEROES:
		return d->can_write_zeroes;
	}
	return false;
}

static bool op_writes(enum blk_op op)
{
	return op == BLK_OP_WRITE || op == BLK_OP_DISCARD || op == BLK_OP_WRITE_ZEROES;
}

int blk_request_check(const struct blkdev *d, const struct blk_request *r)
{
	if (!op_supported(d, r->op))
		return BLK_ENOTSUP;
	if (op_writes(r->op) && d->read_only)
		return BLK_EROFS;
	if (r->op == BLK_OP_FLUSH)
		return BLK_OK;
	if (r->sector > d->sectors || r->nsectors > d->sectors - r->sector)
		return BLK_ERANGE;
	if (d->block_size > BLK_SECTOR_SIZE) {
		uint64_t per_block = d->block_size / BLK_SECTOR_SIZE;

		if (r->sector % per_block || r->nsectors % per_block)
			return BLK_EIO;
	}
	if (r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) {
		uint64_t total = 0;

		if (r->nseg && (!r->segs || !r->mem))
			return BLK_EIO;
		for (unsigned i = 0; i < r->nseg; i++)
			total += r->segs[i].len; /* < 2^32 segments of < 2^32 bytes: no overflow */
		if (r->nsectors > UINT64_MAX / BLK_SECTOR_SIZE ||
		    total != r->nsectors * BLK_SECTOR_SIZE)
			return BLK_EIO;
	}
	return BLK_OK;
}

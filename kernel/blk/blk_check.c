/*
 * The checks every block device makes before it starts a request (blkdev.h):
 * the operation is one the device does, a write does not reach a read-only
 * device, the range lies inside the device with no wrap-around, and it is
 * aligned to the logical block. The front end trusts none of its guest's
 * numbers; neither does this.
 */
#include "kernel/blk/blkdev.h"

/* READ/WRITE: the segments must carry exactly nsectors sectors. */
static bool segments_match(const struct blk_request *r)
{
	uint64_t total = 0;

	if (r->nseg && !r->segs)
		return false;
	for (unsigned i = 0; i < r->nseg; i++)
		total += r->segs[i].len; /* each < 2^32, nseg < 2^32: no wrap */
	return r->nsectors <= UINT64_MAX / BLK_SECTOR_SIZE &&
	       total == r->nsectors * BLK_SECTOR_SIZE;
}

int blk_request_check(const struct blkdev *d, const struct blk_request *r)
{
	uint64_t end, per_block;
	bool writes = false, ranged = true;

	switch (r->op) {
	case BLK_OP_READ:
		break;
	case BLK_OP_WRITE:
		writes = true;
		break;
	case BLK_OP_FLUSH:
		/* A whole-device barrier: no range, allowed read-only (nothing to write back). */
		ranged = false;
		break;
	case BLK_OP_DISCARD:
		if (!d->can_discard)
			return BLK_ENOTSUP;
		writes = true;
		break;
	case BLK_OP_WRITE_ZEROES:
		if (!d->can_write_zeroes)
			return BLK_ENOTSUP;
		writes = true;
		break;
	default:
		return BLK_ENOTSUP;
	}
	if (writes && d->read_only)
		return BLK_EROFS;
	if (!ranged)
		return BLK_OK;
	if ((r->op == BLK_OP_READ || r->op == BLK_OP_WRITE) && !segments_match(r))
		return BLK_EIO;
	end = r->sector + r->nsectors;
	if (end < r->sector || end > d->sectors)
		return BLK_ERANGE;
	/* A 4 KiB-sector medium cannot do part of a block; the guest was told (BLK_SIZE). */
	per_block = d->block_size > BLK_SECTOR_SIZE ? d->block_size / BLK_SECTOR_SIZE : 1;
	if (r->sector % per_block || r->nsectors % per_block)
		return BLK_EIO;
	return BLK_OK;
}

/*
 * A window onto a host disk (see part_dev.h). The request is judged against
 * the window first, with the window's own size, read-only flag and the
 * lower device's block size and operations, so a sector that would land
 * outside the window never reaches the disk; only then is it moved by the
 * window's start. The lower device completes it: its done is the
 * submitter's, untouched, so a completion from deferred work goes straight
 * to the front end.
 */
#include "kernel/blk/part_dev.h"

#include "kernel/lib/string.h"

static void count(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void part_submit(struct blkdev *d, struct blk_request *r)
{
	struct part_dev *p = d->priv;
	struct blkdev_stats *st = &d->stats;
	int status = blk_request_check(d, r);

	if (status == BLK_OK && !p->lower)
		status = BLK_EIO; /* a flush on a window over nothing */
	if (status != BLK_OK) {
		count(&st->errors, 1);
		r->done(r, status);
		return;
	}
	switch (r->op) {
	case BLK_OP_READ:
		count(&st->reads, 1);
		count(&st->bytes_read, r->nsectors * BLK_SECTOR_SIZE);
		break;
	case BLK_OP_WRITE:
	case BLK_OP_WRITE_ZEROES:
		count(&st->writes, 1);
		count(&st->bytes_written, r->nsectors * BLK_SECTOR_SIZE);
		break;
	case BLK_OP_FLUSH:
		count(&st->flushes, 1);
		break;
	case BLK_OP_DISCARD:
		count(&st->discards, 1);
		break;
	}
	/*
	 * The check put sector + nsectors inside [0, sectors), and init put
	 * first + sectors inside the lower device: the sum cannot wrap. A FLUSH
	 * has no range and goes down as it is.
	 */
	if (r->op != BLK_OP_FLUSH)
		r->sector += p->first;
	p->lower->ops->submit(p->lower, r);
}

static const struct blkdev_ops part_ops = {
	.submit = part_submit,
};

void part_dev_init(struct part_dev *p, struct blkdev *lower, uint64_t first, uint64_t sectors,
		   bool read_only, const char *name)
{
	uint32_t bs = lower ? lower->block_size : BLK_SECTOR_SIZE;
	uint64_t per_block = bs > BLK_SECTOR_SIZE ? bs / BLK_SECTOR_SIZE : 1;

	memset(p, 0, sizeof(*p));
	p->lower = lower;
	p->first = first;
	strlcpy_hv(p->dev.name, name, sizeof(p->dev.name));
	/*
	 * A window that does not lie inside the disk, or does not start on one
	 * of its blocks, has no sectors: every request is refused as past the
	 * end rather than sent somewhere else.
	 */
	if (!lower || first > lower->sectors || sectors > lower->sectors - first ||
	    first % per_block)
		sectors = 0;
	p->dev.sectors = sectors - sectors % per_block;
	p->dev.block_size = bs;
	p->dev.read_only = read_only || (lower && lower->read_only);
	p->dev.volatile_cache = lower && lower->volatile_cache;
	p->dev.can_discard = lower && lower->can_discard;
	p->dev.can_write_zeroes = lower && lower->can_write_zeroes;
	p->dev.ops = &part_ops;
	p->dev.priv = p;
}

/*
 * A RAM disk's request handling (see ramdisk.h). blk_request_check() has already judged
 * range, alignment and permission; the segment walk still bounds every copy by the disk's
 * size, so a request that check let through by mistake cannot reach past the module.
 */
#include "kernel/blk/ramdisk.h"

#include "kernel/lib/string.h"

static void count(uint64_t *counter, uint64_t n)
{
	/* several vCPUs may submit to one disk at once */
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t disk_bytes(const struct ramdisk *rd)
{
	return rd->dev.sectors * BLK_SECTOR_SIZE;
}

/* READ: the module's bytes into guest RAM; WRITE: guest RAM into the module. */
static int transfer(struct ramdisk *rd, const struct blk_request *r, bool write, uint64_t *moved)
{
	const struct blk_guest_mem *mem = r->mem;
	uint64_t off = r->sector * BLK_SECTOR_SIZE, size = disk_bytes(rd);

	*moved = 0;
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct blk_seg *s = &r->segs[i];

		if (off > size || s->len > size - off)
			return BLK_ERANGE;
		int rc = write ? mem->read(mem->ctx, s->gpa, rd->data + off, s->len)
			       : mem->write(mem->ctx, s->gpa, rd->data + off, s->len);
		if (rc < 0)
			return BLK_EIO; /* not guest RAM: what moved before stays moved */
		off += s->len;
		*moved += s->len;
	}
	return BLK_OK;
}

static int zero_range(struct ramdisk *rd, const struct blk_request *r, uint64_t *zeroed)
{
	uint64_t sectors = rd->dev.sectors;

	*zeroed = 0;
	if (r->sector > sectors || r->nsectors > sectors - r->sector)
		return BLK_ERANGE;
	*zeroed = r->nsectors * BLK_SECTOR_SIZE;
	memset(rd->data + r->sector * BLK_SECTOR_SIZE, 0, (size_t)*zeroed);
	return BLK_OK;
}

static void ramdisk_submit(struct blkdev *d, struct blk_request *r)
{
	struct ramdisk *rd = d->priv;
	struct blkdev_stats *st = &d->stats;
	uint64_t bytes = 0;
	int status = blk_request_check(d, r);

	if (status == BLK_OK) {
		switch (r->op) {
		case BLK_OP_READ:
			status = transfer(rd, r, false, &bytes);
			count(&st->reads, 1);
			count(&st->bytes_read, bytes);
			break;
		case BLK_OP_WRITE:
			status = transfer(rd, r, true, &bytes);
			count(&st->writes, 1);
			count(&st->bytes_written, bytes);
			break;
		case BLK_OP_FLUSH:
			/* no cache between the guest and the module: written is durable (till reboot) */
			count(&st->flushes, 1);
			break;
		case BLK_OP_DISCARD:
			status = zero_range(rd, r, &bytes);
			count(&st->discards, 1);
			break;
		case BLK_OP_WRITE_ZEROES:
			status = zero_range(rd, r, &bytes);
			count(&st->writes, 1);
			count(&st->bytes_written, bytes);
			break;
		default:
			status = BLK_ENOTSUP;
			break;
		}
	}
	if (status != BLK_OK)
		count(&st->errors, 1);
	r->done(r, status);
}

static const struct blkdev_ops ramdisk_ops = {
	.submit = ramdisk_submit,
};

int ramdisk_init(struct ramdisk *rd, const char *name, void *data, uint64_t bytes,
		 bool read_only)
{
	memset(rd, 0, sizeof(*rd));
	rd->claim = -1;
	if (!data || bytes < BLK_SECTOR_SIZE)
		return -1;
	strlcpy_hv(rd->dev.name, name, sizeof(rd->dev.name));
	rd->data = data;
	rd->dev.sectors = bytes / BLK_SECTOR_SIZE;
	rd->dev.block_size = BLK_SECTOR_SIZE;
	rd->dev.read_only = read_only;
	rd->dev.volatile_cache = false;
	rd->dev.can_discard = true;
	rd->dev.can_write_zeroes = true;
	rd->dev.ops = &ramdisk_ops;
	rd->dev.priv = rd;
	return 0;
}

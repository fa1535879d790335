/*
 * Synchronous block I/O for the host (see blk_sync.h). The request, its
 * segment and a bounce buffer are allocated together; when the wait times
 * out they are handed to the completion, which frees them whenever the
 * driver finally fails the request back, so a late DMA lands in memory
 * nobody else owns and the caller's buffer is free at once.
 */
#include "kernel/blk/blk_sync.h"

#include "include/x86.h"
#include "kernel/cpu/deferred.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

/* Host memory is identity-mapped: a host buffer's address is its physical address. */
static int host_read(void *ctx, uint64_t pa, void *dst, size_t len)
{
	(void)ctx;
	memcpy(dst, phys_to_virt(pa), len);
	return 0;
}

static int host_write(void *ctx, uint64_t pa, const void *src, size_t len)
{
	(void)ctx;
	memcpy(phys_to_virt(pa), src, len);
	return 0;
}

static uint64_t host_dma_addr(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	return len ? pa : 0;
}

const struct blk_guest_mem blk_host_mem = {
	.read = host_read,
	.write = host_write,
	.dma_addr = host_dma_addr,
	.ctx = NULL,
};

enum { WAITING, DONE, ABANDONED };

struct sync_req {
	struct blk_request r;
	struct blk_seg seg;
	int status;
	uint32_t state;
	void *bounce;
};

static void sync_free(struct sync_req *s)
{
	kfree(s->bounce);
	kfree(s);
}

static void sync_done(struct blk_request *r, int status)
{
	struct sync_req *s = r->ctx;

	s->status = status;
	if (__atomic_exchange_n(&s->state, DONE, __ATOMIC_ACQ_REL) == ABANDONED)
		sync_free(s); /* the waiter gave up long ago */
}

static int sync_io(struct blkdev *d, enum blk_op op, uint64_t sector, void *buf, uint32_t n,
		   unsigned timeout_ms)
{
	struct sync_req *s;
	uint64_t deadline;
	size_t bytes;
	int status;

	if (!n)
		return BLK_OK;
	if (n > UINT32_MAX / BLK_SECTOR_SIZE)
		return BLK_EIO;
	bytes = (size_t)n * BLK_SECTOR_SIZE;
	s = kzalloc(sizeof(*s));
	if (!s)
		return BLK_EIO;
	s->bounce = kmalloc(bytes);
	if (!s->bounce) {
		kfree(s);
		return BLK_EIO;
	}
	if (op == BLK_OP_WRITE)
		memcpy(s->bounce, buf, bytes);
	s->seg = (struct blk_seg){.gpa = (uint64_t)(uintptr_t)s->bounce, .len = (uint32_t)bytes};
	s->r = (struct blk_request){.op = op,
				    .sector = sector,
				    .nsectors = n,
				    .segs = &s->seg,
				    .nseg = 1,
				    .mem = &blk_host_mem,
				    .done = sync_done,
				    .ctx = s};
	s->state = WAITING;
	deadline = rdtsc() + tsc_khz() * timeout_ms;
	d->ops->submit(d, &s->r);
	/* the completion comes from deferred work: be a safe point until it does */
	while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == WAITING) {
		if ((int64_t)(rdtsc() - deadline) > 0 &&
		    __atomic_exchange_n(&s->state, ABANDONED, __ATOMIC_ACQ_REL) == WAITING)
			return BLK_EIO; /* sync_done frees it */
		deferred_run();
		cpu_relax();
	}
	status = s->status;
	if (status == BLK_OK && op == BLK_OP_READ)
		memcpy(buf, s->bounce, bytes);
	sync_free(s);
	return status;
}

int blk_read_sync(struct blkdev *d, uint64_t sector, void *buf, uint32_t n, unsigned timeout_ms)
{
	return sync_io(d, BLK_OP_READ, sector, buf, n, timeout_ms);
}

int blk_write_sync(struct blkdev *d, uint64_t sector, const void *buf, uint32_t n,
		   unsigned timeout_ms)
{
	return sync_io(d, BLK_OP_WRITE, sector, (void *)buf, n, timeout_ms);
}

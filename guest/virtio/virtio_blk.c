/*
 * virtio-blk (virtio 1.2 §5.2) over a struct blkdev.
 *
 * A kick drains the request queue: with guest kicks suppressed (used.flags
 * or avail_event), chains are popped until none is left, each parsed into a
 * slot and submitted to the disk; at the end kicks are enabled again and
 * the ring re-checked, so a request added meanwhile is not left waiting.
 * Completions (now or later, in any order) write the status byte, push the
 * used entry and let the core decide on an interrupt; while draining, that
 * decision waits for the end of the batch.
 *
 * Slots are not indexed by head: after a reset the disk may still hold an
 * old request, and a new chain with the same head must not reuse its slot.
 * When no slot is free, draining stops and the next completion resumes it.
 */
#include "guest/virtio/virtio_blk.h"

#include "kernel/lib/string.h"

#define REQ_HDR_LEN 16 /* u32 type, u32 reserved, u64 sector */
#define DWZ_SEG_LEN 16 /* u64 sector, u32 num_sectors, u32 flags */

static struct virtio_blk *to_blk(struct virtio_dev *d)
{
	return (struct virtio_blk *)d; /* dev is the first member */
}

static void put_le(uint8_t *cfg, unsigned off, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void vblk_drain(struct virtio_blk *vb);

/* -------- slots -------- */

static struct vblk_slot *slot_take(struct virtio_blk *vb)
{
	struct vblk_slot *s = vb->free;

	if (!s)
		return NULL;
	vb->free = s->next_free;
	s->next_free = NULL;
	s->busy = true;
	s->gen = vb->gen;
	vb->busy++;
	return s;
}

static void slot_put(struct virtio_blk *vb, struct vblk_slot *s)
{
	s->busy = false;
	s->next_free = vb->free;
	vb->free = s;
	vb->busy--;
}

/* -------- completion -------- */

static uint8_t virtio_status_of(int blk_status)
{
	switch (blk_status) {
	case BLK_OK:
		return VIRTIO_BLK_S_OK;
	case BLK_ENOTSUP:
		return VIRTIO_BLK_S_UNSUPP;
	default:
		return VIRTIO_BLK_S_IOERR;
	}
}

/* Writes the status byte and returns the chain to the driver. */
static void complete(struct virtio_blk *vb, uint16_t head, uint64_t status_gpa, uint8_t status,
		     uint32_t used_len)
{
	struct virtio_dev *d = &vb->dev;
	struct virtqueue *q = &d->vq[0];

	if (status == VIRTIO_BLK_S_IOERR)
		vb->stats.errors++;
	else if (status == VIRTIO_BLK_S_UNSUPP)
		vb->stats.unsupported++;
	if (d->failure)
		return; /* the driver must reset; nothing more goes to it */
	if (d->mem.write(d->mem.ctx, status_gpa, &status, 1) ||
	    vq_push(q, &d->mem, head, used_len)) {
		virtio_dev_fail(d, q->error ? q->error : "status byte not in guest RAM");
		return;
	}
	if (vb->draining)
		vb->push_pending = true;
	else
		virtio_queue_done(d, 0);
}

static void vblk_request_done_locked(struct blk_request *r, int blk_status);

static void vblk_request_done(struct blk_request *r, int blk_status)
{
	struct vblk_slot *s = r->ctx;
	const struct vblk_lock_ops *l = s->vb->lock_ops;
	void *ctx = s->vb->lock_ctx;
	if (!l || l->held(ctx)) {
		vblk_request_done_locked(r, blk_status);
		return;
	}
	l->lock(ctx);
	vblk_request_done_locked(r, blk_status);
	l->unlock(ctx);
}

static void vblk_request_done_locked(struct blk_request *r, int blk_status)
{
	struct vblk_slot *s = r->ctx;
	struct virtio_blk *vb = s->vb;
	uint8_t status = virtio_status_of(blk_status);
	bool current = s->gen == vb->gen;
	uint16_t head = s->head;
	uint64_t status_gpa = s->status_gpa;
	uint32_t used_len = status == VIRTIO_BLK_S_OK ? s->used_len : 1;

	if (current && status == VIRTIO_BLK_S_OK) {
		if (s->type == VIRTIO_BLK_T_IN)
			vb->stats.bytes_read += r->nsectors * BLK_SECTOR_SIZE;
		else if (s->type == VIRTIO_BLK_T_OUT)
			vb->stats.bytes_written += r->nsectors * BLK_SECTOR_SIZE;
	}
	slot_put(vb, s);
	/* A request from before a reset: its chain belongs to a ring the driver dropped. */
	if (current)
		complete(vb, head, status_gpa, status, used_len);
	/* While draining, the loop sees the freed slot itself; after a stall, resume. */
	if (!vb->draining && vb->stalled) {
		vb->stalled = false;
		vblk_drain(vb);
	}
}

/* -------- parsing -------- */

/*
 * Fills s->segs with the bytes [skip, skip+len) of segments seg[0..n).
 * Returns the number of segments, or -1 if more than VBLK_SEG_MAX.
 */
static int gather(struct vblk_slot *s, const struct vq_seg *seg, unsigned n, uint32_t skip,
		  uint32_t len)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n && len; i++) {
		uint32_t take;

		if (skip >= seg[i].len) {
			skip -= seg[i].len;
			continue;
		}
		take = seg[i].len - skip;
		if (take > len)
			take = len;
		if (out == VBLK_SEG_MAX)
			return -1;
		s->segs[out].gpa = seg[i].gpa + skip;
		s->segs[out].len = take;
		out++;
		len -= take;
		skip = 0;
	}
	return (int)out;
}

/* The guest address of the chain's last writable byte (in_len >= 1). */
static uint64_t status_byte_gpa(const struct vq_elem *e)
{
	for (unsigned i = e->nout + e->nin; i-- > e->nout;)
		if (e->seg[i].len)
			return e->seg[i].gpa + e->seg[i].len - 1;
	return 0; /* unreachable: in_len >= 1 */
}

static void submit(struct virtio_blk *vb, struct vblk_slot *s, enum blk_op op, uint64_t sector,
		   uint64_t nsectors, unsigned nseg)
{
	struct blk_request *r = &s->req;
	int rc;

	r->op = op;
	r->sector = sector;
	r->nsectors = nsectors;
	r->segs = s->segs;
	r->nseg = nseg;
	r->mem = &vb->gmem;
	r->done = vblk_request_done;
	r->ctx = s;
	/* The disk checks too; checking here keeps a lax disk from seeing a bad range. */
	rc = blk_request_check(vb->disk, r);
	if (rc != BLK_OK) {
		vblk_request_done_locked(r, rc);
		return;
	}
	vb->disk->ops->submit(vb->disk, r);
}

/* Completes s at once with `status` (no disk work). */
static void finish_now(struct vblk_slot *s, uint8_t status)
{
	int blk = status == VIRTIO_BLK_S_OK ? BLK_OK
		  : status == VIRTIO_BLK_S_UNSUPP ? BLK_ENOTSUP
						  : BLK_EIO;

	s->req.nsectors = 0;
	s->req.ctx = s;
	vblk_request_done_locked(&s->req, blk);
}

static void do_rw(struct virtio_blk *vb, struct vblk_slot *s, const struct vq_elem *e,
		  uint64_t sector)
{
	bool in = s->type == VIRTIO_BLK_T_IN;
	uint32_t len = in ? e->in_len - 1 : e->out_len - REQ_HDR_LEN;
	int nseg;

	/* §5.2.6.1: data is a multiple of 512 bytes. IN carries nothing readable but the
	 * header; OUT's writable part is the status byte alone. */
	if (len % BLK_SECTOR_SIZE || (in ? e->out_len != REQ_HDR_LEN : e->in_len != 1)) {
		finish_now(s, VIRTIO_BLK_S_IOERR);
		return;
	}
	nseg = in ? gather(s, e->seg + e->nout, e->nin, 0, len)
		  : gather(s, e->seg, e->nout, REQ_HDR_LEN, len);
	if (nseg < 0) {
		finish_now(s, VIRTIO_BLK_S_IOERR); /* more than seg_max */
		return;
	}
	s->used_len = in ? len + 1 : 1;
	if (in)
		vb->stats.reads++;
	else
		vb->stats.writes++;
	submit(vb, s, in ? BLK_OP_READ : BLK_OP_WRITE, sector, len / BLK_SECTOR_SIZE,
	       (unsigned)nseg);
}

static void do_discard_wz(struct virtio_blk *vb, struct vblk_slot *s, const struct vq_elem *e)
{
	bool wz = s->type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint8_t seg[DWZ_SEG_LEN];
	uint64_t sector;
	uint32_t nsectors, flags;

	if (!virtio_has_feature(&vb->dev, wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD)) {
		finish_now(s, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	/* One range per request (max_discard_seg = max_write_zeroes_seg = 1). */
	if (e->out_len != REQ_HDR_LEN + DWZ_SEG_LEN ||
	    vq_elem_read(e, &vb->dev.mem, REQ_HDR_LEN, seg, sizeof(seg))) {
		finish_now(s, VIRTIO_BLK_S_IOERR);
		return;
	}
	sector = get_le(seg, 8);
	nsectors = (uint32_t)get_le(seg + 8, 4);
	flags = (uint32_t)get_le(seg + 12, 4);
	/* §5.2.6.2: UNSUPP for discard with unmap set and for unknown flags; write zeroes
	 * may ask to unmap (we write zeroes either way: write_zeroes_may_unmap is 0). */
	if (flags & ~(wz ? VIRTIO_BLK_WZ_F_UNMAP : 0u)) {
		finish_now(s, VIRTIO_BLK_S_UNSUPP);
		return;
	}
	if (nsectors > VBLK_MAX_DISCARD_SECTORS) {
		finish_now(s, VIRTIO_BLK_S_IOERR);
		return;
	}
	s->used_len = 1;
	if (wz)
		vb->stats.write_zeroes++;
	else
		vb->stats.discards++;
	submit(vb, s, wz ? BLK_OP_WRITE_ZEROES : BLK_OP_DISCARD, sector, nsectors, 0);
}

static void do_get_id(struct virtio_blk *vb, struct vblk_slot *s, const struct vq_elem *e)
{
	uint32_t n = e->in_len - 1;

	/* §5.2.6: 20 bytes, NUL-padded; a shorter buffer gets what fits (as QEMU does). */
	if (n > VIRTIO_BLK_ID_BYTES)
		n = VIRTIO_BLK_ID_BYTES;
	vb->stats.get_ids++;
	if (vq_elem_write(e, &vb->dev.mem, 0, vb->serial, n)) {
		finish_now(s, VIRTIO_BLK_S_IOERR);
		return;
	}
	s->used_len = n + 1;
	finish_now(s, VIRTIO_BLK_S_OK);
}

/* Parses one popped chain; it ends completed, submitted, or the device failed. */
static void handle(struct virtio_blk *vb, const struct vq_elem *e, struct vblk_slot *s)
{
	uint8_t hdr[REQ_HDR_LEN];
	uint64_t sector;

	vb->stats.requests++;
	/* §5.2.6.1: a readable header and a writable status byte, or it is no request at all:
	 * there is nowhere to report the error, so the device needs a reset. */
	if (e->out_len < REQ_HDR_LEN || vq_elem_read(e, &vb->dev.mem, 0, hdr, sizeof(hdr))) {
		slot_put(vb, s);
		virtio_dev_fail(&vb->dev, "virtio-blk request without a readable 16-byte header");
		return;
	}
	if (e->in_len < 1) {
		slot_put(vb, s);
		virtio_dev_fail(&vb->dev, "virtio-blk request without a status byte");
		return;
	}
	s->head = e->head;
	s->status_gpa = status_byte_gpa(e);
	s->type = (uint8_t)get_le(hdr, 4);
	s->used_len = 1;
	sector = get_le(hdr + 8, 8);
	switch (get_le(hdr, 4)) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		do_rw(vb, s, e, sector);
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!virtio_has_feature(&vb->dev, VIRTIO_BLK_F_FLUSH)) {
			finish_now(s, VIRTIO_BLK_S_UNSUPP);
			break;
		}
		vb->stats.flushes++;
		submit(vb, s, BLK_OP_FLUSH, 0, 0, 0);
		break;
	case VIRTIO_BLK_T_GET_ID:
		do_get_id(vb, s, e);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		do_discard_wz(vb, s, e);
		break;
	default:
		s->type = 0xff;
		finish_now(s, VIRTIO_BLK_S_UNSUPP);
		break;
	}
}

/* -------- the queue -------- */

static void vblk_drain(struct virtio_blk *vb)
{
	struct virtio_dev *d = &vb->dev;
	struct virtqueue *q = &d->vq[0];

	if (vb->draining) {
		vb->drain_again = true;
		return;
	}
	vb->draining = true;
	do {
		vb->drain_again = false;
		if (!virtio_queue_ready(d, 0))
			break;
		vq_set_notification(q, &d->mem, false);
		for (;;) {
			if (!vb->free) {
				vb->stalled = true; /* a completion resumes us */
				break;
			}
			/* poll mode leaves kicks off when the ring is empty: the host polls */
			if (vb->poll_mode ? !virtio_queue_pop(d, 0, &vb->elem)
					  : !virtio_queue_next(d, 0, &vb->elem))
				break;
			vb->drained++;
			handle(vb, &vb->elem, slot_take(vb));
		}
	} while (vb->drain_again && !vb->stalled);
	if (vb->poll_mode && virtio_queue_ready(d, 0))
		vb->polling = true;
	vb->draining = false;
	if (vb->push_pending) {
		vb->push_pending = false;
		virtio_queue_done(d, 0);
	}
}

unsigned virtio_blk_poll(struct virtio_blk *vb, bool may_rearm)
{
	struct virtio_dev *d = &vb->dev;
	if (!vb->polling)
		return 0;
	vb->polls++;
	uint64_t before = vb->drained;
	vblk_drain(vb);
	unsigned found = (unsigned)(vb->drained - before);
	vb->polled += found;
	if (!virtio_queue_ready(d, 0)) {
		vb->polling = false; /* reset or broken: nothing to poll */
		return found;
	}
	if (found || !may_rearm || vb->stalled)
		return found;
	/* idle: kicks back on, and one more look for a request that raced the re-arm */
	vb->polling = false;
	if (vq_set_notification(&d->vq[0], &d->mem, true))
		vblk_drain(vb);
	return found;
}

static void vblk_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == 0)
		vblk_drain(to_blk(d));
}

static void vblk_reset(struct virtio_dev *d)
{
	struct virtio_blk *vb = to_blk(d);

	/* Requests the disk still holds complete into nothing (their generation is old). */
	vb->gen++;
	vb->stalled = false;
	vb->push_pending = false;
	vb->drain_again = false;
	vb->polling = false;
}

static uint64_t vblk_cfg_read(struct virtio_dev *d, uint32_t offset, unsigned size)
{
	struct virtio_blk *vb = to_blk(d);

	if (offset > sizeof(vb->cfg) || size > sizeof(vb->cfg) - offset)
		return 0;
	return get_le(vb->cfg + offset, size);
}


static const struct virtio_dev_ops vblk_ops = {
	.reset = vblk_reset,
	.cfg_read = vblk_cfg_read,
	/* read-only: only `writeback` is writable, and only with CONFIG_WCE (not offered) */
	.cfg_write = NULL,
	.queue_notify = vblk_queue_notify,
	.driver_ok = NULL,
};

static void build_config(struct virtio_blk *vb)
{
	const struct blkdev *disk = vb->disk;
	uint32_t per_block = disk->block_size > BLK_SECTOR_SIZE ? disk->block_size / BLK_SECTOR_SIZE
								: 1;
	uint32_t block_size = per_block * BLK_SECTOR_SIZE;
	unsigned exp = 0;

	while ((1u << exp) < per_block)
		exp++;
	memset(vb->cfg, 0, sizeof(vb->cfg));
	put_le(vb->cfg, VIRTIO_BLK_CFG_CAPACITY, disk->sectors, 8);
	put_le(vb->cfg, VIRTIO_BLK_CFG_SEG_MAX, VBLK_SEG_MAX, 4);
	put_le(vb->cfg, VIRTIO_BLK_CFG_BLK_SIZE, block_size, 4);
	/* topology is not offered; its fields say the same as blk_size would */
	vb->cfg[VIRTIO_BLK_CFG_TOPOLOGY] = (uint8_t)exp;
	put_le(vb->cfg, VIRTIO_BLK_CFG_NUM_QUEUES, 1, 2);
	if (disk->can_discard && !disk->read_only) {
		put_le(vb->cfg, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, VBLK_MAX_DISCARD_SECTORS, 4);
		put_le(vb->cfg, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 1, 4);
		put_le(vb->cfg, VIRTIO_BLK_CFG_DISCARD_ALIGNMENT, per_block, 4);
	}
	if (disk->can_write_zeroes && !disk->read_only) {
		put_le(vb->cfg, VIRTIO_BLK_CFG_MAX_WZ_SECTORS, VBLK_MAX_DISCARD_SECTORS, 4);
		put_le(vb->cfg, VIRTIO_BLK_CFG_MAX_WZ_SEG, 1, 4);
		vb->cfg[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 0;
	}
}

void virtio_blk_init(struct virtio_blk *vb, struct blkdev *disk, const char *serial,
		     const struct vq_mem *mem)
{
	uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
			    (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
			    (1ull << VIRTIO_BLK_F_BLK_SIZE);
	size_t len;

	/* Keep the transport's fields (set before or after this). */
	struct virtio_dev saved = vb->dev;

	memset(vb, 0, sizeof(*vb));
	vb->dev.notify_queue = saved.notify_queue;
	vb->dev.notify_config = saved.notify_config;
	vb->dev.transport = saved.transport;
	vb->disk = disk;
	if (disk->volatile_cache)
		features |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (disk->read_only)
		features |= 1ull << VIRTIO_BLK_F_RO;
	else {
		if (disk->can_discard)
			features |= 1ull << VIRTIO_BLK_F_DISCARD;
		if (disk->can_write_zeroes)
			features |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	}
	virtio_dev_init(&vb->dev, VIRTIO_ID_BLOCK, disk->name, features, 1, VBLK_QUEUE_SIZE,
			VIRTIO_BLK_CFG_SIZE, &vblk_ops, mem);
	vb->gmem.read = vb->dev.mem.read;
	vb->gmem.write = vb->dev.mem.write;
	vb->gmem.ctx = vb->dev.mem.ctx;
	vb->gmem.dma_addr = vb->dev.mem.dma_addr;
	/* The serial: given, else the tail of the disk's name (its distinctive part). */
	if (!serial) {
		len = strnlen(disk->name, sizeof(disk->name));
		serial = disk->name + (len > VIRTIO_BLK_ID_BYTES ? len - VIRTIO_BLK_ID_BYTES : 0);
	}
	len = strnlen(serial, VIRTIO_BLK_ID_BYTES);
	memcpy(vb->serial, serial, len);
	for (unsigned i = 0; i < VBLK_QUEUE_SIZE; i++) {
		vb->slot[i].vb = vb;
		vb->slot[i].next_free = vb->free;
		vb->free = &vb->slot[i];
	}
	build_config(vb);
}

unsigned virtio_blk_in_flight(const struct virtio_blk *vb)
{
	return vb->busy;
}

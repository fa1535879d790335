/*
 * The device's side of a split virtqueue (virtio 1.2 §2.7). The header lists
 * every check; the order here is: the index the driver published is checked
 * against what was taken, each descriptor is copied once into a local
 * before any field of it is used, the copy is checked, and only then the
 * chain grows by it.
 *
 * Memory ordering (virtio 1.2 §2.7.13.3 and §2.7.7.2, the driver's side of
 * the same handshake in Linux virtio_ring.c): the ring entry and descriptors
 * are read after avail.idx, behind an acquire fence; the used element is
 * written before used.idx, behind a release fence; and a full fence sits
 * between publishing avail_event (or clearing NO_NOTIFY) and reading
 * avail.idx again, and between publishing used.idx and reading used_event,
 * because both are store-then-load patterns that x86 reorders (SDM Vol. 3A
 * §9.2.3.4: loads may pass older stores to other locations).
 */
#include "guest/virtio/virtqueue.h"

#include "kernel/lib/string.h"

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vring_desc) == 16, "virtio 1.2 §2.7.5");

/* Offsets inside the rings (virtio 1.2 §2.7.6, §2.7.8). */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 2
#define AVAIL_RING(i) (4 + 2 * (uint64_t)(i))
#define USED_FLAGS 0
#define USED_IDX 2
#define USED_RING(i) (4 + 8 * (uint64_t)(i))

/* An indirect table of more than this many entries cannot be a valid chain (§2.7.5.3.1). */
#define VQ_MAX_INDIRECT 65536u

static void vq_break(struct virtqueue *q, const char *why)
{
	if (!q->error)
		q->error = why;
}

static int read_u16(const struct vq_mem *m, uint64_t gpa, uint16_t *v)
{
	return m->read(m->ctx, gpa, v, sizeof(*v));
}

static int write_u16(const struct vq_mem *m, uint64_t gpa, uint16_t v)
{
	return m->write(m->ctx, gpa, &v, sizeof(v));
}

/* Whether [gpa, gpa+len) is all RAM; len 0 is (no byte to reach). */
static bool range_is_ram(const struct vq_mem *m, uint64_t gpa, uint64_t len)
{
	uint8_t scratch[64];

	if (len == 0)
		return true;
	if (gpa + len < gpa)
		return false;
	if (m->is_ram)
		return m->is_ram(m->ctx, gpa, len);
	while (len) {
		size_t n = len < sizeof(scratch) ? (size_t)len : sizeof(scratch);

		if (m->read(m->ctx, gpa, scratch, n))
			return false;
		gpa += n;
		len -= n;
	}
	return true;
}

static bool head_in_flight(const struct virtqueue *q, uint16_t head)
{
	return (q->in_flight_map[head / 32] >> (head % 32)) & 1;
}

static void mark_in_flight(struct virtqueue *q, uint16_t head, bool on)
{
	if (on)
		q->in_flight_map[head / 32] |= 1u << (head % 32);
	else
		q->in_flight_map[head / 32] &= ~(1u << (head % 32));
}

void vq_reset(struct virtqueue *q)
{
	memset(q, 0, sizeof(*q));
}

int vq_enable(struct virtqueue *q, const struct vq_mem *m)
{
	uint64_t size = q->size;

	q->enabled = false;
	q->last_avail = q->used_idx = q->signalled_used = q->in_flight = 0;
	q->signalled_valid = false;
	memset(q->in_flight_map, 0, sizeof(q->in_flight_map));
	q->error = NULL;
	/* §2.7: Queue Size is a power of 2 (the ring indices wrap at 2^16 and are taken mod size). */
	if (size == 0 || size > VQ_MAX_SIZE || (size & (size - 1))) {
		vq_break(q, "queue size not a power of two <= 256");
		return -1;
	}
	/* §2.7 table "Virtqueue Part Alignment": 16, 2, 4. */
	if ((q->desc_gpa & 15) || (q->avail_gpa & 1) || (q->used_gpa & 3)) {
		vq_break(q, "ring areas misaligned");
		return -1;
	}
	if (!range_is_ram(m, q->desc_gpa, 16 * size) ||
	    !range_is_ram(m, q->avail_gpa, AVAIL_RING(size) + 2) ||
	    !range_is_ram(m, q->used_gpa, USED_RING(size) + 2)) {
		vq_break(q, "ring areas not in guest RAM");
		return -1;
	}
	q->enabled = true;
	return 0;
}

/* Reads descriptor idx of the table at `table` into *d. */
static int read_desc(const struct vq_mem *m, uint64_t table, uint32_t idx, struct vring_desc *d)
{
	return m->read(m->ctx, table + 16 * (uint64_t)idx, d, sizeof(*d));
}

/*
 * Walks the chain at `head` into e. Returns 0, or -1 with the queue broken.
 * Every descriptor is read once into `d`; nothing is read from guest memory
 * twice, so a guest rewriting its table meanwhile only gets what it wrote
 * first or second, never a mix that passed the checks.
 */
static int walk_chain(struct virtqueue *q, const struct vq_mem *m, uint16_t head,
		      struct vq_elem *e)
{
	uint64_t table = q->desc_gpa;
	uint32_t table_size = q->size;
	uint32_t ttl = q->size; /* descriptors left before the chain must have ended */
	uint32_t idx = head;
	uint64_t total = 0;
	bool in_indirect = false;
	unsigned nseg = 0;

	e->head = head;
	e->nout = e->nin = 0;
	e->out_len = e->in_len = 0;
	for (;;) {
		struct vring_desc d;

		if (ttl == 0) {
			vq_break(q, in_indirect ? "indirect chain longer than its table (a loop)"
						: "chain longer than the queue (a loop)");
			return -1;
		}
		ttl--;
		if (read_desc(m, table, idx, &d)) {
			vq_break(q, in_indirect ? "indirect table not in guest RAM"
						: "descriptor table not in guest RAM");
			return -1;
		}
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* §2.7.5.3.1: the driver MUST NOT set INDIRECT within an indirect table, nor
			 * INDIRECT with NEXT. We take an indirect table only as the whole chain (the
			 * head), as Linux builds it and QEMU reads it. */
			if (!q->indirect) {
				vq_break(q, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
				return -1;
			}
			if (in_indirect) {
				vq_break(q, "nested indirect descriptor");
				return -1;
			}
			if (nseg != 0 || idx != head) {
				vq_break(q, "indirect descriptor not at the head of the chain");
				return -1;
			}
			if (d.flags & VRING_DESC_F_NEXT) {
				vq_break(q, "indirect descriptor with NEXT");
				return -1;
			}
			if (d.len == 0 || d.len % 16) {
				vq_break(q, "indirect table length 0 or not a multiple of 16");
				return -1;
			}
			if (d.len / 16 > VQ_MAX_INDIRECT || d.addr + d.len < d.addr) {
				vq_break(q, "indirect table too large");
				return -1;
			}
			table = d.addr;
			table_size = d.len / 16;
			ttl = table_size;
			idx = 0;
			in_indirect = true;
			continue;
		}
		if (d.flags & VRING_DESC_F_WRITE) {
			e->nin++;
			e->in_len += d.len; /* bounded by `total` below */
		} else {
			/* §2.7.4.2: device-readable descriptors come before device-writable ones. */
			if (e->nin) {
				vq_break(q, "device-readable descriptor after a writable one");
				return -1;
			}
			e->nout++;
			e->out_len += d.len;
		}
		total += d.len;
		if (total > UINT32_MAX) {
			vq_break(q, "chain lengths overflow 32 bits");
			return -1;
		}
		if (nseg >= VQ_MAX_SEGS) {
			vq_break(q, "chain has more buffers than the device takes");
			return -1;
		}
		if (!range_is_ram(m, d.addr, d.len)) {
			vq_break(q, "buffer not in guest RAM");
			return -1;
		}
		e->seg[nseg].gpa = d.addr;
		e->seg[nseg].len = d.len;
		nseg++;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= table_size) {
			vq_break(q, in_indirect ? "next index past the indirect table"
						: "next index >= queue size");
			return -1;
		}
		idx = d.next;
	}
}

int vq_pop(struct virtqueue *q, const struct vq_mem *m, struct vq_elem *e)
{
	uint16_t avail_idx, pending, head;

	if (q->error)
		return -1;
	if (!q->enabled)
		return 0;
	if (read_u16(m, q->avail_gpa + AVAIL_IDX, &avail_idx)) {
		vq_break(q, "available ring not in guest RAM");
		return -1;
	}
	/* Pairs with the driver's write barrier before it publishes avail.idx (§2.7.13.3). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	/* More than a ring's worth of new entries is impossible for an honest driver
	 * (§2.7.13.3: the driver never has more than size descriptors out). */
	if (pending > q->size) {
		vq_break(q, "avail.idx moved more than the queue size");
		return -1;
	}
	if (read_u16(m, q->avail_gpa + AVAIL_RING(q->last_avail & (q->size - 1)), &head)) {
		vq_break(q, "available ring not in guest RAM");
		return -1;
	}
	if (head >= q->size) {
		vq_break(q, "head index >= queue size");
		return -1;
	}
	if (head_in_flight(q, head)) {
		vq_break(q, "head made available again before it was used");
		return -1;
	}
	if (walk_chain(q, m, head, e))
		return -1;
	q->last_avail++;
	q->in_flight++;
	mark_in_flight(q, head, true);
	q->pops++;
	return 1;
}

int vq_push(struct virtqueue *q, const struct vq_mem *m, uint16_t head, uint32_t written)
{
	uint32_t elem[2] = { head, written };
	uint64_t slot;

	if (q->error || !q->enabled)
		return -1;
	/* Only ids we popped go back (firecracker write_used_element). */
	if (head >= q->size || !head_in_flight(q, head)) {
		vq_break(q, "device returned a head it did not take");
		return -1;
	}
	slot = q->used_gpa + USED_RING(q->used_idx & (q->size - 1));
	if (m->write(m->ctx, slot, elem, sizeof(elem))) {
		vq_break(q, "used ring not in guest RAM");
		return -1;
	}
	/* The element must be visible before the index that publishes it (§2.7.8.2). */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (write_u16(m, q->used_gpa + USED_IDX, (uint16_t)(q->used_idx + 1))) {
		vq_break(q, "used ring not in guest RAM");
		return -1;
	}
	q->used_idx++;
	q->in_flight--;
	mark_in_flight(q, head, false);
	q->pushes++;
	return 0;
}

bool vq_should_interrupt(struct virtqueue *q, const struct vq_mem *m)
{
	uint16_t old = q->signalled_used, new = q->used_idx;
	bool valid = q->signalled_valid;
	bool want;

	if (q->error || !q->enabled)
		return false;
	if (old == new && (valid || q->pushes == 0))
		return false; /* nothing used since the last decision */
	/* used.idx (stored) must be visible before used_event / flags are loaded: the driver
	 * writes those and then reads used.idx, so without a full fence both sides could
	 * miss each other (Linux virtqueue_enable_cb_delayed uses virtio_mb there too). */
	__sync_synchronize();
	if (q->event_idx) {
		uint16_t used_event;

		if (read_u16(m, q->avail_gpa + AVAIL_RING(q->size), &used_event)) {
			vq_break(q, "available ring not in guest RAM");
			return false;
		}
		/* §2.7.10: interrupt iff used_event lies in [old, new) (vring_need_event). */
		want = !valid || (uint16_t)(new - used_event - 1) < (uint16_t)(new - old);
	} else {
		uint16_t flags;

		if (read_u16(m, q->avail_gpa + AVAIL_FLAGS, &flags)) {
			vq_break(q, "available ring not in guest RAM");
			return false;
		}
		want = !(flags & VRING_AVAIL_F_NO_INTERRUPT);
	}
	/* What was pushed up to now is covered whether or not the driver wanted to hear of
	 * it: with EVENT_IDX the next decision compares against this point (QEMU
	 * virtio_split_should_notify does the same). */
	q->signalled_used = new;
	q->signalled_valid = true;
	if (want)
		q->interrupts++;
	else
		q->interrupts_suppressed++;
	return want;
}

bool vq_set_notification(struct virtqueue *q, const struct vq_mem *m, bool enable)
{
	uint16_t avail_idx;
	int rc;

	if (q->error || !q->enabled)
		return false;
	if (q->event_idx) {
		/* Disabling needs no write: avail_event stays where it was, behind what the
		 * driver adds now, so vring_need_event() tells it not to kick. */
		if (!enable)
			return false;
		rc = write_u16(m, q->used_gpa + USED_RING(q->size), q->last_avail);
	} else {
		rc = write_u16(m, q->used_gpa + USED_FLAGS, enable ? 0 : VRING_USED_F_NO_NOTIFY);
	}
	if (rc) {
		vq_break(q, "used ring not in guest RAM");
		return false;
	}
	if (!enable)
		return false;
	/* Store (avail_event / flags) then load (avail.idx): a full fence, else a chain the
	 * driver added just before it read our store would get no kick and wait forever. */
	__sync_synchronize();
	if (read_u16(m, q->avail_gpa + AVAIL_IDX, &avail_idx)) {
		vq_break(q, "available ring not in guest RAM");
		return false;
	}
	return avail_idx != q->last_avail;
}

/* Copies between the stream of segments seg[0..n) at offset off and a host buffer. */
static int elem_copy(const struct vq_seg *seg, unsigned n, uint32_t total, const struct vq_mem *m,
		     uint32_t off, uint8_t *host, uint32_t len, bool to_guest)
{
	if (off > total || len > total - off)
		return -1;
	for (unsigned i = 0; i < n && len; i++) {
		uint32_t take;

		if (off >= seg[i].len) {
			off -= seg[i].len;
			continue;
		}
		take = seg[i].len - off;
		if (take > len)
			take = len;
		if (to_guest ? m->write(m->ctx, seg[i].gpa + off, host, take)
			     : m->read(m->ctx, seg[i].gpa + off, host, take))
			return -1;
		host += take;
		len -= take;
		off = 0;
	}
	return len ? -1 : 0;
}

int vq_elem_read(const struct vq_elem *e, const struct vq_mem *m, uint32_t off, void *dst,
		 uint32_t len)
{
	return elem_copy(e->seg, e->nout, e->out_len, m, off, dst, len, false);
}

int vq_elem_write(const struct vq_elem *e, const struct vq_mem *m, uint32_t off, const void *src,
		  uint32_t len)
{
	return elem_copy(e->seg + e->nout, e->nin, e->in_len, m, off, (uint8_t *)src, len, true);
}

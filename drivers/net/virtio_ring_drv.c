/* See virtio_ring_drv.h: the driver's side of a split virtqueue. */
#include "drivers/net/virtio_ring_drv.h"

#define PAGE 4096u

static size_t page_up(size_t n)
{
	return (n + PAGE - 1) & ~(size_t)(PAGE - 1);
}

void vring_layout(uint16_t size, struct vring_layout *l)
{
	/* each part on its own pages: more than the 16/2/4-byte alignment asked, and simple */
	l->desc = 0;
	l->avail = page_up(sizeof(struct vring_desc_le) * size);
	l->used = l->avail + page_up(sizeof(struct vring_avail_le) + 2u * size + 2);
	l->total = l->used + page_up(sizeof(struct vring_used_le) +
				     sizeof(struct vring_used_elem_le) * size + 2);
}

bool vring_init(struct vring_drv *q, uint16_t size, void *mem)
{
	if (size == 0 || size > VRING_MAX || (size & (size - 1)))
		return false;
	struct vring_layout l;
	vring_layout(size, &l);
	uint8_t *m = mem;
	*q = (struct vring_drv){.size = size};
	q->desc = (volatile struct vring_desc_le *)(m + l.desc);
	q->avail = (volatile struct vring_avail_le *)(m + l.avail);
	q->used = (volatile struct vring_used_le *)(m + l.used);
	/* pushed in reverse so that descriptor 0 is handed out first */
	for (unsigned i = 0; i < size; i++)
		q->free_ids[i] = (uint16_t)(size - 1 - i);
	q->nfree = size;
	return true;
}

int vring_add(struct vring_drv *q, const struct vring_seg *segs, unsigned n, uint64_t token)
{
	if (q->broken || n == 0 || n > q->nfree)
		return -1;
	uint16_t ids[VRING_MAX];
	uint32_t wlen = 0;
	for (unsigned i = 0; i < n; i++)
		ids[i] = q->free_ids[--q->nfree];
	for (unsigned i = 0; i < n; i++) {
		volatile struct vring_desc_le *d = &q->desc[ids[i]];
		d->addr = segs[i].addr;
		d->len = segs[i].len;
		d->flags = (uint16_t)((segs[i].device_writes ? VRING_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VRING_DESC_F_NEXT : 0));
		d->next = i + 1 < n ? ids[i + 1] : 0;
		q->next_id[ids[i]] = d->next;
		if (segs[i].device_writes)
			wlen += segs[i].len;
	}
	uint16_t head = ids[0];
	q->chain_len[head] = (uint16_t)n;
	q->wlen[head] = wlen;
	q->token[head] = token;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	q->inflight++;
	return head;
}

bool vring_publish(struct vring_drv *q)
{
	if (q->avail_idx == q->published)
		return false;
	/* the descriptors and ring entries are written before the device may see the index */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail->idx = q->avail_idx;
	q->published = q->avail_idx;
	/* the index is visible before the device's flags are read (a full barrier) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(q->used->flags & VRING_USED_F_NO_NOTIFY);
}

/* Gives a chain's descriptors back to the free stack, following the driver's own links (not the device-visible ones). */
static void free_chain(struct vring_drv *q, uint16_t head)
{
	uint16_t id = head;
	unsigned n = q->chain_len[head];
	q->chain_len[head] = 0;
	for (unsigned i = 0; i < n; i++) {
		q->free_ids[q->nfree++] = id;
		id = q->next_id[id];
	}
	q->inflight--;
}

bool vring_has_used(const struct vring_drv *q)
{
	return q->broken || q->used->idx != q->last_used;
}

enum vring_get vring_get(struct vring_drv *q, uint64_t *token, uint32_t *len)
{
	for (;;) {
		if (q->broken)
			return VRING_GET_BROKEN;
		uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
		uint16_t pending = (uint16_t)(idx - q->last_used);
		if (pending == 0)
			return VRING_GET_NONE;
		if (pending > q->inflight) {
			q->broken = true;
			return VRING_GET_BROKEN;
		}
		struct vring_used_elem_le e;
		e.id = q->used->ring[q->last_used & (q->size - 1)].id;
		e.len = q->used->ring[q->last_used & (q->size - 1)].len;
		q->last_used++;
		if (e.id >= q->size || q->chain_len[e.id] == 0) {
			q->bad_ids++; /* not a chain the device holds: nothing to give back */
			continue;
		}
		uint16_t head = (uint16_t)e.id;
		*token = q->token[head];
		enum vring_get r = VRING_GET_OK;
		if (e.len > q->wlen[head]) {
			q->bad_lens++;
			e.len = 0;
			r = VRING_GET_BAD_LEN;
		}
		*len = e.len;
		free_chain(q, head);
		return r;
	}
}

void vring_set_interrupts(struct vring_drv *q, bool on)
{
	q->avail->flags = on ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
}

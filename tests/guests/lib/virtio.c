/*
 * The test guests' modern virtio-pci driver. See virtio.h.
 */
#include "virtio.h"

#include "guest.h"

uint64_t virtio_timeout_cycles = 3000000000ull;

/* x86 keeps stores in order and loads in order (SDM Vol. 3A §9.2.2); the
 * driver only needs the compiler not to reorder, plus a full fence where a
 * store must be visible before a later load (the notify, reading used). */
static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline void full_fence(void)
{
	__asm__ volatile("lock; addl $0, (%%esp)" : : : "memory", "cc");
}

uint8_t vc_read8(struct vdev *d, unsigned off)
{
	return *(volatile uint8_t *)(d->common + off);
}
uint16_t vc_read16(struct vdev *d, unsigned off)
{
	return *(volatile uint16_t *)(d->common + off);
}
uint32_t vc_read32(struct vdev *d, unsigned off)
{
	return *(volatile uint32_t *)(d->common + off);
}
void vc_write8(struct vdev *d, unsigned off, uint8_t v)
{
	*(volatile uint8_t *)(d->common + off) = v;
}
void vc_write16(struct vdev *d, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(d->common + off) = v;
}
void vc_write32(struct vdev *d, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(d->common + off) = v;
}
void vc_write64(struct vdev *d, unsigned off, uint64_t v)
{
	vc_write32(d, off, (uint32_t)v);
	vc_write32(d, off + 4, (uint32_t)(v >> 32));
}

/* One vendor capability's structure: its BAR mapped, the range checked. */
static volatile uint8_t *map_cap(struct pci_fn f, uint8_t cap, bool force, uint32_t *len,
				 uint32_t minlen)
{
	uint8_t bar = pci_read8(f, cap + 4);
	uint32_t off = pci_read32(f, cap + 8), length = pci_read32(f, cap + 12);
	if (bar > 5) {
		printf("virtio: cap at 0x%x names BAR %u\n", cap, bar);
		return NULL;
	}
	struct pci_bar b = pci_bar_read(f, bar);
	if (!b.present || b.io || length < minlen || (uint64_t)off + length > b.size) {
		printf("virtio: cap at 0x%x: BAR%u (size 0x%llx) offset 0x%x length 0x%x unusable\n",
		       cap, bar, (unsigned long long)b.size, off, length);
		return NULL;
	}
	uint32_t base = pci_bar_map(f, bar, force);
	if (!base)
		return NULL;
	*len = length;
	return (volatile uint8_t *)(base + off);
}

bool virtio_find(uint16_t type, unsigned index, bool force_move, struct vdev *d)
{
	memset(d, 0, sizeof(*d));
	if (!pci_find(VIRTIO_VENDOR, VIRTIO_DEVICE_MODERN + type, index, &d->pci)) {
		printf("virtio: no modern virtio device of type %u (#%u)\n", type, index);
		return false;
	}
	struct pci_fn f = d->pci;
	d->type = type;
	if ((pci_read32(f, PCI_REVISION) & 0xff) < 1)
		printf("virtio: 00:%02x.%u revision 0: not modern? going on\n", f.dev, f.fn);

	uint8_t seen[5] = {0};
	uint32_t len;
	for (uint8_t cap = pci_cap_next(f, 0x09, 0); cap; cap = pci_cap_next(f, 0x09, cap)) {
		uint8_t cfg_type = pci_read8(f, cap + 3);
		if (cfg_type == 0 || cfg_type > 4 || seen[cfg_type])
			continue; /* the first of each type is the one to use (§4.1.4.1) */
		seen[cfg_type] = 1;
		switch (cfg_type) {
		case VIRTIO_CAP_COMMON:
			d->common = map_cap(f, cap, force_move, &len, 0x38);
			break;
		case VIRTIO_CAP_NOTIFY:
			d->notify = map_cap(f, cap, force_move, &d->notify_len, 2);
			d->notify_mult = pci_read32(f, cap + 16);
			break;
		case VIRTIO_CAP_ISR:
			d->isr = map_cap(f, cap, force_move, &len, 1);
			break;
		case VIRTIO_CAP_DEVICE:
			d->devcfg = map_cap(f, cap, force_move, &d->devcfg_len, 1);
			break;
		}
	}
	if (!d->common || !d->notify || !d->isr) {
		printf("virtio: 00:%02x.%u lacks a structure: common %p notify %p isr %p\n", f.dev,
		       f.fn, (void *)d->common, (void *)d->notify, (void *)d->isr);
		return false;
	}
	printf("virtio: 00:%02x.%u type %u: common %p notify %p (x%u) isr %p device %p\n", f.dev,
	       f.fn, type, (void *)d->common, (void *)d->notify, d->notify_mult, (void *)d->isr,
	       (void *)d->devcfg);
	return true;
}

bool virtio_reset(struct vdev *d)
{
	virtio_set_status(d, 0);
	uint64_t start = rdtsc();
	/* the device may take time to reset; it reads 0 once done (§4.1.4.3.2) */
	while (virtio_status(d) != 0)
		if (rdtsc() - start > virtio_timeout_cycles) {
			printf("virtio: reset: status still 0x%x\n", virtio_status(d));
			return false;
		}
	return true;
}

uint64_t virtio_device_features(struct vdev *d)
{
	vc_write32(d, VCOMMON_DFSELECT, 0);
	uint32_t lo = vc_read32(d, VCOMMON_DF);
	vc_write32(d, VCOMMON_DFSELECT, 1);
	uint32_t hi = vc_read32(d, VCOMMON_DF);
	return ((uint64_t)hi << 32) | lo;
}

void virtio_driver_features(struct vdev *d, uint64_t f)
{
	vc_write32(d, VCOMMON_GFSELECT, 0);
	vc_write32(d, VCOMMON_GF, (uint32_t)f);
	vc_write32(d, VCOMMON_GFSELECT, 1);
	vc_write32(d, VCOMMON_GF, (uint32_t)(f >> 32));
}

bool virtio_begin(struct vdev *d, uint64_t want)
{
	if (!virtio_reset(d))
		return false;
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE);
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
	d->offered = virtio_device_features(d);
	if (!(d->offered >> VIRTIO_F_VERSION_1 & 1)) {
		printf("virtio: device offers 0x%llx, no VERSION_1\n", (unsigned long long)d->offered);
		virtio_set_status(d, VIRTIO_S_FAILED);
		return false;
	}
	d->features = d->offered & (want | 1ull << VIRTIO_F_VERSION_1);
	virtio_driver_features(d, d->features);
	virtio_set_status(d, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	uint8_t s = virtio_status(d);
	if (!(s & VIRTIO_S_FEATURES_OK)) {
		printf("virtio: FEATURES_OK not kept (status 0x%x) for 0x%llx\n", s,
		       (unsigned long long)d->features);
		virtio_set_status(d, VIRTIO_S_FAILED);
		return false;
	}
	return true;
}

void virtio_driver_ok(struct vdev *d)
{
	virtio_set_status(d, virtio_status(d) | VIRTIO_S_DRIVER_OK);
}

bool vq_setup(struct vdev *d, struct vq *q, uint16_t qidx, uint16_t size, void *mem, bool enable)
{
	memset(q, 0, sizeof(*q));
	memset(mem, 0, VQ_MEM_SIZE);
	q->d = d;
	q->index = qidx;
	if (qidx >= vc_read16(d, VCOMMON_NUMQ)) {
		printf("virtio: queue %u: the device has %u\n", qidx, vc_read16(d, VCOMMON_NUMQ));
		return false;
	}
	vc_write16(d, VCOMMON_Q_SELECT, qidx);
	uint16_t max = vc_read16(d, VCOMMON_Q_SIZE);
	if (max == 0 || vc_read16(d, VCOMMON_Q_ENABLE)) {
		printf("virtio: queue %u: size %u, enable %u\n", qidx, max,
		       vc_read16(d, VCOMMON_Q_ENABLE));
		return false;
	}
	if (size == 0)
		size = max < VQ_GUEST_MAX ? max : VQ_GUEST_MAX;
	q->size = size;
	q->base = (uint32_t)mem;
	q->desc = (volatile struct vring_desc *)mem;
	q->avail = (volatile struct vring_avail *)((uint8_t *)mem + VQ_AVAIL_OFF);
	q->used = (volatile struct vring_used *)((uint8_t *)mem + VQ_USED_OFF);
	vc_write16(d, VCOMMON_Q_SIZE, size);
	vc_write64(d, VCOMMON_Q_DESC, q->base);
	vc_write64(d, VCOMMON_Q_AVAIL, q->base + VQ_AVAIL_OFF);
	vc_write64(d, VCOMMON_Q_USED, q->base + VQ_USED_OFF);
	vc_write16(d, VCOMMON_Q_MSIX, VIRTIO_NO_VECTOR);
	q->notify_off = vc_read16(d, VCOMMON_Q_NOFF);
	if ((uint32_t)q->notify_off * d->notify_mult + 2 > d->notify_len) {
		printf("virtio: queue %u: notify offset %u x %u outside the notify structure (%u)\n",
		       qidx, q->notify_off, d->notify_mult, d->notify_len);
		return false;
	}
	if (enable)
		vc_write16(d, VCOMMON_Q_ENABLE, 1);
	return true;
}

void vq_publish(struct vq *q, uint16_t head)
{
	q->avail->ring[q->avail_idx % q->size] = head;
	barrier(); /* the ring entry before the index (§2.7.13) */
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
}

void vq_notify(struct vq *q)
{
	full_fence(); /* avail.idx visible before the device hears of it (§2.7.13.4) */
	*(volatile uint16_t *)(q->d->notify + (uint32_t)q->notify_off * q->d->notify_mult) =
	    q->index;
}

enum vq_wait_result vq_wait(struct vq *q, uint32_t *id, uint32_t *len)
{
	uint64_t start = rdtsc();
	for (uint32_t n = 0;; n++) {
		if (q->used->idx != q->last_used) {
			barrier(); /* the element after the index (§2.7.14) */
			volatile struct vring_used_elem *e = &q->used->ring[q->last_used % q->size];
			if (id)
				*id = e->id;
			if (len)
				*len = e->len;
			q->last_used++;
			return VQ_USED;
		}
		/* the status is a register (an exit): look only now and then */
		if ((n & 255) == 0 && (virtio_status(q->d) & VIRTIO_S_NEEDS_RESET))
			return VQ_NEEDS_RESET;
		if (rdtsc() - start > virtio_timeout_cycles)
			return VQ_TIMEOUT;
		__asm__ volatile("pause");
	}
}

const char *vq_result_name(enum vq_wait_result r)
{
	switch (r) {
	case VQ_USED:
		return "used";
	case VQ_NEEDS_RESET:
		return "needs-reset";
	default:
		return "timeout";
	}
}

uint64_t vblk_capacity(struct vdev *d)
{
	uint32_t lo, hi;
	uint8_t gen;
	/* a 64-bit field read as two: retry until the generation holds (§4.1.4.3.1) */
	for (int tries = 0; tries < 16; tries++) {
		gen = vc_read8(d, VCOMMON_CFGGEN);
		lo = *(volatile uint32_t *)(d->devcfg + 0);
		hi = *(volatile uint32_t *)(d->devcfg + 4);
		if (vc_read8(d, VCOMMON_CFGGEN) == gen)
			break;
	}
	return ((uint64_t)hi << 32) | lo;
}

static struct vblk_hdr req_hdr __attribute__((aligned(16)));
static volatile uint8_t req_status;

enum vq_wait_result vblk_rw(struct vq *q, uint32_t type, uint64_t sector, void *buf, uint32_t len,
			    uint8_t *status)
{
	req_hdr.type = type;
	req_hdr.reserved = 0;
	req_hdr.sector = sector;
	req_status = 0xff;
	q->desc[0].addr = (uint32_t)&req_hdr;
	q->desc[0].len = sizeof(req_hdr);
	q->desc[0].flags = VRING_F_NEXT;
	q->desc[0].next = 1;
	q->desc[1].addr = (uint32_t)buf;
	q->desc[1].len = len;
	q->desc[1].flags = VRING_F_NEXT | (type == VBLK_T_IN ? VRING_F_WRITE : 0);
	q->desc[1].next = 2;
	q->desc[2].addr = (uint32_t)&req_status;
	q->desc[2].len = 1;
	q->desc[2].flags = VRING_F_WRITE;
	q->desc[2].next = 0;
	vq_publish(q, 0);
	vq_notify(q);
	uint32_t id = 0, used_len = 0;
	enum vq_wait_result r = vq_wait(q, &id, &used_len);
	*status = req_status;
	if (r == VQ_USED && id != 0)
		printf("virtio-blk: used id %u, not the head 0\n", id);
	return r;
}

uint32_t fnv1a(uint32_t h, const void *p, uint32_t n)
{
	const uint8_t *b = p;
	while (n--) {
		h ^= *b++;
		h *= 16777619u;
	}
	return h;
}

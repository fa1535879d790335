#include "guest/virtio/virtio_pci.h"

#include "kernel/lib/string.h"

/* Vendor capability cfg_type values (§4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define ISR_QUEUE 1
#define ISR_CONFIG 2

static const struct vpci_func_ops virtio_pci_ops;

/* PCI class codes Linux and QEMU give these devices (class << 16 | subclass << 8). */
static uint32_t class_of(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return 0x020000; /* network, Ethernet */
	case VIRTIO_ID_BLOCK:
		return 0x010000; /* mass storage, SCSI (what QEMU says) */
	case VIRTIO_ID_CONSOLE:
		return 0x078000; /* communication, other */
	default:
		return 0x00ff00; /* unclassified */
	}
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* struct virtio_pci_cap after the id and next bytes: cap_len, cfg_type, bar, id, pad[2], offset, length. */
static void add_cap(struct vpci_func *f, uint8_t type, uint32_t offset, uint32_t length,
		    bool notify)
{
	uint8_t body[18] = {0};
	uint8_t len = notify ? 20 : 16;
	body[0] = len;
	body[1] = type;
	body[2] = 0; /* BAR 0 */
	put_le32(&body[6], offset);
	put_le32(&body[10], length);
	if (notify)
		put_le32(&body[14], VIRTIO_PCI_NOTIFY_MULT);
	vpci_func_add_cap(f, PCI_CAP_ID_VNDR, body, len);
}

static void set_intx(struct virtio_pci *t, bool level)
{
	if (t->host)
		t->host->set_intx(t->host->ctx, &t->func, level);
	else
		vpci_func_set_intx(&t->func, level);
}

static void transport_reset(struct virtio_pci *t)
{
	struct virtio_dev *d = t->dev;
	t->dfselect = t->gfselect = 0;
	t->queue_select = 0;
	t->msix_config = VIRTIO_PCI_NO_VECTOR;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		t->queue_msix[q] = VIRTIO_PCI_NO_VECTOR;
		/* what queue_size reads before the driver picks one: the most the device takes */
		if (q < d->nqueues)
			d->vq[q].size = d->queue_max[q];
	}
	t->isr = 0;
	set_intx(t, false);
}

/* ---- interrupts ---- */

static void raise(struct virtio_pci *t, uint16_t vector, uint8_t isr_bit)
{
	if (vpci_msix_enabled(&t->func)) {
		if (vector == VIRTIO_PCI_NO_VECTOR)
			return;
		if (t->host ? t->host->msix_notify(t->host->ctx, &t->func, vector)
			    : vpci_msix_notify(&t->func, vector))
			t->interrupts++;
		return;
	}
	t->isr |= isr_bit;
	set_intx(t, true);
	t->interrupts++;
}

static void notify_queue(struct virtio_dev *d, unsigned q)
{
	struct virtio_pci *t = d->transport;
	if (q < d->nqueues)
		raise(t, t->queue_msix[q], ISR_QUEUE);
}

static void notify_config(struct virtio_dev *d)
{
	struct virtio_pci *t = d->transport;
	raise(t, t->msix_config, ISR_CONFIG);
}

/* ---- common configuration ---- */

static struct virtqueue *selected(struct virtio_pci *t)
{
	return t->queue_select < t->dev->nqueues ? &t->dev->vq[t->queue_select] : NULL;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The 56 bytes as the driver would read them now; any access width works on it. */
static void common_snapshot(struct virtio_pci *t, uint8_t *c)
{
	struct virtio_dev *d = t->dev;
	struct virtqueue *q = selected(t);
	memset(c, 0, VPCI_COMMON_SIZE);
	put_le32(c + VPCI_COMMON_DFSELECT, t->dfselect);
	put_le32(c + VPCI_COMMON_DF,
		 t->dfselect < 2 ? (uint32_t)(d->host_features >> (32 * t->dfselect)) : 0);
	put_le32(c + VPCI_COMMON_GFSELECT, t->gfselect);
	put_le32(c + VPCI_COMMON_GF,
		 t->gfselect < 2 ? (uint32_t)(d->guest_features >> (32 * t->gfselect)) : 0);
	put16(c + VPCI_COMMON_MSIX, t->msix_config);
	put16(c + VPCI_COMMON_NUMQ, (uint16_t)d->nqueues);
	c[VPCI_COMMON_STATUS] = d->status;
	c[VPCI_COMMON_CFGGEN] = d->config_generation;
	put16(c + VPCI_COMMON_Q_SELECT, t->queue_select);
	if (!q) {
		/* an absent queue: size 0 says so (§4.1.4.3.2) */
		put16(c + VPCI_COMMON_Q_MSIX, VIRTIO_PCI_NO_VECTOR);
		return;
	}
	put16(c + VPCI_COMMON_Q_SIZE, q->size);
	put16(c + VPCI_COMMON_Q_MSIX, t->queue_msix[t->queue_select]);
	put16(c + VPCI_COMMON_Q_ENABLE, q->enabled);
	put16(c + VPCI_COMMON_Q_NOFF, t->queue_select);
	put_le32(c + VPCI_COMMON_Q_DESCLO, (uint32_t)q->desc_gpa);
	put_le32(c + VPCI_COMMON_Q_DESCHI, (uint32_t)(q->desc_gpa >> 32));
	put_le32(c + VPCI_COMMON_Q_AVAILLO, (uint32_t)q->avail_gpa);
	put_le32(c + VPCI_COMMON_Q_AVAILHI, (uint32_t)(q->avail_gpa >> 32));
	put_le32(c + VPCI_COMMON_Q_USEDLO, (uint32_t)q->used_gpa);
	put_le32(c + VPCI_COMMON_Q_USEDHI, (uint32_t)(q->used_gpa >> 32));
}

static uint64_t common_read(struct virtio_pci *t, uint64_t off, unsigned size)
{
	uint8_t c[VPCI_COMMON_SIZE];
	if (off >= VPCI_COMMON_SIZE || size > VPCI_COMMON_SIZE - off)
		return 0;
	common_snapshot(t, c);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)c[off + i] << (8 * i);
	return v;
}

/* A vector the table has, or NO_VECTOR (what the driver reads back as "refused"). */
static uint16_t checked_vector(const struct virtio_pci *t, uint64_t v)
{
	return v < t->func.msix.nvec ? (uint16_t)v : VIRTIO_PCI_NO_VECTOR;
}

/* Sets the low or high half (or all, for an 8-byte write) of a queue address. */
static void set_addr(uint64_t *a, uint64_t off_in_field, unsigned size, uint64_t v)
{
	if (size == 8 && off_in_field == 0)
		*a = v;
	else if (size == 4 && off_in_field == 0)
		*a = (*a & ~0xffffffffull) | (uint32_t)v;
	else if (size == 4 && off_in_field == 4)
		*a = (*a & 0xffffffffull) | (uint64_t)(uint32_t)v << 32;
}

static void queue_enable(struct virtio_pci *t, struct virtqueue *q)
{
	struct virtio_dev *d = t->dev;
	if (q->enabled)
		return;
	unsigned qi = (unsigned)(q - d->vq);
	if (q->size > d->queue_max[qi]) {
		/* the driver may pick a smaller size, never a larger one (§4.1.4.3.2) */
		virtio_dev_fail(d, "queue size above the device's maximum");
		return;
	}
	q->event_idx = virtio_has_feature(d, VIRTIO_F_EVENT_IDX);
	q->indirect = virtio_has_feature(d, VIRTIO_F_INDIRECT_DESC);
	if (vq_enable(q, &d->mem) < 0)
		virtio_dev_fail(d, q->error);
}

static void set_status(struct virtio_pci *t, uint8_t status)
{
	struct virtio_dev *d = t->dev;
	virtio_dev_set_status(d, status);
	if (status == 0)
		transport_reset(t); /* the driver polls until status reads 0: done at once */
}

static void common_write(struct virtio_pci *t, uint64_t off, unsigned size, uint64_t v)
{
	struct virtio_dev *d = t->dev;
	struct virtqueue *q = selected(t);
	bool q_writable = q && !q->enabled;
	bool features_open = !(d->status & VIRTIO_STATUS_FEATURES_OK);

	switch (off) {
	case VPCI_COMMON_DFSELECT:
		if (size == 4)
			t->dfselect = (uint32_t)v;
		return;
	case VPCI_COMMON_GFSELECT:
		if (size == 4)
			t->gfselect = (uint32_t)v;
		return;
	case VPCI_COMMON_GF:
		if (size == 4 && features_open && t->gfselect < 2) {
			unsigned sh = 32 * t->gfselect;
			d->guest_features = (d->guest_features & ~(0xffffffffull << sh)) |
					    ((uint64_t)(uint32_t)v << sh);
		}
		return;
	case VPCI_COMMON_MSIX:
		if (size == 2)
			t->msix_config = checked_vector(t, v);
		return;
	case VPCI_COMMON_STATUS:
		if (size == 1)
			set_status(t, (uint8_t)v);
		return;
	case VPCI_COMMON_Q_SELECT:
		if (size == 2)
			t->queue_select = (uint16_t)v;
		return;
	case VPCI_COMMON_Q_SIZE:
		if (size == 2 && q_writable)
			q->size = (uint16_t)v; /* checked when enabled */
		return;
	case VPCI_COMMON_Q_MSIX:
		if (size == 2 && q)
			t->queue_msix[t->queue_select] = checked_vector(t, v);
		return;
	case VPCI_COMMON_Q_ENABLE:
		if (size == 2 && q && v == 1)
			queue_enable(t, q);
		return;
	}
	if (!q_writable)
		return;
	if (off >= VPCI_COMMON_Q_DESCLO && off < VPCI_COMMON_Q_AVAILLO)
		set_addr(&q->desc_gpa, off - VPCI_COMMON_Q_DESCLO, size, v);
	else if (off >= VPCI_COMMON_Q_AVAILLO && off < VPCI_COMMON_Q_USEDLO)
		set_addr(&q->avail_gpa, off - VPCI_COMMON_Q_AVAILLO, size, v);
	else if (off >= VPCI_COMMON_Q_USEDLO && off < VPCI_COMMON_SIZE)
		set_addr(&q->used_gpa, off - VPCI_COMMON_Q_USEDLO, size, v);
}

/* ---- the BAR ---- */

static uint64_t bar_read_locked(struct virtio_pci *t, unsigned bar, uint64_t off, unsigned size)
{
	struct virtio_dev *d = t->dev;
	if (bar != 0)
		return 0;
	if (off < VIRTIO_PCI_ISR)
		return common_read(t, off - VIRTIO_PCI_COMMON, size);
	if (off < VIRTIO_PCI_DEVICE_CFG) {
		if (off != VIRTIO_PCI_ISR)
			return 0;
		/* reading the ISR acknowledges it (§4.1.4.5) */
		uint8_t isr = t->isr;
		t->isr = 0;
		t->isr_reads++;
		set_intx(t, false);
		return isr;
	}
	if (off < VIRTIO_PCI_NOTIFY) {
		uint64_t o = off - VIRTIO_PCI_DEVICE_CFG;
		if (o >= d->cfg_size || size > d->cfg_size - o || !d->ops->cfg_read)
			return 0;
		return d->ops->cfg_read(d, (uint32_t)o, size);
	}
	return 0; /* notify: write-only; the MSI-X pages are the bus's */
}

static void bar_write_locked(struct virtio_pci *t, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	struct virtio_dev *d = t->dev;
	if (bar != 0)
		return;
	if (off < VIRTIO_PCI_ISR) {
		common_write(t, off - VIRTIO_PCI_COMMON, size, v);
	} else if (off >= VIRTIO_PCI_DEVICE_CFG && off < VIRTIO_PCI_NOTIFY) {
		uint64_t o = off - VIRTIO_PCI_DEVICE_CFG;
		if (o < d->cfg_size && size <= d->cfg_size - o && d->ops->cfg_write)
			d->ops->cfg_write(d, (uint32_t)o, size, v);
	} else if (off >= VIRTIO_PCI_NOTIFY && off < VIRTIO_PCI_MSIX_TABLE) {
		/* queue q's doorbell is at 4 q; the value written is q again, not needed */
		uint64_t q = (off - VIRTIO_PCI_NOTIFY) / VIRTIO_PCI_NOTIFY_MULT;
		t->notifies++;
		if (q < d->nqueues && virtio_queue_ready(d, (unsigned)q))
			d->ops->queue_notify(d, (unsigned)q);
	}
}

static uint64_t bar_read(void *opaque, unsigned bar, uint64_t off, unsigned size)
{
	struct virtio_pci *t = opaque;
	if (t->host)
		t->host->enter(t->host->ctx);
	uint64_t v = bar_read_locked(t, bar, off, size);
	if (t->host)
		t->host->leave(t->host->ctx);
	return v;
}

static void bar_write(void *opaque, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	struct virtio_pci *t = opaque;
	if (t->host)
		t->host->enter(t->host->ctx);
	bar_write_locked(t, bar, off, size, v);
	if (t->host)
		t->host->leave(t->host->ctx);
}

static const struct vpci_func_ops virtio_pci_ops = {
    .bar_read = bar_read,
    .bar_write = bar_write,
};

void virtio_pci_init(struct virtio_pci *t, struct virtio_dev *dev,
		     const struct virtio_pci_host *host)
{
	memset(t, 0, sizeof(*t));
	t->dev = dev;
	t->host = host;
	dev->transport = t;
	dev->notify_queue = notify_queue;
	dev->notify_config = notify_config;

	struct vpci_func *f = &t->func;
	vpci_func_init(f, dev->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + dev->type),
		       class_of(dev->type), 1, VIRTIO_PCI_VENDOR, 0x1100, &virtio_pci_ops, t);
	vpci_func_add_bar(f, 0, VPCI_BAR_MEM64, VIRTIO_PCI_BAR_SIZE, true);
	vpci_func_set_intx_pin(f, 1);
	add_cap(f, CAP_COMMON, VIRTIO_PCI_COMMON, VPCI_COMMON_SIZE, false);
	add_cap(f, CAP_NOTIFY, VIRTIO_PCI_NOTIFY, VIRTIO_PCI_NOTIFY_MULT * dev->nqueues, true);
	add_cap(f, CAP_ISR, VIRTIO_PCI_ISR, 1, false);
	if (dev->cfg_size)
		add_cap(f, CAP_DEVICE, VIRTIO_PCI_DEVICE_CFG, dev->cfg_size, false);
	vpci_func_add_msix(f, dev->nqueues + 1, 0, VIRTIO_PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_PBA);
	transport_reset(t);
}

void virtio_pci_reset(struct virtio_pci *t)
{
	virtio_dev_reset(t->dev);
	transport_reset(t); /* the function's own config space: the bus resets it (vpci_bus_reset) */
}

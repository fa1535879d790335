/* See e1000e_ring.h: the legacy descriptor rings. */
#include "drivers/net/e1000e_ring.h"

#include "kernel/lib/string.h"

static bool ring_size_ok(unsigned size)
{
	return size >= E1000_RING_ALIGN_DESC && size % E1000_RING_ALIGN_DESC == 0 && size <= 4096;
}

/* ---- receive ---- */

static void rx_arm(struct e1000e_rx *r, unsigned i)
{
	volatile struct e1000_rx_desc *d = &r->desc[i];

	/* the address again each time: write-back formats may overwrite it */
	d->addr = r->buf_dma + (uint64_t)i * E1000E_BUF_SIZE;
	d->len = 0;
	d->csum = 0;
	d->errors = 0;
	d->special = 0;
	d->status = 0;
}

bool e1000e_rx_init(struct e1000e_rx *r, volatile uint8_t *regs, uint32_t rdt,
		    volatile struct e1000_rx_desc *desc, uint8_t *buf, uint64_t buf_dma, unsigned size)
{
	if (!ring_size_ok(size))
		return false;
	memset(r, 0, sizeof(*r));
	r->regs = regs;
	r->rdt = rdt;
	r->desc = desc;
	r->buf = buf;
	r->buf_dma = buf_dma;
	r->size = size;
	for (unsigned i = 0; i < size; i++)
		rx_arm(r, i);
	return true;
}

void e1000e_rx_start(struct e1000e_rx *r)
{
	r->next = 0;
	r->held = 0;
	r->discarding = false;
	__atomic_thread_fence(__ATOMIC_RELEASE); /* the descriptors before the device may fetch them */
	e1000e_wr32(r->regs, r->rdt, r->size - 1);
}

unsigned e1000e_rx_reap(struct e1000e_rx *r, struct net_frame *out, unsigned max, unsigned *used,
			struct netdev_stats *st)
{
	unsigned n = 0, consumed = 0;

	/* the device owns size - 1 - held descriptors: never look beyond them */
	while (n < max && r->held < r->size - 1) {
		volatile struct e1000_rx_desc *d = &r->desc[r->next];
		uint8_t status = d->status;
		if (!(status & E1000_RXD_STAT_DD))
			break;
		/* the rest of the descriptor only after DD was seen */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		uint16_t len = d->len;
		uint8_t errors = d->errors;
		unsigned i = r->next;
		r->next = (r->next + 1) % r->size;
		r->held++;
		consumed++;

		if (r->discarding) {
			/* the tail of a frame already counted as dropped */
			if (status & E1000_RXD_STAT_EOP)
				r->discarding = false;
			continue;
		}
		if (!(status & E1000_RXD_STAT_EOP)) {
			/* longer than a buffer: never asked for (no LPE), dropped whole */
			r->discarding = true;
			r->split++;
			st->rx_errors++;
			continue;
		}
		if (errors & E1000_RXD_ERR_FRAME) {
			r->hw_errors++;
			st->rx_errors++;
			continue;
		}
		if (len < ETH_HLEN || len > ETH_FRAME_MAX || len > E1000E_BUF_SIZE) {
			r->bad_len++;
			st->rx_errors++;
			continue;
		}
		out[n] = (struct net_frame){.data = r->buf + (uint64_t)i * E1000E_BUF_SIZE, .len = len};
		n++;
		st->rx_frames++;
		st->rx_bytes += len;
	}
	*used = consumed;
	return n;
}

void e1000e_rx_refill(struct e1000e_rx *r)
{
	if (!r->held)
		return;
	unsigned first = (r->next + r->size - r->held) % r->size;
	for (unsigned k = 0; k < r->held; k++)
		rx_arm(r, (first + k) % r->size);
	r->held = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	/* the last descriptor reaped is the one kept back; the one before it goes to the device */
	e1000e_wr32(r->regs, r->rdt, (r->next + r->size - 1) % r->size);
}

/* ---- transmit ---- */

bool e1000e_tx_init(struct e1000e_tx *t, volatile uint8_t *regs, uint32_t tdt,
		    volatile struct e1000_tx_desc *desc, uint8_t *buf, uint64_t buf_dma, unsigned size)
{
	if (!ring_size_ok(size))
		return false;
	memset(t, 0, sizeof(*t));
	t->regs = regs;
	t->tdt = tdt;
	t->desc = desc;
	t->buf = buf;
	t->buf_dma = buf_dma;
	t->size = size;
	for (unsigned i = 0; i < size; i++) {
		desc[i].addr = 0;
		desc[i].len = 0;
		desc[i].cmd = 0;
		desc[i].status = 0;
	}
	return true;
}

unsigned e1000e_tx_free(const struct e1000e_tx *t)
{
	unsigned busy = (t->tail + t->size - t->clean) % t->size;
	return t->size - 1 - busy;
}

unsigned e1000e_tx_reclaim(struct e1000e_tx *t, struct netdev_stats *st)
{
	unsigned n = 0;

	/* only descriptors handed over: clean..tail */
	while (t->clean != t->tail) {
		volatile struct e1000_tx_desc *d = &t->desc[t->clean];
		uint8_t status = d->status;
		if (!(status & E1000_TXD_STAT_DD))
			break;
		if (status & (E1000_TXD_STAT_EC | E1000_TXD_STAT_LC))
			st->tx_errors++;
		d->status = 0;
		t->clean = (t->clean + 1) % t->size;
		n++;
	}
	return n;
}

static bool tx_frame_ok(const struct net_frame *f)
{
	/* no offloads: the netdev's caps announce none */
	return f->data && f->len > 0 && f->len <= ETH_FRAME_MAX && f->off.gso_type == NET_GSO_NONE &&
	       !(f->off.flags & NET_OFF_NEEDS_CSUM);
}

unsigned e1000e_tx_put(struct e1000e_tx *t, struct net_frame *const *frames, unsigned n,
		       struct netdev_stats *st)
{
	unsigned queued = 0;

	for (unsigned k = 0; k < n; k++) {
		const struct net_frame *f = frames[k];
		if (!f || !tx_frame_ok(f)) {
			t->bad_frame++;
			st->tx_drops++;
			continue;
		}
		if (!e1000e_tx_free(t)) {
			t->full += n - k;
			st->tx_drops += n - k;
			break;
		}
		unsigned i = t->tail;
		memcpy(t->buf + (uint64_t)i * E1000E_BUF_SIZE, f->data, f->len);
		volatile struct e1000_tx_desc *d = &t->desc[i];
		d->addr = t->buf_dma + (uint64_t)i * E1000E_BUF_SIZE;
		d->len = (uint16_t)f->len;
		d->cso = 0;
		d->css = 0;
		d->special = 0;
		d->status = 0;
		/* short frames are padded by the device (TCTL.PSP) */
		d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
		t->tail = (t->tail + 1) % t->size;
		queued++;
		st->tx_frames++;
		st->tx_bytes += f->len;
	}
	if (queued) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		e1000e_wr32(t->regs, t->tdt, t->tail);
	}
	return queued;
}

/*
 * virtio-net (virtio 1.2 §5.1) as a switch port; see virtio_net.h.
 *
 * Transmit, in rounds: under the device's lock, collect() pops chains,
 * checks each header, copies the frame into tx_buf and returns the chain
 * (used length 0) at once; the lock is dropped and the batch goes to the
 * switch; then the next round. Only one context sends at a time (tx_busy):
 * tx_buf is in use while the lock is dropped, so another kick or poll that
 * comes meanwhile only asks the sender to look again (tx_again).
 *
 * Receive: chains are popped into rx_stash as frames need them and kept
 * there until filled, so a frame that needs more buffers than the guest
 * has posted does not lose the ones it found; it waits in the backlog
 * instead, and the guest's next receiveq kick drains it.
 */
#include "guest/virtio/virtio_net.h"

#include "kernel/lib/string.h"

#define HDR VIRTIO_NET_HDR_LEN

static struct virtio_net *to_net(struct virtio_dev *d)
{
	return (struct virtio_net *)d; /* dev is the first member */
}

static void lock(struct virtio_net *vn)
{
	if (vn->lock_ops)
		vn->lock_ops->lock(vn->lock_ctx);
}

static void unlock(struct virtio_net *vn)
{
	if (vn->lock_ops)
		vn->lock_ops->unlock(vn->lock_ctx);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool has(const struct virtio_net *vn, unsigned bit)
{
	return virtio_has_feature(&vn->dev, bit);
}

/* ---------------- transmit ---------------- */

/* The longest frame the driver may send (without the header). */
static uint32_t tx_frame_max(const struct virtio_net *vn)
{
	return has(vn, VIRTIO_NET_F_HOST_TSO4) || has(vn, VIRTIO_NET_F_HOST_TSO6)
		       ? NET_GSO_FRAME_MAX
		       : ETH_FRAME_MAX;
}

/*
 * The header of a frame the guest sends, against what was negotiated: the
 * offload fields as struct net_offload, or false (drop the frame). Offsets
 * are the switch's to check against the frame (net_offload_valid).
 */
static bool tx_header(const struct virtio_net *vn, const uint8_t *h, uint32_t len,
		      struct net_offload *off)
{
	uint8_t gso = h[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	off->flags = h[0];
	off->gso_type = h[1];
	off->hdr_len = get16(h + 2);
	off->gso_size = get16(h + 4);
	off->csum_start = get16(h + 6);
	off->csum_offset = get16(h + 8);
	if (off->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (!(off->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		off->csum_start = off->csum_offset = 0;
	/* §5.1.6.2.1: DATA_VALID is the device's; a driver's is ignored */
	off->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	if ((off->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !has(vn, VIRTIO_NET_F_CSUM))
		return false;
	if (off->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		return false; /* HOST_ECN is not offered */
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		off->hdr_len = off->gso_size = 0;
		return len <= ETH_FRAME_MAX;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!has(vn, VIRTIO_NET_F_HOST_TSO4))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!has(vn, VIRTIO_NET_F_HOST_TSO6))
			return false;
		break;
	default:
		return false; /* UDP (UFO) is not offered */
	}
	return off->gso_size != 0 && len <= NET_GSO_FRAME_MAX;
}

/* One popped transmit chain: its frame copied to dst (*f), or false (dropped). */
static bool tx_take(struct virtio_net *vn, const struct vq_elem *e, uint8_t *dst,
		    struct net_frame *f)
{
	uint8_t h[HDR];
	uint32_t len;

	/* a transmit chain is all device-readable: a writable part is a driver bug */
	if (e->nin || e->out_len < HDR + ETH_HLEN || e->out_len - HDR > tx_frame_max(vn))
		return false;
	len = e->out_len - HDR;
	if (vq_elem_read(e, &vn->dev.mem, 0, h, HDR) || !tx_header(vn, h, len, &f->off))
		return false;
	if (vq_elem_read(e, &vn->dev.mem, HDR, dst, len))
		return false;
	f->data = dst;
	f->len = len;
	return true;
}

/*
 * Under the lock: takes up to a batch of frames off the transmit ring into
 * tx_buf and returns their chains. Returns the frames collected;
 * vn->tx_more says it stopped full rather than empty.
 */
static unsigned tx_collect(struct virtio_net *vn)
{
	struct virtio_dev *d = &vn->dev;
	struct virtqueue *q = &d->vq[VNET_TXQ];
	uint32_t used = 0, max = tx_frame_max(vn);
	unsigned n = 0, pops = 0;
	bool pushed = false;

	vn->tx_more = false;
	if (!virtio_queue_ready(d, VNET_TXQ))
		return 0;
	vq_set_notification(q, &d->mem, false);
	for (;;) {
		/* a batch, or a ring's worth of chains (of frames all dropped) per round */
		if (n == NET_BATCH_MAX || VNET_TX_ARENA - used < max || pops == VNET_QUEUE_SIZE) {
			vn->tx_more = true;
			break;
		}
		/* poll mode leaves kicks off when the ring is empty: the host polls */
		if (vn->poll_mode ? !virtio_queue_pop(d, VNET_TXQ, &vn->tx_elem)
				  : !virtio_queue_next(d, VNET_TXQ, &vn->tx_elem))
			break;
		vn->drained++;
		pops++;
		struct net_frame *f = &vn->tx_frame[n];
		if (tx_take(vn, &vn->tx_elem, vn->tx_buf + used, f)) {
			vn->stats.tx_frames++;
			vn->stats.tx_bytes += f->len;
			vn->tx_batch[n++] = f;
			used += (f->len + 63) & ~63u;
		} else {
			vn->stats.tx_dropped++;
		}
		/* §5.1.6.2: the device writes nothing into a transmit buffer */
		if (vq_push(q, &d->mem, vn->tx_elem.head, 0)) {
			virtio_dev_fail(d, q->error);
			break;
		}
		pushed = true;
	}
	if (pushed)
		virtio_queue_done(d, VNET_TXQ);
	if (vn->poll_mode && virtio_queue_ready(d, VNET_TXQ))
		vn->polling = true;
	if (d->failure)
		vn->tx_more = false;
	if (n)
		vn->stats.tx_batches++;
	return n;
}

/* Hands a batch to the switch; the port may have been taken off it (not attached). */
static void tx_output(struct virtio_net *vn, unsigned n)
{
	if (vn->port.sw)
		net_switch_input(&vn->port, vn->tx_batch, n);
}

unsigned virtio_net_tx_run(struct virtio_net *vn)
{
	unsigned total = 0, rounds = 0;

	lock(vn);
	vn->tx_kicked = false;
	if (vn->tx_busy) {
		vn->tx_again = true; /* the sender looks once more before it stops */
		unlock(vn);
		return 0;
	}
	vn->tx_busy = true;
	for (;;) {
		vn->tx_again = false;
		unsigned n = tx_collect(vn);
		if (n) {
			unlock(vn);
			tx_output(vn, n);
			lock(vn);
			total += n;
		}
		rounds++;
		if (!n && !vn->tx_more && !vn->tx_again)
			break;
		/* poll mode: a bounded run per exit; polling goes on and takes the rest */
		if (vn->poll_mode && rounds >= VNET_TX_RUN_BATCHES && vn->polling)
			break;
	}
	vn->tx_busy = false;
	unlock(vn);
	return total;
}

unsigned virtio_net_poll(struct virtio_net *vn, bool may_rearm)
{
	struct virtio_dev *d = &vn->dev;
	unsigned found;

	if (!__atomic_load_n(&vn->polling, __ATOMIC_RELAXED))
		return 0;
	found = virtio_net_tx_run(vn);
	lock(vn);
	vn->polls++;
	vn->polled += found;
	if (!virtio_queue_ready(d, VNET_TXQ)) {
		vn->polling = false; /* reset or broken: nothing to poll */
		unlock(vn);
		return found;
	}
	if (found || !may_rearm || vn->tx_busy || !vn->polling) {
		unlock(vn);
		return found;
	}
	/* idle: kicks back on, and one more look for a frame that raced the re-arm */
	vn->polling = false;
	bool again = vq_set_notification(&d->vq[VNET_TXQ], &d->mem, true);
	if (d->vq[VNET_TXQ].error)
		virtio_dev_fail(d, d->vq[VNET_TXQ].error);
	unlock(vn);
	if (again)
		found += virtio_net_tx_run(vn);
	return found;
}

/* ---------------- receive ---------------- */

unsigned virtio_net_backlog(const struct virtio_net *vn)
{
	return vn->bl_count;
}

/* Pops one more receive chain into the stash: 1, 0 (none posted: kicks are on), -1 (failed). */
static int rx_stash_one(struct virtio_net *vn)
{
	struct virtio_dev *d = &vn->dev;
	const struct vq_elem *e = &vn->rx_elem;

	if (!virtio_queue_next(d, VNET_RXQ, &vn->rx_elem))
		return d->failure ? -1 : 0;
	/* §5.1.6.3: receive buffers are device-writable and hold at least the header */
	if (e->nout) {
		virtio_dev_fail(d, "virtio-net receive buffer with a device-readable part");
		return -1;
	}
	if (e->in_len < HDR) {
		virtio_dev_fail(d, "virtio-net receive buffer shorter than its 12-byte header");
		return -1;
	}
	struct vnet_rxbuf *b = &vn->rx_stash[(vn->rx_first + vn->rx_count) % VNET_RX_STASH];
	b->head = e->head;
	b->nseg = 0;
	b->len = 0;
	/* a longer chain is used only so far (the device may fill less than it was given) */
	for (unsigned i = 0; i < e->nin && b->nseg < VNET_RX_SEGS; i++) {
		if (!e->seg[e->nout + i].len)
			continue;
		b->seg[b->nseg++] = e->seg[e->nout + i];
		b->len += e->seg[e->nout + i].len;
	}
	vn->rx_count++;
	return 1;
}

/* Writes len bytes at offset off of receive chain b. 0 or -1. */
static int rx_write(struct virtio_net *vn, const struct vnet_rxbuf *b, uint32_t off,
		    const uint8_t *src, uint32_t len)
{
	for (unsigned i = 0; i < b->nseg && len; i++) {
		if (off >= b->seg[i].len) {
			off -= b->seg[i].len;
			continue;
		}
		uint32_t take = b->seg[i].len - off;
		if (take > len)
			take = len;
		if (vn->dev.mem.write(vn->dev.mem.ctx, b->seg[i].gpa + off, src, take))
			return -1;
		src += take;
		len -= take;
		off = 0;
	}
	return len ? -1 : 0;
}

/* The header the guest gets for f, or false when f carries what it did not negotiate. */
static bool rx_header(const struct virtio_net *vn, const struct net_frame *f, uint8_t *h)
{
	const struct net_offload *o = &f->off;
	uint8_t flags = o->flags & (NET_OFF_NEEDS_CSUM | NET_OFF_DATA_VALID);
	uint8_t gso = o->gso_type & (uint8_t)~NET_GSO_ECN;

	memset(h, 0, HDR);
	if (f->len < ETH_HLEN)
		return false;
	/* §5.1.6.4.1: without GUEST_CSUM flags are 0 and the frame complete (the switch's job) */
	if (!has(vn, VIRTIO_NET_F_GUEST_CSUM)) {
		if (flags & NET_OFF_NEEDS_CSUM)
			return false;
		flags = 0;
	}
	switch (gso) {
	case NET_GSO_NONE:
		if (f->len > ETH_FRAME_MAX)
			return false;
		break;
	case NET_GSO_TCPV4:
	case NET_GSO_TCPV6:
		if (!has(vn, gso == NET_GSO_TCPV4 ? VIRTIO_NET_F_GUEST_TSO4 : VIRTIO_NET_F_GUEST_TSO6) ||
		    (o->gso_type & NET_GSO_ECN) || f->len > NET_GSO_FRAME_MAX)
			return false;
		put16(h + 2, o->hdr_len);
		put16(h + 4, o->gso_size);
		break;
	default:
		return false;
	}
	h[0] = flags;
	h[1] = gso;
	if (flags & NET_OFF_NEEDS_CSUM) {
		put16(h + 6, o->csum_start);
		put16(h + 8, o->csum_offset);
	}
	return true;
}

enum rx_result { RX_DONE, RX_WAIT, RX_DROP, RX_FAILED };

/* Copies one frame into the guest's receive buffers (lock held). */
static enum rx_result rx_frame(struct virtio_net *vn, const struct net_frame *f)
{
	struct virtio_dev *d = &vn->dev;
	bool mrg = has(vn, VIRTIO_NET_F_MRG_RXBUF);
	uint8_t h[HDR];
	uint32_t need, have = 0;
	unsigned nbuf = 0;

	if (!rx_header(vn, f, h))
		return RX_DROP;
	need = HDR + f->len;
	/* the chains it takes: the stash's first (without MRG_RXBUF one that holds it all) */
	while (have < need) {
		if (nbuf == vn->rx_count) {
			if (vn->rx_count == VNET_RX_STASH)
				return RX_DROP; /* buffers too small to ever hold it */
			int rc = rx_stash_one(vn);
			if (rc < 0)
				return RX_FAILED;
			if (rc == 0)
				return RX_WAIT;
		}
		have += vn->rx_stash[(vn->rx_first + nbuf) % VNET_RX_STASH].len;
		nbuf++;
		if (!mrg && have < need)
			return RX_DROP; /* the next frame may fit the buffer */
	}
	put16(h + 10, (uint16_t)nbuf);
	uint32_t done = 0; /* frame bytes written */
	for (unsigned i = 0; i < nbuf; i++) {
		const struct vnet_rxbuf *b = &vn->rx_stash[(vn->rx_first + i) % VNET_RX_STASH];
		uint32_t at = 0, take;
		if (i == 0) {
			if (rx_write(vn, b, 0, h, HDR))
				goto bad_ram;
			at = HDR;
		}
		take = b->len - at;
		if (take > f->len - done)
			take = f->len - done;
		if (rx_write(vn, b, at, f->data + done, take))
			goto bad_ram;
		done += take;
		if (vq_push(&d->vq[VNET_RXQ], &d->mem, b->head, at + take)) {
			virtio_dev_fail(d, d->vq[VNET_RXQ].error);
			return RX_FAILED;
		}
	}
	vn->rx_first = (vn->rx_first + nbuf) % VNET_RX_STASH;
	vn->rx_count -= nbuf;
	vn->stats.rx_frames++;
	vn->stats.rx_bytes += f->len;
	vn->stats.rx_buffers += nbuf;
	return RX_DONE;
bad_ram:
	virtio_dev_fail(d, "virtio-net receive buffer not in guest RAM");
	return RX_FAILED;
}

static void rx_drop(struct virtio_net *vn, unsigned n)
{
	vn->stats.rx_dropped += n;
	vn->port.stats.out_drops += n;
}

/* Keeps a copy of f in the backlog, or false (full). */
static bool backlog_add(struct virtio_net *vn, const struct net_frame *f)
{
	uint32_t at;

	if (vn->bl_count == VNET_BACKLOG_FRAMES || f->len > VNET_BACKLOG_BYTES)
		return false;
	if (vn->bl_count == 0) {
		at = 0;
	} else {
		const struct vnet_backlog_entry *first = &vn->backlog[vn->bl_first];
		const struct vnet_backlog_entry *last =
			&vn->backlog[(vn->bl_first + vn->bl_count - 1) % VNET_BACKLOG_FRAMES];
		uint32_t head = first->off, tail = last->off + last->len;
		/* one byte ring: frames are contiguous, in order, wrapping to 0 when the end is near */
		if (tail >= head) {
			if (VNET_BACKLOG_BYTES - tail >= f->len)
				at = tail;
			else if (head >= f->len)
				at = 0;
			else
				return false;
		} else if (head - tail >= f->len) {
			at = tail;
		} else {
			return false;
		}
	}
	struct vnet_backlog_entry *e =
		&vn->backlog[(vn->bl_first + vn->bl_count) % VNET_BACKLOG_FRAMES];
	e->off = at;
	e->len = f->len;
	e->off_info = f->off;
	memcpy(vn->backlog_buf + at, f->data, f->len);
	vn->bl_count++;
	vn->stats.rx_backlogged++;
	return true;
}

/* Delivers what waits, in order, while the guest has buffers. Returns whether it pushed. */
static bool backlog_drain(struct virtio_net *vn)
{
	bool pushed = false;

	while (vn->bl_count) {
		const struct vnet_backlog_entry *e = &vn->backlog[vn->bl_first];
		struct net_frame f = {.data = vn->backlog_buf + e->off, .len = e->len,
				      .off = e->off_info};
		enum rx_result r = rx_frame(vn, &f);
		if (r == RX_WAIT || r == RX_FAILED)
			break;
		if (r == RX_DROP)
			rx_drop(vn, 1);
		else
			pushed = true;
		vn->bl_first = (vn->bl_first + 1) % VNET_BACKLOG_FRAMES;
		vn->bl_count--;
	}
	return pushed;
}

static void backlog_clear(struct virtio_net *vn)
{
	rx_drop(vn, vn->bl_count);
	vn->bl_first = vn->bl_count = 0;
}

static void vnet_deliver(struct net_port *p, struct net_frame *const *frames, unsigned n)
{
	struct virtio_net *vn = p->ctx;
	struct virtio_dev *d = &vn->dev;
	bool pushed = false;
	unsigned i = 0;

	lock(vn);
	if (!virtio_queue_ready(d, VNET_RXQ)) {
		rx_drop(vn, n); /* no driver yet, or it must reset first */
		unlock(vn);
		return;
	}
	vq_set_notification(&d->vq[VNET_RXQ], &d->mem, false);
	if (vn->bl_count)
		pushed = backlog_drain(vn);
	for (; i < n && !d->failure; i++) {
		enum rx_result r = vn->bl_count ? RX_WAIT : rx_frame(vn, frames[i]);
		if (r == RX_DONE)
			pushed = true;
		else if (r != RX_WAIT || !backlog_add(vn, frames[i]))
			rx_drop(vn, 1);
	}
	if (i < n)
		rx_drop(vn, n - i); /* the device failed on the way */
	if (pushed)
		virtio_queue_done(d, VNET_RXQ);
	unlock(vn);
}

static const struct net_port_ops vnet_port_ops = {.deliver = vnet_deliver};

/* ---------------- the device ---------------- */

static void vnet_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *vn = to_net(d);

	if (q == VNET_TXQ)
		vn->stats.tx_kicks++;
	else if (q == VNET_RXQ)
		vn->stats.rx_kicks++;
	if (q == VNET_TXQ) {
		vn->tx_kicked = true; /* sent by virtio_net_tx_run, once the lock is dropped */
	} else if (q == VNET_RXQ && vn->bl_count && virtio_queue_ready(d, VNET_RXQ)) {
		vq_set_notification(&d->vq[VNET_RXQ], &d->mem, false);
		if (backlog_drain(vn))
			virtio_queue_done(d, VNET_RXQ);
	}
}

/* The switch hands this port only the offloads the driver accepted. */
static void set_caps(struct virtio_net *vn)
{
	uint32_t caps = 0;

	if (has(vn, VIRTIO_NET_F_GUEST_CSUM)) {
		caps |= NET_CAP_CSUM;
		if (has(vn, VIRTIO_NET_F_GUEST_TSO4))
			caps |= NET_CAP_GSO_TCPV4;
		if (has(vn, VIRTIO_NET_F_GUEST_TSO6))
			caps |= NET_CAP_GSO_TCPV6;
	}
	__atomic_store_n(&vn->port.caps, caps, __ATOMIC_RELEASE);
}

static void vnet_driver_ok(struct virtio_dev *d)
{
	set_caps(to_net(d));
}

static void vnet_reset(struct virtio_dev *d)
{
	struct virtio_net *vn = to_net(d);

	/* popped receive chains belong to the ring the driver dropped */
	vn->rx_first = vn->rx_count = 0;
	backlog_clear(vn);
	vn->polling = false;
	vn->tx_kicked = false;
	__atomic_store_n(&vn->port.caps, 0, __ATOMIC_RELEASE);
}

static uint64_t vnet_cfg_read(struct virtio_dev *d, uint32_t offset, unsigned size)
{
	struct virtio_net *vn = to_net(d);
	uint64_t v = 0;

	if (offset > sizeof(vn->cfg) || size > sizeof(vn->cfg) - offset)
		return 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)vn->cfg[offset + i] << (8 * i);
	return v;
}

static const struct virtio_dev_ops vnet_ops = {
	.reset = vnet_reset,
	.cfg_read = vnet_cfg_read,
	.cfg_write = NULL, /* §5.1.4: with VERSION_1 the MAC is read-only */
	.queue_notify = vnet_queue_notify,
	.driver_ok = vnet_driver_ok,
};

void virtio_net_init(struct virtio_net *vn, const char *port_name, const uint8_t mac[6],
		     const struct vq_mem *mem)
{
	uint64_t features =
		(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
		(1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_NET_F_MAC) |
		(1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
		(1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
		(1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
		(1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6);
	/* Keep the transport's fields (set before or after this). */
	struct virtio_dev saved = vn->dev;

	memset(vn, 0, sizeof(*vn));
	vn->dev.notify_queue = saved.notify_queue;
	vn->dev.notify_config = saved.notify_config;
	vn->dev.transport = saved.transport;
	strlcpy_hv(vn->port.name, port_name, sizeof(vn->port.name));
	vn->port.kind = NET_PORT_VM;
	memcpy(vn->port.mac, mac, ETH_ALEN);
	vn->port.spoof_check = true;
	vn->port.max_len = ETH_FRAME_MAX;
	vn->port.ops = &vnet_port_ops;
	vn->port.ctx = vn;
	virtio_dev_init(&vn->dev, VIRTIO_ID_NET, vn->port.name, features, 2, VNET_QUEUE_SIZE,
			VIRTIO_NET_CFG_SIZE, &vnet_ops, mem);
	memcpy(vn->cfg + VIRTIO_NET_CFG_MAC, mac, ETH_ALEN);
	put16(vn->cfg + VIRTIO_NET_CFG_STATUS, VIRTIO_NET_S_LINK_UP);
	put16(vn->cfg + VIRTIO_NET_CFG_MAX_VQ_PAIRS, 1);
	put16(vn->cfg + VIRTIO_NET_CFG_MTU, ETH_MTU);
}

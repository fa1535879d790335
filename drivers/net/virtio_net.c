/*
 * The host virtio-net driver (see virtio_net.h): the modern handshake, the
 * RX, TX and control virtqueues, interrupts or polling, link state and
 * the netdev operations.
 *
 * Locking: TX (ring and buffers) under tx_lock; RX is reaped by one core
 * at a time (rx_busy, taken with an exchange: a second core finds it busy
 * and leaves the work to the first, which looks again after letting go);
 * the control queue under ctrl_lock. nd->rx() is called with none of them
 * held except rx_busy, so a receiver may transmit on the same NIC.
 *
 * Memory: the host identity-maps its memory, so rings and buffers from the
 * frame allocator are given to the device at their own address.
 *
 * The device is not trusted (virtio_ring_drv.c checks every used element):
 * a queue whose rules the device breaks stops the NIC, and the device is
 * reset so that it does no more DMA.
 */
#include "drivers/net/virtio_net.h"

#include "drivers/net/virtio_pci_caps.h"
#include "drivers/net/virtio_ring_drv.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/net/netdev.h"
#include "kernel/time/tsc.h"

#define VNET_QSIZE 256 /* buffers per queue, at most (the device may offer fewer) */
#define VNET_BUF 2048  /* one RX or TX buffer: header + a full frame */
#define VNET_HDR 12    /* struct virtio_net_hdr with num_buffers (always, with VERSION_1) */
#define VNET_POLL_US 200
#define VNET_LINK_POLL_US 500000 /* without a config interrupt: how often the link is read */
#define VNET_RESET_US 1000000
#define VNET_CTRL_US 1000000
#define VNET_RX_BUDGET 4 /* batches per run of the work: a flood does not hold a safe point */

#define VNET_Q_RX 0
#define VNET_Q_TX 1
#define VNET_Q_CTRL 2 /* without VIRTIO_NET_F_MQ */

/* virtio-net feature bits (virtio 1.2 §5.1.3) */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_SPEED_DUPLEX 63

/* struct virtio_net_config */
#define VNET_CFG_MAC 0
#define VNET_CFG_STATUS 6 /* le16 */
#define VNET_CFG_SPEED 12 /* le32 */
#define VNET_S_LINK_UP 1

/* control queue */
#define VNET_CTRL_RX 0
#define VNET_CTRL_RX_PROMISC 0
#define VNET_CTRL_RX_ALLMULTI 1
#define VNET_CTRL_OK 0
#define VNET_CTRL_ACK_OFF 64 /* the ack byte's place in the control page */

#define BIT(n) (1ull << (n))

struct vnet_queue {
	struct vring_drv ring;
	uint16_t index;
	volatile uint16_t *notify;
};

struct vnet {
	struct netdev nd;
	struct pci_dev *pci;
	char name[32]; /* "virtio-net 0000:00:03.0": log prefix until registered */
	volatile uint8_t *common, *notify_base, *devcfg;
	uint32_t notify_len, notify_mult, devcfg_len;
	uint64_t features;

	struct vnet_queue rx, tx, ctrl;
	bool has_ctrl;
	uint8_t *rx_bufs, *tx_bufs, *ctrl_page;

	spinlock_t tx_lock, ctrl_lock;
	uint16_t tx_free[VNET_QSIZE]; /* TX buffers not on the ring */
	unsigned ntx_free;
	uint32_t rx_busy;

	bool msix;
	int vec_config, vec_queues;
	uint32_t config_pending;
	uint64_t next_link_check;
	uint32_t dead; /* the device was reset for good (broken, or the host is going down) */
	struct deferred work;
};

/* ---- registers ---- */

static uint8_t cm_rd8(struct vnet *v, unsigned off)
{
	return *(volatile uint8_t *)(v->common + off);
}

static uint16_t cm_rd16(struct vnet *v, unsigned off)
{
	return *(volatile uint16_t *)(v->common + off);
}

static uint32_t cm_rd32(struct vnet *v, unsigned off)
{
	return *(volatile uint32_t *)(v->common + off);
}

static void cm_wr8(struct vnet *v, unsigned off, uint8_t x)
{
	*(volatile uint8_t *)(v->common + off) = x;
}

static void cm_wr16(struct vnet *v, unsigned off, uint16_t x)
{
	*(volatile uint16_t *)(v->common + off) = x;
}

static void cm_wr32(struct vnet *v, unsigned off, uint32_t x)
{
	*(volatile uint32_t *)(v->common + off) = x;
}

static void cm_wr64(struct vnet *v, unsigned off, uint64_t x)
{
	/* the spec lets a driver write the 64-bit fields as two halves, low first */
	cm_wr32(v, off, (uint32_t)x);
	cm_wr32(v, off + 4, (uint32_t)(x >> 32));
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity map */
}

static bool has(const struct vnet *v, unsigned bit)
{
	return v->features & BIT(bit);
}

static void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void kick(struct vnet_queue *q)
{
	/* the ring's index is in memory before the device is told (UC stores are not reordered before it) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*q->notify = q->index;
}

static bool trylock(spinlock_t *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	uint32_t next = owner;
	return __atomic_compare_exchange_n(&l->next, &next, owner + 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static const char *prefix(const struct vnet *v)
{
	return v->nd.name[0] ? v->nd.name : v->name;
}

/* Resets the device and waits (bounded) until it says so: then it does no DMA. */
static bool device_reset(struct vnet *v)
{
	cm_wr8(v, VIRTIO_COMMON_STATUS, 0);
	uint64_t end = uptime_us() + VNET_RESET_US;
	while (cm_rd8(v, VIRTIO_COMMON_STATUS) != 0) {
		if (uptime_us() > end)
			return false;
		udelay(10);
	}
	return true;
}

/* The device broke a rule or asked for a reset: stop it, and the NIC with it. */
static void device_dead(struct vnet *v, const char *why)
{
	if (__atomic_exchange_n(&v->dead, 1, __ATOMIC_ACQ_REL))
		return;
	printk("net: %s: %s; the device is reset and the NIC stopped\n", prefix(v), why);
	device_reset(v);
	deferred_set_poll(&v->work, 0);
	netdev_link_changed(&v->nd, false);
}

/* ---- link ---- */

static bool link_read(struct vnet *v)
{
	if (!has(v, VIRTIO_NET_F_STATUS))
		return true; /* no status field: the link is always up */
	return *(volatile uint16_t *)(v->devcfg + VNET_CFG_STATUS) & VNET_S_LINK_UP;
}

static void check_config(struct vnet *v)
{
	uint8_t st = cm_rd8(v, VIRTIO_COMMON_STATUS);
	if (st & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED) || st == 0xff) {
		device_dead(v, st == 0xff ? "the device no longer answers" : "the device needs a reset");
		return;
	}
	netdev_link_changed(&v->nd, link_read(v));
}

/* ---- TX ---- */

/* Takes back the TX buffers the device is done with (tx_lock held). */
static void tx_reclaim(struct vnet *v)
{
	uint64_t tok;
	uint32_t len;
	for (;;) {
		enum vring_get r = vring_get(&v->tx.ring, &tok, &len);
		if (r == VRING_GET_NONE)
			return;
		if (r == VRING_GET_BROKEN) {
			device_dead(v, "the TX queue's used ring is corrupt");
			return;
		}
		/* a length on a TX buffer means nothing: the buffer is back either way */
		v->tx_free[v->ntx_free++] = (uint16_t)tok;
	}
}

static unsigned vnet_xmit(struct netdev *nd, struct net_frame *const *frames, unsigned n)
{
	struct vnet *v = nd->drv;
	unsigned taken = 0;

	spin_lock(&v->tx_lock);
	if (!__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE))
		tx_reclaim(v);
	for (unsigned i = 0; i < n; i++) {
		const struct net_frame *f = frames[i];
		if (f->len < ETH_HLEN || f->len > VNET_BUF - VNET_HDR || f->off.gso_type != NET_GSO_NONE ||
		    (f->off.flags & NET_OFF_NEEDS_CSUM)) {
			stat_add(&nd->stats.tx_errors, 1); /* nothing this NIC was told it may send */
			stat_add(&nd->stats.tx_drops, 1);
			continue;
		}
		if (__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE) || v->ntx_free == 0 ||
		    vring_free(&v->tx.ring) == 0) {
			stat_add(&nd->stats.tx_drops, 1);
			continue;
		}
		uint16_t b = v->tx_free[--v->ntx_free];
		uint8_t *buf = v->tx_bufs + (size_t)b * VNET_BUF;
		memset(buf, 0, VNET_HDR); /* no offloads */
		memcpy(buf + VNET_HDR, f->data, f->len);
		struct vring_seg seg = {phys(buf), VNET_HDR + f->len, false};
		vring_add(&v->tx.ring, &seg, 1, b);
		stat_add(&nd->stats.tx_frames, 1);
		stat_add(&nd->stats.tx_bytes, f->len);
		taken++;
	}
	if (taken && vring_publish(&v->tx.ring))
		kick(&v->tx);
	spin_unlock(&v->tx_lock);
	return taken;
}

/* ---- RX ---- */

static void rx_post(struct vnet *v, uint16_t b)
{
	struct vring_seg seg = {phys(v->rx_bufs + (size_t)b * VNET_BUF), VNET_BUF, true};
	vring_add(&v->rx.ring, &seg, 1, b);
}

/*
 * Reaps the RX ring in batches to nd->rx, then posts the buffers again
 * (rx_busy held). Returns false when the budget ran out with frames left.
 */
static bool rx_reap(struct vnet *v)
{
	struct net_frame frames[NET_BATCH_MAX];
	struct net_frame *ptrs[NET_BATCH_MAX];
	uint16_t bufs[NET_BATCH_MAX];

	for (unsigned batch = 0;; batch++) {
		if (batch == VNET_RX_BUDGET)
			return false;
		unsigned n = 0, nb = 0;
		uint64_t bytes = 0;
		while (nb < NET_BATCH_MAX) {
			uint64_t tok;
			uint32_t len;
			enum vring_get r = vring_get(&v->rx.ring, &tok, &len);
			if (r == VRING_GET_NONE)
				break;
			if (r == VRING_GET_BROKEN) {
				device_dead(v, "the RX queue's used ring is corrupt");
				return true;
			}
			bufs[nb++] = (uint16_t)tok;
			if (r == VRING_GET_BAD_LEN || len < VNET_HDR + ETH_HLEN ||
			    len - VNET_HDR > ETH_FRAME_MAX) {
				stat_add(&v->nd.stats.rx_errors, 1);
				continue;
			}
			/* without GUEST_CSUM/GUEST_TSO the header carries nothing to keep */
			frames[n] = (struct net_frame){.data = v->rx_bufs + tok * VNET_BUF + VNET_HDR,
						       .len = len - VNET_HDR};
			ptrs[n] = &frames[n];
			bytes += frames[n].len;
			n++;
		}
		if (nb == 0)
			return true;
		if (n) {
			void (*rx)(struct netdev *, struct net_frame *const *, unsigned) = v->nd.rx;
			stat_add(&v->nd.stats.rx_frames, n);
			stat_add(&v->nd.stats.rx_bytes, bytes);
			if (rx)
				rx(&v->nd, ptrs, n);
			else
				stat_add(&v->nd.stats.rx_drops, n);
		}
		for (unsigned i = 0; i < nb; i++)
			rx_post(v, bufs[i]);
		if (vring_publish(&v->rx.ring))
			kick(&v->rx);
	}
}

static void vnet_work(void *arg)
{
	struct vnet *v = arg;
	if (__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE))
		return;
	bool cfg = __atomic_exchange_n(&v->config_pending, 0, __ATOMIC_ACQ_REL);
	if (!v->msix && uptime_us() >= v->next_link_check) {
		v->next_link_check = uptime_us() + VNET_LINK_POLL_US;
		cfg = true;
	}
	if (cfg)
		check_config(v);

	for (;;) {
		if (__atomic_exchange_n(&v->rx_busy, 1, __ATOMIC_ACQUIRE))
			break; /* another core reaps, and looks again after */
		bool drained = true;
		if (!__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE))
			drained = rx_reap(v);
		__atomic_store_n(&v->rx_busy, 0, __ATOMIC_RELEASE);
		if (!drained) {
			deferred_raise(&v->work); /* the rest at the next safe point */
			break;
		}
		/* what arrived while this core held rx_busy, another core may have left to it */
		if (__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE) || !vring_has_used(&v->rx.ring))
			break;
	}

	/* TX buffers come back here too when nothing is being sent (TX interrupts are off) */
	if (vring_has_used(&v->tx.ring) && trylock(&v->tx_lock)) {
		if (!__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE))
			tx_reclaim(v);
		spin_unlock(&v->tx_lock);
	}
}

/* ---- control queue ---- */

/*
 * One command of class VNET_CTRL_RX with a one-byte argument, waited for
 * (the device answers on the spot; bounded anyway). ctrl_lock held. On a
 * timeout the buffers stay the device's, so the queue is not used again.
 */
static bool ctrl_rx_cmd(struct vnet *v, uint8_t cmd, uint8_t on)
{
	uint8_t *p = v->ctrl_page;
	p[0] = VNET_CTRL_RX;
	p[1] = cmd;
	p[2] = on;
	p[VNET_CTRL_ACK_OFF] = 0xff;
	struct vring_seg segs[2] = {{phys(p), 3, false}, {phys(p + VNET_CTRL_ACK_OFF), 1, true}};
	if (vring_add(&v->ctrl.ring, segs, 2, 0) < 0)
		return false;
	if (vring_publish(&v->ctrl.ring))
		kick(&v->ctrl);
	uint64_t end = uptime_us() + VNET_CTRL_US;
	for (;;) {
		uint64_t tok;
		uint32_t len;
		enum vring_get r = vring_get(&v->ctrl.ring, &tok, &len);
		if (r == VRING_GET_OK)
			return len >= 1 && p[VNET_CTRL_ACK_OFF] == VNET_CTRL_OK;
		if (r == VRING_GET_BAD_LEN)
			return false;
		if (r == VRING_GET_BROKEN) {
			v->has_ctrl = false;
			printk("net: %s: the control queue's used ring is corrupt; not used again\n",
			       prefix(v));
			return false;
		}
		if (uptime_us() > end) {
			v->has_ctrl = false;
			printk("net: %s: the control queue did not answer in %u ms; not used again\n",
			       prefix(v), VNET_CTRL_US / 1000);
			return false;
		}
		udelay(5);
	}
}

static void vnet_set_rx_mode(struct netdev *nd, bool promisc, bool allmulti)
{
	struct vnet *v = nd->drv;
	spin_lock(&v->ctrl_lock);
	/*
	 * Without CTRL_RX there is nothing to tell: QEMU's virtio-net then
	 * takes every frame (it is promiscuous from reset on).
	 */
	if (v->has_ctrl && !__atomic_load_n(&v->dead, __ATOMIC_ACQUIRE)) {
		bool ok = ctrl_rx_cmd(v, VNET_CTRL_RX_PROMISC, promisc) &&
			  ctrl_rx_cmd(v, VNET_CTRL_RX_ALLMULTI, allmulti);
		if (!ok)
			printk("net: %s: the device refused promiscuous %s, all-multicast %s\n",
			       prefix(v), promisc ? "on" : "off", allmulti ? "on" : "off");
	}
	spin_unlock(&v->ctrl_lock);
}

/* ---- shutdown ---- */

static void vnet_shutdown(struct netdev *nd)
{
	struct vnet *v = nd->drv;
	if (__atomic_exchange_n(&v->dead, 1, __ATOMIC_ACQ_REL))
		return; /* already reset */
	deferred_set_poll(&v->work, 0);
	if (!device_reset(v))
		printk("net: %s: the device did not confirm its reset\n", prefix(v));
}

static const struct netdev_ops vnet_ops = {
    .xmit = vnet_xmit,
    .set_rx_mode = vnet_set_rx_mode,
    .shutdown = vnet_shutdown,
};

/* ---- interrupts ---- */

static void irq_queues(void *arg)
{
	struct vnet *v = arg;
	stat_add(&v->nd.stats.interrupts, 1);
	deferred_raise(&v->work);
}

static void irq_config(void *arg)
{
	struct vnet *v = arg;
	stat_add(&v->nd.stats.interrupts, 1);
	__atomic_store_n(&v->config_pending, 1, __ATOMIC_RELEASE);
	deferred_raise(&v->work);
}

/* Tells the device which MSI-X entry a source uses; false if it refuses (reads back NO_VECTOR). */
static bool set_config_vector(struct vnet *v, uint16_t entry)
{
	cm_wr16(v, VIRTIO_COMMON_MSIX, entry);
	return cm_rd16(v, VIRTIO_COMMON_MSIX) == entry;
}

static bool set_queue_vector(struct vnet *v, uint16_t q, uint16_t entry)
{
	cm_wr16(v, VIRTIO_COMMON_Q_SELECT, q);
	cm_wr16(v, VIRTIO_COMMON_Q_MSIX, entry);
	return cm_rd16(v, VIRTIO_COMMON_Q_MSIX) == entry;
}

/*
 * MSI-X: entry 0 for configuration changes, entry 1 for RX and TX (both on
 * entry 0 when the device has one entry only); the control queue is
 * polled. Else polling. Called with the queues set up, before DRIVER_OK.
 */
static void irq_setup(struct vnet *v)
{
	struct pci_dev *d = v->pci;
	v->vec_config = v->vec_queues = -1;
	v->msix = false;
	unsigned n = d->cap_msix ? pci_msix_enable(d) : 0;
	if (n > 0) {
		unsigned cpu = irqvec_pick_cpu();
		uint32_t apic;
		uint16_t qentry = n >= 2 ? 1 : 0;
		/* with one entry, its handler serves both: a configuration check is cheap */
		v->vec_config = irqvec_alloc(cpu, irq_config, v, &apic);
		bool ok = v->vec_config >= 0 && pci_msix_set(d, 0, (uint8_t)v->vec_config, apic);
		if (ok && n >= 2) {
			v->vec_queues = irqvec_alloc(cpu, irq_queues, v, &apic);
			ok = v->vec_queues >= 0 && pci_msix_set(d, 1, (uint8_t)v->vec_queues, apic);
		}
		ok = ok && set_config_vector(v, 0) && set_queue_vector(v, VNET_Q_RX, qentry) &&
		     set_queue_vector(v, VNET_Q_TX, qentry);
		if (ok && v->has_ctrl)
			set_queue_vector(v, VNET_Q_CTRL, VIRTIO_MSI_NO_VECTOR); /* waited for by polling */
		if (ok) {
			pci_msix_unmask_function(d);
			v->msix = true;
			v->nd.irq_mode = "msi-x";
			vring_set_interrupts(&v->tx.ring, false); /* TX buffers are reclaimed lazily */
			return;
		}
		printk("net: %s: the device refused its MSI-X vectors; polling\n", prefix(v));
		set_config_vector(v, VIRTIO_MSI_NO_VECTOR);
		set_queue_vector(v, VNET_Q_RX, VIRTIO_MSI_NO_VECTOR);
		set_queue_vector(v, VNET_Q_TX, VIRTIO_MSI_NO_VECTOR);
		pci_msi_disable(d);
		if (v->vec_config >= 0)
			irqvec_free(v->vec_config);
		if (v->vec_queues >= 0)
			irqvec_free(v->vec_queues);
		v->vec_config = v->vec_queues = -1;
	}
	/* polling: no interrupts wanted at all (INTx off, and a hint to the device) */
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_DISABLE);
	vring_set_interrupts(&v->rx.ring, false);
	vring_set_interrupts(&v->tx.ring, false);
	v->nd.irq_mode = "polling";
	deferred_set_poll(&v->work, VNET_POLL_US);
}

/* ---- probe ---- */

/* The largest power of two not above x (x >= 1). */
static uint16_t pow2_floor(uint16_t x)
{
	uint16_t p = 1;
	while ((uint32_t)p * 2 <= x)
		p = (uint16_t)(p * 2);
	return p;
}

/* Sets queue `index` up with at most `want` entries; err says why not. */
static bool queue_setup(struct vnet *v, struct vnet_queue *q, uint16_t index, uint16_t want,
			char *err, size_t errlen)
{
	cm_wr16(v, VIRTIO_COMMON_Q_SELECT, index);
	uint16_t max = cm_rd16(v, VIRTIO_COMMON_Q_SIZE);
	if (max == 0 || max == 0xffff) {
		format(err, errlen, "queue %u is not available", index);
		return false;
	}
	uint16_t size = pow2_floor(max < want ? max : want);
	struct vring_layout l;
	vring_layout(size, &l);
	uint64_t pa = frame_alloc_zeroed((unsigned)(l.total / 4096));
	if (!pa || !vring_init(&q->ring, size, phys_to_virt(pa))) {
		format(err, errlen, "out of memory for queue %u", index);
		return false;
	}
	uint32_t noff = (uint32_t)cm_rd16(v, VIRTIO_COMMON_Q_NOFF) * v->notify_mult;
	if ((uint64_t)noff + 2 > v->notify_len) {
		format(err, errlen, "queue %u's notify offset is outside its region", index);
		return false;
	}
	q->index = index;
	q->notify = (volatile uint16_t *)(v->notify_base + noff);
	cm_wr16(v, VIRTIO_COMMON_Q_SIZE, size);
	cm_wr64(v, VIRTIO_COMMON_Q_DESC, pa + l.desc);
	cm_wr64(v, VIRTIO_COMMON_Q_AVAIL, pa + l.avail);
	cm_wr64(v, VIRTIO_COMMON_Q_USED, pa + l.used);
	return true;
}

static void queue_enable(struct vnet *v, uint16_t index)
{
	cm_wr16(v, VIRTIO_COMMON_Q_SELECT, index);
	cm_wr16(v, VIRTIO_COMMON_Q_ENABLE, 1);
}

static uint64_t device_features(struct vnet *v)
{
	cm_wr32(v, VIRTIO_COMMON_DFSELECT, 0);
	uint64_t lo = cm_rd32(v, VIRTIO_COMMON_DF);
	cm_wr32(v, VIRTIO_COMMON_DFSELECT, 1);
	uint64_t hi = cm_rd32(v, VIRTIO_COMMON_DF);
	return hi << 32 | lo;
}

static void driver_features(struct vnet *v, uint64_t f)
{
	cm_wr32(v, VIRTIO_COMMON_GFSELECT, 0);
	cm_wr32(v, VIRTIO_COMMON_GF, (uint32_t)f);
	cm_wr32(v, VIRTIO_COMMON_GFSELECT, 1);
	cm_wr32(v, VIRTIO_COMMON_GF, (uint32_t)(f >> 32));
}

/* MAC and speed from the device configuration, consistent by its generation counter. */
static void read_config(struct vnet *v)
{
	for (unsigned tries = 0; tries < 100; tries++) {
		uint8_t gen = cm_rd8(v, VIRTIO_COMMON_CFGGEN);
		if (has(v, VIRTIO_NET_F_MAC))
			for (unsigned i = 0; i < ETH_ALEN; i++)
				v->nd.mac[i] = v->devcfg[VNET_CFG_MAC + i];
		v->nd.speed_mbps = 0;
		if (has(v, VIRTIO_NET_F_SPEED_DUPLEX) && v->devcfg_len >= VNET_CFG_SPEED + 4) {
			uint32_t s = *(volatile uint32_t *)(v->devcfg + VNET_CFG_SPEED);
			v->nd.speed_mbps = s == 0xffffffffu ? 0 : s;
		}
		if (cm_rd8(v, VIRTIO_COMMON_CFGGEN) == gen)
			break;
	}
	if (!has(v, VIRTIO_NET_F_MAC)) {
		/* none given: a locally administered one from the PCI address, stable across boots */
		const struct pci_dev *d = v->pci;
		const uint8_t mac[ETH_ALEN] = {0x02, 0x68, 0x76, d->bus, d->dev, d->fn};
		memcpy(v->nd.mac, mac, ETH_ALEN);
	}
}

static volatile uint8_t *map_region(struct pci_dev *d, volatile uint8_t *bars[PCI_MAX_BARS],
				    const struct virtio_pci_region *r)
{
	if (!bars[r->bar])
		bars[r->bar] = (volatile uint8_t *)pci_bar_map(d, r->bar);
	return bars[r->bar] ? bars[r->bar] + r->offset : NULL;
}

/* What a failed probe leaves: the device reset, interrupts off. */
static int probe_fail(struct vnet *v, char *err, size_t errlen, const char *why)
{
	if (why != err)
		strlcpy_hv(err, why, errlen);
	__atomic_store_n(&v->dead, 1, __ATOMIC_RELEASE);
	if (v->common) {
		cm_wr8(v, VIRTIO_COMMON_STATUS, cm_rd8(v, VIRTIO_COMMON_STATUS) | VIRTIO_STATUS_FAILED);
		device_reset(v);
	}
	deferred_set_poll(&v->work, 0);
	if (v->msix) {
		pci_msi_disable(v->pci);
		if (v->vec_config >= 0)
			irqvec_free(v->vec_config);
		if (v->vec_queues >= 0)
			irqvec_free(v->vec_queues);
	}
	return -1;
}

static int vnet_probe(struct pci_dev *d, char *err, size_t errlen)
{
	struct virtio_pci_caps caps;
	const char *why;
	if (!virtio_pci_find_caps(d, &caps, &why)) {
		/* a transitional device without the modern capabilities: QEMU's disable-modern=on */
		if (d->device != VIRTIO_PCI_MODERN_BASE + VIRTIO_ID_NET && !caps.common.present)
			format(err, errlen, "legacy-only virtio-net; this driver needs virtio 1.x");
		else
			format(err, errlen, "%s", why);
		return -1;
	}
	pci_enable(d, true, false, true);
	struct vnet *v = kzalloc(sizeof(*v));
	if (!v) {
		format(err, errlen, "out of memory");
		return -1;
	}
	char bdf[16];
	pci_dev_name(d, bdf, sizeof(bdf));
	format(v->name, sizeof(v->name), "virtio-net %s", bdf);
	v->pci = d;
	v->tx_lock = (spinlock_t)SPINLOCK_INIT;
	v->ctrl_lock = (spinlock_t)SPINLOCK_INIT;
	v->vec_config = v->vec_queues = -1;
	v->work = (struct deferred){.name = v->name, .fn = vnet_work, .arg = v};
	deferred_register(&v->work);

	volatile uint8_t *bars[PCI_MAX_BARS] = {0};
	v->common = map_region(d, bars, &caps.common);
	v->notify_base = map_region(d, bars, &caps.notify);
	v->devcfg = map_region(d, bars, &caps.device);
	v->notify_len = caps.notify.length;
	v->notify_mult = caps.notify_off_multiplier;
	v->devcfg_len = caps.device.length;
	if (!v->common || !v->notify_base || !v->devcfg) {
		v->common = NULL;
		return probe_fail(v, err, errlen, "cannot map the virtio register blocks");
	}
	if (v->devcfg_len < VNET_CFG_STATUS + 2)
		return probe_fail(v, err, errlen, "device configuration block too short");

	/* virtio 1.2 §3.1.1: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK */
	if (!device_reset(v))
		return probe_fail(v, err, errlen, "the device does not complete its reset");
	cm_wr8(v, VIRTIO_COMMON_STATUS, VIRTIO_STATUS_ACK);
	cm_wr8(v, VIRTIO_COMMON_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	uint64_t offered = device_features(v);
	if (!(offered & BIT(VIRTIO_F_VERSION_1)))
		return probe_fail(v, err, errlen, "the device does not offer VIRTIO_F_VERSION_1");
	/*
	 * ACCESS_PLATFORM is taken when offered: the addresses given are the
	 * host's physical ones, which is what the platform's DMA sees with no
	 * IOMMU translation set up.
	 */
	uint64_t wanted = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_ACCESS_PLATFORM) |
			  BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
			  BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX);
	v->features = offered & wanted;
	if (!has(v, VIRTIO_NET_F_CTRL_VQ))
		v->features &= ~BIT(VIRTIO_NET_F_CTRL_RX); /* CTRL_RX needs the control queue */
	driver_features(v, v->features);
	cm_wr8(v, VIRTIO_COMMON_STATUS,
	       VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (!(cm_rd8(v, VIRTIO_COMMON_STATUS) & VIRTIO_STATUS_FEATURES_OK))
		return probe_fail(v, err, errlen, "the device refused the features chosen");
	v->has_ctrl = has(v, VIRTIO_NET_F_CTRL_RX);

	uint16_t nq = cm_rd16(v, VIRTIO_COMMON_NUMQ);
	if (nq < 2 || (v->has_ctrl && nq < 3))
		return probe_fail(v, err, errlen, "the device has too few queues");
	if (!queue_setup(v, &v->rx, VNET_Q_RX, VNET_QSIZE, err, errlen) ||
	    !queue_setup(v, &v->tx, VNET_Q_TX, VNET_QSIZE, err, errlen) ||
	    (v->has_ctrl && !queue_setup(v, &v->ctrl, VNET_Q_CTRL, 8, err, errlen)))
		return probe_fail(v, err, errlen, err);

	/* buffers: one per RX and TX descriptor, and a page for control commands */
	unsigned rxn = v->rx.ring.size, txn = v->tx.ring.size;
	uint64_t rxpa = frame_alloc_zeroed((rxn * VNET_BUF + 4095) / 4096);
	uint64_t txpa = frame_alloc_zeroed((txn * VNET_BUF + 4095) / 4096);
	uint64_t cpa = frame_alloc_zeroed(1);
	if (!rxpa || !txpa || !cpa)
		return probe_fail(v, err, errlen, "out of memory for the buffers");
	v->rx_bufs = phys_to_virt(rxpa);
	v->tx_bufs = phys_to_virt(txpa);
	v->ctrl_page = phys_to_virt(cpa);
	for (unsigned i = 0; i < txn; i++)
		v->tx_free[v->ntx_free++] = (uint16_t)(txn - 1 - i);
	for (unsigned i = 0; i < rxn; i++)
		rx_post(v, (uint16_t)i);
	vring_publish(&v->rx.ring);

	irq_setup(v);
	queue_enable(v, VNET_Q_RX);
	queue_enable(v, VNET_Q_TX);
	if (v->has_ctrl)
		queue_enable(v, VNET_Q_CTRL);
	read_config(v);
	cm_wr8(v, VIRTIO_COMMON_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
					    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	uint8_t st = cm_rd8(v, VIRTIO_COMMON_STATUS);
	if (!(st & VIRTIO_STATUS_DRIVER_OK) || (st & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)))
		return probe_fail(v, err, errlen, "the device did not accept DRIVER_OK");
	kick(&v->rx); /* the buffers posted before the queue was live */
	v->nd.link_up = link_read(v);
	v->next_link_check = uptime_us() + VNET_LINK_POLL_US;

	v->nd.driver = "virtio-net";
	v->nd.caps = 0; /* no offloads yet: frames go out as they are */
	v->nd.ops = &vnet_ops;
	v->nd.drv = v;
	strlcpy_hv(v->nd.pci_addr, bdf, sizeof(v->nd.pci_addr));
	/* only the NIC's own MAC, broadcast and nothing else until the switch asks for more */
	if (v->has_ctrl)
		vnet_set_rx_mode(&v->nd, false, false);
	d->driver_data = v;
	netdev_register(&v->nd);
	d->status = v->nd.name[0] ? v->nd.name : "not used";
	return 0;
}

static bool vnet_match(const struct pci_dev *d)
{
	/* 1041: modern-only; 1000: transitional (legacy and, usually, modern) */
	return d->vendor == VIRTIO_PCI_VENDOR &&
	       (d->device == VIRTIO_PCI_MODERN_BASE + VIRTIO_ID_NET || d->device == 0x1000);
}

const struct pci_driver virtio_net_pci_driver = {
    .name = "virtio-net",
    .match = vnet_match,
    .probe = vnet_probe,
};

/*
 * The e1000e host NIC driver (see e1000e.h): bring-up, interrupts and the
 * netdev operations. The rings themselves are e1000e_ring.c's.
 *
 * Contexts: the interrupt handlers only count and raise the deferred work.
 * The work (at safe points, possibly on two cores at once) reads and clears
 * ICR, follows the link, reaps RX under rx_lock (a second core finding it
 * taken leaves a note so the holder runs again) and hands frames to nd->rx
 * with no TX lock held, then reclaims TX descriptors under tx_lock. xmit()
 * takes tx_lock only. Nothing waits for the device with a lock held.
 *
 * Memory: the host identity-maps its RAM, so descriptor rings and buffers
 * from the frame allocator are used at the same address by the CPU and the
 * device. Buffers are allocated once and never freed: the device may only
 * ever write into memory that stays the driver's.
 */
#include "drivers/net/e1000e.h"

#include "drivers/net/e1000e_regs.h"
#include "drivers/net/e1000e_ring.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/net/netdev.h"
#include "kernel/time/tsc.h"

#define E1000E_RX_DESC 256
#define E1000E_TX_DESC 256
#define E1000E_BAR0_MIN 0x20000	   /* 128 KiB of registers */
#define E1000E_POLL_US 100	   /* without interrupts: the rings' poll */
#define E1000E_RESET_US 100000	   /* CTRL.RST must clear within this */
#define E1000E_MASTER_US 10000	   /* outstanding DMA after GIO master disable */
#define E1000E_NVM_US 10000	   /* one EERD word, the NVM auto-read after reset */
#define E1000E_LINK_WAIT_US 3000000 /* autonegotiation at probe: 2-3 s on real parts */
#define E1000E_ITR 500		   /* 256 ns units: 128 us, at most ~7800 interrupts a second */
#define E1000E_RX_BATCHES 4	   /* batches per run of the work before it yields */
#define E1000_TXDCTL_WTHRESH_MASK (0x3fu << 16)

/* ---- the parts it takes and their quirks ---- */

#define Q_TARC (1u << 0) /* TARC0 needs the queue-enable bit and the 8257x must-set bits */
#define Q_IVAR (1u << 1) /* MSI-X causes mapped by the 82574's IVAR (RX, TX, other) */

struct e1000e_part {
	uint16_t device;
	const char *name;
	uint32_t quirks;
};

static const struct e1000e_part parts[] = {
    {0x10d3, "82574L", Q_TARC | Q_IVAR},
    {0x10f6, "82574LA", Q_TARC | Q_IVAR},
    {0x150c, "82583V", Q_TARC | Q_IVAR},
};

static const struct e1000e_part *find_part(const struct pci_dev *d)
{
	if (d->vendor != 0x8086)
		return NULL;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].device == d->device)
			return &parts[i];
	return NULL;
}

enum irq_mode { IRQ_POLL, IRQ_MSI, IRQ_MSIX };
enum { VEC_RX, VEC_TX, VEC_OTHER, VEC_N };

struct e1000e {
	struct netdev nd;
	struct pci_dev *pci;
	const struct e1000e_part *part;
	volatile uint8_t *regs;

	spinlock_t tx_lock; /* the TX ring, RCTL, and shutdown */
	spinlock_t rx_lock; /* the RX ring and the frames handed up from it */
	uint32_t rx_again;  /* another core found rx_lock taken: run once more */
	struct e1000e_rx rx;
	struct e1000e_tx tx;
	struct net_frame rx_frames[NET_BATCH_MAX];
	struct net_frame *rx_ptrs[NET_BATCH_MAX];

	uint32_t rctl; /* RCTL without UPE/MPE */
	uint32_t ims;  /* the causes it enables */
	enum irq_mode irq;
	int vec[VEC_N];
	volatile bool dead; /* shut down, or gone: no register is touched any more */
	struct deferred work;
};

/* ---- registers and time ---- */

static uint32_t rd(struct e1000e *c, uint32_t off)
{
	return e1000e_rd32(c->regs, off);
}

static void wr(struct e1000e *c, uint32_t off, uint32_t v)
{
	e1000e_wr32(c->regs, off, v);
}

static uint64_t phys(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity map */
}

/* Polls until (reg & mask) == want, for at most us microseconds. */
static bool wait_reg(struct e1000e *c, uint32_t off, uint32_t mask, uint32_t want, uint64_t us)
{
	uint64_t end = uptime_us() + us;
	for (;;) {
		uint32_t v = rd(c, off);
		if (v != 0xffffffffu && (v & mask) == want)
			return true;
		if (uptime_us() > end)
			return false;
		udelay(10);
	}
}

static bool try_lock(spinlock_t *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	uint32_t next = owner;
	return __atomic_compare_exchange_n(&l->next, &next, owner + 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static bool try_lock_for(spinlock_t *l, uint64_t us)
{
	uint64_t end = uptime_us() + us;
	do {
		if (try_lock(l))
			return true;
		udelay(10);
	} while (uptime_us() < end);
	return false;
}

static void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/* ---- reset, MAC address, link ---- */

/*
 * Stops receive and transmit, lets outstanding DMA finish, and resets the
 * MAC (CTRL.RST). False when the reset bit does not clear in time. QEMU's
 * model resets little on CTRL.RST, so everything the driver relies on is
 * written explicitly afterwards.
 */
static bool hw_reset(struct e1000e *c)
{
	wr(c, E1000_IMC, 0xffffffffu);
	wr(c, E1000_RCTL, 0);
	wr(c, E1000_TCTL, E1000_TCTL_PSP);
	(void)rd(c, E1000_STATUS); /* flushes the posted writes */
	udelay(2000);		   /* a frame in flight reaches memory */
	wr(c, E1000_CTRL, rd(c, E1000_CTRL) | E1000_CTRL_GIO_MASTER_DISABLE);
	/* a part that never drops the bit only costs the wait */
	(void)wait_reg(c, E1000_STATUS, E1000_STATUS_GIO_MASTER_ENABLE, 0, E1000E_MASTER_US);
	wr(c, E1000_CTRL, rd(c, E1000_CTRL) | E1000_CTRL_RST);
	udelay(1000);
	if (!wait_reg(c, E1000_CTRL, E1000_CTRL_RST, 0, E1000E_RESET_US))
		return false;
	(void)wait_reg(c, E1000_EECD, E1000_EECD_AUTO_RD, E1000_EECD_AUTO_RD, E1000E_NVM_US);
	wr(c, E1000_IMC, 0xffffffffu);
	(void)rd(c, E1000_ICR);
	return true;
}

static bool mac_valid(const uint8_t *mac)
{
	static const uint8_t zero[ETH_ALEN];
	return !eth_is_multicast(mac) && memcmp(mac, zero, ETH_ALEN) != 0;
}

/* Receive address 0 as the NVM loaded it at reset. */
static bool mac_from_ral(struct e1000e *c, uint8_t *mac)
{
	uint32_t lo = rd(c, E1000_RAL(0)), hi = rd(c, E1000_RAH(0));
	if (!(hi & E1000_RAH_AV))
		return false;
	for (int i = 0; i < 4; i++)
		mac[i] = (uint8_t)(lo >> (8 * i));
	mac[4] = (uint8_t)hi;
	mac[5] = (uint8_t)(hi >> 8);
	return mac_valid(mac);
}

/* Words 0-2 of the NVM through EERD, when RAL/RAH hold nothing valid. */
static bool mac_from_nvm(struct e1000e *c, uint8_t *mac)
{
	for (uint32_t w = 0; w < 3; w++) {
		wr(c, E1000_EERD, (w << E1000_EERD_ADDR_SHIFT) | E1000_EERD_START);
		if (!wait_reg(c, E1000_EERD, E1000_EERD_DONE, E1000_EERD_DONE, E1000E_NVM_US))
			return false;
		uint16_t v = E1000_EERD_DATA(rd(c, E1000_EERD));
		mac[2 * w] = (uint8_t)v;
		mac[2 * w + 1] = (uint8_t)(v >> 8);
	}
	return mac_valid(mac);
}

static void program_mac(struct e1000e *c, const uint8_t *mac)
{
	wr(c, E1000_RAL(0), (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
				(uint32_t)mac[3] << 24);
	wr(c, E1000_RAH(0), (uint32_t)mac[4] | (uint32_t)mac[5] << 8 | E1000_RAH_AV);
	for (unsigned i = 1; i < E1000_RAR_ENTRIES; i++) {
		wr(c, E1000_RAH(i), 0);
		wr(c, E1000_RAL(i), 0);
	}
	for (unsigned i = 0; i < E1000_MTA_WORDS; i++)
		wr(c, E1000_MTA + 4 * i, 0);
}

static uint32_t speed_of(uint32_t status)
{
	static const uint32_t mbps[4] = {10, 100, 1000, 1000};
	return mbps[E1000_STATUS_SPEED(status)];
}

/* STATUS into the netdev: its speed, and a change of the link reported. */
static void link_update(struct e1000e *c)
{
	uint32_t status = rd(c, E1000_STATUS);
	if (status == 0xffffffffu)
		return;
	bool up = status & E1000_STATUS_LU;
	c->nd.speed_mbps = up ? speed_of(status) : 0;
	netdev_link_changed(&c->nd, up);
}

/* ---- rings ---- */

static bool rings_alloc(struct e1000e *c)
{
	unsigned rx_pages = E1000E_RX_DESC * E1000E_BUF_SIZE / 4096;
	unsigned tx_pages = E1000E_TX_DESC * E1000E_BUF_SIZE / 4096;
	uint64_t rxd = frame_alloc_zeroed(1), txd = frame_alloc_zeroed(1);
	uint64_t rxb = frame_alloc_zeroed(rx_pages), txb = frame_alloc_zeroed(tx_pages);
	_Static_assert(E1000E_RX_DESC * sizeof(struct e1000_rx_desc) <= 4096, "one page of RX descriptors");
	_Static_assert(E1000E_TX_DESC * sizeof(struct e1000_tx_desc) <= 4096, "one page of TX descriptors");
	if (!rxd || !txd || !rxb || !txb)
		return false; /* what was taken stays unused: probe failures are rare and boot-time */
	e1000e_rx_init(&c->rx, c->regs, E1000_RDT(0), phys_to_virt(rxd), phys_to_virt(rxb), rxb,
		       E1000E_RX_DESC);
	e1000e_tx_init(&c->tx, c->regs, E1000_TDT(0), phys_to_virt(txd), phys_to_virt(txb), txb,
		       E1000E_TX_DESC);
	for (unsigned i = 0; i < NET_BATCH_MAX; i++)
		c->rx_ptrs[i] = &c->rx_frames[i];
	return true;
}

static void rx_setup(struct e1000e *c)
{
	uint64_t base = phys((const void *)c->rx.desc);
	wr(c, E1000_RFCTL, rd(c, E1000_RFCTL) & ~E1000_RFCTL_EXTEN); /* legacy descriptors */
	wr(c, E1000_RXCSUM, 0);
	wr(c, E1000_RDTR, 0); /* no receive delay: ITR paces the interrupts */
	wr(c, E1000_RADV, 0);
	wr(c, E1000_RDBAL(0), (uint32_t)base);
	wr(c, E1000_RDBAH(0), (uint32_t)(base >> 32));
	wr(c, E1000_RDLEN(0), E1000E_RX_DESC * sizeof(struct e1000_rx_desc)); /* a multiple of 128 */
	wr(c, E1000_RDH(0), 0);
	wr(c, E1000_RDT(0), 0);
	/* broadcast, CRC stripped, 2 KiB buffers, no long frames, VLAN tags left in the frame */
	c->rctl = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_BSIZE_2048 |
		  E1000_RCTL_RDMTS_HALF;
	wr(c, E1000_RCTL, c->rctl);
	e1000e_rx_start(&c->rx);
}

static void tx_setup(struct e1000e *c)
{
	uint64_t base = phys((const void *)c->tx.desc);
	wr(c, E1000_TDBAL(0), (uint32_t)base);
	wr(c, E1000_TDBAH(0), (uint32_t)(base >> 32));
	wr(c, E1000_TDLEN(0), E1000E_TX_DESC * sizeof(struct e1000_tx_desc));
	wr(c, E1000_TDH(0), 0);
	wr(c, E1000_TDT(0), 0);
	wr(c, E1000_TIDV, 0);
	wr(c, E1000_TADV, 0);
	/* descriptors written back one at a time, so DD is seen on each */
	uint32_t txdctl = rd(c, E1000_TXDCTL(0)) & ~E1000_TXDCTL_WTHRESH_MASK;
	wr(c, E1000_TXDCTL(0), txdctl | E1000_TXDCTL_WTHRESH(1) | E1000_TXDCTL_GRAN |
				   E1000_TXDCTL_COUNT_DESC);
	if (c->part->quirks & Q_TARC)
		wr(c, E1000_TARC(0), rd(c, E1000_TARC(0)) | E1000_TARC_ENABLE | E1000_TARC_SET_82574);
	wr(c, E1000_TIPG, E1000_TIPG_VALUE(8, 8, 6));
	wr(c, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT(15) | E1000_TCTL_COLD(63) |
				  E1000_TCTL_RTLC);
}

/* ---- the deferred work ---- */

static void rx_work(struct e1000e *c)
{
	bool more = false;

	if (!try_lock(&c->rx_lock)) {
		/* the holder may be past its last look at the ring */
		__atomic_store_n(&c->rx_again, 1, __ATOMIC_RELEASE);
		return;
	}
	for (unsigned b = 0; b < E1000E_RX_BATCHES && !c->dead; b++) {
		unsigned used;
		unsigned n = e1000e_rx_reap(&c->rx, c->rx_frames, NET_BATCH_MAX, &used, &c->nd.stats);
		if (!used)
			break;
		if (n) {
			void (*rx)(struct netdev *, struct net_frame *const *, unsigned) = c->nd.rx;
			if (rx)
				rx(&c->nd, c->rx_ptrs, n);
			else
				stat_add(&c->nd.stats.rx_drops, n);
		}
		e1000e_rx_refill(&c->rx);
		more = b == E1000E_RX_BATCHES - 1;
	}
	spin_unlock(&c->rx_lock);
	/* a long burst yields to other work and comes back */
	if (__atomic_exchange_n(&c->rx_again, 0, __ATOMIC_ACQ_REL) || more)
		deferred_raise(&c->work);
}

static void e1000e_work(void *arg)
{
	struct e1000e *c = arg;

	if (c->dead)
		return;
	uint32_t icr = rd(c, E1000_ICR);
	if (icr == 0xffffffffu) {
		/* surprise removal or a dead link: stop touching it */
		c->dead = true;
		deferred_set_poll(&c->work, 0);
		printk("net: %s: the NIC does not answer (its registers read all ones); stopped\n",
		       c->nd.name);
		netdev_link_changed(&c->nd, false);
		return;
	}
	/* written back: QEMU's e1000e (and MSI-X mode generally) does not clear ICR on read */
	if (icr)
		wr(c, E1000_ICR, icr);
	if (c->irq == IRQ_MSIX)
		wr(c, E1000_IMS, c->ims); /* in case auto-masking took causes away */
	if (icr & E1000_ICR_LSC)
		link_update(c);
	if (icr & E1000_ICR_RXO)
		stat_add(&c->nd.stats.rx_drops, rd(c, E1000_MPC)); /* no descriptor was free */
	rx_work(c);
	if (try_lock(&c->tx_lock)) { /* else xmit is there and reclaims itself */
		e1000e_tx_reclaim(&c->tx, &c->nd.stats);
		spin_unlock(&c->tx_lock);
	}
}

static void irq_handler(void *arg)
{
	struct e1000e *c = arg;
	stat_add(&c->nd.stats.interrupts, 1);
	deferred_raise(&c->work);
}

/* ---- netdev operations ---- */

static unsigned e1000e_xmit(struct netdev *nd, struct net_frame *const *frames, unsigned n)
{
	struct e1000e *c = nd->drv;
	unsigned queued = 0;

	spin_lock(&c->tx_lock);
	if (c->dead || !nd->link_up) {
		nd->stats.tx_drops += n;
	} else {
		e1000e_tx_reclaim(&c->tx, &nd->stats);
		queued = e1000e_tx_put(&c->tx, frames, n, &nd->stats);
	}
	spin_unlock(&c->tx_lock);
	return queued;
}

static void e1000e_set_rx_mode(struct netdev *nd, bool promisc, bool allmulti)
{
	struct e1000e *c = nd->drv;
	uint32_t rctl = c->rctl;

	if (promisc)
		rctl |= E1000_RCTL_UPE | E1000_RCTL_MPE;
	else if (allmulti)
		rctl |= E1000_RCTL_MPE;
	spin_lock(&c->tx_lock);
	if (!c->dead)
		wr(c, E1000_RCTL, rctl);
	spin_unlock(&c->tx_lock);
}

static void e1000e_shutdown(struct netdev *nd)
{
	struct e1000e *c = nd->drv;
	/* a CPU stopped while holding the lock must not stop the power-off */
	bool locked = try_lock_for(&c->tx_lock, 100000);
	bool was_dead = c->dead;

	c->dead = true;
	if (locked)
		spin_unlock(&c->tx_lock);
	deferred_set_poll(&c->work, 0);
	if (was_dead)
		return;
	bool reset = hw_reset(c);
	pci_write16(c->pci, PCI_COMMAND, pci_read16(c->pci, PCI_COMMAND) & ~PCI_CMD_MASTER);
	pci_msi_disable(c->pci);
	const struct netdev_stats *st = &nd->stats;
	printk("net: %s: stopped%s: rx %llu frames (%llu dropped, %llu bad), tx %llu (%llu dropped, "
	       "%llu errors), %llu interrupts\n",
	       nd->name, reset ? "" : " (the reset did not finish; bus mastering is off)",
	       (unsigned long long)st->rx_frames, (unsigned long long)st->rx_drops,
	       (unsigned long long)st->rx_errors, (unsigned long long)st->tx_frames,
	       (unsigned long long)st->tx_drops, (unsigned long long)st->tx_errors,
	       (unsigned long long)st->interrupts);
}

static const struct netdev_ops e1000e_ops = {
	.xmit = e1000e_xmit,
	.set_rx_mode = e1000e_set_rx_mode,
	.shutdown = e1000e_shutdown,
};

/* ---- probe ---- */

static void vectors_free(struct e1000e *c)
{
	for (unsigned i = 0; i < VEC_N; i++) {
		if (c->vec[i] >= 0)
			irqvec_free(c->vec[i]);
		c->vec[i] = -1;
	}
}

/* MSI-X with a vector each for RX, TX and the rest, else one MSI, else polling. */
static const char *irq_setup(struct e1000e *c)
{
	struct pci_dev *d = c->pci;
	unsigned cpu = irqvec_pick_cpu();
	uint32_t apic;

	for (unsigned i = 0; i < VEC_N; i++)
		c->vec[i] = -1;
	if ((c->part->quirks & Q_IVAR) && d->cap_msix && pci_msix_enable(d) >= VEC_N) {
		bool ok = true;
		for (unsigned i = 0; i < VEC_N && ok; i++) {
			c->vec[i] = irqvec_alloc(cpu, irq_handler, c, &apic);
			ok = c->vec[i] >= 0 && pci_msix_set(d, i, (uint8_t)c->vec[i], apic);
		}
		if (ok) {
			wr(c, E1000_CTRL_EXT, rd(c, E1000_CTRL_EXT) | E1000_CTRL_EXT_PBA_CLR);
			wr(c, E1000_IVAR, E1000_IVAR_RXQ0(VEC_RX) | E1000_IVAR_TXQ0(VEC_TX) |
					      E1000_IVAR_OTHER(VEC_OTHER) | E1000_IVAR_INT_ON_ALL_WB);
			/* the queue causes clear themselves when their message is sent */
			wr(c, E1000_EIAC, E1000_ICR_RXQ0 | E1000_ICR_TXQ0 | E1000_ICR_OTHER);
			for (unsigned i = 0; i < VEC_N; i++)
				wr(c, E1000_EITR(i), E1000E_ITR);
			c->ims = E1000_ICR_RXQ0 | E1000_ICR_TXQ0 | E1000_ICR_OTHER | E1000_ICR_LSC |
				 E1000_ICR_RXO | E1000_ICR_RXT0 | E1000_ICR_TXDW;
			pci_msix_unmask_function(d);
			c->irq = IRQ_MSIX;
			return "msi-x";
		}
		vectors_free(c);
		pci_msi_disable(d);
	}
	if (d->cap_msi) {
		c->vec[0] = irqvec_alloc(cpu, irq_handler, c, &apic);
		if (c->vec[0] >= 0 && pci_msi_enable(d, (uint8_t)c->vec[0], apic)) {
			wr(c, E1000_ITR, E1000E_ITR);
			c->ims = E1000_ICR_LSC | E1000_ICR_RXO | E1000_ICR_RXT0 | E1000_ICR_RXDMT0 |
				 E1000_ICR_TXDW;
			c->irq = IRQ_MSI;
			return "msi";
		}
		vectors_free(c);
	}
	c->irq = IRQ_POLL;
	c->ims = 0;
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_DISABLE);
	deferred_set_poll(&c->work, E1000E_POLL_US);
	return "polling";
}

static int e1000e_probe(struct pci_dev *d, char *err, size_t errlen)
{
	const struct e1000e_part *part = find_part(d);
	if (!part) {
		format(err, errlen, "not a part this driver knows");
		return -1;
	}
	volatile uint8_t *regs = pci_probe_mmio_bar(d, 0, E1000E_BAR0_MIN, err, errlen);
	if (!regs)
		return -1;
	struct e1000e *c = kzalloc(sizeof(*c));
	if (!c) {
		format(err, errlen, "out of memory");
		return -1;
	}
	c->tx_lock = (spinlock_t)SPINLOCK_INIT;
	c->rx_lock = (spinlock_t)SPINLOCK_INIT;
	c->pci = d;
	c->part = part;
	c->regs = regs;
	if (rd(c, E1000_STATUS) == 0xffffffffu) {
		format(err, errlen, "the NIC does not answer (STATUS reads all ones)");
		return -1;
	}
	if (!hw_reset(c)) {
		format(err, errlen, "the reset did not finish within %u ms", E1000E_RESET_US / 1000);
		return -1;
	}
	if (!mac_from_ral(c, c->nd.mac) && !mac_from_nvm(c, c->nd.mac)) {
		format(err, errlen, "no valid MAC address (RAL/RAH or the NVM)");
		return -1;
	}
	program_mac(c, c->nd.mac);
	/* the link by autonegotiation through the PHY; no forced speed, no VLAN stripping */
	uint32_t ctrl = rd(c, E1000_CTRL);
	ctrl &= ~(E1000_CTRL_GIO_MASTER_DISABLE | E1000_CTRL_FRCSPD | E1000_CTRL_FRCDPX |
		  E1000_CTRL_ILOS | E1000_CTRL_VME | E1000_CTRL_RST | E1000_CTRL_PHY_RST);
	wr(c, E1000_CTRL, ctrl | E1000_CTRL_SLU);
	if (!rings_alloc(c)) {
		format(err, errlen, "out of memory for the rings");
		return -1;
	}

	pci_dev_name(d, c->nd.pci_addr, sizeof(c->nd.pci_addr));
	c->nd.driver = "e1000e";
	c->nd.ops = &e1000e_ops;
	c->nd.drv = c;
	c->nd.caps = 0;
	c->work = (struct deferred){.name = "e1000e", .fn = e1000e_work, .arg = c};
	deferred_register(&c->work);
	c->nd.irq_mode = irq_setup(c);

	rx_setup(c);
	tx_setup(c);
	(void)rd(c, E1000_ICR);
	wr(c, E1000_IMS, c->ims);

	/* the registration line says whether the link is up: give autonegotiation its time */
	(void)wait_reg(c, E1000_STATUS, E1000_STATUS_LU, E1000_STATUS_LU, E1000E_LINK_WAIT_US);
	uint32_t status = rd(c, E1000_STATUS);
	c->nd.link_up = status & E1000_STATUS_LU;
	c->nd.speed_mbps = c->nd.link_up ? speed_of(status) : 0;

	d->driver_data = c;
	netdev_register(&c->nd);
	if (!c->nd.name[0]) {
		/* no room in the registry (it said so): the NIC stays quiet */
		e1000e_shutdown(&c->nd);
		d->status = "not used";
		return 0;
	}
	d->status = c->nd.name;
	printk("net: %s: Intel %s, %u RX and %u TX descriptors of %u bytes\n", c->nd.name, part->name,
	       E1000E_RX_DESC, E1000E_TX_DESC, E1000E_BUF_SIZE);
	return 0;
}

static bool e1000e_match(const struct pci_dev *d)
{
	return find_part(d) != NULL;
}

const struct pci_driver e1000e_pci_driver = {
	.name = "e1000e",
	.match = e1000e_match,
	.probe = e1000e_probe,
};

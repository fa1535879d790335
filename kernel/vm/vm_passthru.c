/*
 * Device assignment (see vm_passthru.h). One `struct pt_dev` per function
 * given to a VM, in a static table: interrupt handlers and deferred work
 * reach it by pointer, so it never moves or goes away; `vm` NULL marks a
 * free entry.
 *
 * Locking: pt->lock guards a function's host-side state (host vectors,
 * mapped BARs, the VM it belongs to). Its order: pt->lock, then the VM's
 * PCI bus lock (vm_pci_lock), then the platform lock; nested-table changes
 * take pt_npt_lock inside pt->lock. The interrupt handler takes no lock: it
 * sets a bit and raises the deferred work.
 */
#include "kernel/vm/vm_passthru.h"

#include "guest/pci/passthru.h"
#include "guest/pci/vpci_internal.h"
#include "include/x86.h"
#include "kernel/config/vmconfig.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/iommu/iommu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_intx.h"
#include "kernel/pci/pci_reset.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vm_pci.h"
#include "kernel/vm/vplatform.h"

#define PT_MAX 16
#define PT_MSI_BIT 64 /* pending bit of the MSI vector; MSI-X entries are bits 0-63 */

/* MSI / MSI-X capability registers (PCI 3.0 §6.8) */
#define MSIX_CTRL 2
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_CTRL_ENABLE (1u << 15)

/* Host IOAPIC registers and redirection entry bits (82093AA §3.2) */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_RTE_LO(pin) (0x10 + 2 * (pin))
#define RTE_LOW_ACTIVE (1u << 13)
#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)

/*
 * A host INTx line (GSI) some passed-through functions use: one host vector
 * and one IOAPIC pin, level-triggered, shared by every function on that
 * GSI. The pin is masked by the handler and stays masked while any user's
 * interrupt waits for its guest's EOI.
 */
struct pt_line {
	unsigned users; /* 0: free */
	uint32_t gsi;
	uint8_t ioapic_id;
	unsigned pin;
	volatile uint32_t *ioapic;
	int vec;
	bool remapped;
	uint32_t rte_lo, rte_hi; /* unmasked */
	uint32_t fired;		 /* set by the handler (atomic) */
	uint64_t irqs;
};

struct pt_vec {
	struct pt_dev *pt;
	unsigned bit;
};

struct pt_dev {
	spinlock_t lock;
	struct vm *vm; /* NULL: a free entry */
	struct pci_dev *host;
	const struct pci_dev *bridge; /* above it, for a bus reset */
	enum pci_reset_method reset;
	char name[40]; /* "passthrough 0000:01:00.0": what pci-list NAME shows */
	struct vpci_func func;
	unsigned host_msix_n; /* the host table's entries (the guest may see fewer) */
	bool plugged; /* on the VM's bus */
	/* host side */
	volatile uint8_t *trap_va[PCI_MAX_BARS]; /* the trapped window of each memory BAR */
	uint64_t trap_lo[PCI_MAX_BARS], trap_hi[PCI_MAX_BARS];
	bool mapped[PCI_MAX_BARS];
	uint64_t mapped_gpa[PCI_MAX_BARS];
	int msi_vec;			 /* host vector of MSI, or -1 */
	int msix_vec[VPCI_MSIX_MAX];	 /* host vectors of MSI-X entries, -1: none */
	unsigned msix_n;		 /* entries programmed on the host; 0: MSI-X off */
	struct pt_vec vecs[PT_MSI_BIT + 1];
	uint64_t pending_msix;		 /* raised by the handler (atomic) */
	uint32_t pending_msi;
	uint64_t irqs;			 /* host interrupts taken */
	/* INTx (pt_intx_lock) */
	struct pt_line *line; /* its host line; NULL: the guest has no INTx pin */
	unsigned guest_gsi;   /* the VM's IOAPIC pin for its slot's INTA */
	bool intx_on;	      /* the guest lets it use INTx (INTX_DISABLE clear, MSI/MSI-X off) */
	bool intx_up;	      /* asserted in the guest, until its EOI */
	uint32_t intx_eoi;    /* the guest EOIed it (atomic; set under the platform lock) */
};

struct vm_passthru {
	struct iommu_domain *dom;
	unsigned n;
	struct pt_dev *devs[VM_MAX_PCI];
};

static struct pt_dev pt_devs[PT_MAX];
static spinlock_t pt_table_lock = SPINLOCK_INIT; /* claiming and freeing entries */
static spinlock_t pt_npt_lock = SPINLOCK_INIT;	 /* changes to any VM's nested tables */
static struct deferred pt_work;
static bool pt_work_registered;
static struct pt_line pt_lines[PT_MAX];
static spinlock_t pt_intx_lock = SPINLOCK_INIT;	  /* lines and the functions' INTx state */
static spinlock_t pt_ioapic_lock = SPINLOCK_INIT; /* the host IOAPICs' index/data registers */

static struct vm_passthru *pt_of(struct vm *vm)
{
	return vm->passthru;
}

/* ---- interrupts: host vector -> deferred work -> the guest's message ---- */

static void pt_irq(void *arg)
{
	struct pt_vec *v = arg;
	if (v->bit == PT_MSI_BIT)
		__atomic_store_n(&v->pt->pending_msi, 1, __ATOMIC_RELEASE);
	else
		__atomic_or_fetch(&v->pt->pending_msix, 1ull << v->bit, __ATOMIC_RELEASE);
	deferred_raise(&pt_work);
}

/* ---- INTx: host IOAPIC pin -> deferred work -> the VM's IOAPIC pin, EOI -> unmask ---- */

static void line_write(struct pt_line *l, bool masked)
{
	uint64_t f = spin_lock_irqsave(&pt_ioapic_lock);
	l->ioapic[IOAPIC_REGSEL / 4] = IOAPIC_RTE_LO(l->pin) + 1;
	l->ioapic[IOAPIC_WIN / 4] = l->rte_hi;
	l->ioapic[IOAPIC_REGSEL / 4] = IOAPIC_RTE_LO(l->pin);
	l->ioapic[IOAPIC_WIN / 4] = masked ? l->rte_lo | RTE_MASKED : l->rte_lo;
	spin_unlock_irqrestore(&pt_ioapic_lock, f);
}

/* Level-triggered: masked here, unmasked when every user's guest has EOIed. */
static void pt_intx_irq(void *arg)
{
	struct pt_line *l = arg;
	line_write(l, true);
	__atomic_store_n(&l->fired, 1, __ATOMIC_RELEASE);
	deferred_raise(&pt_work);
}

/* The VM's pin follows its functions' assertions (pt_intx_lock held). */
static void guest_line(struct vm *vm, unsigned gsi)
{
	bool up = false;
	for (unsigned i = 0; i < PT_MAX; i++)
		up |= pt_devs[i].vm == vm && pt_devs[i].line && pt_devs[i].guest_gsi == gsi &&
		      pt_devs[i].intx_up;
	vplatform_pt_intx(vm, gsi, up);
}

/* Unmasked while some user may interrupt and none waits for its EOI (pt_intx_lock held). */
static void line_update(struct pt_line *l)
{
	bool on = false, waiting = false;
	for (unsigned i = 0; i < PT_MAX; i++) {
		struct pt_dev *u = &pt_devs[i];
		if (u->line != l)
			continue;
		on |= u->intx_on;
		waiting |= u->intx_up;
	}
	line_write(l, !on || waiting);
}

/* Host line fired or a guest EOIed: who asserts now (STATUS.INTERRUPT). pt_intx_lock held. */
static void line_service(struct pt_line *l)
{
	bool fired = __atomic_exchange_n(&l->fired, 0, __ATOMIC_ACQ_REL), eoi = false;
	for (unsigned i = 0; i < PT_MAX; i++) {
		struct pt_dev *u = &pt_devs[i];
		if (u->line == l && __atomic_exchange_n(&u->intx_eoi, 0, __ATOMIC_ACQ_REL)) {
			u->intx_up = false;
			eoi = true;
		}
	}
	if (!fired && !eoi)
		return;
	l->irqs += fired;
	for (unsigned i = 0; i < PT_MAX; i++) {
		struct pt_dev *u = &pt_devs[i];
		if (u->line != l || u->intx_up || !u->intx_on)
			continue;
		if (!(pci_read16(u->host, PCI_STATUS) & PCI_STATUS_INTERRUPT))
			continue;
		u->intx_up = true;
		u->irqs++;
		guest_line(u->vm, u->guest_gsi);
	}
	line_update(l);
}

/* vplatform's EOI hook (platform lock held): note it, the work does the rest. */
static void pt_intx_eoi(struct vm *vm, unsigned gsi)
{
	for (unsigned i = 0; i < PT_MAX; i++) {
		struct pt_dev *u = &pt_devs[i];
		if (u->vm == vm && u->line && u->guest_gsi == gsi)
			__atomic_store_n(&u->intx_eoi, 1, __ATOMIC_RELEASE);
	}
	deferred_raise(&pt_work);
}

/*
 * The host line for GSI `gsi`, shared or new: a host vector, the IOAPIC pin
 * programmed level/active-low (remappable when interrupt remapping is on),
 * masked. pt_intx_lock held. NULL with the reason.
 */
static struct pt_line *line_get(uint32_t gsi, uint8_t ioapic_id, uint64_t ioapic_addr,
				unsigned pin, char *why, size_t whylen)
{
	struct pt_line *l = NULL;
	for (unsigned i = 0; i < PT_MAX; i++)
		if (pt_lines[i].users && pt_lines[i].gsi == gsi) {
			pt_lines[i].users++;
			return &pt_lines[i];
		}
	for (unsigned i = 0; !l && i < PT_MAX; i++)
		if (!pt_lines[i].users)
			l = &pt_lines[i];
	if (!l) {
		format(why, whylen, "no free INTx line entry");
		return NULL;
	}
	memset(l, 0, sizeof(*l));
	l->gsi = gsi, l->ioapic_id = ioapic_id, l->pin = pin;
	l->ioapic = mm_map_mmio(ioapic_addr, 0x1000);
	if (!l->ioapic) {
		format(why, whylen, "cannot map the IOAPIC at %#llx", (unsigned long long)ioapic_addr);
		return NULL;
	}
	uint64_t f = spin_lock_irqsave(&pt_ioapic_lock);
	l->ioapic[IOAPIC_REGSEL / 4] = IOAPIC_VER;
	unsigned maxpin = l->ioapic[IOAPIC_WIN / 4] >> 16 & 0xff;
	spin_unlock_irqrestore(&pt_ioapic_lock, f);
	if (pin > maxpin) {
		format(why, whylen, "GSI %u is pin %u of IOAPIC %u, which has %u pins", gsi, pin,
		       ioapic_id, maxpin + 1);
		return NULL;
	}
	uint32_t apic;
	l->vec = irqvec_alloc(irqvec_pick_cpu(), pt_intx_irq, l, &apic);
	if (l->vec < 0) {
		format(why, whylen, "the host vector pool is empty");
		return NULL;
	}
	uint64_t rte = 0;
	int r = iommu_ioapic_remap(ioapic_id, pin, (uint8_t)l->vec, apic, true, &rte, why, whylen);
	if (r < 0) {
		irqvec_free(l->vec);
		return NULL;
	}
	l->remapped = r == 0;
	if (r == 1) /* no interrupt remapping: an ordinary fixed, physical RTE */
		rte = (uint64_t)apic << 56 | RTE_LEVEL | (uint8_t)l->vec;
	rte |= RTE_LOW_ACTIVE; /* PCI INTx is active low */
	l->rte_lo = (uint32_t)rte & ~RTE_MASKED;
	l->rte_hi = (uint32_t)(rte >> 32);
	l->users = 1;
	line_write(l, true);
	return l;
}

static void line_put(struct pt_line *l)
{
	if (--l->users)
		return;
	line_write(l, true);
	if (l->remapped)
		iommu_ioapic_release(l->ioapic_id, l->pin);
	irqvec_free(l->vec);
	__atomic_store_n(&l->fired, 0, __ATOMIC_RELEASE);
}

/* The guest's view changed: INTx allowed or not (pt->lock held). */
static void intx_apply(struct pt_dev *pt, bool on)
{
	spin_lock(&pt_intx_lock);
	if (pt->line) {
		pt->intx_on = on;
		if (!on && pt->intx_up) {
			pt->intx_up = false;
			guest_line(pt->vm, pt->guest_gsi);
		}
		line_update(pt->line);
	}
	spin_unlock(&pt_intx_lock);
}

static void pt_work_fn(void *arg)
{
	(void)arg;
	spin_lock(&pt_intx_lock);
	for (unsigned i = 0; i < PT_MAX; i++)
		if (pt_lines[i].users)
			line_service(&pt_lines[i]);
	spin_unlock(&pt_intx_lock);
	for (unsigned i = 0; i < PT_MAX; i++) {
		struct pt_dev *pt = &pt_devs[i];
		if (!__atomic_load_n(&pt->pending_msi, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&pt->pending_msix, __ATOMIC_ACQUIRE))
			continue;
		spin_lock(&pt->lock);
		uint32_t msi = __atomic_exchange_n(&pt->pending_msi, 0, __ATOMIC_ACQ_REL);
		uint64_t msix = __atomic_exchange_n(&pt->pending_msix, 0, __ATOMIC_ACQ_REL);
		if (pt->vm && pt->plugged) {
			pt->irqs += (msi != 0) + (unsigned)__builtin_popcountll(msix);
			if (msi)
				vm_pci_msi_notify(pt->vm, &pt->func, 0);
			for (unsigned b = 0; msix && b < 64; b++)
				if (msix >> b & 1)
					vm_pci_msix_notify(pt->vm, &pt->func, b);
		}
		spin_unlock(&pt->lock);
	}
}

/* The message the device writes for host vector `vec` on the CPU with apic_id. */
static bool host_message(struct pt_dev *pt, unsigned slot, int vec, uint32_t apic_id,
			 uint64_t *addr, uint32_t *data)
{
	if (iommu_intremap(pt->host))
		return iommu_msi_remap(pt->host, slot, (uint8_t)vec, apic_id, addr, data) == 0;
	return pci_msi_message(apic_id, (uint8_t)vec, addr, data);
}

static void msi_host_off(struct pt_dev *pt)
{
	struct pci_dev *h = pt->host;
	if (h->cap_msi)
		vpt_host_msi_off(h);
	if (pt->msi_vec >= 0)
		irqvec_free(pt->msi_vec);
	pt->msi_vec = -1;
}

static void msi_host_on(struct pt_dev *pt)
{
	struct pci_dev *h = pt->host;
	uint32_t apic;
	char dn[16];
	if (pt->msi_vec >= 0 || !h->cap_msi)
		return;
	int vec = irqvec_alloc(irqvec_pick_cpu(), pt_irq, &pt->vecs[PT_MSI_BIT], &apic);
	uint64_t addr;
	uint32_t data;
	if (vec < 0 || !host_message(pt, 0, vec, apic, &addr, &data)) {
		pci_dev_name(h, dn, sizeof(dn));
		printk("passthrough %s: no host vector for its MSI (%s); its interrupts are lost\n",
		       dn, vec < 0 ? "the vector pool is empty" : "cannot remap it");
		if (vec >= 0)
			irqvec_free(vec);
		return;
	}
	pt->msi_vec = vec;
	vpt_host_msi_program(h, addr, data);
}

static volatile uint32_t *msix_entry(struct pt_dev *pt, unsigned i)
{
	unsigned bar = pt->func.msix.bar;
	return (volatile uint32_t *)(pt->trap_va[bar] + (pt->func.msix.table_off - pt->trap_lo[bar]) +
				     16 * i);
}

static void msix_host_off(struct pt_dev *pt)
{
	struct pci_dev *h = pt->host;
	if (h->cap_msix) {
		uint16_t ctl = pci_read16(h, h->cap_msix + MSIX_CTRL);
		pci_write16(h, h->cap_msix + MSIX_CTRL,
			    (ctl & ~MSIX_CTRL_ENABLE) | MSIX_CTRL_MASKALL);
	}
	for (unsigned i = 0; i < pt->msix_n; i++) {
		msix_entry(pt, i)[3] = 1;
		if (pt->msix_vec[i] >= 0)
			irqvec_free(pt->msix_vec[i]);
		pt->msix_vec[i] = -1;
	}
	pt->msix_n = 0;
}

static void msix_host_on(struct pt_dev *pt)
{
	struct pci_dev *h = pt->host;
	unsigned bar = pt->func.msix.bar, n = pt->func.msix.nvec, lost = 0;
	if (pt->msix_n || !h->cap_msix || !pt->trap_va[bar])
		return;
	uint16_t ctl = pci_read16(h, h->cap_msix + MSIX_CTRL);
	pci_write16(h, h->cap_msix + MSIX_CTRL, ctl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	for (unsigned i = 0; i < n; i++) {
		uint32_t apic;
		uint64_t addr;
		uint32_t data;
		volatile uint32_t *e = msix_entry(pt, i);
		int vec = irqvec_alloc(irqvec_pick_cpu(), pt_irq, &pt->vecs[i], &apic);
		pt->msix_vec[i] = vec;
		if (vec < 0 || !host_message(pt, i, vec, apic, &addr, &data)) {
			e[3] = 1; /* stays masked: that vector is lost */
			lost++;
			continue;
		}
		e[0] = (uint32_t)addr;
		e[1] = (uint32_t)(addr >> 32);
		e[2] = data;
		e[3] = 0;
	}
	pt->msix_n = n;
	pci_write16(h, h->cap_msix + MSIX_CTRL, (ctl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL);
	if (lost) {
		char dn[16];
		pci_dev_name(h, dn, sizeof(dn));
		printk("passthrough %s: %u of %u MSI-X vectors have no host vector\n", dn, lost, n);
	}
}

/* ---- BARs in the VM's nested tables ---- */

/* Inside one of the bus's memory windows (a BAR elsewhere decodes nothing). */
static bool in_window(uint64_t a, uint64_t size)
{
	return (a >= VPCI_MEM32_BASE && a + size <= VPCI_MEM32_BASE + VPCI_MEM32_SIZE) ||
	       (a >= VPCI_MEM64_BASE && a + size <= VPCI_MEM64_BASE + VPCI_MEM64_SIZE);
}

static bool bar_unmap(struct pt_dev *pt, unsigned i)
{
	if (!pt->mapped[i])
		return false;
	uint64_t off[2], len[2];
	unsigned n = vpt_direct_ranges(&pt->func, i, pt->host_msix_n, off, len);
	spin_lock(&pt_npt_lock);
	for (unsigned k = 0; k < n; k++)
		pt_unmap(&pt->vm->npt, pt->mapped_gpa[i] + off[k], len[k]);
	spin_unlock(&pt_npt_lock);
	pt->mapped[i] = false;
	return true;
}

static void bar_map(struct pt_dev *pt, unsigned i, uint64_t gpa)
{
	uint64_t off[2], len[2];
	unsigned n = vpt_direct_ranges(&pt->func, i, pt->host_msix_n, off, len);
	if (!n)
		return;
	int r = 0;
	spin_lock(&pt_npt_lock);
	for (unsigned k = 0; k < n; k++)
		r |= hvm->map_mmio(&pt->vm->npt, gpa + off[k], pt->host->bar[i].base + off[k], len[k]);
	spin_unlock(&pt_npt_lock);
	pt->mapped[i] = true;
	pt->mapped_gpa[i] = gpa;
	if (r < 0)
		printk("vm %s: %s: out of memory mapping BAR%u; its accesses trap instead\n",
		       pt->vm->name, pt->name, i);
}

/* What the guest's config space says now, read under the bus lock. */
struct pt_view {
	uint16_t cmd;
	struct vpci_bar bars[PCI_MAX_BARS];
	bool msi, msix;
};

static void view_of(struct pt_dev *pt, struct pt_view *v)
{
	vm_pci_lock(pt->vm);
	v->cmd = cfg_rd16(&pt->func, PCI_COMMAND);
	memcpy(v->bars, pt->func.bars, sizeof(v->bars));
	v->msi = vpci_msi_enabled(&pt->func);
	v->msix = vpci_msix_enable_bit(&pt->func);
	vm_pci_unlock(pt->vm);
}

/* Brings the host in line with the guest's view. pt->lock held. */
static void pt_apply(struct pt_dev *pt)
{
	struct pt_view v;
	struct pci_dev *h = pt->host;
	view_of(pt, &v);

	bool changed = false;
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		const struct vpci_bar *b = &v.bars[i];
		if (b->type != VPCI_BAR_MEM32 && b->type != VPCI_BAR_MEM64)
			continue;
		bool want = (v.cmd & PCI_COMMAND_MEMORY) && b->addr && in_window(b->addr, b->size);
		if (pt->mapped[i] && (!want || pt->mapped_gpa[i] != b->addr))
			changed |= bar_unmap(pt, i);
		if (want && !pt->mapped[i])
			bar_map(pt, i, b->addr);
	}
	if (changed) {
		/* every vCPU drops its cached translations of the old place before it runs on */
		__atomic_add_fetch(&pt->vm->nested_gen, 1, __ATOMIC_RELEASE);
		vm_kick(pt->vm);
	}

	/* host decoding follows the guest's; mastering is the guest's; INTx when it lets it */
	bool intx = pt->line && !(v.cmd & PCI_COMMAND_INTX_DISABLE) && !v.msi && !v.msix;
	uint16_t cmd = intx ? 0 : PCI_CMD_INTX_DISABLE;
	cmd |= v.cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	pci_write16(h, PCI_COMMAND, cmd);
	intx_apply(pt, intx);

	if (v.msi && !v.msix)
		msi_host_on(pt);
	else
		msi_host_off(pt);
	if (v.msix)
		msix_host_on(pt);
	else
		msix_host_off(pt);
}

static void pt_config_changed(void *opaque)
{
	struct pt_dev *pt = opaque;
	spin_lock(&pt->lock);
	if (pt->vm && pt->plugged)
		pt_apply(pt);
	spin_unlock(&pt->lock);
}

/* ---- trapped BAR accesses, forwarded to the host ---- */

static volatile uint8_t *trapped(struct pt_dev *pt, unsigned bar, uint64_t offset, unsigned size)
{
	if (!pt->trap_va[bar] || offset < pt->trap_lo[bar] || offset + size > pt->trap_hi[bar])
		return NULL;
	/* host table entries the guest is not offered, and the host PBA: never the guest's */
	if (vpt_msix_host_range(&pt->func, bar, pt->host_msix_n, offset, size))
		return NULL;
	return pt->trap_va[bar] + (offset - pt->trap_lo[bar]);
}

static uint64_t pt_bar_read(void *opaque, unsigned bar, uint64_t offset, unsigned size)
{
	struct pt_dev *pt = opaque;
	const struct pci_bar *hb = &pt->host->bar[bar];
	if (hb->io) {
		uint16_t port = (uint16_t)(hb->base + offset);
		return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
	}
	volatile uint8_t *p = trapped(pt, bar, offset, size);
	if (!p)
		return ~0ull;
	switch (size) {
	case 1:
		return *p;
	case 2:
		return *(volatile uint16_t *)p;
	case 4:
		return *(volatile uint32_t *)p;
	default:
		return *(volatile uint64_t *)p;
	}
}

static void pt_bar_write(void *opaque, unsigned bar, uint64_t offset, unsigned size, uint64_t v)
{
	struct pt_dev *pt = opaque;
	const struct pci_bar *hb = &pt->host->bar[bar];
	if (hb->io) {
		uint16_t port = (uint16_t)(hb->base + offset);
		if (size == 1)
			outb(port, (uint8_t)v);
		else if (size == 2)
			outw(port, (uint16_t)v);
		else
			outl(port, (uint32_t)v);
		return;
	}
	volatile uint8_t *p = trapped(pt, bar, offset, size);
	if (!p)
		return;
	switch (size) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)p = v;
		break;
	}
}

/* Called under the VM's bus lock; a host config read only. */
static bool pt_intx_status(void *opaque)
{
	struct pt_dev *pt = opaque;
	return pci_read16(pt->host, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

static const struct vpci_func_ops pt_ops = {
	.bar_read = pt_bar_read,
	.bar_write = pt_bar_write,
	.config_changed = pt_config_changed,
	.intx_status = pt_intx_status,
};

/* ---- which functions can be given ---- */

static struct pci_dev *host_find(const struct vm_pci_addr *a)
{
	for (size_t i = 0; i < pci_device_count && i < PCI_MAX_DEVICES; i++) {
		struct pci_dev *d = &pci_devices[i];
		if (d->segment == 0 && d->bus == a->bus && d->dev == a->dev && d->fn == a->fn)
			return d;
	}
	return NULL;
}

static struct pt_dev *pt_owner(const struct pci_dev *d)
{
	for (unsigned i = 0; i < PT_MAX; i++)
		if (pt_devs[i].vm && pt_devs[i].host == d)
			return &pt_devs[i];
	return NULL;
}

/*
 * Whether d can be given to a VM: NULL, or why not (in buf). *reset and
 * *bridge: the method and the bridge above. Owner checks are the caller's.
 */
static const char *assignable(const struct pci_dev *d, enum pci_reset_method *reset,
			      const struct pci_dev **bridge, char *buf, size_t len)
{
	char why[160];
	if ((d->header_type & 0x7f) != 0) {
		format(buf, len, "a bridge: only endpoints can be passed through");
		return buf;
	}
	if (d->driver) {
		format(buf, len, "the hypervisor drives it (%s)", d->driver->name);
		return buf;
	}
	if (!iommu_covers(d, why, sizeof(why))) {
		format(buf, len, "no IOMMU: %s", why);
		return buf;
	}
	if (!d->cap_msi && !d->cap_msix) {
		uint32_t gsi;
		uint8_t id;
		uint64_t addr;
		unsigned pin;
		if (pci_intx_route(d, &gsi, &id, &addr, &pin, why, sizeof(why)) < 0) {
			format(buf, len, "no MSI or MSI-X, and its INTx cannot be routed: %s", why);
			return buf;
		}
	}
	struct pci_reset_facts f;
	pci_reset_probe(d, pci_devices, pci_device_count, &f, bridge);
	*reset = pci_reset_select(&f);
	if (*reset == PCI_RESET_NONE) {
		pci_reset_why_none(&f, buf, len);
		return buf;
	}
	return NULL;
}

void vm_passthru_assignable_list(void (*line)(void *ctx, const char *s), void *ctx)
{
	char out[240], why[180], dn[16];
	unsigned yes = 0;
	for (size_t i = 0; i < pci_device_count && i < PCI_MAX_DEVICES; i++) {
		const struct pci_dev *d = &pci_devices[i];
		enum pci_reset_method m = PCI_RESET_NONE;
		const struct pci_dev *br;
		pci_dev_name(d, dn, sizeof(dn));
		spin_lock(&pt_table_lock);
		struct pt_dev *owner = pt_owner(d);
		char vmname[VM_NAME_LEN] = "";
		if (owner)
			strlcpy_hv(vmname, owner->vm->name, sizeof(vmname));
		spin_unlock(&pt_table_lock);
		const char *no = assignable(d, &m, &br, why, sizeof(why));
		if (owner)
			format(out, sizeof(out), "%s %04x:%04x %-24s given to vm %s (reset: %s)", dn,
			       d->vendor, d->device,
			       pci_class_name(d->class_base, d->class_sub, d->prog_if), vmname,
			       pci_reset_method_name(m));
		else if (no)
			format(out, sizeof(out), "%s %04x:%04x %-24s not assignable: %s", dn,
			       d->vendor, d->device,
			       pci_class_name(d->class_base, d->class_sub, d->prog_if), no);
		else
			format(out, sizeof(out), "%s %04x:%04x %-24s assignable (reset: %s)", dn,
			       d->vendor, d->device,
			       pci_class_name(d->class_base, d->class_sub, d->prog_if),
			       pci_reset_method_name(m));
		yes += !no && !owner;
		line(ctx, out);
	}
	format(out, sizeof(out), "%u of %zu functions assignable now", yes, pci_device_count);
	line(ctx, out);
}

/* ---- assignment, reset, hand-back ---- */

/* Off the bus for DMA and interrupts: what a reset, a reboot and the quarantine start with. */
static void quiesce(struct pt_dev *pt)
{
	struct pci_dev *h = pt->host;
	pci_write16(h, PCI_COMMAND, pci_read16(h, PCI_COMMAND) & ~PCI_CMD_MASTER);
	msi_host_off(pt);
	msix_host_off(pt);
	pci_write16(h, PCI_COMMAND, PCI_CMD_INTX_DISABLE);
	intx_apply(pt, false);
	__atomic_store_n(&pt->intx_eoi, 0, __ATOMIC_RELEASE);
	iommu_msi_release(h);
	/* what the handler raised before the vectors went is dropped, not injected later */
	__atomic_store_n(&pt->pending_msi, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&pt->pending_msix, 0, __ATOMIC_RELEASE);
}

static void pt_reset_host(struct pt_dev *pt)
{
	char err[160];
	if (pci_reset_do(pt->host, pt->bridge, pt->reset, udelay, err, sizeof(err)) < 0)
		printk("passthrough: %s\n", err);
}

/* Maps the trapped window of each memory BAR (MSI-X pages, sub-page BARs) for forwarding. */
static int map_trap_windows(struct pt_dev *pt, char *err, size_t errlen)
{
	for (unsigned i = 0; i < PCI_MAX_BARS; i++) {
		uint64_t lo, hi;
		vpt_trap_window(&pt->func, i, pt->host_msix_n, &lo, &hi);
		pt->trap_lo[i] = lo;
		pt->trap_hi[i] = hi;
		pt->trap_va[i] = NULL;
		if (lo == hi)
			continue;
		pt->trap_va[i] = mm_map_mmio(pt->host->bar[i].base + lo, hi - lo);
		if (!pt->trap_va[i]) {
			format(err, errlen, "%s: cannot map BAR%u's registers", pt->name + 12, i);
			return -1;
		}
	}
	return 0;
}

static void pt_release(struct pt_dev *pt)
{
	spin_lock(&pt->lock);
	quiesce(pt);
	for (unsigned i = 0; i < PCI_MAX_BARS; i++)
		pt->mapped[i] = false; /* the VM's tables go with it */
	pt->plugged = false;
	iommu_block(pt->host); /* quarantine: every DMA faults from here on */
	pt_reset_host(pt);
	pci_write16(pt->host, PCI_COMMAND, PCI_CMD_INTX_DISABLE);
	spin_lock(&pt_intx_lock);
	if (pt->line)
		line_put(pt->line);
	pt->line = NULL;
	spin_unlock(&pt_intx_lock);
	spin_unlock(&pt->lock);
	spin_lock(&pt_table_lock);
	pt->vm = NULL;
	spin_unlock(&pt_table_lock);
}

int vm_passthru_init(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->config;
	if (!cfg->pci_count)
		return 0;
	char why[180];
	if (!iommu_covers(NULL, why, sizeof(why))) {
		format(err, errlen, "pci: no device can be passed through: %s", why);
		return -1;
	}
	struct vm_passthru *p = kzalloc(sizeof(*p));
	if (!p) {
		format(err, errlen, "out of memory");
		return -1;
	}
	vm->passthru = p;
	spin_lock(&pt_table_lock); /* the shell and the API may build VMs at once */
	if (!pt_work_registered) {
		pt_work = (struct deferred){.name = "passthrough", .fn = pt_work_fn};
		deferred_register(&pt_work);
		vplatform_set_pt_eoi(pt_intx_eoi);
		pt_work_registered = true;
	}
	spin_unlock(&pt_table_lock);

	/* check and claim every function first: a refusal leaves no device touched */
	for (unsigned k = 0; k < cfg->pci_count; k++) {
		struct pci_dev *d = host_find(&cfg->pci[k]);
		char dn[16];
		format(dn, sizeof(dn), "0000:%02x:%02x.%x", cfg->pci[k].bus, cfg->pci[k].dev,
		       cfg->pci[k].fn);
		if (!d) {
			format(err, errlen, "pci: %s: no such device on the host", dn);
			return -1;
		}
		enum pci_reset_method m = PCI_RESET_NONE;
		const struct pci_dev *br = NULL;
		if (assignable(d, &m, &br, why, sizeof(why))) {
			format(err, errlen, "pci: %s cannot be passed through: %s", dn, why);
			return -1;
		}
		spin_lock(&pt_table_lock);
		struct pt_dev *owner = pt_owner(d), *pt = NULL;
		for (unsigned i = 0; !owner && !pt && i < PT_MAX; i++)
			if (!pt_devs[i].vm)
				pt = &pt_devs[i];
		if (owner)
			format(err, errlen, "pci: %s is already given to vm %s", dn, owner->vm->name);
		else if (!pt)
			format(err, errlen, "pci: %s: at most %u devices are passed through at once",
			       dn, PT_MAX);
		else {
			memset(pt, 0, sizeof(*pt));
			pt->vm = vm;
			pt->host = d;
			pt->reset = m;
			pt->bridge = br;
			pt->msi_vec = -1;
			for (unsigned v = 0; v < VPCI_MSIX_MAX; v++)
				pt->msix_vec[v] = -1;
			for (unsigned v = 0; v <= PT_MSI_BIT; v++)
				pt->vecs[v] = (struct pt_vec){pt, v};
			format(pt->name, sizeof(pt->name), "passthrough %s", dn);
			p->devs[p->n++] = pt;
		}
		spin_unlock(&pt_table_lock);
		if (!pt)
			return -1;
	}

	p->dom = iommu_domain_create(&vm->map, vm->name, why, sizeof(why));
	if (!p->dom) {
		format(err, errlen, "pci: no DMA domain for the VM: %s", why);
		return -1;
	}
	for (unsigned k = 0; k < p->n; k++) {
		struct pt_dev *pt = p->devs[k];
		spin_lock(&pt->lock);
		quiesce(pt);
		pt_reset_host(pt);
		/* INTx: its host line, when the firmware's tables say where it goes */
		uint32_t gsi;
		uint8_t ioid;
		uint64_t ioaddr;
		unsigned pin;
		int r = 0;
		if (pci_intx_route(pt->host, &gsi, &ioid, &ioaddr, &pin, why, sizeof(why)) == 0) {
			spin_lock(&pt_intx_lock);
			pt->line = line_get(gsi, ioid, ioaddr, pin, why, sizeof(why));
			spin_unlock(&pt_intx_lock);
		}
		if (!pt->line && !pt->host->cap_msi && !pt->host->cap_msix) {
			format(err, errlen, "pci: %s: no MSI or MSI-X, and its INTx cannot be routed: "
			       "%s", pt->name + 12, why);
			r = -1;
		} else if (!pt->line && pci_read8(pt->host, PCI_INTERRUPT_PIN)) {
			printk("vm %s: %s: no INTx for the guest (%s); MSI/MSI-X only\n", vm->name,
			       pt->name, why);
		}
		if (r == 0)
			r = vpt_func_build(&pt->func, pt->name, pt->host, pt->line != NULL, &pt_ops, pt,
					   err, errlen);
		if (r == 0 && pt->host->cap_msix)
			pt->host_msix_n = (pci_read16(pt->host, pt->host->cap_msix + MSIX_CTRL) & 0x7ffu) + 1;
		if (r == 0)
			r = map_trap_windows(pt, err, errlen);
		if (r == 0 && iommu_attach(p->dom, pt->host, why, sizeof(why)) < 0) {
			format(err, errlen, "pci: %s: %s", pt->name + 12, why);
			r = -1;
		}
		spin_unlock(&pt->lock);
		if (r < 0)
			return -1;
		if (vm_pci_add(vm, &pt->func, 0) < 0) {
			format(err, errlen, "pci: %s: no room on the VM's PCI bus for its BARs",
			       pt->name + 12);
			return -1;
		}
		spin_lock(&pt_intx_lock);
		pt->guest_gsi = vpci_intx_gsi(pt->func.slot, 1);
		spin_unlock(&pt_intx_lock);
		spin_lock(&pt->lock);
		pt->plugged = true;
		pt_apply(pt); /* the firmware's layout: BARs mapped, mastering off */
		spin_unlock(&pt->lock);
		printk("vm %s: %s (%04x:%04x, reset by %s)\n", vm->name, pt->name, pt->host->vendor,
		       pt->host->device, pci_reset_method_name(pt->reset));
		if (pt->line)
			printk("vm %s: %s INTx: host GSI %u (IOAPIC %u pin %u%s), guest GSI %u\n",
			       vm->name, pt->name, pt->line->gsi, pt->line->ioapic_id, pt->line->pin,
			       pt->line->remapped ? ", remapped" : "", pt->guest_gsi);
	}
	return 0;
}

void vm_passthru_reset(struct vm *vm)
{
	struct vm_passthru *p = pt_of(vm);
	for (unsigned k = 0; p && k < p->n; k++) {
		struct pt_dev *pt = p->devs[k];
		spin_lock(&pt->lock);
		quiesce(pt);
		pt_reset_host(pt);
		spin_unlock(&pt->lock);
	}
	/* vm_pci_reset (vm_devices_reset) then puts the functions back and calls pt_apply */
}

void vm_passthru_free(struct vm *vm)
{
	struct vm_passthru *p = pt_of(vm);
	if (!p)
		return;
	for (unsigned k = 0; k < p->n; k++)
		pt_release(p->devs[k]);
	if (p->dom)
		iommu_domain_destroy(p->dom);
	kfree(p);
	vm->passthru = NULL;
}

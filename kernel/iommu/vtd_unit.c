/*
 * One VT-d unit: bring-up in the order VT-d 4.1 and the anchors use
 * (everything off, faults cleared, root table, interrupt-remapping table,
 * invalidation queue, fault interrupt, global invalidations, then
 * translation and interrupt remapping on), context entries, and
 * invalidation through the queue with a wait descriptor, or through the
 * CCMD/IOTLB registers where the unit has no queue. Every wait is bounded:
 * a unit that does not answer is reported and left off, never waited on
 * forever.
 */
#include "kernel/iommu/vtd.h"

#include "drivers/lapic.h"
#include "ept/vtd_slpt.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

#define REG_TIMEOUT_US 100000 /* 100 ms: units answer in microseconds */
#define SPIN_LIMIT 50000000u  /* a bound even if the clock does not run */

static uint32_t r32(const struct vtd_unit *u, unsigned off)
{
	return *(volatile uint32_t *)(u->regs + off);
}

static uint64_t r64(const struct vtd_unit *u, unsigned off)
{
	return *(volatile uint64_t *)(u->regs + off);
}

static void w32(struct vtd_unit *u, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(u->regs + off) = v;
}

static void w64(struct vtd_unit *u, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(u->regs + off) = v;
}

void vtd_flush(const struct vtd_unit *u, const void *p, size_t len)
{
	if (u->coherent || !len)
		return;
	uintptr_t a = (uintptr_t)p & ~63ul, end = (uintptr_t)p + len;
	__asm__ volatile("mfence" ::: "memory");
	for (; a < end; a += 64)
		__asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
	__asm__ volatile("mfence" ::: "memory");
}

/* Spins until (reg & mask) == want; false after the timeout. */
static bool wait32(const struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want)
{
	uint64_t deadline = uptime_us() + REG_TIMEOUT_US;
	for (unsigned i = 0; i < SPIN_LIMIT; i++) {
		if ((r32(u, off) & mask) == want)
			return true;
		if (uptime_us() > deadline)
			break;
		__builtin_ia32_pause();
	}
	return (r32(u, off) & mask) == want;
}

static bool wait64(const struct vtd_unit *u, unsigned off, uint64_t mask, uint64_t want)
{
	uint64_t deadline = uptime_us() + REG_TIMEOUT_US;
	for (unsigned i = 0; i < SPIN_LIMIT; i++) {
		if ((r64(u, off) & mask) == want)
			return true;
		if (uptime_us() > deadline)
			break;
		__builtin_ia32_pause();
	}
	return (r64(u, off) & mask) == want;
}

/* GCMD is write-only: each write carries the persistent states from GSTS. */
static bool gcmd_set(struct vtd_unit *u, uint32_t bit, bool on)
{
	uint32_t v = r32(u, VTD_GSTS) & VTD_GSTS_KEEP;
	v = on ? v | bit : v & ~bit;
	w32(u, VTD_GCMD, v);
	return wait32(u, VTD_GSTS, bit, on ? bit : 0);
}

/* One-shot commands (SRTP, SIRTP): the status bit says it took. */
static bool gcmd_oneshot(struct vtd_unit *u, uint32_t bit)
{
	w32(u, VTD_GCMD, (r32(u, VTD_GSTS) & VTD_GSTS_KEEP) | bit);
	return wait32(u, VTD_GSTS, bit, bit);
}

static void write_buffer_flush(struct vtd_unit *u)
{
	if (!(u->cap & VTD_CAP_RWBF))
		return;
	w32(u, VTD_GCMD, (r32(u, VTD_GSTS) & VTD_GSTS_KEEP) | VTD_GCMD_WBF);
	wait32(u, VTD_GSTS, VTD_GCMD_WBF, 0);
}

/* ---- invalidation ---- */

static int qi_submit(struct vtd_unit *u, struct vtd_entry d)
{
	uint32_t seq = ++u->wait_seq;
	if (!seq)
		seq = ++u->wait_seq;
	struct vtd_entry w = vtd_qi_wait(seq, u->wait_pa);
	struct vtd_entry both[2] = {d, w};
	for (unsigned i = 0; i < 2; i++) {
		uint64_t *slot = &u->iq[u->iq_tail * 2];
		slot[0] = both[i].lo;
		slot[1] = both[i].hi;
		vtd_flush(u, slot, 16);
		u->iq_tail = (u->iq_tail + 1) % VTD_IQ_ENTRIES;
	}
	__asm__ volatile("mfence" ::: "memory");
	w64(u, VTD_IQT, (uint64_t)u->iq_tail << 4);

	uint64_t deadline = uptime_us() + REG_TIMEOUT_US;
	for (unsigned i = 0; i < SPIN_LIMIT; i++) {
		if (__atomic_load_n(u->wait, __ATOMIC_ACQUIRE) == seq)
			return 0;
		uint32_t fsts = r32(u, VTD_FSTS);
		if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE)) {
			/* the queue stopped at a descriptor the unit refused: skip everything queued */
			printk("vt-d: unit %d: invalidation queue error (FSTS %#x, head %#llx); "
			       "queue reset\n",
			       u->index, fsts, (unsigned long long)r64(u, VTD_IQH));
			w32(u, VTD_FSTS, fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE));
			w64(u, VTD_IQT, r64(u, VTD_IQH));
			u->iq_tail = (unsigned)(r64(u, VTD_IQH) >> 4) % VTD_IQ_ENTRIES;
			return -1;
		}
		if (uptime_us() > deadline)
			break;
		__builtin_ia32_pause();
	}
	if (__atomic_load_n(u->wait, __ATOMIC_ACQUIRE) == seq)
		return 0;
	if (u->qi_timeouts++ < 4)
		printk("vt-d: unit %d: invalidation did not complete in %u ms (head %#llx tail "
		       "%#x)\n",
		       u->index, REG_TIMEOUT_US / 1000, (unsigned long long)r64(u, VTD_IQH),
		       u->iq_tail << 4);
	return -1;
}

static int ccmd(struct vtd_unit *u, uint64_t v)
{
	write_buffer_flush(u);
	w64(u, VTD_CCMD, VTD_CCMD_ICC | v);
	if (!wait64(u, VTD_CCMD, VTD_CCMD_ICC, 0)) {
		printk("vt-d: unit %d: context-cache invalidation did not complete\n", u->index);
		return -1;
	}
	return 0;
}

static int iotlb_reg(struct vtd_unit *u, uint64_t v)
{
	unsigned off = VTD_ECAP_IRO(u->ecap) + 8;
	write_buffer_flush(u);
	w64(u, off, VTD_IOTLB_IVT | VTD_IOTLB_DR | VTD_IOTLB_DW | v);
	if (!wait64(u, off, VTD_IOTLB_IVT, 0)) {
		printk("vt-d: unit %d: IOTLB invalidation did not complete\n", u->index);
		return -1;
	}
	return 0;
}

int vtd_inv_context_device(struct vtd_unit *u, uint16_t did, uint16_t sid)
{
	if (u->qi)
		return qi_submit(u, vtd_qi_context_device(did, sid));
	return ccmd(u, VTD_CCMD_DEVICE | VTD_CCMD_DID(did) | VTD_CCMD_SID(sid));
}

int vtd_inv_context_global(struct vtd_unit *u)
{
	if (u->qi)
		return qi_submit(u, vtd_qi_context_global());
	return ccmd(u, VTD_CCMD_GLOBAL);
}

int vtd_inv_iotlb_domain(struct vtd_unit *u, uint16_t did)
{
	if (u->qi)
		return qi_submit(u, vtd_qi_iotlb_domain(did));
	return iotlb_reg(u, VTD_IOTLB_DOMAIN | VTD_IOTLB_DID(did));
}

int vtd_inv_iotlb_global(struct vtd_unit *u)
{
	if (u->qi)
		return qi_submit(u, vtd_qi_iotlb_global());
	return iotlb_reg(u, VTD_IOTLB_GLOBAL);
}

struct psi_ctx {
	struct vtd_unit *u;
	uint16_t did;
	int err;
};

static void psi_one(void *arg, uint64_t block, unsigned am)
{
	struct psi_ctx *c = arg;
	struct vtd_unit *u = c->u;
	if (u->qi) {
		c->err |= qi_submit(u, vtd_qi_iotlb_page(c->did, block, am));
		return;
	}
	/* IVA (at IRO): address, IH 0, AM; then the IOTLB register with page granularity */
	w64(u, VTD_ECAP_IRO(u->ecap), block | am);
	c->err |= iotlb_reg(u, VTD_IOTLB_PAGE | VTD_IOTLB_DID(c->did));
}

int vtd_inv_iotlb_range(struct vtd_unit *u, uint16_t did, uint64_t addr, uint64_t size)
{
	struct psi_ctx c = {u, did, 0};
	/* more than 16 blocks: one domain-wide invalidation costs less */
	if (!(u->cap & VTD_CAP_PSI) ||
	    vtd_psi_blocks(addr, size, VTD_CAP_MAMV(u->cap), 16, psi_one, &c) < 0)
		return vtd_inv_iotlb_domain(u, did);
	return c.err ? -1 : 0;
}

int vtd_inv_iec(struct vtd_unit *u, int index)
{
	if (!u->qi)
		return -1; /* interrupt remapping is only ever on with the queue */
	return qi_submit(u, index < 0 ? vtd_qi_iec_global() : vtd_qi_iec_index((uint16_t)index, 0));
}

/* ---- context entries ---- */

int vtd_context_set(struct vtd_unit *u, uint8_t bus, uint8_t devfn, uint64_t slpt, uint16_t did)
{
	if (!u->ctx_pa[bus]) {
		uint64_t t = frame_alloc_zeroed(1);
		if (!t)
			return -1;
		vtd_flush(u, phys_to_virt(t), 4096);
		u->ctx_pa[bus] = t;
		struct vtd_entry re = vtd_root_entry(t);
		u->root[bus * 2 + 1] = re.hi;
		u->root[bus * 2] = re.lo;
		vtd_flush(u, &u->root[bus * 2], 16);
	}
	uint64_t *ce = (uint64_t *)phys_to_virt(u->ctx_pa[bus]) + devfn * 2;
	struct vtd_entry e = vtd_context_entry(slpt, u->levels, did);
	/* not present while it changes: the unit never sees half an entry */
	ce[0] = 0;
	__asm__ volatile("" ::: "memory");
	ce[1] = e.hi;
	__asm__ volatile("" ::: "memory");
	ce[0] = e.lo;
	vtd_flush(u, ce, 16);
	return 0;
}

int vtd_context_clear(struct vtd_unit *u, uint8_t bus, uint8_t devfn)
{
	if (!u->ctx_pa[bus])
		return -1;
	uint64_t *ce = (uint64_t *)phys_to_virt(u->ctx_pa[bus]) + devfn * 2;
	if (!(ce[0] & 1))
		return -1;
	int did = (int)((ce[1] >> 8) & 0xffff);
	ce[0] = 0;
	__asm__ volatile("" ::: "memory");
	ce[1] = 0;
	vtd_flush(u, ce, 16);
	return did;
}

/* ---- bring-up ---- */

static int fail(struct vtd_unit *u, const char *why)
{
	strlcpy_hv(u->why, why, sizeof(u->why));
	return -1;
}

int vtd_unit_setup(struct vtd_unit *u)
{
	char msg[96];
	u->lock = (spinlock_t)SPINLOCK_INIT;
	u->regs = mm_map_mmio(u->base, 0x1000);
	if (!u->regs)
		return fail(u, "cannot map its registers");
	u->ver = r32(u, VTD_VER);
	u->cap = r64(u, VTD_CAP);
	u->ecap = r64(u, VTD_ECAP);
	if (u->cap == ~0ull || u->ecap == ~0ull)
		return fail(u, "its registers read all ones (no unit at that address)");
	unsigned need = VTD_CAP_FRO(u->cap) + 16 * VTD_CAP_NFR(u->cap);
	if (VTD_ECAP_IRO(u->ecap) + 16 > need)
		need = VTD_ECAP_IRO(u->ecap) + 16;
	if (need > 0x1000) {
		u->regs = mm_map_mmio(u->base, (need + 0xfff) & ~0xfffu);
		if (!u->regs)
			return fail(u, "cannot map its registers");
	}
	u->levels = vtd_levels(u->cap);
	if (!u->levels) {
		format(msg, sizeof(msg), "supports neither 3- nor 4-level tables (SAGAW %#x)",
		       VTD_CAP_SAGAW(u->cap));
		return fail(u, msg);
	}
	unsigned sp = VTD_CAP_SLLPS(u->cap);
	u->largest = (sp & VTD_SLLPS_2M) ? ((sp & VTD_SLLPS_1G) ? PAGE_1G : PAGE_2M) : PAGE_4K;
	u->coherent = u->ecap & VTD_ECAP_C;

	/* everything off: the firmware (or a previous kernel) may have left it on */
	uint32_t gsts = r32(u, VTD_GSTS);
	if ((gsts & VTD_GCMD_IRE) && !gcmd_set(u, VTD_GCMD_IRE, false))
		return fail(u, "interrupt remapping would not turn off");
	if ((gsts & VTD_GCMD_TE) && !gcmd_set(u, VTD_GCMD_TE, false))
		return fail(u, "DMA remapping would not turn off");
	if (gsts & VTD_GCMD_QIE) {
		wait64(u, VTD_IQH, ~0ull, r64(u, VTD_IQT));
		if (!gcmd_set(u, VTD_GCMD_QIE, false))
			return fail(u, "the invalidation queue would not turn off");
	}
	/* faults from before us: recorded, not ours to report */
	for (unsigned i = 0; i < VTD_CAP_NFR(u->cap); i++)
		w32(u, VTD_CAP_FRO(u->cap) + 16 * i + 12, 0x80000000u);
	w32(u, VTD_FSTS, VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE);

	u->root_pa = frame_alloc_zeroed(1);
	if (!u->root_pa)
		return fail(u, "no memory for its root table");
	u->root = phys_to_virt(u->root_pa);
	vtd_flush(u, u->root, 4096);
	w64(u, VTD_RTADDR, u->root_pa); /* bits 11:10 TTM 00: legacy mode */
	if (!gcmd_oneshot(u, VTD_GCMD_SRTP))
		return fail(u, "did not take its root table (SRTP)");

	if ((u->ecap & VTD_ECAP_QI) && !u->no_qi) {
		u->iq_pa = frame_alloc_zeroed(1);
		u->wait_pa = frame_alloc_zeroed(1);
		if (!u->iq_pa || !u->wait_pa)
			return fail(u, "no memory for its invalidation queue");
		u->iq = phys_to_virt(u->iq_pa);
		u->wait = phys_to_virt(u->wait_pa);
		u->iq_tail = 0;
		w64(u, VTD_IQT, 0);
		w64(u, VTD_IQA, u->iq_pa); /* QS 0: 256 entries; DW 0: 128-bit descriptors */
		if (!gcmd_set(u, VTD_GCMD_QIE, true))
			return fail(u, "did not start its invalidation queue");
		u->qi = true;
	}

	if ((u->ecap & VTD_ECAP_IR) && u->qi && !u->no_ir) {
		u->irt_pa = frame_alloc_zeroed(1);
		if (!u->irt_pa)
			return fail(u, "no memory for its interrupt-remapping table");
		u->irt = phys_to_virt(u->irt_pa);
		vtd_flush(u, u->irt, 4096);
		/* x2APIC IRTEs need EIM, and are only right when the host's APICs run in x2APIC mode */
		u->x2apic = (u->ecap & VTD_ECAP_EIM) && lapic_x2apic_mode() && !u->no_x2apic;
		if (lapic_x2apic_mode() && !u->x2apic)
			printk("vt-d: unit %d: the host runs x2APIC but entries use the xAPIC format "
			       "(%s): interrupts reach only APIC IDs up to 255\n",
			       u->index, u->no_x2apic ? "the firmware opts out" : "no EIM");
		/* S = 7: 2^(7+1) = 256 entries */
		w64(u, VTD_IRTA, u->irt_pa | (u->x2apic ? 1u << 11 : 0) | 7);
		if (!gcmd_oneshot(u, VTD_GCMD_SIRTP)) {
			u->irt = NULL;
			printk("vt-d: unit %d: did not take its interrupt-remapping table; interrupts "
			       "not remapped\n",
			       u->index);
		}
	}

	if (!vtd_fault_setup(u))
		printk("vt-d: unit %d: no interrupt vector for faults; faults are polled\n",
		       u->index);
	return 0;
}

int vtd_unit_enable(struct vtd_unit *u)
{
	uint64_t flags = spin_lock_irqsave(&u->lock);
	int r = vtd_inv_context_global(u);
	r |= vtd_inv_iotlb_global(u);
	if (u->irt)
		r |= vtd_inv_iec(u, -1);
	if (r < 0) {
		spin_unlock_irqrestore(&u->lock, flags);
		return fail(u, "global invalidation did not complete");
	}
	if (!gcmd_set(u, VTD_GCMD_TE, true)) {
		spin_unlock_irqrestore(&u->lock, flags);
		return fail(u, "DMA remapping would not turn on");
	}
	u->te = true;
	if (u->irt) {
		/*
		 * Compatibility-format interrupts stay blocked (CFI off): a device could
		 * otherwise write any vector to any CPU around the table. The host
		 * itself uses only MSIs, which go through IRTEs once remapping is on.
		 */
		if ((r32(u, VTD_GSTS) & VTD_GCMD_CFI) && !gcmd_set(u, VTD_GCMD_CFI, false))
			printk("vt-d: unit %d: compatibility-format interrupts stay allowed (CFI)\n",
			       u->index);
		if (gcmd_set(u, VTD_GCMD_IRE, true))
			u->ir = true;
		else
			printk("vt-d: unit %d: interrupt remapping would not turn on\n", u->index);
	}
	spin_unlock_irqrestore(&u->lock, flags);
	return 0;
}

/*
 * DMA and interrupt-remapping faults: the unit's fault event (an MSI to a
 * vector of the host pool) only raises deferred work; the work reads every
 * fault record, clears it, and logs the device, address, reason in words
 * and the VM that owns the device. A misbehaving device can raise faults
 * without end, so logging is rate-limited per unit: within a burst (faults
 * less than a second apart) each (device, reason, page) is logged once, at
 * most four of them; the rest are counted and summed up when the burst
 * ends. (A device hammering one address gives one line; one probing
 * several gives the first four.)
 * Nothing here stops the host or the VM; the DMA itself was blocked by
 * the unit.
 */
#include "kernel/iommu/vtd.h"

#include "kernel/cpu/irqvec.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/pci/pci.h"
#include "kernel/time/tsc.h"

#define BURST_LOGGED 4		 /* distinct (device, reason, page) lines per burst */
#define BURST_QUIET_US 1000000ull /* a burst ends after a second without faults */

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

static void log_fault(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
	uint16_t sid = VTD_FRCD_SID(hi);
	unsigned fr = VTD_FRCD_FR(hi);
	const char *owner = vtd_sid_owner(u->segment, sid);
	bool intr = fr >= 0x20;
	char who[48];
	if (owner && strcmp(owner, "hv") == 0)
		format(who, sizeof(who), "the hypervisor's");
	else if (owner)
		format(who, sizeof(who), "VM %s", owner);
	else
		format(who, sizeof(who), "unassigned, blocked");
	if (intr)
		printk("vt-d: interrupt fault: device %04x:%02x:%02x.%u (%s), interrupt index %llu: "
		       "%s\n",
		       u->segment, sid >> 8, (sid >> 3) & 31, sid & 7, who,
		       (unsigned long long)(lo >> 48), vtd_fault_reason(fr));
	else
		printk("vt-d: DMA fault: device %04x:%02x:%02x.%u (%s), %s at %#llx: %s\n",
		       u->segment, sid >> 8, (sid >> 3) & 31, sid & 7, who,
		       (hi & VTD_FRCD_T) ? "read" : "write", (unsigned long long)(lo & ~0xfffull),
		       vtd_fault_reason(fr));
}

void vtd_fault_poll(struct vtd_unit *u)
{
	if (!u->regs)
		return;
	uint64_t flags = spin_lock_irqsave(&u->lock);
	uint64_t now = uptime_us();
	if (u->burst_logged && now - u->last_log_us > BURST_QUIET_US) {
		if (u->faults_suppressed)
			printk("vt-d: unit %d: %llu more faults in that burst, not logged\n", u->index,
			       (unsigned long long)u->faults_suppressed);
		u->burst_logged = 0;
		u->faults_suppressed = 0;
		deferred_set_poll(&u->fault_work, u->fault_vector < 0 ? BURST_QUIET_US : 0);
	}
	unsigned fro = VTD_CAP_FRO(u->cap), nfr = VTD_CAP_NFR(u->cap);
	uint32_t fsts = r32(u, VTD_FSTS);
	unsigned start = VTD_FSTS_FRI(fsts) % nfr;
	/* every record, from the one the unit points at, round the ring */
	for (unsigned k = 0; k < nfr; k++) {
		unsigned i = (start + k) % nfr;
		uint64_t hi = r64(u, fro + 16 * i + 8);
		if (!(hi & VTD_FRCD_F))
			continue;
		uint64_t lo = r64(u, fro + 16 * i);
		w32(u, fro + 16 * i + 12, 0x80000000u); /* F is write-1-to-clear */
		u->faults++;
		u->last_log_us = now;
		uint64_t key = (lo & ~0xfffull) ^ ((uint64_t)VTD_FRCD_SID(hi) << 8 | VTD_FRCD_FR(hi));
		bool seen = false;
		for (unsigned k2 = 0; k2 < u->burst_logged; k2++)
			seen |= u->burst_keys[k2] == key;
		if (!seen && u->burst_logged < BURST_LOGGED) {
			log_fault(u, lo, hi);
			u->burst_keys[u->burst_logged++] = key;
		} else {
			u->faults_suppressed++;
		}
	}
	/* come back after the quiet time to sum the burst up, even if no fault interrupts */
	if (u->faults_suppressed)
		deferred_set_poll(&u->fault_work, BURST_QUIET_US);
	if (fsts & VTD_FSTS_PFO) {
		if (u->burst_logged < BURST_LOGGED)
			printk("vt-d: unit %d: fault records overflowed; some faults were lost\n",
			       u->index);
		w32(u, VTD_FSTS, VTD_FSTS_PFO);
	}
	spin_unlock_irqrestore(&u->lock, flags);
}

static void fault_work(void *arg)
{
	vtd_fault_poll(arg);
}

static void fault_irq(void *arg)
{
	struct vtd_unit *u = arg;
	deferred_raise(&u->fault_work);
}

bool vtd_fault_setup(struct vtd_unit *u)
{
	u->fault_work.name = "vt-d faults";
	u->fault_work.fn = fault_work;
	u->fault_work.arg = u;
	u->fault_work.poll_us = 0;
	deferred_register(&u->fault_work);

	uint32_t apic_id;
	int v = irqvec_alloc(0, fault_irq, u, &apic_id);
	uint64_t addr;
	uint32_t data;
	if (v < 0 || !pci_msi_message(apic_id, (uint8_t)v, &addr, &data)) {
		if (v >= 0)
			irqvec_free(v);
		u->fault_vector = -1;
		deferred_set_poll(&u->fault_work, 1000000); /* once a second instead */
		return false;
	}
	u->fault_vector = v;
	/* fault events are never remapped: a plain MSI to the boot CPU */
	w32(u, VTD_FEDATA, data);
	w32(u, VTD_FEADDR, (uint32_t)addr);
	w32(u, VTD_FEUADDR, (uint32_t)(addr >> 32));
	w32(u, VTD_FECTL, 0); /* unmask */
	return true;
}

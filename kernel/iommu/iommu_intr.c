/*
 * Interrupt remapping (VT-d 4.1 §5): when a unit has it, every MSI/MSI-X of
 * a device behind it (the host's own, through pci_msi.c, and an assigned
 * device's, through the device-assignment code) is an IRTE that accepts the
 * interrupt only from that device's source-id, and compatibility-format
 * interrupts are blocked (CFI stays off: otherwise a device could write any
 * vector to any CPU around the table). The host programs no IOAPIC pin
 * (its timer is the LAPIC's, its devices use MSIs), so blocking costs it
 * nothing; INTx of an assigned device goes through iommu_ioapic_remap's
 * remappable, level-triggered RTE, checked against the IOAPIC's source-id
 * from its DMAR scope.
 *
 * Each unit has one table of VTD_IRT_ENTRIES; who holds which entry is kept
 * here: a device and its vector slot, or an IOAPIC pin.
 */
#include "kernel/iommu/iommu.h"

#include "kernel/iommu/dmar.h"
#include "kernel/iommu/vtd.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/pci/pci.h"

struct irte_use {
	const struct pci_dev *d; /* NULL: an IOAPIC pin */
	unsigned slot;
	bool used;
};

static struct irte_use irtes[DMAR_MAX_UNITS][VTD_IRT_ENTRIES];

bool iommu_intremap(const struct pci_dev *d)
{
	struct vtd_unit *u = vtd_unit_of(d);
	return u && u->ir;
}

unsigned vtd_irtes_of(const struct vtd_unit *u, const struct pci_dev *d)
{
	unsigned n = 0;
	for (unsigned k = 0; u->ir && k < VTD_IRT_ENTRIES; k++)
		n += irtes[u->index][k].used && irtes[u->index][k].d == d;
	return n;
}


/*
 * Writes `e` into the IRTE that (d, slot) owns, or a free one it then
 * owns (d NULL: an IOAPIC pin), high half first so the entry is never
 * seen present and half-written, and invalidates it. The index, or -1
 * when the table is full.
 */
static int irte_set(struct vtd_unit *u, struct pci_dev *d, unsigned slot, struct vtd_entry e)
{
	struct irte_use *use = irtes[u->index];
	uint64_t flags = spin_lock_irqsave(&u->lock);
	int idx = -1, free_idx = -1;
	for (int i = 0; i < VTD_IRT_ENTRIES; i++) {
		if (use[i].used && use[i].d == d && use[i].slot == slot) {
			idx = i;
			break;
		}
		if (!use[i].used && free_idx < 0)
			free_idx = i;
	}
	if (idx < 0)
		idx = free_idx;
	if (idx >= 0) {
		use[idx] = (struct irte_use){d, slot, true};
		uint64_t *irte = &u->irt[idx * 2];
		irte[1] = e.hi;
		__asm__ volatile("" ::: "memory");
		irte[0] = e.lo;
		vtd_flush(u, irte, 16);
		vtd_inv_iec(u, idx);
	}
	spin_unlock_irqrestore(&u->lock, flags);
	return idx;
}

int iommu_msi_remap(struct pci_dev *d, unsigned slot, uint8_t vector, uint32_t apic_id,
		    uint64_t *addr, uint32_t *data)
{
	struct vtd_unit *u = vtd_unit_of(d);
	if (!u || !u->ir)
		return -1;
	if (!u->x2apic && apic_id > 0xff)
		return -1;
	int idx = irte_set(u, d, slot, vtd_irte(vector, apic_id, u->x2apic, vtd_dma_alias(d)));
	if (idx < 0) {
		printk("vt-d: unit %d: interrupt-remapping table full\n", u->index);
		return -1;
	}
	vtd_msi_remappable((uint16_t)idx, addr, data);
	return 0;
}

void iommu_msi_release(struct pci_dev *d)
{
	struct vtd_unit *u = vtd_unit_of(d);
	if (!u || !u->ir)
		return;
	struct irte_use *use = irtes[u->index];
	uint64_t flags = spin_lock_irqsave(&u->lock);
	for (int i = 0; i < VTD_IRT_ENTRIES; i++) {
		if (!use[i].used || use[i].d != d)
			continue;
		use[i].used = false;
		u->irt[i * 2] = 0;
		u->irt[i * 2 + 1] = 0;
		vtd_flush(u, &u->irt[i * 2], 16);
		vtd_inv_iec(u, i);
	}
	spin_unlock_irqrestore(&u->lock, flags);
}

/* IOAPIC pins own IRTEs under no device: slot IOAPIC_SLOT | id << 8 | pin. */
#define IOAPIC_SLOT 0x10000u

static bool any_ir(void)
{
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].ir)
			return true;
	return false;
}

int iommu_ioapic_remap(uint8_t ioapic_id, unsigned pin, uint8_t vector, uint32_t apic_id,
		       bool level, uint64_t *rte, char *err, size_t errlen)
{
	int ui;
	uint16_t sid;
	if (!vtd_have_dmar || !any_ir())
		return 1;
	if (!dmar_ioapic_sid(&vtd_dmar, ioapic_id, &ui, &sid) || (unsigned)ui >= vtd_nunits) {
		format(err, errlen,
		       "IOAPIC %u is not in the DMAR table: its interrupts cannot be remapped",
		       ioapic_id);
		return -1;
	}
	struct vtd_unit *u = &vtd_units[ui];
	if (!u->ir) {
		/* its unit does not remap: compatibility format reaches the CPU */
		return 1;
	}
	if (!u->x2apic && apic_id > 0xff) {
		format(err, errlen, "APIC ID %u needs x2APIC interrupt remapping", apic_id);
		return -1;
	}
	unsigned slot = IOAPIC_SLOT | (unsigned)ioapic_id << 8 | (pin & 0xff);
	struct vtd_entry e = level ? vtd_irte_level(vector, apic_id, u->x2apic, sid)
				   : vtd_irte(vector, apic_id, u->x2apic, sid);
	int idx = irte_set(u, NULL, slot, e);
	if (idx < 0) {
		format(err, errlen, "the interrupt-remapping table is full");
		return -1;
	}
	*rte = vtd_ioapic_rte_remappable((uint16_t)idx, vector, level, false);
	return 0;
}

void iommu_ioapic_release(uint8_t ioapic_id, unsigned pin)
{
	int ui;
	uint16_t sid;
	if (!vtd_have_dmar || !dmar_ioapic_sid(&vtd_dmar, ioapic_id, &ui, &sid) || (unsigned)ui >= vtd_nunits)
		return;
	struct vtd_unit *u = &vtd_units[ui];
	if (!u->ir)
		return;
	unsigned slot = IOAPIC_SLOT | (unsigned)ioapic_id << 8 | (pin & 0xff);
	struct irte_use *use = irtes[u->index];
	uint64_t flags = spin_lock_irqsave(&u->lock);
	for (int i = 0; i < VTD_IRT_ENTRIES; i++) {
		if (!use[i].used || use[i].d || use[i].slot != slot)
			continue;
		use[i].used = false;
		u->irt[i * 2] = 0;
		u->irt[i * 2 + 1] = 0;
		vtd_flush(u, &u->irt[i * 2], 16);
		vtd_inv_iec(u, i);
	}
	spin_unlock_irqrestore(&u->lock, flags);
}

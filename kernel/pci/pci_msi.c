/*
 * MSI and MSI-X for the hypervisor's own devices (PCI 3.0 §6.8), in the
 * order Linux's drivers/pci/msi uses: MSI-X is enabled with the function
 * masked, every entry masked, the entries programmed and unmasked one by
 * one, and the function mask dropped last, so no half-written entry ever
 * fires. A device uses MSI or MSI-X, never both, and never INTx with them.
 */
#include "kernel/iommu/iommu.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"

/* MSI-X capability (PCI 3.0 §6.8.2) */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_CTRL_SIZE 0x07ffu
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_CTRL_ENABLE (1u << 15)
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 1
#define MSIX_ENTRY_DATA 2
#define MSIX_ENTRY_CTRL 3 /* in dwords */
#define MSIX_ENTRY_MASKED 1u

/* MSI capability (PCI 3.0 §6.8.1) */
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_CTRL_ENABLE (1u << 0)
#define MSI_CTRL_MME (7u << 4) /* multiple message enable */
#define MSI_CTRL_64BIT (1u << 7)
#define MSI_CTRL_MASKBIT (1u << 8)

static void intx_off(struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	if (!(cmd & PCI_CMD_INTX_DISABLE))
		pci_write16(d, PCI_COMMAND, cmd | PCI_CMD_INTX_DISABLE);
}

static void msi_off(struct pci_dev *d)
{
	if (!d->cap_msi)
		return;
	uint16_t ctrl = pci_read16(d, d->cap_msi + MSI_CTRL);
	if (ctrl & MSI_CTRL_ENABLE)
		pci_write16(d, d->cap_msi + MSI_CTRL, ctrl & ~MSI_CTRL_ENABLE);
}

static void msix_off(struct pci_dev *d)
{
	if (!d->cap_msix)
		return;
	uint16_t ctrl = pci_read16(d, d->cap_msix + MSIX_CTRL);
	if (ctrl & MSIX_CTRL_ENABLE)
		pci_write16(d, d->cap_msix + MSIX_CTRL,
			    (ctrl & ~MSIX_CTRL_ENABLE) | MSIX_CTRL_MASKALL);
}

/*
 * The message for vector `slot` of d: through an interrupt-remapping entry
 * when the IOMMU remaps d's interrupts (then a compatibility-format message
 * would be blocked), else the plain compatibility format.
 */
static bool host_message(struct pci_dev *d, unsigned slot, uint8_t vector, uint32_t apic_id,
			 uint64_t *addr, uint32_t *data)
{
	if (iommu_msi_remap(d, slot, vector, apic_id, addr, data) == 0)
		return true;
	if (iommu_intremap(d))
		return false; /* remapping is on but the entry could not be made: it would be blocked */
	return pci_msi_message(apic_id, vector, addr, data);
}

static volatile uint32_t *entry(const struct pci_dev *d, unsigned idx)
{
	return d->msix_table + idx * (MSIX_ENTRY_SIZE / 4);
}

unsigned pci_msix_enable(struct pci_dev *d)
{
	if (!d->cap_msix)
		return 0;
	uint16_t ctrl = pci_read16(d, d->cap_msix + MSIX_CTRL);
	unsigned n = (ctrl & MSIX_CTRL_SIZE) + 1;
	uint32_t where = pci_read32(d, d->cap_msix + MSIX_TABLE);
	unsigned bir = where & 7;
	uint64_t off = where & ~7u;
	if (bir >= PCI_MAX_BARS)
		return 0;
	const struct pci_bar *bar = &d->bar[bir];
	/* the table must lie inside a memory BAR the firmware assigned */
	if (bar->io || !bar->base || off + (uint64_t)n * MSIX_ENTRY_SIZE > bar->size)
		return 0;
	volatile uint32_t *table = mm_map_mmio(bar->base + off, (uint64_t)n * MSIX_ENTRY_SIZE);
	if (!table)
		return 0;

	msi_off(d);
	pci_enable(d, true, false, false); /* the table is reached through the BAR */
	pci_write16(d, d->cap_msix + MSIX_CTRL, ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	d->msix_table = table;
	d->msix_vectors = n;
	for (unsigned i = 0; i < n; i++) {
		volatile uint32_t *e = entry(d, i);
		e[MSIX_ENTRY_CTRL] = e[MSIX_ENTRY_CTRL] | MSIX_ENTRY_MASKED;
	}
	intx_off(d);
	return n;
}

bool pci_msix_set(struct pci_dev *d, unsigned idx, uint8_t vector, uint32_t apic_id)
{
	uint64_t addr;
	uint32_t data;
	if (!d->msix_table || idx >= d->msix_vectors || !host_message(d, idx, vector, apic_id, &addr, &data))
		return false;
	volatile uint32_t *e = entry(d, idx);
	e[MSIX_ENTRY_CTRL] = e[MSIX_ENTRY_CTRL] | MSIX_ENTRY_MASKED;
	e[MSIX_ENTRY_ADDR_LO] = (uint32_t)addr;
	e[MSIX_ENTRY_ADDR_HI] = (uint32_t)(addr >> 32);
	e[MSIX_ENTRY_DATA] = data;
	e[MSIX_ENTRY_CTRL] = e[MSIX_ENTRY_CTRL] & ~MSIX_ENTRY_MASKED;
	return true;
}

void pci_msix_mask(struct pci_dev *d, unsigned idx, bool masked)
{
	if (!d->msix_table || idx >= d->msix_vectors)
		return;
	volatile uint32_t *e = entry(d, idx);
	uint32_t c = e[MSIX_ENTRY_CTRL];
	e[MSIX_ENTRY_CTRL] = masked ? c | MSIX_ENTRY_MASKED : c & ~MSIX_ENTRY_MASKED;
	(void)e[MSIX_ENTRY_CTRL]; /* the read flushes the posted write: masked means masked now */
}

void pci_msix_unmask_function(struct pci_dev *d)
{
	if (!d->cap_msix || !d->msix_table)
		return;
	uint16_t ctrl = pci_read16(d, d->cap_msix + MSIX_CTRL);
	pci_write16(d, d->cap_msix + MSIX_CTRL, ctrl & ~MSIX_CTRL_MASKALL);
}

bool pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t apic_id)
{
	uint64_t addr;
	uint32_t data;
	if (!d->cap_msi || !host_message(d, 0, vector, apic_id, &addr, &data))
		return false;
	uint8_t cap = d->cap_msi;
	uint16_t ctrl = pci_read16(d, cap + MSI_CTRL);
	bool is64 = ctrl & MSI_CTRL_64BIT;
	if (!is64 && (addr >> 32))
		return false;

	msix_off(d);
	pci_write16(d, cap + MSI_CTRL, ctrl & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME));
	pci_write32(d, cap + MSI_ADDR_LO, (uint32_t)addr);
	uint8_t data_off = is64 ? 12 : 8;
	if (is64)
		pci_write32(d, cap + 8, (uint32_t)(addr >> 32));
	pci_write16(d, cap + data_off, (uint16_t)data);
	if (ctrl & MSI_CTRL_MASKBIT) {
		uint8_t mask_off = is64 ? 0x10 : 0x0c;
		pci_write32(d, cap + mask_off, pci_read32(d, cap + mask_off) & ~1u);
	}
	intx_off(d);
	pci_write16(d, cap + MSI_CTRL, (ctrl & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE);
	return true;
}

void pci_msi_disable(struct pci_dev *d)
{
	msi_off(d);
	msix_off(d);
	iommu_msi_release(d);
}

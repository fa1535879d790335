/*
 * TEMPORARY, delete once main has host PCI (branch hostpci), interrupt
 * vectors and host block devices (branch blk): weak stand-ins for the
 * functions the NVMe driver calls, so that the kernel links before they
 * land. A real definition overrides its stand-in, so merging those
 * branches first is harmless; nothing calls the driver until the PCI
 * layer's driver table names it.
 */
#include "kernel/blk/hostblk.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/pci/pci.h"

#define WEAK __attribute__((weak))

WEAK uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	(void)d;
	(void)off;
	return 0xffff;
}

WEAK void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	(void)d;
	(void)off;
	(void)v;
}

WEAK void pci_enable(struct pci_dev *d, bool mem, bool io, bool master)
{
	(void)d;
	(void)mem;
	(void)io;
	(void)master;
}

WEAK volatile void *pci_bar_map(struct pci_dev *d, unsigned i)
{
	(void)d;
	(void)i;
	return 0;
}

WEAK unsigned pci_msix_enable(struct pci_dev *d)
{
	(void)d;
	return 0;
}

WEAK bool pci_msix_set(struct pci_dev *d, unsigned idx, uint8_t vector, uint32_t apic_id)
{
	(void)d;
	(void)idx;
	(void)vector;
	(void)apic_id;
	return false;
}

WEAK void pci_msix_unmask_function(struct pci_dev *d)
{
	(void)d;
}

WEAK bool pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t apic_id)
{
	(void)d;
	(void)vector;
	(void)apic_id;
	return false;
}

WEAK void pci_msi_disable(struct pci_dev *d)
{
	(void)d;
}

WEAK int irqvec_alloc(unsigned cpu_index, irqvec_handler_t handler, void *arg, uint32_t *apic_id)
{
	(void)cpu_index;
	(void)handler;
	(void)arg;
	(void)apic_id;
	return -1;
}

WEAK void irqvec_free(int vector)
{
	(void)vector;
}

WEAK unsigned irqvec_pick_cpu(void)
{
	return 0;
}

WEAK struct hostblk *hostblk_add(struct blkdev *dev, const char *kind, unsigned ctrl,
				 unsigned nsid, const char *model, const char *serial)
{
	(void)dev;
	(void)kind;
	(void)ctrl;
	(void)nsid;
	(void)model;
	(void)serial;
	return 0;
}

WEAK void hostblk_controller_register(struct hostblk_controller *c)
{
	(void)c;
}

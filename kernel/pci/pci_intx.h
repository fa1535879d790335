/*
 * Which host GSI (and IOAPIC pin) a host PCI function's INTx reaches: the
 * firmware's bus-0 _PRT (kernel/acpi/acpi_prt.h, read once from the DSDT
 * and SSDTs), and for a function behind PCI bridges the standard swizzle up
 * to its bus-0 bridge. Bridges with a _PRT of their own are not followed
 * (the swizzle is assumed): QEMU and most PCs give root ports none.
 */
#ifndef HV_KERNEL_PCI_PCI_INTX_H
#define HV_KERNEL_PCI_PCI_INTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acpi_info;
struct pci_dev;

/* At boot (pci_host_init): where the tables are. acpi may be NULL. */
void pci_intx_init(const struct acpi_info *acpi);

/*
 * d's INTx: its GSI, and the IOAPIC (ID, MMIO address) and pin it arrives
 * at. 0; or -1 with the reason in words ("it has no INTx pin", "bus 0's
 * _PRT is beyond this reader: ...", "no IOAPIC serves GSI 40").
 */
int pci_intx_route(const struct pci_dev *d, uint32_t *gsi, uint8_t *ioapic_id,
		   uint64_t *ioapic_addr, unsigned *pin, char *why, size_t whylen);

#endif

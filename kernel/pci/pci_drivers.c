/*
 * The hypervisor's own PCI drivers, bound at boot by pci_host_init: the
 * first whose match() takes a device probes it. Empty for now: the NVMe
 * and AHCI drivers (drivers/nvme, drivers/ahci) are added here as
 * `&nvme_pci_driver` and `&ahci_pci_driver` when they land.
 */
#include "kernel/pci/pci.h"

const struct pci_driver *const pci_drivers[] = {
    NULL, /* keeps the table non-empty until the first driver arrives; NULLs are skipped */
};

const size_t pci_driver_count = sizeof(pci_drivers) / sizeof(pci_drivers[0]);

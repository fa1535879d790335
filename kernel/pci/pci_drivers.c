/*
 * The hypervisor's own PCI drivers, bound at boot by pci_host_init: the
 * first whose match() takes a device probes it: NVMe (drivers/nvme),
 * AHCI (drivers/ahci) and the e1000e NIC (drivers/net).
 */
#include "kernel/pci/pci.h"

#include "drivers/ahci/ahci.h"
#include "drivers/net/e1000e.h"
#include "drivers/nvme/nvme.h"

const struct pci_driver *const pci_drivers[] = {
    &nvme_pci_driver,
    &ahci_pci_driver,
    &e1000e_pci_driver,
};

const size_t pci_driver_count = sizeof(pci_drivers) / sizeof(pci_drivers[0]);

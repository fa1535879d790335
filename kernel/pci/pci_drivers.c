/*
 * The hypervisor's own PCI drivers, bound at boot by pci_host_init: the
 * first whose match() takes a device probes it: NVMe (drivers/nvme),
 * AHCI (drivers/ahci), and the NICs virtio-net and e1000e (drivers/net).
 */
#include "kernel/pci/pci.h"

#include "drivers/ahci/ahci.h"
#include "drivers/net/e1000e.h"
#include "drivers/net/virtio_net.h"
#include "drivers/nvme/nvme.h"

const struct pci_driver *const pci_drivers[] = {
    &nvme_pci_driver,
    &ahci_pci_driver,
    &virtio_net_pci_driver,
    &e1000e_pci_driver,
};

const size_t pci_driver_count = sizeof(pci_drivers) / sizeof(pci_drivers[0]);

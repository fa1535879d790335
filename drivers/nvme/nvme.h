/*
 * The hypervisor's own NVMe driver: each NVM Express controller (PCI class
 * 01/08/02) is brought up at boot and each of its active namespaces with
 * 512- or 4096-byte blocks becomes a host block device (nvme0n1, ...) that
 * VM disks sit on.
 *
 * One I/O queue pair per controller, shared by every CPU under the
 * controller's lock: a hypervisor's disks are few and a host NVMe queue
 * outruns what one lock costs. Completions come by MSI-X (else MSI, else
 * polling at safe points) and are reaped in deferred work; a watchdog
 * aborts commands that take too long, resets the controller when that does
 * not help, and takes it offline (every request then fails at once) when
 * the reset fails.
 */
#ifndef HV_DRIVERS_NVME_NVME_H
#define HV_DRIVERS_NVME_NVME_H

#include <stdint.h>

#include "kernel/blk/blkdev.h"
#include "kernel/pci/pci.h"

extern const struct pci_driver nvme_pci_driver;

/* The namespaces brought up, in probe order: the i-th, or NULL (for the self-check). */
struct blkdev *nvme_namespace(unsigned i);
/* Interrupts the controller of namespace ns has taken. */
uint64_t nvme_interrupts(const struct blkdev *ns);

#endif

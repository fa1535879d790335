/*
 * The hypervisor's own AHCI (SATA) driver: every ATA disk on an AHCI
 * controller becomes a host block device (sda, sdb, ... in port order, see
 * kernel/blk/hostblk.h) that VM disks sit on.
 *
 * Commands are non-queued READ/WRITE DMA EXT in several command slots at
 * once (the HBA runs them one after another), FLUSH CACHE EXT when the
 * disk's write cache is on. Completions come by MSI (or MSI-X), else by
 * polling, through deferred work; a watchdog fails commands back after
 * AHCI_CMD_TIMEOUT_MS and resets the port (AHCI 1.3 §6.2.2.1).
 */
#ifndef HV_DRIVERS_AHCI_AHCI_H
#define HV_DRIVERS_AHCI_AHCI_H

#include "kernel/pci/pci.h"

/* Binds to class 01/06/01 (SATA, AHCI 1.0 programming interface). */
extern const struct pci_driver ahci_pci_driver;

#endif

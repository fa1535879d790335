/*
 * The modern virtio-pci transport (virtio 1.2 §4.1): a virtio device as a
 * PCI function, the way Linux's virtio_pci_modern drives it. Pure logic over
 * guest/pci/vpci.h and guest/virtio/virtio_dev.h.
 *
 * Identity: vendor 0x1af4, device 0x1040 + type (modern only: no legacy I/O
 * BAR, so VERSION_1 is required), revision 1, subsystem 0x1af4:0x1100.
 * One 64-bit prefetchable memory BAR 0 of 32 KiB, each structure in its own
 * page (so each could be trapped or mapped on its own):
 *   0x0000 common configuration (56 bytes, §4.1.4.3)
 *   0x1000 ISR status (1 byte; a read clears it and lowers INTx)
 *   0x2000 device-specific configuration
 *   0x3000 notifications: queue q at 0x3000 + 4 q (notify_off_multiplier 4)
 *   0x4000 MSI-X table, 0x5000 its PBA (one vector per queue, plus config)
 * described by four vendor capabilities (common, notify, ISR, device). The
 * PCI-configuration access capability (type 5) is not offered: Linux does
 * not use it, and a BIOS driver would be the one to.
 *
 * Interrupts: with MSI-X enabled, a queue's or the configuration's vector
 * (0xffff, NO_VECTOR: none); a vector beyond the table reads back as
 * NO_VECTOR, which is how the driver learns to use fewer. Without MSI-X, the
 * ISR bits and INTA.
 *
 * Writes the spec forbids are ignored, not fatal: queue registers of an
 * enabled queue, features after FEATURES_OK, queue_enable = 0. A queue the
 * driver enables with a bad layout puts the device in NEEDS_RESET.
 */
#ifndef HV_GUEST_VIRTIO_VIRTIO_PCI_H
#define HV_GUEST_VIRTIO_VIRTIO_PCI_H

#include <stdint.h>

#include "guest/pci/vpci.h"
#include "guest/virtio/virtio_dev.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_BAR_SIZE 0x8000
#define VIRTIO_PCI_COMMON 0x0000
#define VIRTIO_PCI_ISR 0x1000
#define VIRTIO_PCI_DEVICE_CFG 0x2000
#define VIRTIO_PCI_NOTIFY 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4
#define VIRTIO_PCI_MSIX_TABLE 0x4000
#define VIRTIO_PCI_MSIX_PBA 0x5000
#define VIRTIO_PCI_NO_VECTOR 0xffff

/* Common configuration offsets (§4.1.4.3). */
#define VPCI_COMMON_DFSELECT 0x00
#define VPCI_COMMON_DF 0x04
#define VPCI_COMMON_GFSELECT 0x08
#define VPCI_COMMON_GF 0x0c
#define VPCI_COMMON_MSIX 0x10
#define VPCI_COMMON_NUMQ 0x12
#define VPCI_COMMON_STATUS 0x14
#define VPCI_COMMON_CFGGEN 0x15
#define VPCI_COMMON_Q_SELECT 0x16
#define VPCI_COMMON_Q_SIZE 0x18
#define VPCI_COMMON_Q_MSIX 0x1a
#define VPCI_COMMON_Q_ENABLE 0x1c
#define VPCI_COMMON_Q_NOFF 0x1e
#define VPCI_COMMON_Q_DESCLO 0x20
#define VPCI_COMMON_Q_DESCHI 0x24
#define VPCI_COMMON_Q_AVAILLO 0x28
#define VPCI_COMMON_Q_AVAILHI 0x2c
#define VPCI_COMMON_Q_USEDLO 0x30
#define VPCI_COMMON_Q_USEDHI 0x34
#define VPCI_COMMON_SIZE 0x38

/*
 * How the transport reaches the host (NULL: straight into the function,
 * unlocked, as the hosted tests drive it). The kernel's: the device's lock
 * around every BAR access, and interrupts through the VM's bus lock.
 */
struct virtio_pci_host {
	void (*enter)(void *ctx);
	void (*leave)(void *ctx);
	bool (*msix_notify)(void *ctx, struct vpci_func *f, unsigned vec);
	void (*set_intx)(void *ctx, struct vpci_func *f, bool level);
	void *ctx;
};

struct virtio_pci {
	struct vpci_func func;
	const struct virtio_pci_host *host;
	struct virtio_dev *dev;
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
	uint16_t msix_config;
	uint16_t queue_msix[VIRTIO_MAX_QUEUES];
	uint8_t isr;
	uint64_t notifies, isr_reads, interrupts; /* counters (pci-list, bench) */
};

/*
 * Makes t the PCI face of dev (which the device type has set up), reaching
 * the host through `host` (may be NULL). Plug t->func into a bus.
 */
void virtio_pci_init(struct virtio_pci *t, struct virtio_dev *dev,
		     const struct virtio_pci_host *host);
/* A VM reboot: the device and the transport back to power-on. */
void virtio_pci_reset(struct virtio_pci *t);

#endif

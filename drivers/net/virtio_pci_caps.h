/*
 * Virtio 1.x over PCI (virtio 1.2 §4.1): where a modern device keeps its
 * register blocks (vendor-specific capabilities naming a BAR, an offset
 * and a length), the common configuration's layout, the status bits, and
 * the feature bits the host's virtio drivers use.
 *
 * virtio_pci_find_caps is pure (configuration reads through pci.h's
 * accessors), so it runs hosted over a fake configuration space.
 */
#ifndef HV_DRIVERS_NET_VIRTIO_PCI_CAPS_H
#define HV_DRIVERS_NET_VIRTIO_PCI_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_MODERN_BASE 0x1040 /* + device type */
#define VIRTIO_PCI_LEGACY_FIRST 0x1000
#define VIRTIO_PCI_LEGACY_LAST 0x103f
#define VIRTIO_ID_NET 1

#define PCI_CAP_ID_VNDR 0x09
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR 3
#define VIRTIO_PCI_CAP_DEVICE 4

/* struct virtio_pci_common_cfg, by offset */
#define VIRTIO_COMMON_DFSELECT 0x00 /* le32 */
#define VIRTIO_COMMON_DF 0x04	    /* le32 */
#define VIRTIO_COMMON_GFSELECT 0x08 /* le32 */
#define VIRTIO_COMMON_GF 0x0c	    /* le32 */
#define VIRTIO_COMMON_MSIX 0x10	    /* le16: config vector */
#define VIRTIO_COMMON_NUMQ 0x12	    /* le16 */
#define VIRTIO_COMMON_STATUS 0x14   /* u8 */
#define VIRTIO_COMMON_CFGGEN 0x15   /* u8 */
#define VIRTIO_COMMON_Q_SELECT 0x16 /* le16 */
#define VIRTIO_COMMON_Q_SIZE 0x18   /* le16 */
#define VIRTIO_COMMON_Q_MSIX 0x1a   /* le16 */
#define VIRTIO_COMMON_Q_ENABLE 0x1c /* le16 */
#define VIRTIO_COMMON_Q_NOFF 0x1e   /* le16 */
#define VIRTIO_COMMON_Q_DESC 0x20   /* le64 */
#define VIRTIO_COMMON_Q_AVAIL 0x28  /* le64 */
#define VIRTIO_COMMON_Q_USED 0x30   /* le64 */
#define VIRTIO_COMMON_LEN 0x38
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* device_status */
#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* device-independent feature bits */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

/* One register block: which BAR, where in it, how long. */
struct virtio_pci_region {
	bool present;
	uint8_t bar;
	uint32_t offset, length;
};

struct virtio_pci_caps {
	struct virtio_pci_region common, notify, isr, device;
	uint32_t notify_off_multiplier;
};

/*
 * Walks d's capability list for the virtio structures (the first of each
 * type whose BAR is a memory BAR of d that holds it; later ones are
 * alternatives the spec lets a driver ignore). Returns true when the
 * common, notify and device blocks were all found, i.e. the device can be
 * driven as a modern one; *why then says what was missing.
 */
bool virtio_pci_find_caps(const struct pci_dev *d, struct virtio_pci_caps *caps, const char **why);

#endif

/*
 * The hypervisor's own virtio-net driver: the NIC it has when it runs
 * nested under QEMU/KVM. Modern virtio 1.x over PCI only (device 1af4:1041,
 * or a transitional 1af4:1000 through its modern capabilities); a
 * legacy-only device is refused with a message saying so.
 *
 * Each device becomes a host NIC (kernel/net/netdev.h): split virtqueues
 * RX (256 pre-posted 2 KiB buffers) and TX (frames copied into
 * preallocated buffers, reclaimed as the device finishes them), the
 * control queue for promiscuous/all-multicast mode when the device offers
 * VIRTIO_NET_F_CTRL_RX, link state from the STATUS config field. MSI-X
 * (a vector for configuration changes, one for the queues), else polling
 * at safe points; received frames are handed on from deferred work.
 */
#ifndef HV_DRIVERS_NET_VIRTIO_NET_H
#define HV_DRIVERS_NET_VIRTIO_NET_H

#include "kernel/pci/pci.h"

extern const struct pci_driver virtio_net_pci_driver;

#endif

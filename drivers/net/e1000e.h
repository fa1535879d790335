/*
 * The hypervisor's own driver for Intel's 82574-class PCIe GbE controllers
 * (e1000e: 82574L 8086:10d3, QEMU's `-device e1000e` and a common lab part;
 * 82574LA and 82583V alike). Each one it brings up becomes a host NIC
 * (kernel/net/netdev.h): reset, MAC address, link, one RX and one TX ring
 * of legacy descriptors with 2 KiB buffers, MSI-X (an RX, a TX and an
 * "other" vector through the 82574's IVAR), else MSI, else polling at safe
 * points; link changes are reported, promiscuous/all-multicast follow
 * set_rx_mode, and shutdown resets the part so that no DMA follows.
 *
 * Layout, for the igb/ixgbe class to follow: e1000e_regs.h (registers and
 * descriptor formats), e1000e_ring.c (ring logic over a register pointer,
 * hosted-tested), this file (bring-up, interrupts, the netdev glue) with a
 * table of the parts it takes and their quirks.
 */
#ifndef HV_DRIVERS_NET_E1000E_H
#define HV_DRIVERS_NET_E1000E_H

#include "kernel/pci/pci.h"

extern const struct pci_driver e1000e_pci_driver;

#endif

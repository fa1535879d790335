/*
 * A test-only check of the host's interrupt path for device drivers, run
 * with `test_pci_msi` on the command line under QEMU: `-device edu` (QEMU's
 * teaching device) gets an MSI on a pool vector of another CPU and raises
 * it; an NVMe controller, if there is one, gets MSI-X entry 0 programmed
 * and read back through its BAR, and an ivshmem-plain device's BAR2 (a
 * large 64-bit one, above RAM) is written and read through pci_bar_map.
 * Prints "pci selftest: ..." lines.
 */
#ifndef HV_KERNEL_PCI_PCI_SELFTEST_H
#define HV_KERNEL_PCI_PCI_SELFTEST_H

void pci_selftest(const char *cmdline);

#endif

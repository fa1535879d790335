/*
 * A test-only check of DMA remapping, run with `test_iommu` on the command
 * line under QEMU with `-device intel-iommu,intremap=on -device edu`: QEMU's
 * edu device, put in the hypervisor domain, copies a page by DMA from one
 * host frame to another (allowed); then reads the hypervisor image (outside
 * the domain) and, once blocked, writes a frame: both must fault, be logged
 * as DMA faults, and leave memory unchanged (a burst of them is summed up
 * in one line); in a VM-style domain it DMAs at guest-physical addresses
 * and faults past the VM's RAM; its MSI arrives through an
 * interrupt-remapping entry, and its INTx through the host IOAPIC with a
 * remappable RTE. Prints "iommu selftest: ..." lines.
 */
#ifndef HV_KERNEL_IOMMU_IOMMU_SELFTEST_H
#define HV_KERNEL_IOMMU_IOMMU_SELFTEST_H

void iommu_selftest(const char *cmdline);

#endif

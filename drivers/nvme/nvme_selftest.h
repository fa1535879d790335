/*
 * A test-only check of the NVMe driver on a real (or QEMU) controller, run
 * with `test_nvme` on the command line: on each namespace it WRITES the
 * last 2 MiB (so only on scratch disks), through scattered pages split by
 * MDTS, reads back through the bounce buffers, moves misaligned segments,
 * and flushes, zeroes and discards where the device can. Prints one
 * "nvme selftest: NAME: ..." line per namespace.
 */
#ifndef HV_DRIVERS_NVME_NVME_SELFTEST_H
#define HV_DRIVERS_NVME_NVME_SELFTEST_H

void nvme_selftest(const char *cmdline);

#endif

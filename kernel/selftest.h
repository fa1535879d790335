/*
 * Test-only faults, so the test suite can check that a fatal error is
 * reported in full and the harness sees a failure: `test_fault=KIND` with
 * KIND one of pf, ud, de, gp, stack (overflow into the guard page), and
 * optionally `test_fault_cpu=N` to fault on another core. Also runs the
 * host PCI interrupt check with `test_pci_msi` (kernel/pci/pci_selftest.h),
 * the NVMe I/O check with `test_nvme` (drivers/nvme/nvme_selftest.h) and the
 * host NIC check with `test_net` (kernel/net/net_selftest.h).
 */
#ifndef HV_SELFTEST_H
#define HV_SELFTEST_H

void selftest_run(const char *cmdline);

#endif

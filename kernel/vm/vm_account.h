/* Accounting of a VM's CPU time and exits. */
#ifndef HV_VM_VM_ACCOUNT_H
#define HV_VM_VM_ACCOUNT_H

#include "kernel/vm/vm.h"

/* Prints its start-to-stop time, exits by reason per vCPU and busiest ports. */
void vm_print_accounting(const struct vm *vm);

/* The MMIO ranges the guest touched, as exits to each; "PREFIXvm NAME mmio ranges: ..." */
void vm_print_mmio_ranges(const struct vm *vm, const char *prefix);

/* The COUNT ports that cost the most exits so far, busiest first. */
void vm_print_busiest_ports(const struct vm *vm, const char *prefix, unsigned count);

#endif

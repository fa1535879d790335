/* Accounting of a VM's CPU time and exits. */
#ifndef HV_VM_VM_ACCOUNT_H
#define HV_VM_VM_ACCOUNT_H

#include "kernel/vm/vm.h"

/* Prints its start-to-stop time, exits by reason per vCPU and busiest ports. */
void vm_print_accounting(const struct vm *vm);

#endif

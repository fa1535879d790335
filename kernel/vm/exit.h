/* Handling a VM exit: one handler per common exit reason (a table, not a switch). */
#ifndef HV_VM_EXIT_H
#define HV_VM_EXIT_H

#include "kernel/vm/vm.h"

/* Handles one exit; the vCPU then re-enters unless its VM has stopped. */
void vm_exit_dispatch(struct vcpu *v, struct vm_exit *e);

#define HC_VERSION 0
#define HC_ERR_NOSYS ((uint64_t)-1000) /* as KVM's -KVM_ENOSYS */

#endif

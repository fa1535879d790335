/* Handling a VM exit: one handler per common exit reason (a table, not a switch). */
#ifndef HV_VM_EXIT_H
#define HV_VM_EXIT_H

#include "kernel/vm/vm.h"

/* Handles one exit; the vCPU then re-enters unless its VM has stopped. */
void vm_exit_dispatch(struct vcpu *v, struct vm_exit *e);

/*
 * Hypercalls (VMMCALL/VMCALL): number in RAX, arguments in RBX, RCX; result
 * in RAX. An unknown number returns HC_ERR_NOSYS, never #UD.
 */
#define HC_VERSION 0   /* -> HV_ABI_VERSION */
#define HC_RAISE_IRQ 1 /* RBX = vector 32..255: one external interrupt for this vCPU */
#define HC_TIMER_IRQ 2 /* RBX = vector, RCX = microseconds (<= 10 s): the same, later */
#define HC_ERR_NOSYS ((uint64_t)-1000) /* as KVM's -KVM_ENOSYS */
#define HC_ERR_INVAL ((uint64_t)-22)

#endif

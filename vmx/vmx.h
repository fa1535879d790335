/* The Intel VT-x backend; it fills struct hvm_ops as vmx_ops (kernel/vm/hvm.h). */
#ifndef HV_VMX_VMX_H
#define HV_VMX_VMX_H

#include "kernel/vm/hvm.h"

/* Text for a VM-instruction error number (SDM Vol. 3C §31.4). */
const char *vmx_insn_error_text(unsigned error);

struct vcpu;
/* Reads the exit fields of the current VMCS into *e (vmx_exit.c). */
void vmx_decode_exit(struct vcpu *v, uint32_t reason, struct vm_exit *e);

#endif

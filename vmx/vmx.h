/* The Intel VT-x backend; it fills struct hvm_ops as vmx_ops (kernel/vm/hvm.h). */
#ifndef HV_VMX_VMX_H
#define HV_VMX_VMX_H

#include "kernel/vm/hvm.h"

/* Text for a VM-instruction error number (SDM Vol. 3C §31.4). */
const char *vmx_insn_error_text(unsigned error);

#endif

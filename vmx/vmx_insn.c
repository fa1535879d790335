#include "vmx/vmx.h"

/* VM-instruction error numbers (SDM Vol. 3C §31.4). */
static const char *const insn_errors[] = {
    [1] = "VMCALL in VMX root operation",
    [2] = "VMCLEAR with an invalid address",
    [3] = "VMCLEAR with the VMXON pointer",
    [4] = "VMLAUNCH with a non-clear VMCS",
    [5] = "VMRESUME with a non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control fields",
    [8] = "VM entry with invalid host-state fields",
    [9] = "VMPTRLD with an invalid address",
    [10] = "VMPTRLD with the VMXON pointer",
    [11] = "VMPTRLD with an incorrect VMCS revision",
    [12] = "VMREAD/VMWRITE of an unsupported field",
    [13] = "VMWRITE to a read-only field",
    [15] = "VMXON in VMX root operation",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_text(unsigned e)
{
	if (e < sizeof(insn_errors) / sizeof(insn_errors[0]) && insn_errors[e])
		return insn_errors[e];
	return "unknown VM-instruction error";
}

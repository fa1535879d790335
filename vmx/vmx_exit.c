/*
 * A VMX exit as the common struct vm_exit: the basic exit reason and its
 * qualification and information fields (SDM Vol. 3C ch. 28, Appendix C)
 * decoded into the reason and fields the VM core dispatches on.
 */
#include "vmx/vmx.h"

#include "kernel/lib/string.h"
#include "kernel/vm/vm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_insn.h"

void vmx_decode_exit(struct vcpu *v, uint32_t reason, struct vm_exit *e)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned basic = reason & 0xffff;

	memset(e, 0, sizeof(*e));
	e->raw_reason = reason;
	e->raw_info[0] = qual;
	e->insn_len = (unsigned)vmread(VMCS_EXIT_INSN_LEN);
	uint32_t idt = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
	if (idt & INTR_INFO_VALID) {
		e->event_info = idt & ~(1u << 12); /* bit 12 is undefined there */
		e->event_error = (uint32_t)vmread(VMCS_IDT_VECTORING_ERROR);
	}
	if (reason & (1u << 31)) {
		e->reason = EXIT_INVALID_STATE; /* VM-entry failure (Vol. 3C §27.8) */
		return;
	}
	switch (basic) {
	case VMX_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->reason = basic == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
		e->msr.index = (uint32_t)v->regs.gpr[X86_RCX];
		break;
	case VMX_EXIT_IO:
		/* Table 28-5: size-1 in 2:0, IN in 3, string in 4, REP in 5, port in 31:16 */
		e->reason = EXIT_IO;
		e->io.size = (uint8_t)((qual & 7) + 1);
		e->io.in = (qual >> 3) & 1;
		e->io.string = (qual >> 4) & 1;
		e->io.rep = (qual >> 5) & 1;
		e->io.port = (uint16_t)(qual >> 16);
		break;
	case VMX_EXIT_EPT_VIOLATION:
		e->reason = EXIT_MMIO;
		e->mmio.gpa = vmread(VMCS_GUEST_PHYS_ADDR);
		e->mmio.write = (qual >> 1) & 1;
		e->mmio.fetch = (qual >> 2) & 1;
		e->raw_info[1] = e->mmio.gpa;
		break;
	case VMX_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case VMX_EXIT_PAUSE:
		e->reason = EXIT_PAUSE;
		break;
	case VMX_EXIT_RDPMC:
		e->reason = EXIT_RDPMC;
		break;
	case VMX_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case VMX_EXIT_VMCALL:
		e->reason = EXIT_HYPERCALL;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = EXIT_SHUTDOWN;
		break;
	case VMX_EXIT_EXTERNAL_INTERRUPT:
		e->reason = EXIT_EXT_INTR;
		break;
	case VMX_EXIT_INTERRUPT_WINDOW:
		e->reason = EXIT_INTR_WINDOW;
		break;
	case VMX_EXIT_NMI_WINDOW:
		e->reason = EXIT_NMI_WINDOW;
		break;
	case VMX_EXIT_EXCEPTION_NMI: {
		uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
		if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
			e->reason = EXIT_NMI;
		} else {
			e->reason = EXIT_EXCEPTION;
			e->exception.vector = (uint8_t)info;
			e->exception.error_code = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR);
		}
		break;
	}
	case VMX_EXIT_VMCLEAR ... VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
		e->reason = EXIT_VIRT_INSN;
		break;
	case VMX_EXIT_INVALID_GUEST_STATE:
	case VMX_EXIT_MSR_LOADING:
	case VMX_EXIT_MACHINE_CHECK:
	case VMX_EXIT_EPT_MISCONFIG:
		e->reason = EXIT_INVALID_STATE;
		break;
	default:
		e->reason = EXIT_UNKNOWN;
		break;
	}
}

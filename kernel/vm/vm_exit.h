/*
 * One VM exit, as every backend reports it. The backend decodes its raw
 * exit (VMCB EXITCODE, VMCS exit reason) into this; everything above the
 * backend dispatches on the common reason alone (DESIGN.md, "The path of a
 * VM exit").
 */
#ifndef HV_VM_VM_EXIT_H
#define HV_VM_VM_EXIT_H

#include <stdbool.h>
#include <stdint.h>

enum vm_exit_reason {
	EXIT_NONE,
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_MMIO,	 /* nested page fault / EPT violation outside RAM */
	EXIT_HLT,
	EXIT_HYPERCALL,
	EXIT_SHUTDOWN,	 /* triple fault */
	EXIT_EXT_INTR,	 /* a host interrupt arrived while the guest ran */
	EXIT_NMI,
	EXIT_INTR_WINDOW,
	EXIT_NMI_WINDOW, /* the guest can take an NMI now (VMX NMI window; SVM IRET, its single step) */
	EXIT_EXCEPTION,	 /* an intercepted guest exception */
	EXIT_VIRT_INSN,	 /* the guest tried a virtualization instruction (VMRUN, VMXON...) */
	EXIT_RDPMC,	 /* reading a performance counter: answered from the virtual PMU */
	EXIT_XSETBV,	 /* setting XCR0 (VMX exits on it unconditionally) */
	EXIT_INVALID_STATE, /* the CPU refused to enter the guest */
	EXIT_UNKNOWN,
	EXIT_REASON_COUNT,
};

struct vm_exit {
	enum vm_exit_reason reason;
	uint64_t raw_reason;  /* the backend's own code, for logs */
	uint64_t raw_info[2]; /* and its qualification, for logs */
	/* length of the exiting instruction, 0 when the hardware does not say */
	unsigned insn_len;
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2, 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			uint32_t index;
		} msr;
		struct {
			uint64_t gpa;
			bool write;
			bool fetch;
		} mmio;
		struct {
			uint8_t vector;
			uint32_t error_code;
		} exception;
	};
};

const char *vm_exit_reason_name(enum vm_exit_reason r);

#endif

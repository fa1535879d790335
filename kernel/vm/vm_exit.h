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
	EXIT_PAUSE,	 /* a spin loop: PAUSE, or a loop of them past the filter (SVM) or window (VMX) */
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
	/*
	 * The event whose delivery this exit cut short (SVM EXITINTINFO, VMX
	 * IDT-vectoring information), 0 when none: both keep the same layout,
	 * vector in 7:0, type in 10:8 (0 external interrupt, 2 NMI, 3 exception,
	 * 4 software interrupt, 5 privileged and 6 other software exception),
	 * error code valid in 11, valid in 31 (VM_EVENT_*). Filled by the slow
	 * decode only, for logs (the backend re-delivers the event itself).
	 */
	uint32_t event_info;
	uint32_t event_error;
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

#define VM_EVENT_VALID (1u << 31)
#define VM_EVENT_ERROR_VALID (1u << 11)
#define VM_EVENT_TYPE(info) (((info) >> 8) & 7)
#define VM_EVENT_VECTOR(info) ((info) & 0xff)

/*
 * An event an instruction raised itself: INTn (type 4), ICEBP (5), INT3 and
 * INTO (6 on VMX; AMD reports them as exceptions 3 and 4, QEMU's SVM as
 * type 4). When an exit cuts its delivery short, the guest's RIP still
 * points at that instruction (SDM Vol. 3C §28.2.4, APM Vol. 2 §15.7.2), so
 * the backend lets it run again instead of re-injecting the event: a
 * re-injected one would need the instruction's length (VMX refuses the
 * entry without it; SVM pushes RIP, the instruction, as the return address
 * and the guest would run it twice), as KVM does for INT3 and INTO.
 */
static inline bool vm_event_is_soft(uint32_t info)
{
	unsigned type = VM_EVENT_TYPE(info), vector = VM_EVENT_VECTOR(info);
	return type >= 4 || (type == 3 && (vector == 3 || vector == 4));
}

const char *vm_exit_reason_name(enum vm_exit_reason r);

#endif

#include "kernel/vm/vm_exit.h"

const char *vm_exit_reason_name(enum vm_exit_reason r)
{
	static const char *const names[EXIT_REASON_COUNT] = {
	    [EXIT_NONE] = "none",
	    [EXIT_CPUID] = "cpuid",
	    [EXIT_MSR_READ] = "msr-read",
	    [EXIT_MSR_WRITE] = "msr-write",
	    [EXIT_IO] = "io",
	    [EXIT_MMIO] = "mmio",
	    [EXIT_HLT] = "hlt",
	    [EXIT_HYPERCALL] = "hypercall",
	    [EXIT_SHUTDOWN] = "shutdown",
	    [EXIT_EXT_INTR] = "external-interrupt",
	    [EXIT_NMI] = "nmi",
	    [EXIT_INTR_WINDOW] = "interrupt-window",
	    [EXIT_NMI_WINDOW] = "nmi-window",
	    [EXIT_EXCEPTION] = "exception",
	    [EXIT_VIRT_INSN] = "virtualization-instruction",
	    [EXIT_RDPMC] = "rdpmc",
	    [EXIT_XSETBV] = "xsetbv",
	    [EXIT_PAUSE] = "pause",
	    [EXIT_INVALID_STATE] = "invalid-state",
	    [EXIT_UNKNOWN] = "unknown",
	};
	return r < EXIT_REASON_COUNT && names[r] ? names[r] : "?";
}

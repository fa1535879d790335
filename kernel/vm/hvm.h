/*
 * The one interface between the vendor-neutral VM core and a hardware
 * backend (svm/ for AMD-V, vmx/ for Intel VT-x), chosen once at boot from
 * CPUID. Nothing above the backend names a VMCB or VMCS field.
 */
#ifndef HV_VM_HVM_H
#define HV_VM_HVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/vm/vm_exit.h"

struct vcpu;
struct gpa_map;
struct pagetable;

/* A segment register as the guest sees it (base, limit, access rights). */
struct seg_state {
	uint16_t selector;
	uint16_t attrib; /* descriptor bits 40-47 in 7:0, bits 52-55 in 11:8 */
	uint32_t limit;
	uint64_t base;
};

/* Architectural state for entering a vCPU the first time. */
struct vcpu_entry_state {
	uint64_t cr0, cr3, cr4, efer;
	struct seg_state cs, ds, es, fs, gs, ss, tr, ldtr;
	uint64_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit;
	uint64_t rip, rsp, rflags;
};

/* Control state the core needs to walk guest page tables and decode. */
struct vcpu_control_state {
	uint64_t cr0, cr3, cr4, efer;
	unsigned cpl;
	bool cs_long; /* CS.L: 64-bit code */
	bool cs_db;   /* CS.D: 32-bit default operand size */
	uint64_t cs_base;
};

/*
 * What a crash report shows beyond the control state (kernel/vm/crash_report.h):
 * read after an exit, on the vCPU's core, never on a hot path.
 */
struct vcpu_debug_state {
	uint32_t inject_info;  /* the event queued for the next entry (vm_exit.h's layout), 0: none */
	uint32_t inject_error;
	bool intr_shadow;      /* an STI or MOV SS shadow */
	bool nmi_blocked;
	uint64_t cr2;
	uint64_t idtr_base, gdtr_base;
	uint16_t idtr_limit, gdtr_limit;
};

enum event_type { EVENT_EXTERNAL_INTR, EVENT_NMI, EVENT_EXCEPTION };

/*
 * Instructions the backend lets a guest execute at all: without them the
 * guest gets #UD whatever CPUID says (on VT-x each needs a secondary
 * processor-based control, SDM Vol. 3C §25.6.2; on AMD-V they run unless
 * intercepted). The CPUID policy hides the matching bits when one is false.
 */
struct hvm_guest_caps {
	bool rdtscp;  /* RDTSCP and RDPID ("enable RDTSCP") */
	bool invpcid; /* INVPCID ("enable INVPCID") */
	bool xsaves;  /* XSAVES/XRSTORS ("enable XSAVES/XRSTORS") */
};

struct hvm_ops {
	const char *name;
	/* Per physical CPU, on that CPU: enable the extension. 0 or -1 with err. */
	int (*cpu_enable)(char *err, size_t errlen);
	int (*vcpu_create)(struct vcpu *v, char *err, size_t errlen);
	void (*vcpu_destroy)(struct vcpu *v);
	void (*vcpu_set_entry_state)(struct vcpu *v, const struct vcpu_entry_state *s);
	/*
	 * On the vCPU's core, as its loop leaves it: the vCPU may next run
	 * elsewhere. NULL: the backend keeps nothing per core (no call on a switch).
	 */
	void (*vcpu_unload)(struct vcpu *v);
	/*
	 * Runs the guest until the next exit; v->regs hold the GPRs, RIP and
	 * RFLAGS. Called with host interrupts off or on; a host interrupt pending
	 * at entry makes the guest exit at once, and is taken once the caller
	 * enables interrupts again.
	 */
	void (*vcpu_run)(struct vcpu *v, struct vm_exit *exit);
	void (*vcpu_get_control)(struct vcpu *v, struct vcpu_control_state *s);
	/*
	 * A data or code segment register as the guest has it now, by its Sreg
	 * number (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS; SDM Vol. 2A §3.1.1.3): the
	 * emulator adds its base and checks its limit and type. An unusable
	 * segment reads as not present (attrib bit 7 clear).
	 */
	void (*get_segment)(struct vcpu *v, unsigned sreg, struct seg_state *s);
	/*
	 * The guest's CR2, as an injected #PF needs it: neither backend's event
	 * injection writes it (SDM Vol. 3C §27.6.1.2 leaves CR2 to the VMM; APM
	 * Vol. 2 §15.20 likewise).
	 */
	void (*set_cr2)(struct vcpu *v, uint64_t cr2);
	/* Guest EFER (with the backend's own bits hidden) and writes to it. */
	uint64_t (*get_efer)(struct vcpu *v);
	void (*set_efer)(struct vcpu *v, uint64_t efer);
	uint64_t (*get_pat)(struct vcpu *v);
	void (*set_pat)(struct vcpu *v, uint64_t pat);
	/* A write to a guest-owned MSR that msr_write checked (msr_write_checked). */
	void (*set_owned_msr)(struct vcpu *v, uint32_t msr, uint64_t value);
	/* What RDTSC in the guest adds to the host's TSC (VMCB/VMCS TSC offset). */
	void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
	/* Queues an event for the next entry. */
	void (*inject_event)(struct vcpu *v, enum event_type type, uint8_t vector, bool has_error,
			     uint32_t error_code);
	/* The exiting instruction was emulated: its STI/MOV SS shadow is over. */
	void (*clear_interrupt_shadow)(struct vcpu *v);
	/* Can an external interrupt be delivered now (IF set, no shadow, nothing queued)? */
	bool (*interrupt_ready)(struct vcpu *v);
	/* Exit (EXIT_INTR_WINDOW) as soon as the guest can take an interrupt. */
	void (*set_interrupt_window)(struct vcpu *v, bool on);
	/*
	 * NMIs (the latch itself is kernel/vm/vnmi.c). After an exit, on the
	 * vCPU's core: does the guest block NMIs (an NMI delivered, its IRET
	 * not yet run)? Can one be injected now (not blocked, no STI / MOV SS
	 * shadow, nothing else queued)? Exit as soon as one can be: false if
	 * the backend has no way to, and the core must look again soon.
	 * Injecting EVENT_NMI starts the blocking the backend then reports.
	 */
	bool (*nmi_blocked)(struct vcpu *v);
	bool (*nmi_ready)(struct vcpu *v);
	bool (*set_nmi_window)(struct vcpu *v, bool on);
	/* Writes the guest-physical map as this backend's second-level tables (NPT, EPT). */
	int (*build_nested)(const struct gpa_map *m, struct pagetable *pt);
	/* Maps a device's registers (a passed-through BAR) uncached into those tables. */
	int (*map_mmio)(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size);
	/* The second-level table root changed (or was first built). */
	void (*set_nested_root)(struct vcpu *v, uint64_t root);
	/* For a crash report: after an exit, on the vCPU's core. */
	void (*get_debug_state)(struct vcpu *v, struct vcpu_debug_state *s);
	/* What the guest may execute (after cpu_enable on some core). */
	void (*guest_caps)(struct hvm_guest_caps *caps);
	/*
	 * On the vCPU's core before it runs (may be NULL): whether its spin
	 * loops should exit (EXIT_PAUSE) because its core is shared. SVM
	 * without a pause filter only; with a filter, or on VMX, long loops
	 * exit (or not) whatever `shared` says.
	 */
	void (*set_spin_exits)(struct vcpu *v, bool shared);
};

extern const struct hvm_ops *hvm;
/* Hypervisor option spinexit=1 (read by pvsched_init); without it set_spin_exits does nothing. */
extern bool hvm_spin_exits_wanted;
extern const struct hvm_ops svm_ops;
extern const struct hvm_ops vmx_ops;

/* Picks the backend for this CPU; false (with the reason) if none can run. */
bool hvm_select(char *why, size_t whylen);

#endif

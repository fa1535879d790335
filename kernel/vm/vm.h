/* VMs and their vCPUs: what they are, and their lifecycle. */
#ifndef HV_VM_VM_H
#define HV_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/gpa_map.h"
#include "guest/x86_emulate.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/pagetable.h"
#include "kernel/cpu/fpu.h"
#include "kernel/sched/policy.h"
#include "kernel/vm/iobus.h"
#include "kernel/vm/vm_exit.h"
#include "kernel/vm/exitprof.h"
#include "kernel/vm/fastpath.h"
#include "kernel/vm/pveoi.h"
#include "kernel/vm/vmca.h"
#include "kernel/vm/pvsched.h"
#include "kernel/vm/vnmi.h"

/*
 * Ceilings, not sizes: each VM's vCPU array and device state are allocated
 * for the vCPUs it has, and vms[] holds pointers only (8 bytes a slot), so
 * what really bounds them is host memory. VCPU_MAX stops a typo
 * (vcpus = 50000) from eating the heap; past 255 vCPUs the guest's MADT
 * lists the rest as x2APIC entries (guest/acpi_build.c).
 */
#define VM_MAX 1024
#define VM_NAME_LEN 32
#define VCPU_MAX 512
#define VM_OUTPUT_RING 8192 /* bytes of each VM's serial output kept for `console` */
#define VM_PATH_LEN 128

/*
 * CREATED: built, not started. RUNNING and PAUSED: its vCPU loops are on their
 * cores (a paused one sleeps there). REBOOTING: the loops are leaving so that
 * the VM can be reset. STOPPED: for good; its memory and cores are given back
 * once its loops have left (vmm_poll).
 */
enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_REBOOTING, VM_STOPPED };

enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_POWEROFF,
	VM_STOP_EXIT_PORT,
	VM_STOP_TRIPLE_FAULT,
	VM_STOP_HALTED,	/* HLT with interrupts off: nothing can wake it */
	VM_STOP_DESTROYED,
	VM_STOP_CRASH,	/* something the hypervisor cannot emulate */
	VM_STOP_REBOOT,	/* the guest reset itself (0xcf9, keyboard controller, ACPI) */
	VM_STOP_PANIC,	/* the guest kernel panicked and said so (pvpanic) */
};

struct vm;
struct vm_config;

struct vcpu_msrs {
	uint64_t apic_base;
	uint64_t mtrr_def_type;
	uint64_t mtrr_var[16];
	uint64_t mtrr_fixed[11];
	uint64_t amd_perf[8];
	/*
	 * guest TSC = host TSC + tsc_offset (mod 2^64). It is also what
	 * IA32_TSC_ADJUST reads: the guest starts on the host's TSC with
	 * TSC_ADJUST 0, and every write to either moves both by the same amount.
	 */
	uint64_t tsc_offset;
	uint64_t tsc_aux;    /* what RDTSCP returns in ECX (Linux: the CPU number) */
	uint64_t amd_de_cfg;
	uint64_t amd_hwcr;
	uint64_t spec_ctrl;  /* IA32_SPEC_CTRL, in the real MSR while the vCPU owns the core */
	uint64_t kvm_system_time; /* the KVM clock's page and enable bit (pvclock.h) */
	uint64_t kvm_wall_clock;
	struct pveoi pv_eoi; /* KVM's PV EOI: its MSR and the word it names (pveoi.h) */
	struct pvsched pvsched; /* KVM's steal time record (pvsched.h) */
	struct vmca mca;
};

/* One exit the slow path dispatched, for a crash report (kernel/vm/crash_report.h). */
#define VCPU_EXIT_TRAIL 8
struct vcpu_exit_note {
	uint64_t rip;
	uint64_t detail;     /* the port, MSR or guest-physical address, the exception vector */
	uint32_t raw_reason; /* the backend's code */
	uint8_t reason;	     /* enum vm_exit_reason */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	struct x86_regs regs;
	void *backend;
	struct vcpu_msrs msrs;
	struct fpu_state fpu;
	/* virtual interrupts: one pending vector (-1: none) and a one-shot timer */
	int pending_irq;
	uint64_t timer_deadline; /* host TSC; 0: not armed */
	uint8_t timer_vector;
	struct vnmi nmi; /* NMIs pending and blocked (kernel/vm/vintr.c drives it) */
	bool nmi_window;  /* the backend was asked for an NMI-window exit */
	uint64_t exits[EXIT_REASON_COUNT];
	uint64_t exits_total;
	struct vcpu_exit_note exit_trail[VCPU_EXIT_TRAIL]; /* the last ones, a ring */
	unsigned exit_trail_next;
	/* scheduling (kernel/sched): se.cpu is the core whose run queue holds it */
	struct sched_entity se;
	volatile bool active; /* on a run queue: nothing frees it meanwhile */
	volatile bool halted; /* the guest waits in HLT */
	volatile int move_to; /* vcpu-pin: its core moves it to that one; -1: stay */
	volatile bool waiting_sipi; /* an application processor before its STARTUP IPI */
	volatile bool hlt_nmi_only; /* waiting_sipi from HLT with IF=0: an NMI wakes it too */
	volatile bool pv_kicked; /* KVM_HC_KICK_CPU came: its next or current HLT ends (pvsched.h) */
	volatile uint64_t run_since; /* host TSC its core started running it; 0: not running */
	volatile uint64_t kicked_at;  /* host TSC of the first kick while blocked; 0: none */
	uint64_t wake_latency_sum, wake_latency_max, wakes; /* kick to entry, TSC ticks */
	uint32_t nested_seen; /* vm->nested_gen at its last entry: else its TLB is flushed */
	struct exitprof xprof; /* the exit path's profile (hypervisor option exitprof) */
	struct vcpu_fast fast; /* the exit fast path's view (kernel/vm/fastpath.h) */
};

struct vm_line_buffer {
	char text[160];
	unsigned len;
};

enum vm_console_id { VM_CONSOLE_COM1, VM_CONSOLE_HVC, VM_CONSOLES };

struct vm_output {
	struct vm_line_buffer line;
	char ring[VM_OUTPUT_RING];
	uint64_t total; /* bytes ever written */
};

struct vm {
	unsigned id;
	char name[VM_NAME_LEN];
	volatile enum vm_state state;
	enum vm_stop_reason stop_reason;
	uint64_t exit_code;
	spinlock_t lock;

	uint64_t ram_bytes;
	uint64_t ram_zeroed_bytes; /* zeroed at first use (gpa_map.h), kept when the RAM goes */
	/*
	 * Host memory the VM costs beyond its RAM, measured when it was built:
	 * everything its creation took from the frame allocator and the heap
	 * (vCPU state, VMCB/VMCS pages, chips, rings, tables), less its RAM;
	 * npt_bytes of it are its second-level page tables.
	 */
	uint64_t overhead_bytes, npt_bytes;
	struct gpa_map map;
	struct pagetable npt;
	/* bumped after a change to npt that removes or moves a mapping (passed-through BARs) */
	volatile uint32_t nested_gen;

	struct io_bus pio;
	struct io_bus mmio;
	void *devices; /* the VM's device models (kernel/vm/vm_devices.c) */
	void *platform; /* its PC chipset (kernel/vm/vplatform.c) */
	void *virtio;	/* its virtio devices (kernel/vm/vm_virtio.c) */
	/* host TSC by which a vCPU polls its disks (their kicks are off); 0: none */
	volatile uint64_t io_poll_due;
	void *pci;	/* its PCI bus (kernel/vm/vm_pci.c) */
	void *passthru; /* its passed-through host functions (kernel/vm/vm_passthru.c) */
	uint64_t start_tsc, stop_tsc; /* host TSC when it started and stopped */
	volatile bool restart_pending; /* stopped, and its on_* action says restart */
	uint32_t *io_counts; /* port I/O exits per port below 0x1000 (accounting), or NULL */
	unsigned restarts;
	/*
	 * Its consoles' output: COM1, and hvc0 when it has a virtio console
	 * (then `console NAME` attaches there). Each keeps its recent bytes for
	 * `console NAME` to replay, and a line buffer for the host's log.
	 */
	spinlock_t output_lock;
	struct vm_output out[VM_CONSOLES];
	bool has_hvc;

	char path[VM_PATH_LEN];	  /* the VM file it was created from */
	struct vm_config *config; /* that file, checked */
	uint64_t shutdown_deadline; /* host TSC when `shutdown` forces it off; 0: none */
	bool released;		  /* stopped, and its memory and cores given back */

	unsigned nvcpus;
	struct vcpu **vcpus; /* nvcpus of them, allocated with the VM */
	struct sched_share share; /* weight and cap, shared by its vCPUs */
	bool exclusive;		  /* its vCPUs own their cores */
	uint64_t unknown_msr_logs;
	bool exitmark_seen; /* its console showed the exitmark text (exitprof.h) */
};

extern struct vm *vms[VM_MAX];
extern unsigned vm_count;

const char *vm_stop_reason_name(enum vm_stop_reason r);
/* Stops the VM (first reason wins) and says so on the console. */
void vm_stop(struct vm *vm, enum vm_stop_reason reason, uint64_t code);
/*
 * A byte of the VM's serial output (COM1): kept in its ring; passed through
 * as is while its console is attached, else shown line by line as
 * "[name] text".
 */
void vm_console_putc(struct vm *vm, char c);
/* A byte the guest wrote to hvc0 (virtio console); shown as "[name/hvc0] text" when not attached. */
void vm_hvc_putc(struct vm *vm, char c);
/*
 * Attaches the host console to vm (NULL: detaches): to hvc0 when the VM has
 * one, else COM1; replays its recent output.
 */
void vm_console_attach(struct vm *vm);
struct vm *vm_console_attached(void);
/*
 * The VM's recent console output (the console `console NAME` attaches to)
 * from byte offset `since` of everything it ever wrote: copies what the
 * ring still holds, at most size bytes, into buf and returns how many;
 * *from is the offset of buf[0] (later than since when the ring has moved
 * on), *total the offset of the next byte the guest writes.
 */
size_t vm_console_read(struct vm *vm, uint64_t since, char *buf, size_t size, uint64_t *from,
		       uint64_t *total);
/* Makes each of the VM's vCPUs' cores look at it again (an IPI to each other core). */
void vm_kick(struct vm *vm);

/* Guest-physical memory access for device models and loaders. */
static inline int vm_read_gpa(struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
	return gpa_read(&vm->map, gpa, dst, len);
}

#endif

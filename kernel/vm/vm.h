/* VMs and their vCPUs: what they are, and their lifecycle. */
#ifndef HV_VM_VM_H
#define HV_VM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/gpa_map.h"
#include "guest/x86_emulate.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/pagetable.h"
#include "kernel/vm/iobus.h"
#include "kernel/vm/vm_exit.h"

#define VM_MAX 16
#define VM_NAME_LEN 32
#define VCPU_MAX 8

enum vm_state { VM_CREATED, VM_RUNNING, VM_PAUSED, VM_STOPPED };

enum vm_stop_reason {
	VM_STOP_NONE,
	VM_STOP_POWEROFF,
	VM_STOP_EXIT_PORT,
	VM_STOP_TRIPLE_FAULT,
	VM_STOP_HALTED,	/* HLT with interrupts off: nothing can wake it */
	VM_STOP_DESTROYED,
	VM_STOP_CRASH,	/* something the hypervisor cannot emulate */
};

struct vm;

struct vcpu_msrs {
	uint64_t apic_base;
	uint64_t mtrr_def_type;
	uint64_t mtrr_var[16];
	uint64_t mtrr_fixed[11];
	uint64_t amd_perf[8];
	uint64_t tsc_adjust; /* guest TSC = host TSC + tsc_adjust */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	unsigned pcpu;
	struct x86_regs regs;
	void *backend;
	struct vcpu_msrs msrs;
	/* virtual interrupts: one pending vector (-1: none) and a one-shot timer */
	int pending_irq;
	uint64_t timer_deadline; /* host TSC; 0: not armed */
	uint8_t timer_vector;
	uint64_t exits[EXIT_REASON_COUNT];
	uint64_t exits_total;
	volatile bool active; /* its loop runs on pcpu */
};

struct vm_line_buffer {
	char text[160];
	unsigned len;
};

struct vm {
	unsigned id;
	char name[VM_NAME_LEN];
	volatile enum vm_state state;
	enum vm_stop_reason stop_reason;
	uint64_t exit_code;
	spinlock_t lock;

	uint64_t ram_bytes;
	struct gpa_map map;
	struct pagetable npt;

	struct io_bus pio;
	struct io_bus mmio;
	void *devices; /* the VM's device models (kernel/vm/vm_devices.c) */
	struct vm_line_buffer console;

	unsigned nvcpus;
	struct vcpu *vcpus[VCPU_MAX];
	uint64_t unknown_msr_logs;
};

extern struct vm *vms[VM_MAX];
extern unsigned vm_count;

const char *vm_stop_reason_name(enum vm_stop_reason r);
/* Stops the VM (first reason wins) and says so on the console. */
void vm_stop(struct vm *vm, enum vm_stop_reason reason, uint64_t code);
/* A line of the VM's serial output, tagged with its name, on the host console. */
void vm_console_putc(struct vm *vm, char c);

/* Guest-physical memory access for device models and loaders. */
static inline int vm_read_gpa(struct vm *vm, uint64_t gpa, void *dst, size_t len)
{
	return gpa_read(&vm->map, gpa, dst, len);
}

#endif

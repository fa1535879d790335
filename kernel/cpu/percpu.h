/* Per-CPU data: one struct cpu per core, reached through GS. */
#ifndef HV_CPU_PERCPU_H
#define HV_CPU_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/lib/cpuset.h"

struct vcpu;

/*
 * The most host cores this build takes (dense indices 0..MAX_CPUS-1; APIC IDs
 * may be sparse and 32-bit). Only a limit: struct cpu, stacks, run queues and
 * the backends' per-core state are allocated at boot for the cores present.
 */
#define MAX_CPUS CPUSET_MAX

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define KERNEL_TSS 0x18

#define STACK_PAGES 4     /* 16 KiB kernel stack per CPU */
#define IST_STACK_PAGES 1 /* 4 KiB per IST stack */
enum ist_index { IST_NMI = 1, IST_DOUBLE_FAULT = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };

/* 64-bit TSS, SDM Vol. 3A §7.7 */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct stack_range {
	uint64_t bottom; /* lowest usable byte; the page below is a guard */
	uint64_t top;
};

/* What a core's TSC_AUX and SPEC_CTRL hold (kernel/vm/msr_policy.c; known: set once). */
struct cpu_msrs {
	bool known;
	uint64_t tsc_aux, spec_ctrl;
};

struct cpu {
	struct cpu *self; /* at GS:0 */
	uint32_t index;   /* 0 = the bootstrap processor */
	uint32_t apic_id;
	volatile bool online;
	volatile uint8_t boot_state; /* smp.c: 0 starting, 1 arrived, 2 given up on */
	struct stack_range stack;
	struct stack_range ist[IST_COUNT + 1];
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
	volatile uint64_t timer_ticks;
	volatile uint64_t nmi_count;
	volatile uint8_t timer_state; /* 0 untested, 1 fires, 2 silent */
	volatile bool timer_giveup;   /* the boot CPU stopped waiting for this AP's timer check */
	uint64_t timer_target; /* host TSC the one-shot timer is armed for */
	/* kernel/cpu/smp.c: work handed to this core */
	void (*volatile pending_call)(void);
	void (*volatile pending_work)(void *);
	void *volatile pending_arg;
	volatile uint64_t tlb_done; /* the host TLB generation this core has flushed up to */
	void *hvm; /* the VMX or SVM backend's state for this core (its cpu_enable allocates it) */
	struct vcpu *running; /* the vCPU in guest mode here now (kernel/vm/vplatform.c) */
	struct cpu_msrs msrs; /* kernel/vm/msr_policy.c */
};

/*
 * cpus[i] for i < cpu_count: the boot CPU's (static, needed before memory)
 * and one allocated per core the firmware lists, at smp_boot. A core that
 * did not start keeps its slot with online false.
 */
extern struct cpu **cpus;
extern unsigned cpu_count;
/* The cores online, as a set (kept with each struct cpu's online flag). */
extern struct cpuset cpus_online_set;

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* Loads this CPU's GDT, TSS, IDT and GS base. */
void cpu_local_init(struct cpu *c);
/* Allocates a CPU's stacks (each with an unmapped guard page below). */
int cpu_alloc_stacks(struct cpu *c);
unsigned cpus_online(void);

#endif

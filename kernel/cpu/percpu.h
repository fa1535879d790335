/* Per-CPU data: one struct cpu per core, reached through GS. */
#ifndef HV_CPU_PERCPU_H
#define HV_CPU_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS 64

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

struct cpu {
	struct cpu *self; /* at GS:0 */
	uint32_t index;   /* 0 = the bootstrap processor */
	uint32_t apic_id;
	volatile bool online;
	struct stack_range stack;
	struct stack_range ist[IST_COUNT + 1];
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
	volatile uint64_t timer_ticks;
	volatile uint64_t nmi_count;
	volatile uint8_t timer_state; /* 0 untested, 1 fires, 2 silent */
	uint64_t timer_target; /* host TSC the one-shot timer is armed for */
};

extern struct cpu cpus[MAX_CPUS];
extern unsigned cpu_count; /* CPUs set up (online or trying) */

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

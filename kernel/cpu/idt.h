/* The interrupt descriptor table and vector assignments. */
#ifndef HV_CPU_IDT_H
#define HV_CPU_IDT_H

#include <stdint.h>

/* Vectors the host uses; 0-31 are exceptions. */
#define VECTOR_TIMER 0xec
#define VECTOR_IPI_CALL 0xf0
#define VECTOR_VMX_CLEAR 0xf1 /* VT-x: a VMCLEAR another core asks for (vmx/vmx.c) */
#define VECTOR_LAPIC_ERROR 0xfe
#define VECTOR_SPURIOUS 0xff

/* What the entry stubs push: saved GPRs, then the hardware frame. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct trap_frame *f);

void idt_init(void);
void idt_load(void);
void irq_register(uint8_t vector, irq_handler_t handler);

#endif

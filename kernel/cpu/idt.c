#include "kernel/cpu/idt.h"

#include "kernel/cpu/percpu.h"

/* 64-bit interrupt gate, SDM Vol. 3A §6.14.1 */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
irq_handler_t irq_handlers[256];
extern const uint64_t isr_stub_table[256];

static void set_gate(unsigned v, uint64_t handler, uint8_t ist)
{
	idt[v] = (struct idt_gate){
	    .offset_low = (uint16_t)handler,
	    .selector = KERNEL_CS,
	    .ist = ist,
	    .type_attr = 0x8e, /* present, DPL 0, interrupt gate */
	    .offset_mid = (uint16_t)(handler >> 16),
	    .offset_high = (uint32_t)(handler >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, isr_stub_table[v], 0);
	/* faults that can hit with a bad stack get stacks of their own */
	idt[2].ist = IST_NMI;
	idt[8].ist = IST_DOUBLE_FAULT;
	idt[18].ist = IST_MACHINE_CHECK;
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void irq_register(uint8_t vector, irq_handler_t handler)
{
	irq_handlers[vector] = handler;
}

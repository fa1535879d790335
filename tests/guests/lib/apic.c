/* Interrupt-controller helpers for the test guests (see apic.h). */
#include "apic.h"

#include "guest.h"

#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_REDIR_BASE 0x10 /* entry n: low at 0x10 + 2n, high at 0x11 + 2n */

uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_IOREGSEL) = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_IOWIN);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_IOREGSEL) = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_IOWIN) = v;
}

void ioapic_set_pin(unsigned pin, uint32_t low, uint32_t dest_apic_id)
{
	ioapic_write(IOAPIC_REDIR_BASE + 2 * pin + 1, dest_apic_id << 24);
	ioapic_write(IOAPIC_REDIR_BASE + 2 * pin, low);
}

void ioapic_mask_pin(unsigned pin)
{
	ioapic_write(IOAPIC_REDIR_BASE + 2 * pin, IOAPIC_REDIR_MASKED);
}

void pic_mask_all(void)
{
	outb(0x21, 0xff); /* master 8259 IMR */
	outb(0xa1, 0xff); /* slave */
}

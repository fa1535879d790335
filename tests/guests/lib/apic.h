/*
 * Interrupt controllers for the test guests that take interrupts: the local
 * APIC in xAPIC mode at its reset base (SDM Vol. 3A §11.4.1, register map
 * Table 11-1), the IOAPIC at 0xfec00000 (Intel 82093AA datasheet §3) and the
 * 8259 pair, which these guests keep masked.
 */
#ifndef GUEST_LIB_APIC_H
#define GUEST_LIB_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_SVR_ENABLE 0x100 /* APIC software enable */

#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_VER 0x01			/* bits 23:16: the highest redirection entry */
#define IOAPIC_REDIR_NMI (4u << 8)	/* delivery mode NMI (else fixed) */
#define IOAPIC_REDIR_LEVEL (1u << 15)	/* level triggered (else edge) */
#define IOAPIC_REDIR_MASKED (1u << 16)

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

/* This CPU's xAPIC ID (bits 31:24 of the ID register). */
static inline uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

/* Software-enables the local APIC with this spurious-interrupt vector. */
static inline void lapic_enable(uint8_t spurious_vector)
{
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | spurious_vector);
}

static inline void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* IOAPIC registers through the index (IOREGSEL) and data (IOWIN) windows. */
uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);

/*
 * A pin's redirection entry: `low` (vector, delivery mode, trigger, mask) and
 * a physical destination APIC ID. The high half goes first, so the entry is
 * never live with a stale destination.
 */
void ioapic_set_pin(unsigned pin, uint32_t low, uint32_t dest_apic_id);
void ioapic_mask_pin(unsigned pin);

/* Masks every line of both 8259s, so nothing reaches the CPU through them. */
void pic_mask_all(void);

#endif

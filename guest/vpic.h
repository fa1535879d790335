/*
 * The PC's pair of 8259A interrupt controllers: master at 0x20/0x21, slave at
 * 0xa0/0xa1 cascaded on the master's IR2, and the PIIX/ICH edge/level control
 * registers (ELCR) at 0x4d0/0x4d1.
 *
 * Device models raise and lower IRQ lines 0..15 with vpic_set_irq(); the
 * master's INT output goes out through the int_output callback; the core
 * performs the CPU's interrupt-acknowledge cycle with vpic_ack(), which
 * returns the vector to inject. Pure state machine, no knowledge of the bus.
 */
#ifndef HV_GUEST_VPIC_H
#define HV_GUEST_VPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VPIC_MASTER_PORT 0x20
#define VPIC_SLAVE_PORT 0xa0
#define VPIC_ELCR_PORT 0x4d0
#define VPIC_NR_PORTS 2	/* each of the three ranges is two ports */

#define VPIC_MASTER 0
#define VPIC_SLAVE 1
#define VPIC_CASCADE_IRQ 2

/* One 8259A. */
struct vpic_chip {
	uint8_t irr;		/* interrupt request register */
	uint8_t isr;		/* in-service register */
	uint8_t imr;		/* interrupt mask register (OCW1) */
	uint8_t lines;		/* input levels as last driven */
	uint8_t elcr;		/* 1 = level-triggered input */
	uint8_t elcr_mask;	/* ELCR bits that exist */
	uint8_t vector_base;	/* ICW2 & 0xf8 */
	uint8_t icw3;
	uint8_t lowest_first;	/* IR with the highest priority (rotation) */
	uint8_t init_step;	/* 0: operational; 2..4: next ICW expected */
	bool icw4_needed, single, auto_eoi, rotate_on_aeoi;
	bool special_mask, special_nested, read_isr, poll;
};

struct vpic {
	struct vpic_chip chip[2];
	bool output;		/* the master's INT pin as last reported */
	void (*int_output)(void *ctx, bool level);
	void *ctx;
};

/*
 * Resets both chips to the state a PC BIOS leaves them in, for guests booted
 * without one: initialised for 8086 mode with vector bases 0x08 and 0x70,
 * every line masked except the cascade, nothing pending, all edge-triggered.
 */
void vpic_init(struct vpic *pic, void (*int_output)(void *ctx, bool level), void *ctx);

/* A guest IN/OUT at `offset` (0 or 1) of chip VPIC_MASTER or VPIC_SLAVE. */
uint8_t vpic_read(struct vpic *pic, unsigned chip, uint16_t offset);
void vpic_write(struct vpic *pic, unsigned chip, uint16_t offset, uint8_t val);

/* A guest IN/OUT at 0x4d0 (offset 0: IRQ 0-7) or 0x4d1 (offset 1: IRQ 8-15). */
uint8_t vpic_elcr_read(struct vpic *pic, uint16_t offset);
void vpic_elcr_write(struct vpic *pic, uint16_t offset, uint8_t val);

/*
 * Drives input line `irq` (0..15; 2 is the cascade and is ignored). Edge
 * inputs latch a request on a rising edge, level inputs request while high.
 */
void vpic_set_irq(struct vpic *pic, unsigned irq, bool level);

/* Whether the master's INT output is asserted (an interrupt is deliverable). */
bool vpic_has_interrupt(const struct vpic *pic);

/*
 * The INTA cycle: picks the highest-priority request, marks it in service
 * (unless auto-EOI) and returns its vector. With nothing to deliver (the
 * request went away) it returns the chip's IR7 vector without setting ISR:
 * the spurious IRQ 7 or, through the slave, IRQ 15.
 */
uint8_t vpic_ack(struct vpic *pic);

#endif

/*
 * An 82093AA I/O APIC as a guest sees it at 0xfec00000: the index register
 * IOREGSEL at offset 0x00 and the data window IOWIN at 0x10 (aligned 32-bit
 * accesses), behind which lie the ID, version (0x11, 24 pins), arbitration
 * ID and 24 64-bit redirection entries.
 *
 * Device models drive input pins with vioapic_set_irq(); `level` means
 * asserted, in the sense the guest's redirection entry expects (polarity is
 * kept for the guest to read back; the core wires active-low PCI lines as
 * asserted-high, as KVM does). An unmasked entry turns a rising edge (edge
 * mode) or an asserted line with remote IRR clear (level mode) into one
 * message out through the deliver callback; the core routes it to local
 * APICs (vlapic_matches, vlapic_deliver). Level-triggered fixed/lowest
 * messages set remote IRR until the guest's EOI of that vector reaches
 * vioapic_eoi(), which re-delivers if the line is still asserted.
 */
#ifndef HV_GUEST_VIOAPIC_H
#define HV_GUEST_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VIOAPIC_DEFAULT_BASE 0xfec00000ull
#define VIOAPIC_MMIO_SIZE 0x20		/* the two registers; the chip decodes 4 KiB */
#define VIOAPIC_NR_PINS 24
#define VIOAPIC_VERSION 0x00170011u	/* max redirection entry 23, version 0x11 */

/* MMIO offsets. */
#define VIOAPIC_IOREGSEL 0x00
#define VIOAPIC_IOWIN 0x10

/* Indirect register indices. */
#define VIOAPIC_REG_ID 0x00
#define VIOAPIC_REG_VER 0x01
#define VIOAPIC_REG_ARB 0x02
#define VIOAPIC_REG_REDIR 0x10		/* entry n: 0x10 + 2n (low), 0x11 + 2n (high) */

/* Redirection entry fields (82093AA datasheet §3.2.4). */
#define VIOAPIC_RTE_VECTOR 0xffull
#define VIOAPIC_RTE_DELIVERY_SHIFT 8
#define VIOAPIC_RTE_DEST_LOGICAL (1ull << 11)
#define VIOAPIC_RTE_DELIVERY_STATUS (1ull << 12)
#define VIOAPIC_RTE_POLARITY_LOW (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define VIOAPIC_RTE_LEVEL (1ull << 15)
#define VIOAPIC_RTE_MASKED (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

struct vioapic {
	uint32_t id;			/* ID register: bits 27:24 */
	uint32_t ioregsel;
	uint64_t redir[VIOAPIC_NR_PINS];
	uint32_t lines;			/* asserted input pins */
	void (*deliver)(void *ctx, unsigned dest_mode, uint32_t dest, unsigned delivery_mode,
			uint8_t vector, bool level_triggered);
	void *ctx;
};

/*
 * Reset: ID `id` (0..15), every entry masked, edge, all lines low.
 * deliver may be NULL.
 */
void vioapic_init(struct vioapic *io, uint8_t id,
		  void (*deliver)(void *ctx, unsigned dest_mode, uint32_t dest,
				  unsigned delivery_mode, uint8_t vector, bool level_triggered),
		  void *ctx);

/*
 * A guest access at `offset` from the base: IOREGSEL (0x00) or IOWIN
 * (0x10). Other offsets read all ones and ignore writes; so do IOWIN
 * accesses to register indices that do not exist.
 */
uint32_t vioapic_mmio_read(struct vioapic *io, uint32_t offset);
void vioapic_mmio_write(struct vioapic *io, uint32_t offset, uint32_t val);

/* Drives input pin `pin` (0..23; others ignored). */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level);

/*
 * A local APIC broadcast the EOI of a level-triggered `vector`: clears
 * remote IRR of every entry with that vector, re-delivering where the line
 * is still asserted and unmasked.
 */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

/* The redirection entry of `pin`, for the core's diagnostics and routing. */
uint64_t vioapic_entry(const struct vioapic *io, unsigned pin);

/* Whether an unmasked entry has NMI delivery mode (a device line may raise an NMI). */
bool vioapic_routes_nmi(const struct vioapic *io);

#endif

/*
 * A High Precision Event Timer block as a guest sees it at 0xfed00000 (IA-PC
 * HPET Specification 1.0a): a 64-bit main counter at VHPET_HZ and three
 * comparators, in the shape of Intel's ICH parts. Timer 0 is 64-bit and
 * periodic-capable; timers 1 and 2 are 32-bit one-shot timers. Every timer
 * may be routed to IOAPIC pins 20-23 (VHPET_ROUTE_CAP); in legacy replacement
 * mode timer 0 drives ISA IRQ 0 and timer 1 ISA IRQ 8 instead, and the PIT's
 * and RTC's own interrupts are cut off (the platform asks
 * vhpet_legacy_replacement()). FSB (MSI) delivery is not offered.
 *
 * Time comes from the caller: every entry point takes `now`, nanoseconds of
 * guest time, never decreasing. Interrupt outputs go out through set_irq:
 * `isa` false for an IOAPIC input pin, true for ISA IRQ 0 or 8 in legacy
 * replacement mode. A level-triggered timer holds its line asserted while
 * its status bit is set; an edge-triggered one pulses it (high, then low).
 * vhpet_update() reports what happened up to `now` and says when the next
 * interrupt is due, so the core can arm a timer for it.
 */
#ifndef HV_GUEST_VHPET_H
#define HV_GUEST_VHPET_H

#include <stdbool.h>
#include <stdint.h>

#define VHPET_BASE 0xfed00000ull
#define VHPET_MMIO_SIZE 0x400		/* 1 KiB of registers (§2.3.1) */
#define VHPET_TIMERS 3
#define VHPET_HZ 10000000ull		/* 10 MHz */
#define VHPET_PERIOD_FS 100000000ull	/* 10^15 / VHPET_HZ: 100 ns, the spec's maximum */
#define VHPET_NO_DEADLINE UINT64_MAX
#define VHPET_ROUTE_CAP 0x00f00000u	/* IOAPIC pins 20-23, as ICH9 (and < 24 pins) */
#define VHPET_MIN_TICK 128		/* the ACPI table's minimum periodic tick, in clocks */

/* Register offsets (§2.3.1, Table 2). */
#define VHPET_REG_CAP 0x000		/* General Capabilities and ID */
#define VHPET_REG_CONFIG 0x010		/* General Configuration */
#define VHPET_REG_STATUS 0x020		/* General Interrupt Status */
#define VHPET_REG_COUNTER 0x0f0		/* Main Counter Value */
#define VHPET_REG_TIMER(n) (0x100 + 0x20 * (n))	/* Timer n Configuration and Capability */
#define VHPET_REG_CMP(n) (0x108 + 0x20 * (n))	/* Timer n Comparator Value */
#define VHPET_REG_FSB(n) (0x110 + 0x20 * (n))	/* Timer n FSB Interrupt Route */

/* General Capabilities and ID (§2.3.4). */
#define VHPET_CAP_REV_ID 0x01ull
#define VHPET_CAP_NUM_TIM_SHIFT 8	/* number of the last timer */
#define VHPET_CAP_COUNT_SIZE (1ull << 13)	/* 64-bit main counter */
#define VHPET_CAP_LEG_RT (1ull << 15)
#define VHPET_CAP_VENDOR_SHIFT 16
#define VHPET_CAP_PERIOD_SHIFT 32

/* General Configuration (§2.3.5). */
#define VHPET_CFG_ENABLE (1ull << 0)
#define VHPET_CFG_LEGACY (1ull << 1)

/* Timer n Configuration and Capability (§2.3.8). */
#define VHPET_TN_INT_TYPE_LEVEL (1ull << 1)
#define VHPET_TN_INT_ENB (1ull << 2)
#define VHPET_TN_TYPE_PERIODIC (1ull << 3)
#define VHPET_TN_PER_INT_CAP (1ull << 4)
#define VHPET_TN_SIZE_CAP (1ull << 5)	/* 64-bit comparator */
#define VHPET_TN_VAL_SET (1ull << 6)
#define VHPET_TN_32MODE (1ull << 8)
#define VHPET_TN_ROUTE_SHIFT 9
#define VHPET_TN_ROUTE_MASK (0x1full << VHPET_TN_ROUTE_SHIFT)
#define VHPET_TN_FSB_EN (1ull << 14)
#define VHPET_TN_FSB_DEL_CAP (1ull << 15)
#define VHPET_TN_ROUTE_CAP_SHIFT 32

struct vhpet_timer {
	uint64_t config;	/* the writable bits of its configuration register */
	uint64_t cmp;		/* the comparator: the next match */
	uint64_t period;	/* periodic mode: the last value written, added at each match */
};

struct vhpet {
	uint64_t config;	/* General Configuration: ENABLE_CNF, LEG_RT_CNF */
	uint64_t status;	/* General Interrupt Status: level-triggered timers' bits */
	uint64_t counter;	/* halted: the value; running: the value at run_start */
	uint64_t run_start;	/* guest ns at which the counter last started */
	uint64_t checked;	/* counter value up to which comparator matches are done */
	uint64_t last;		/* the latest `now` seen */
	struct vhpet_timer timer[VHPET_TIMERS];
	uint32_t gsi_level;	/* IOAPIC pins as last driven */
	uint8_t isa_level;	/* bit 0: ISA IRQ 0, bit 1: ISA IRQ 8, as last driven */
	void (*set_irq)(void *ctx, bool isa, unsigned line, bool level);
	void *ctx;
};

/* Power-on state: halted at 0, every timer disabled. set_irq may be NULL. */
void vhpet_init(struct vhpet *h, void (*set_irq)(void *ctx, bool isa, unsigned line, bool level),
		void *ctx, uint64_t now);

/*
 * A guest access of `size` bytes (4 or 8; 1 and 2 read their bytes, writes
 * ignored) at `offset` from the base. Reserved registers and misaligned
 * accesses read 0 and ignore writes.
 */
uint64_t vhpet_read(struct vhpet *h, uint32_t offset, unsigned size, uint64_t now);
void vhpet_write(struct vhpet *h, uint32_t offset, unsigned size, uint64_t val, uint64_t now);

/*
 * Reports comparator matches up to `now` (any number of elapsed periods make
 * one interrupt) and returns the guest time in ns at which the next interrupt
 * is due, or VHPET_NO_DEADLINE. Call it when that time comes and after each
 * register access.
 */
uint64_t vhpet_update(struct vhpet *h, uint64_t now);

/* Whether legacy replacement routing is on (the PIT and RTC interrupts are cut off). */
bool vhpet_legacy_replacement(const struct vhpet *h);

/* The General Capabilities and ID register (its low half is the ACPI table's block ID). */
uint64_t vhpet_capabilities(void);

/* Main counter clocks elapsed at `ns`, and the first ns at which `tick` is reached. */
uint64_t vhpet_ns_to_ticks(uint64_t ns);
uint64_t vhpet_ticks_to_ns(uint64_t tick);

#endif

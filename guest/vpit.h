/*
 * The 8254 programmable interval timer at ports 0x40-0x43, and the PC's
 * system control port 0x61 (channel 2 gate, speaker enable, channel 2 output
 * readback), as a guest sees them.
 *
 * Time comes from the caller: every entry point takes `now`, nanoseconds of
 * guest time, never decreasing. The counters run from the 1.193182 MHz PC
 * clock derived from it. Channel 0's output is IRQ 0: its transitions go out
 * through the set_irq0 callback, a rising edge always as a fresh low-to-high
 * step. vpit_update() reports what happened up to `now` and says when the
 * next rising edge is due, so the core can arm a timer for it.
 */
#ifndef HV_GUEST_VPIT_H
#define HV_GUEST_VPIT_H

#include <stdbool.h>
#include <stdint.h>

#define VPIT_PORT 0x40		/* 0x40-0x42 counters, 0x43 control word */
#define VPIT_NR_PORTS 4
#define VPIT_PORT61 0x61	/* system control port B */
#define VPIT_HZ 1193182u	/* 14.31818 MHz / 12 */
#define VPIT_NO_DEADLINE UINT64_MAX

#define VPIT_PORT61_GATE2 0x01	/* channel 2 gate */
#define VPIT_PORT61_SPEAKER 0x02	/* speaker data enable */
#define VPIT_PORT61_REFRESH 0x10	/* toggles every 15.085 us */
#define VPIT_PORT61_OUT2 0x20	/* channel 2 output */

struct vpit_channel {
	uint8_t mode;		/* 0..5 */
	uint8_t access;		/* 1: LSB only, 2: MSB only, 3: LSB then MSB */
	bool bcd;
	bool gate;
	bool armed;		/* a count was written since the control word */
	bool running;		/* counting now (modes 1 and 5: triggered) */
	uint32_t count_reg;	/* the last count written, in binary, 1..65536 */
	uint32_t n;		/* the count the counter is working with */
	uint64_t start;		/* PIT tick at which counting from n began */
	uint64_t frozen;	/* ticks counted when counting stopped */
	/* Modes 2 and 3: a new count takes over at the end of the period. */
	bool next_pending;
	uint32_t next_n;
	uint64_t next_start;
	/* Access state. */
	uint8_t write_lsb;
	bool write_msb_next, read_msb_next;
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;
	bool null_count;
};

struct vpit {
	struct vpit_channel ch[3];
	uint8_t port61;		/* bits 3:0 as written */
	bool irq_level;		/* channel 0's output as last reported */
	uint64_t irq_tick;	/* tick up to which channel 0 was reported */
	void (*set_irq0)(void *ctx, bool level);
	void *ctx;
};

/*
 * Resets the PIT with no channel programmed: each waits in mode 0 for a
 * count (output low, nothing counting); channel 2's gate is low. set_irq0
 * may be NULL.
 */
void vpit_init(struct vpit *pit, void (*set_irq0)(void *ctx, bool level), void *ctx,
	       uint64_t now);

/* A guest IN/OUT at `offset` (0..3) of ports 0x40-0x43. */
uint8_t vpit_read(struct vpit *pit, uint16_t offset, uint64_t now);
void vpit_write(struct vpit *pit, uint16_t offset, uint8_t val, uint64_t now);

/* A guest IN/OUT at port 0x61. */
uint8_t vpit_port61_read(struct vpit *pit, uint64_t now);
void vpit_port61_write(struct vpit *pit, uint8_t val, uint64_t now);

/*
 * Reports channel 0's output up to `now` through set_irq0 (any number of
 * elapsed periods since the last call make one edge) and returns the guest
 * time in ns of its next rising edge, or VPIT_NO_DEADLINE. Call it when that
 * time comes and after each port access (accesses report edges up to their
 * own `now` themselves, but may move the deadline).
 */
uint64_t vpit_update(struct vpit *pit, uint64_t now);

/* PIT clock ticks elapsed at `ns`, and the first ns at which `tick` is reached. */
uint64_t vpit_ns_to_ticks(uint64_t ns);
uint64_t vpit_ticks_to_ns(uint64_t tick);

#endif

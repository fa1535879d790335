/*
 * The e1000e driver's descriptor rings, hosted-testable: legacy RX and TX
 * descriptors (e1000e_regs.h) over buffers of E1000E_BUF_SIZE bytes, one
 * per descriptor, and the tail registers that hand descriptors over. The
 * registers are reached through a plain pointer to BAR0, so the unit tests
 * give the rings a fake register file (an array) and play the device by
 * writing descriptors themselves.
 *
 * What the device writes is checked before it is used: a descriptor is
 * looked at only while the device owns it (so a stray DD bit on one it was
 * never given is ignored), a length outside 14..ETH_FRAME_MAX or beyond the
 * buffer, a frame spread over several buffers (no EOP) and the error bits
 * each drop the frame and count it; nothing the device says moves an index
 * past what the driver handed over.
 *
 * RX tail semantics (the Intel GbE line's): the device owns the
 * descriptors from its head up to, not including, RDT. The driver keeps
 * one descriptor back, so a full ring is never mistaken for an empty one:
 * RDT is always the last descriptor reaped (QEMU's e1000e reads it so too).
 *
 * Locking is the caller's: one RX context at a time per ring, and the TX
 * ring under the driver's TX lock.
 */
#ifndef HV_DRIVERS_NET_E1000E_RING_H
#define HV_DRIVERS_NET_E1000E_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/net/e1000e_regs.h"
#include "kernel/net/netdev.h"
#include "kernel/net/netframe.h"

#define E1000E_BUF_SIZE 2048u /* RCTL.BSIZE 2048: a whole frame without LPE */

static inline uint32_t e1000e_rd32(volatile uint8_t *regs, uint32_t off)
{
	return *(volatile uint32_t *)(regs + off);
}

static inline void e1000e_wr32(volatile uint8_t *regs, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(regs + off) = v;
}

struct e1000e_rx {
	volatile uint8_t *regs;
	uint32_t rdt;			 /* RDT's offset */
	volatile struct e1000_rx_desc *desc;
	uint8_t *buf;			 /* size * E1000E_BUF_SIZE, the CPU's view */
	uint64_t buf_dma;		 /* the same, as the device addresses it */
	unsigned size;			 /* descriptors, a multiple of 8 */
	unsigned next;			 /* the next descriptor the device fills */
	unsigned held;			 /* reaped, not yet given back (they end at next) */
	bool discarding;		 /* inside a frame spread over buffers: dropped up to its EOP */
	/* why frames were dropped (each is in stats->rx_errors too) */
	uint64_t bad_len, split, hw_errors;
};

/*
 * Sets the ring up over desc and buf (size descriptors) and arms every
 * descriptor; RDT is not written yet (e1000e_rx_start, once RDBA/RDLEN/RDH are).
 * False when size is not a multiple of 8 of at least 8.
 */
bool e1000e_rx_init(struct e1000e_rx *r, volatile uint8_t *regs, uint32_t rdt,
		    volatile struct e1000_rx_desc *desc, uint8_t *buf, uint64_t buf_dma, unsigned size);
/* Hands every descriptor but one to the device: RDT = size - 1. */
void e1000e_rx_start(struct e1000e_rx *r);
/*
 * Takes up to max received frames into out[] (data pointing into the ring's
 * buffers, valid until e1000e_rx_refill), counting them and the dropped
 * ones in st. Returns how many frames; *used says how many descriptors were
 * consumed (dropped frames included): 0 when the device had nothing done.
 */
unsigned e1000e_rx_reap(struct e1000e_rx *r, struct net_frame *out, unsigned max, unsigned *used,
			struct netdev_stats *st);
/* Gives the reaped descriptors back (re-armed) and moves RDT past them. */
void e1000e_rx_refill(struct e1000e_rx *r);

struct e1000e_tx {
	volatile uint8_t *regs;
	uint32_t tdt;			 /* TDT's offset */
	volatile struct e1000_tx_desc *desc;
	uint8_t *buf;
	uint64_t buf_dma;
	unsigned size;
	unsigned tail;  /* the next descriptor the driver fills: TDT */
	unsigned clean; /* the oldest one not yet reclaimed */
	/* why frames were not sent (each is in stats->tx_drops too) */
	uint64_t full, bad_frame;
};

bool e1000e_tx_init(struct e1000e_tx *t, volatile uint8_t *regs, uint32_t tdt,
		    volatile struct e1000_tx_desc *desc, uint8_t *buf, uint64_t buf_dma, unsigned size);
/* Descriptors free for frames. */
unsigned e1000e_tx_free(const struct e1000e_tx *t);
/* Takes back the descriptors the device is done with (DD, in order); returns how many. */
unsigned e1000e_tx_reclaim(struct e1000e_tx *t, struct netdev_stats *st);
/*
 * Copies frames into the ring's buffers and writes TDT once. A frame that
 * is empty, longer than ETH_FRAME_MAX, or asks for an offload is dropped;
 * so is what does not fit. Returns how many frames were queued; every other
 * one is counted in st->tx_drops.
 */
unsigned e1000e_tx_put(struct e1000e_tx *t, struct net_frame *const *frames, unsigned n,
		       struct netdev_stats *st);

#endif

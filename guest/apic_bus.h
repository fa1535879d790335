/*
 * The APIC bus of one VM: which of its local APICs a message reaches. Every
 * sender uses it, the IOAPIC's redirections (source NULL) and the local
 * APICs' IPIs (source: the sending APIC), so destination decoding lives in
 * one place, beside the APIC model, and is tested hosted.
 *
 * Destinations are decoded by each target (vlapic_matches: physical,
 * logical flat or cluster per that APIC's DFR, x2APIC cluster, shorthands).
 * A lowest-priority message then goes to exactly one of the matching APICs
 * (SDM Vol. 3A §11.6.2.4): the focus processor (one that already has the
 * vector in IRR or ISR, with focus checking enabled in its SVR), else the one
 * whose processor priority class is lowest, ties taken in turn (the
 * hardware's arbitration rotates too; KVM round-robins). Only software-enabled
 * APICs accept a fixed interrupt, so only they compete.
 */
#ifndef HV_GUEST_APIC_BUS_H
#define HV_GUEST_APIC_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/vlapic.h"

/* Words of a destination set of n APICs: bit i of word i / 64 is lapics[i]. */
#define APIC_BUS_WORDS(n) (((n) + 63u) / 64u)

/*
 * The APICs (indices into lapics[0..n-1]) that take the message, as a set
 * in targets (APIC_BUS_WORDS(n) words, all written); returns how many.
 * *rotor carries the tie-break between calls (start it at 0). Any n: a
 * VM's vCPU count bounds nothing here.
 */
unsigned apic_bus_targets(const struct vlapic *lapics, unsigned n, const struct vlapic *source,
			  unsigned dest_mode, uint32_t dest, unsigned shorthand,
			  unsigned delivery_mode, uint8_t vector, unsigned *rotor,
			  uint64_t *targets);

static inline bool apic_bus_has(const uint64_t *targets, unsigned i)
{
	return targets[i / 64] >> (i % 64) & 1;
}

#endif

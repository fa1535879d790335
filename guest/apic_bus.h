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

#include <stdint.h>

#include "guest/vlapic.h"

#define APIC_BUS_MAX 32 /* targets are returned as a bitmask */

/*
 * The APICs (indices into lapics[0..n-1], as bits) that take the message.
 * *rotor carries the tie-break between calls (start it at 0).
 */
uint32_t apic_bus_targets(const struct vlapic *lapics, unsigned n, const struct vlapic *source,
			  unsigned dest_mode, uint32_t dest, unsigned shorthand,
			  unsigned delivery_mode, uint8_t vector, unsigned *rotor);

#endif

/*
 * Finishing a frame's offloads in software, for a port that cannot take
 * them (a NIC without checksum offload, lwIP, a VM that did not negotiate
 * them): the L4 checksum of a NEEDS_CSUM frame, and the segmentation of a
 * TCP GSO frame into MTU-sized frames with their IP and TCP headers fixed
 * (IPv4 id, total length and header checksum; IPv6 payload length; TCP
 * sequence number, flags FIN/PSH only on the last, CWR only on the first,
 * and the checksum). Pure logic, hosted-tested.
 *
 * Every offset the frame's offload fields name is checked against its
 * length and its headers before anything is read or written; a frame that
 * does not add up is refused (-1), never guessed at.
 */
#ifndef HV_NET_NET_OFFLOAD_H
#define HV_NET_NET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/net/netframe.h"

/* Whether f's offload fields are consistent with its bytes (what the switch checks on input). */
bool net_offload_valid(const struct net_frame *f);
/* Fills in the checksum of a NEEDS_CSUM frame in place and clears the flag (sets DATA_VALID). 0 or -1. */
int net_offload_csum(struct net_frame *f);
/*
 * Cuts a GSO frame into segments of at most gso_size payload each, with
 * complete checksums, calling emit() for each (its frame lives only during
 * the call). scratch holds one segment (>= hdr_len + gso_size bytes).
 * Returns the number of segments, or -1 (malformed; nothing emitted).
 */
int net_offload_segment(const struct net_frame *f, uint8_t *scratch, size_t scratch_len,
			void (*emit)(void *ctx, struct net_frame *seg), void *ctx);
/* RFC 1071 one's-complement sum helpers (exported for the tests and the models). */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_csum_fold(uint32_t sum);

#endif

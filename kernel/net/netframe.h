/*
 * An Ethernet frame as it moves between the ports of a virtual switch
 * (kernel/net/switch.h): the bytes from the destination MAC on, without
 * the FCS, and what is still to be done to it (offloads).
 *
 * The offload fields mean exactly what virtio_net_hdr's do (virtio 1.2
 * §5.1.6), so a frame from one VM reaches another VM that negotiated the
 * same offloads unchanged; for a port without them the switch finishes the
 * work in software first (net_offload.h: checksum, then segmentation).
 *
 * A frame's data belongs to whoever passed it in, and only for the
 * duration of the call: a receiver copies what it keeps.
 */
#ifndef HV_NET_NETFRAME_H
#define HV_NET_NETFRAME_H

#include <stdbool.h>
#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_MTU 1500
#define ETH_FRAME_MAX 1518     /* MTU + header + one VLAN tag */
#define NET_GSO_FRAME_MAX 65550 /* a TSO frame: 64 KiB of IP plus the Ethernet header */
#define NET_BATCH_MAX 64	/* frames handed over in one call, at most */

/* flags (virtio_net_hdr.flags) */
#define NET_OFF_NEEDS_CSUM 1 /* the L4 checksum is at csum_start + csum_offset, seeded with the pseudo-header sum */
#define NET_OFF_DATA_VALID 2 /* the checksums were checked (received) or are known good */

/* gso_type (virtio_net_hdr.gso_type) */
#define NET_GSO_NONE 0
#define NET_GSO_TCPV4 1
#define NET_GSO_UDP 3
#define NET_GSO_TCPV6 4
#define NET_GSO_ECN 0x80

struct net_offload {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;     /* Ethernet + IP + TCP headers of a GSO frame */
	uint16_t gso_size;    /* the payload of each segment */
	uint16_t csum_start;  /* from the start of the frame */
	uint16_t csum_offset; /* from csum_start */
};

struct net_frame {
	uint8_t *data;
	uint32_t len; /* <= ETH_FRAME_MAX, or <= NET_GSO_FRAME_MAX with a gso_type */
	struct net_offload off;
};

static inline bool eth_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1; /* broadcast included */
}

static inline bool eth_is_broadcast(const uint8_t *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

#endif

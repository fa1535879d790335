/*
 * virtio-net (virtio 1.2 §5.1), device type 1: a VM's NIC as a port of a
 * virtual switch (kernel/net/switch.h). Two queues, 0 receiveq and 1
 * transmitq; no control queue, no multiqueue.
 *
 * Offered: VERSION_1, MAC, STATUS (the link is always up), MRG_RXBUF,
 * CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6, EVENT_IDX, INDIRECT_DESC.
 * The offloads pass through the switch as struct net_offload (the same
 * meaning as virtio_net_hdr's fields); the port's caps follow the GUEST_*
 * features the driver accepted, so the switch finishes checksums and
 * segments TSO frames for a VM that did not take them.
 *
 * Transmit: chains are popped in batches of at most NET_BATCH_MAX, each
 * 12-byte header checked and each frame copied into the device's own
 * buffer (bounded: VNET_TX_ARENA), and every chain is returned at once;
 * then, with the device's lock dropped, the batch goes to
 * net_switch_input(). A frame that is too short, too long, or whose header
 * asks for what was not negotiated is dropped and counted (tx_dropped); it
 * is never read past its length, and it does not break the device. With
 * poll_mode (the hypervisor's), kicks stay off after a kick's drain and the
 * host calls virtio_net_poll() on the VM's exits, so under load many
 * frames go per notify exit.
 *
 * Receive: the switch's deliver() copies each frame into the guest's
 * receive buffers (with MRG_RXBUF across as many as it needs, num_buffers
 * set), and interrupts once per batch. When the guest has no buffers,
 * frames wait in a small backlog (VNET_BACKLOG_FRAMES / VNET_BACKLOG_BYTES)
 * drained when it adds some (its receiveq kick); what does not fit is
 * dropped and counted in port.stats.out_drops.
 *
 * A receive chain with a device-readable part, or shorter than the header,
 * breaks the device (NEEDS_RESET), as do rings virtqueue.c refuses.
 *
 * Locking: every device op runs under the device's lock (the transport's).
 * virtio_net_tx_run(), virtio_net_poll() and the port's deliver() are
 * called without it and take it through lock_ops themselves (deliver()
 * with the switch's lock held: switch.h).
 *
 * Size: about 560 KiB (the transmit buffer and the backlog); allocate it.
 */
#ifndef HV_GUEST_VIRTIO_VIRTIO_NET_H
#define HV_GUEST_VIRTIO_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/virtio/virtio_dev.h"
#include "kernel/net/switch.h"

/* Feature bits (virtio 1.2 §5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17

/* struct virtio_net_hdr (§5.1.6), with VERSION_1 always 12 bytes. */
#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_UDP 3
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/* Configuration (§5.1.4): mac[6], status u16, max_virtqueue_pairs u16, mtu u16. */
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_CFG_MAX_VQ_PAIRS 8
#define VIRTIO_NET_CFG_MTU 10
#define VIRTIO_NET_CFG_SIZE 12
#define VIRTIO_NET_S_LINK_UP 1

#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_QUEUE_SIZE 256
#define VNET_TX_ARENA (384u * 1024)	 /* a batch's frames: 64 full-size, or 5 of 64 KiB */
#define VNET_TX_RUN_BATCHES 4		 /* per run in poll mode; the next poll takes the rest */
#define VNET_RX_STASH 64		 /* receive chains popped, not yet filled */
#define VNET_RX_SEGS 20			 /* buffers of one receive chain used (Linux: <= 19) */
#define VNET_BACKLOG_FRAMES 64
#define VNET_BACKLOG_BYTES (128u * 1024)

struct vnet_lock_ops {
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
};

struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes, tx_batches;
	uint64_t tx_kicks, rx_kicks; /* the driver's notifies, per queue */
	uint64_t tx_dropped;   /* malformed: short, too long, a header not negotiated */
	uint64_t rx_frames, rx_bytes, rx_buffers;
	uint64_t rx_dropped;   /* delivered but not taken (also in port.stats.out_drops) */
	uint64_t rx_backlogged; /* frames that waited for buffers */
};

/* A receive chain popped and kept until a frame fills it. */
struct vnet_rxbuf {
	uint16_t head;
	uint8_t nseg;
	uint32_t len; /* of seg[0..nseg) */
	struct vq_seg seg[VNET_RX_SEGS];
};

struct vnet_backlog_entry {
	uint32_t off, len;
	struct net_offload off_info;
};

struct virtio_net {
	struct virtio_dev dev; /* first: the transport's handle */
	struct net_port port;  /* its face on the switch: name, MAC, caps, counters */
	uint8_t cfg[VIRTIO_NET_CFG_SIZE];
	const struct vnet_lock_ops *lock_ops; /* NULL: the caller serialises everything */
	void *lock_ctx;
	/* transmit */
	bool poll_mode;
	bool polling;	  /* kicks are off: the host must call virtio_net_poll */
	bool tx_kicked;	  /* a transmit kick came: the host runs virtio_net_tx_run after it */
	bool tx_busy;	  /* a batch is out (with the lock dropped): others leave it to its owner */
	bool tx_again;	  /* ... and asked it to look once more */
	bool tx_more;	  /* the last collect stopped full, not empty */
	uint64_t polls, polled; /* polls, and the frames they found */
	uint64_t drained;	/* transmit chains taken, all told */
	struct net_frame tx_frame[NET_BATCH_MAX];
	struct net_frame *tx_batch[NET_BATCH_MAX];
	/* receive */
	struct vnet_rxbuf rx_stash[VNET_RX_STASH];
	unsigned rx_first, rx_count;
	struct vnet_backlog_entry backlog[VNET_BACKLOG_FRAMES];
	unsigned bl_first, bl_count;
	struct virtio_net_stats stats;
	struct vq_elem tx_elem, rx_elem;
	uint8_t backlog_buf[VNET_BACKLOG_BYTES];
	uint8_t tx_buf[VNET_TX_ARENA];
};

/*
 * Sets vn up with MAC `mac` in the VM whose RAM `mem` reaches; its port is
 * named `port_name` (a VM port with spoof_check) and still to be attached
 * to a switch by the caller. Keeps the transport's fields of vn->dev.
 */
void virtio_net_init(struct virtio_net *vn, const char *port_name, const uint8_t mac[6],
		     const struct vq_mem *mem);
/*
 * Sends what the guest queued, with the lock dropped around each
 * net_switch_input(). Call it without the lock after a transmit kick
 * (vn->tx_kicked; the transport's leave hook). Returns the frames sent.
 */
unsigned virtio_net_tx_run(struct virtio_net *vn);
/*
 * Poll mode, without the lock: sends what the guest queued since the last
 * look. With nothing found and may_rearm, kicks go back on (and the ring is
 * looked at once more). vn->polling says whether the host must keep polling.
 */
unsigned virtio_net_poll(struct virtio_net *vn, bool may_rearm);
/* Frames waiting for receive buffers. */
unsigned virtio_net_backlog(const struct virtio_net *vn);

#endif

/*
 * virtio-console (virtio 1.2 §5.3), device type 3: one port, no
 * MULTIPORT, so two queues: 0 receiveq (host to guest), 1 transmitq (guest
 * to host). Linux binds it as hvc0. Bytes the guest writes go to `output`
 * as they are taken; bytes for the guest go in through
 * virtio_console_input(), as far as the guest has posted receive buffers.
 */
#ifndef HV_GUEST_VIRTIO_VIRTIO_CONSOLE_H
#define HV_GUEST_VIRTIO_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "guest/virtio/virtio_dev.h"

#define VIRTIO_CONSOLE_RX 0
#define VIRTIO_CONSOLE_TX 1
#define VIRTIO_CONSOLE_QUEUE_SIZE 64
/* cols u16, rows u16, max_nr_ports u32, emerg_wr u32 (§5.3.4); none offered, all read 0. */
#define VIRTIO_CONSOLE_CFG_SIZE 12

struct virtio_console_ops {
	/* The guest wrote n bytes (n >= 1), in order; called from the TX drain. */
	void (*output)(void *ctx, const uint8_t *buf, size_t n);
	/*
	 * May be NULL. The guest posted receive buffers (a receiveq kick, or
	 * DRIVER_OK): input the caller held back can be offered again.
	 */
	void (*rx_ready)(void *ctx);
	void *ctx;
};

struct virtio_console_stats {
	uint64_t tx_bytes, rx_bytes, tx_chains, rx_chains;
};

struct virtio_console {
	struct virtio_dev dev; /* first: the transport's handle */
	struct virtio_console_ops ops;
	struct virtio_console_stats stats;
	struct vq_elem elem;
};

/* Sets vc up; the transport then fills vc->dev.notify_* / transport and drives &vc->dev. */
void virtio_console_init(struct virtio_console *vc, const char *name,
			 const struct virtio_console_ops *ops, const struct vq_mem *mem);
/*
 * Host input for the guest: fills the receive buffers the guest has posted,
 * in order. Returns how many of the n bytes were taken (0 when the driver
 * is not ready or has no buffer); the rest stays the caller's to offer
 * again (rx_ready says when).
 */
size_t virtio_console_input(struct virtio_console *vc, const uint8_t *bytes, size_t n);

#endif

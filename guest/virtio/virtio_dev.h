/*
 * A virtio device (virtio 1.2 §2-§3), whatever the transport: its feature
 * bits, status, queues and device-specific configuration. Device types
 * (virtio_blk.c, virtio_console.c, virtio_rng.c) fill the ops; a transport
 * (virtio_pci.c) drives them as the guest's driver writes its registers.
 * Pure logic.
 *
 * A device that finds the driver broke the rules (a malformed ring) calls
 * virtio_dev_fail(): the status gets DEVICE_NEEDS_RESET, the driver is told
 * by a configuration-change interrupt, and no queue of the device is
 * served again until the driver resets it. Nothing is retried.
 */
#ifndef HV_GUEST_VIRTIO_VIRTIO_DEV_H
#define HV_GUEST_VIRTIO_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/virtio/virtqueue.h"

#define VIRTIO_MAX_QUEUES 4

/* Device types (virtio 1.2 §5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

/* Device status (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Transport-independent feature bits (§6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

struct virtio_dev;

struct virtio_dev_ops {
	/* Back to the state before the driver touched it (its queues are reset by the core). */
	void (*reset)(struct virtio_dev *d);
	/* Device-specific configuration (offset < cfg_size; width 1, 2, 4 or 8). */
	uint64_t (*cfg_read)(struct virtio_dev *d, uint32_t offset, unsigned size);
	void (*cfg_write)(struct virtio_dev *d, uint32_t offset, unsigned size, uint64_t value);
	/* (cfg_write may be NULL: a read-only configuration ignores writes) */
	/* The driver made buffers available on queue q (a kick). */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* DRIVER_OK was set (may be NULL): a device with input may start delivering. */
	void (*driver_ok)(struct virtio_dev *d);
};

struct virtio_dev {
	uint16_t type;
	const char *name;
	uint64_t host_features;	 /* what the device offers (VERSION_1 always) */
	uint64_t guest_features; /* what the driver accepted */
	uint8_t status;
	uint8_t config_generation;
	unsigned nqueues;
	uint16_t queue_max[VIRTIO_MAX_QUEUES]; /* the largest size each queue takes */
	struct virtqueue vq[VIRTIO_MAX_QUEUES];
	uint32_t cfg_size;
	const struct virtio_dev_ops *ops;
	struct vq_mem mem; /* the VM's RAM */
	const char *failure; /* why it needs a reset; NULL when it does not */
	/* the transport's: a used-buffer notification for queue q, or a config change */
	void (*notify_queue)(struct virtio_dev *d, unsigned q);
	void (*notify_config)(struct virtio_dev *d);
	void *transport;
};

/* Called by device types when they set themselves up. */
void virtio_dev_init(struct virtio_dev *d, uint16_t type, const char *name, uint64_t features,
		     unsigned nqueues, uint16_t queue_max, uint32_t cfg_size,
		     const struct virtio_dev_ops *ops, const struct vq_mem *mem);
/* Whether the driver accepted feature `bit`. */
static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return (d->guest_features >> bit) & 1;
}
/* Whether queue q may be served now (DRIVER_OK, enabled, not broken, no reset needed). */
bool virtio_queue_ready(const struct virtio_dev *d, unsigned q);
/*
 * Draining queue q after a kick: call vq_set_notification(&d->vq[q], &d->mem,
 * false) once, then this until it returns false. It pops the next chain
 * into *e (true); when the ring is empty it turns kicks back on and looks
 * once more, so a chain added meanwhile is still taken (false: empty with
 * kicks on, or the queue not ready, or broken, in which case the device
 * has failed with the queue's reason).
 */
bool virtio_queue_next(struct virtio_dev *d, unsigned q, struct vq_elem *e);
/*
 * The same pop without the final re-arm: when the ring is empty, kicks stay
 * off (the device polls instead: virtio_blk_poll). False: empty, not ready
 * or broken (then the device has failed).
 */
bool virtio_queue_pop(struct virtio_dev *d, unsigned q, struct vq_elem *e);
/* After pushing used buffers on q: interrupts the driver if it wants one. */
void virtio_queue_done(struct virtio_dev *d, unsigned q);
/* The driver broke the rules: NEEDS_RESET, a config interrupt, and the device stops. */
void virtio_dev_fail(struct virtio_dev *d, const char *why);
/* A full reset (the driver wrote status 0, or the VM rebooted). */
void virtio_dev_reset(struct virtio_dev *d);
/*
 * The driver writes status: FEATURES_OK stays set only when the accepted
 * features are a subset of the offered ones and include VERSION_1.
 */
void virtio_dev_set_status(struct virtio_dev *d, uint8_t status);

#endif

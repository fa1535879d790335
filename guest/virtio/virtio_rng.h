/*
 * virtio-rng, the entropy device (virtio 1.2 §5.4), type 4: one request
 * queue of device-writable buffers, filled from an entropy callback (the
 * kernel gives RDSEED/RDRAND). No configuration, no device features.
 */
#ifndef HV_GUEST_VIRTIO_VIRTIO_RNG_H
#define HV_GUEST_VIRTIO_VIRTIO_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "guest/virtio/virtio_dev.h"

#define VIRTIO_RNG_QUEUE_SIZE 64
/* At most this much entropy per chain: a guest posting a huge buffer does not keep
 * the hypervisor in RDSEED for long; the device may return fewer bytes (§5.4.6). */
#define VIRTIO_RNG_MAX_PER_CHAIN 4096u

/* Writes up to n random bytes to buf; returns how many (fewer, even 0, when short). */
typedef size_t (*virtio_rng_entropy_fn)(void *ctx, void *buf, size_t n);

struct virtio_rng {
	struct virtio_dev dev; /* first: the transport's handle */
	virtio_rng_entropy_fn entropy;
	void *ctx;
	uint64_t bytes, chains, short_chains;
	struct vq_elem elem;
};

/* Sets vr up; the transport then fills vr->dev.notify_* / transport and drives &vr->dev. */
void virtio_rng_init(struct virtio_rng *vr, const char *name, virtio_rng_entropy_fn entropy,
		     void *ctx, const struct vq_mem *mem);

#endif

/*
 * The transport-independent part of a virtio device: the status handshake
 * of virtio 1.2 §3.1, feature negotiation (§2.2), and the one place that
 * decides the device is broken (§2.1.2 DEVICE_NEEDS_RESET).
 *
 * Callers serialise: every function here and every device op runs under
 * the device's lock (the transport's), as do completions of device types.
 */
#include "guest/virtio/virtio_dev.h"

#include "kernel/lib/string.h"

void virtio_dev_init(struct virtio_dev *d, uint16_t type, const char *name, uint64_t features,
		     unsigned nqueues, uint16_t queue_max, uint32_t cfg_size,
		     const struct virtio_dev_ops *ops, const struct vq_mem *mem)
{
	/* The transport's fields may be set before or after the device's init. */
	void (*notify_queue)(struct virtio_dev *, unsigned) = d->notify_queue;
	void (*notify_config)(struct virtio_dev *) = d->notify_config;
	void *transport = d->transport;

	memset(d, 0, sizeof(*d));
	d->notify_queue = notify_queue;
	d->notify_config = notify_config;
	d->transport = transport;
	d->type = type;
	d->name = name;
	/* Linux refuses a modern device without VERSION_1 (vp_finalize_features). */
	d->host_features = features | (1ull << VIRTIO_F_VERSION_1);
	d->nqueues = nqueues < VIRTIO_MAX_QUEUES ? nqueues : VIRTIO_MAX_QUEUES;
	if (queue_max > VQ_MAX_SIZE)
		queue_max = VQ_MAX_SIZE;
	for (unsigned q = 0; q < d->nqueues; q++) {
		d->queue_max[q] = queue_max;
		d->vq[q].size = queue_max;
	}
	d->cfg_size = cfg_size;
	d->ops = ops;
	if (mem)
		d->mem = *mem;
}

void virtio_dev_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->guest_features = 0;
	d->failure = NULL;
	/* §4.1.4.3: after reset queue_size reads the maximum again; the transport shows vq.size. */
	for (unsigned q = 0; q < d->nqueues; q++) {
		vq_reset(&d->vq[q]);
		d->vq[q].size = d->queue_max[q];
	}
	if (d->ops && d->ops->reset)
		d->ops->reset(d);
}

/* §2.2.1: the driver MUST NOT accept a feature the device did not offer; §6.1: a modern
 * device MAY fail FEATURES_OK when VERSION_1 is not accepted (we do: no legacy layout). */
static bool features_acceptable(const struct virtio_dev *d)
{
	return (d->guest_features & ~d->host_features) == 0 &&
	       virtio_has_feature(d, VIRTIO_F_VERSION_1);
}

void virtio_dev_set_status(struct virtio_dev *d, uint8_t status)
{
	uint8_t old = d->status, new;

	/* §2.1.2 / §4.1.4.3.2: writing 0 resets the device. */
	if (status == 0) {
		virtio_dev_reset(d);
		return;
	}
	/* NEEDS_RESET is the device's bit; the driver can neither set nor clear it. Other
	 * bits only accumulate until a reset (§3.1.1: the driver MUST NOT clear a bit). */
	new = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) | old);
	if ((new & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* §3.1.1 step 5-6: the device leaves FEATURES_OK clear to refuse the set. */
		if (!features_acceptable(d)) {
			new &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		} else {
			for (unsigned q = 0; q < d->nqueues; q++) {
				d->vq[q].event_idx = virtio_has_feature(d, VIRTIO_F_EVENT_IDX);
				d->vq[q].indirect = virtio_has_feature(d, VIRTIO_F_INDIRECT_DESC);
			}
		}
	}
	/* DRIVER_OK before the features were accepted is a driver bug: not latched. */
	if (!(new & VIRTIO_STATUS_FEATURES_OK))
		new &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	d->status = new;
	if ((new & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && d->ops &&
	    d->ops->driver_ok)
		d->ops->driver_ok(d);
}

bool virtio_queue_ready(const struct virtio_dev *d, unsigned q)
{
	const uint8_t need = VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;

	if (q >= d->nqueues || d->failure)
		return false;
	if ((d->status & need) != need ||
	    (d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)))
		return false;
	return d->vq[q].enabled && !d->vq[q].error;
}

bool virtio_queue_next(struct virtio_dev *d, unsigned q, struct vq_elem *e)
{
	struct virtqueue *vq;

	if (!virtio_queue_ready(d, q))
		return false;
	vq = &d->vq[q];
	for (;;) {
		int rc = vq_pop(vq, &d->mem, e);

		if (rc > 0)
			return true;
		if (rc < 0) {
			virtio_dev_fail(d, vq->error);
			return false;
		}
		if (!vq_set_notification(vq, &d->mem, true)) {
			if (vq->error)
				virtio_dev_fail(d, vq->error);
			return false;
		}
		vq_set_notification(vq, &d->mem, false);
	}
}

bool virtio_queue_pop(struct virtio_dev *d, unsigned q, struct vq_elem *e)
{
	if (!virtio_queue_ready(d, q))
		return false;
	struct virtqueue *vq = &d->vq[q];
	int rc = vq_pop(vq, &d->mem, e);
	if (rc < 0)
		virtio_dev_fail(d, vq->error);
	return rc > 0;
}

void virtio_queue_done(struct virtio_dev *d, unsigned q)
{
	if (q >= d->nqueues || d->failure)
		return;
	if (vq_should_interrupt(&d->vq[q], &d->mem)) {
		if (d->notify_queue)
			d->notify_queue(d, q);
	} else if (d->vq[q].error) {
		/* The used ring vanished under us: as broken as a bad chain. */
		virtio_dev_fail(d, d->vq[q].error);
	}
}

void virtio_dev_fail(struct virtio_dev *d, const char *why)
{
	if (d->failure)
		return;
	d->failure = why ? why : "device error";
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* §2.1.2: with DRIVER_OK set, NEEDS_RESET comes with a configuration change
	 * notification (the configuration itself is unchanged: no new generation). */
	if ((d->status & VIRTIO_STATUS_DRIVER_OK) && d->notify_config)
		d->notify_config(d);
}

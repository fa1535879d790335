/*
 * virtio-rng (virtio 1.2 §5.4): each chain's writable buffers are filled
 * from the entropy source, up to VIRTIO_RNG_MAX_PER_CHAIN bytes; when the
 * source runs short the chain goes back with what it gave (§5.4.6.2: the
 * device MAY return fewer bytes than the buffer holds; used.len says how
 * many), possibly none.
 */
#include "guest/virtio/virtio_rng.h"

#include "kernel/lib/string.h"

static struct virtio_rng *to_rng(struct virtio_dev *d)
{
	return (struct virtio_rng *)d; /* dev is the first member */
}

/* Fills the chain in vr->elem; returns the bytes written, or -1 (device failed). */
static int64_t fill_chain(struct virtio_rng *vr)
{
	struct virtio_dev *d = &vr->dev;
	uint32_t want = vr->elem.in_len, done = 0;
	uint8_t chunk[64];

	if (want > VIRTIO_RNG_MAX_PER_CHAIN)
		want = VIRTIO_RNG_MAX_PER_CHAIN;
	while (done < want) {
		uint32_t n = want - done < sizeof(chunk) ? want - done : (uint32_t)sizeof(chunk);
		size_t got = vr->entropy(vr->ctx, chunk, n);

		if (got > n)
			got = n; /* a callback that overstates cannot make us write past its buffer */
		if (got && vq_elem_write(&vr->elem, &d->mem, done, chunk, (uint32_t)got)) {
			virtio_dev_fail(d, "entropy buffer not in guest RAM");
			return -1;
		}
		/* Random bytes leave no trace on our stack. */
		memset(chunk, 0, sizeof(chunk));
		done += (uint32_t)got;
		if (got < n)
			break;
	}
	return done;
}

static void vrng_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_rng *vr = to_rng(d);
	struct virtqueue *vq = &d->vq[0];
	bool pushed = false;

	if (q != 0 || !virtio_queue_ready(d, 0))
		return;
	vq_set_notification(vq, &d->mem, false);
	while (virtio_queue_next(d, 0, &vr->elem)) {
		int64_t n = fill_chain(vr);

		if (n < 0)
			return;
		if (vq_push(vq, &d->mem, vr->elem.head, (uint32_t)n)) {
			virtio_dev_fail(d, vq->error);
			return;
		}
		pushed = true;
		vr->bytes += (uint64_t)n;
		vr->chains++;
		if ((uint32_t)n < vr->elem.in_len && (uint32_t)n < VIRTIO_RNG_MAX_PER_CHAIN)
			vr->short_chains++;
	}
	if (pushed)
		virtio_queue_done(d, 0);
}

static void vrng_reset(struct virtio_dev *d)
{
	(void)d;
}

static uint64_t vrng_cfg_read(struct virtio_dev *d, uint32_t offset, unsigned size)
{
	(void)d;
	(void)offset;
	(void)size;
	return 0; /* no configuration space (§5.4.4) */
}


static const struct virtio_dev_ops vrng_ops = {
	.reset = vrng_reset,
	.cfg_read = vrng_cfg_read,
	.cfg_write = NULL, /* read-only: virtio-rng has no configuration */
	.queue_notify = vrng_queue_notify,
	.driver_ok = NULL,
};

void virtio_rng_init(struct virtio_rng *vr, const char *name, virtio_rng_entropy_fn entropy,
		     void *ctx, const struct vq_mem *mem)
{
	uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
			    (1ull << VIRTIO_F_EVENT_IDX);
	struct virtio_dev saved = vr->dev;

	memset(vr, 0, sizeof(*vr));
	vr->dev.notify_queue = saved.notify_queue;
	vr->dev.notify_config = saved.notify_config;
	vr->dev.transport = saved.transport;
	vr->entropy = entropy;
	vr->ctx = ctx;
	virtio_dev_init(&vr->dev, VIRTIO_ID_RNG, name, features, 1, VIRTIO_RNG_QUEUE_SIZE, 0,
			&vrng_ops, mem);
}

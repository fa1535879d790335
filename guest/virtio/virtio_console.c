/*
 * virtio-console, one port (virtio 1.2 §5.3). Transmit: every readable byte
 * of every chain goes to the output callback, the chain returns with used
 * length 0 (the device wrote nothing; Cloud Hypervisor's bug of reading only
 * the first descriptor, and of a non-zero TX length, are why the whole
 * chain is walked and 0 pushed). Receive: input fills posted buffers in
 * order, each chain taking as much as it holds.
 */
#include "guest/virtio/virtio_console.h"

#include "kernel/lib/string.h"

static struct virtio_console *to_console(struct virtio_dev *d)
{
	return (struct virtio_console *)d; /* dev is the first member */
}

static void vcon_transmit(struct virtio_console *vc)
{
	struct virtio_dev *d = &vc->dev;
	struct virtqueue *q = &d->vq[VIRTIO_CONSOLE_TX];
	bool pushed = false;

	if (!virtio_queue_ready(d, VIRTIO_CONSOLE_TX))
		return;
	vq_set_notification(q, &d->mem, false);
	while (virtio_queue_next(d, VIRTIO_CONSOLE_TX, &vc->elem)) {
		uint8_t chunk[128];

		/* Device-writable buffers on the transmitq carry nothing: ignored. */
		for (uint32_t off = 0; off < vc->elem.out_len;) {
			uint32_t n = vc->elem.out_len - off;

			if (n > sizeof(chunk))
				n = sizeof(chunk);
			if (vq_elem_read(&vc->elem, &d->mem, off, chunk, n)) {
				virtio_dev_fail(d, "transmit buffer not in guest RAM");
				return;
			}
			vc->ops.output(vc->ops.ctx, chunk, n);
			off += n;
		}
		vc->stats.tx_bytes += vc->elem.out_len;
		vc->stats.tx_chains++;
		if (vq_push(q, &d->mem, vc->elem.head, 0)) {
			virtio_dev_fail(d, q->error);
			return;
		}
		pushed = true;
	}
	if (pushed)
		virtio_queue_done(d, VIRTIO_CONSOLE_TX);
}

size_t virtio_console_input(struct virtio_console *vc, const uint8_t *bytes, size_t n)
{
	struct virtio_dev *d = &vc->dev;
	struct virtqueue *q = &d->vq[VIRTIO_CONSOLE_RX];
	size_t taken = 0;
	bool pushed = false;

	if (n == 0 || !virtio_queue_ready(d, VIRTIO_CONSOLE_RX))
		return 0;
	/* No kicks while we take buffers; virtio_queue_next turns them back on when the
	 * ring is empty, and the enable below when it is not, so that the driver's next
	 * posted buffer always kicks (with EVENT_IDX, avail_event must move, or it would
	 * stay where the first kick left it). */
	vq_set_notification(q, &d->mem, false);
	while (taken < n && virtio_queue_next(d, VIRTIO_CONSOLE_RX, &vc->elem)) {
		uint32_t room = vc->elem.in_len;
		uint32_t put = n - taken < room ? (uint32_t)(n - taken) : room;

		if (vq_elem_write(&vc->elem, &d->mem, 0, bytes + taken, put)) {
			virtio_dev_fail(d, "receive buffer not in guest RAM");
			return taken;
		}
		if (vq_push(q, &d->mem, vc->elem.head, put)) {
			virtio_dev_fail(d, q->error);
			return taken;
		}
		taken += put;
		pushed = true;
		vc->stats.rx_bytes += put;
		vc->stats.rx_chains++;
	}
	if (taken == n)
		vq_set_notification(q, &d->mem, true);
	if (pushed)
		virtio_queue_done(d, VIRTIO_CONSOLE_RX);
	return taken;
}

static void vcon_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_console *vc = to_console(d);

	if (q == VIRTIO_CONSOLE_TX)
		vcon_transmit(vc);
	else if (q == VIRTIO_CONSOLE_RX && vc->ops.rx_ready)
		vc->ops.rx_ready(vc->ops.ctx);
}

static void vcon_driver_ok(struct virtio_dev *d)
{
	struct virtio_console *vc = to_console(d);

	if (vc->ops.rx_ready)
		vc->ops.rx_ready(vc->ops.ctx);
}

static void vcon_reset(struct virtio_dev *d)
{
	(void)d; /* nothing beyond the queues, which the core resets */
}

static uint64_t vcon_cfg_read(struct virtio_dev *d, uint32_t offset, unsigned size)
{
	/* cols, rows, max_nr_ports, emerg_wr: SIZE, MULTIPORT and EMERG_WRITE are not offered. */
	(void)d;
	(void)offset;
	(void)size;
	return 0;
}


static const struct virtio_dev_ops vcon_ops = {
	.reset = vcon_reset,
	.cfg_read = vcon_cfg_read,
	/* read-only: emerg_wr works only with VIRTIO_CONSOLE_F_EMERG_WRITE (not offered) */
	.cfg_write = NULL,
	.queue_notify = vcon_queue_notify,
	.driver_ok = vcon_driver_ok,
};

void virtio_console_init(struct virtio_console *vc, const char *name,
			 const struct virtio_console_ops *ops, const struct vq_mem *mem)
{
	uint64_t features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
			    (1ull << VIRTIO_F_EVENT_IDX);
	struct virtio_dev saved = vc->dev;

	memset(vc, 0, sizeof(*vc));
	vc->dev.notify_queue = saved.notify_queue;
	vc->dev.notify_config = saved.notify_config;
	vc->dev.transport = saved.transport;
	vc->ops = *ops;
	virtio_dev_init(&vc->dev, VIRTIO_ID_CONSOLE, name, features, 2, VIRTIO_CONSOLE_QUEUE_SIZE,
			VIRTIO_CONSOLE_CFG_SIZE, &vcon_ops, mem);
}

/*
 * Fuzz target for virtio-net (guest/virtio/virtio_net.c over virtqueue.c
 * and virtio_dev.c), with the switch replaced by a checker of what reaches
 * net_switch_input(): the input is a guest's RAM (both rings, headers,
 * frames, receive buffers), the features its driver accepts, and a script
 * of transmit kicks and runs, polls, receiveq kicks, deliveries of frames
 * of every size and offload, resets, a second sender while a batch is out,
 * and guest RAM changes. The promises: the switch gets batches of 1 to
 * NET_BATCH_MAX frames, each 14 bytes or more, within the limit for its
 * offloads, carrying only negotiated offloads and lying in the device's own
 * buffer; the device writes only RAM it checked; every frame offered is
 * delivered, dropped or waiting (bounded), every transmit chain taken is
 * sent or dropped; a failed device pushes nothing; each step does bounded
 * work.
 *
 * Input: [0] log2 queue size, [1] features (bit0 EVENT_IDX, 1 INDIRECT,
 * 2 MRG_RXBUF, 3 CSUM, 4 GUEST_CSUM, 5 HOST_TSO4/6, 6 GUEST_TSO4/6,
 * 7 poll mode), [2] script length n, [3..3+n) script, then the RAM image.
 */
#include "tests/fuzz/fuzz_guest.h"

#include "guest/virtio/virtio_net.h"

#define HDR 3
#define RXQ_OFF 0x0 /* desc, avail +0x800, used +0xa00 (room for 128 entries) */
#define TXQ_OFF 0x1000

static struct virtio_net *vn;
static uint16_t qsize;
static uint64_t features;
static uint64_t offered; /* frames delivered to the port */
static bool second_sender;
static int fake_switch;
static uint8_t frame_data[NET_GSO_FRAME_MAX];

static bool neg(unsigned bit)
{
	return virtio_has_feature(&vn->dev, bit);
}

static void add_and_run_again(void);

void net_switch_input(struct net_port *from, struct net_frame *const *frames, unsigned n)
{
	CHECK(from == &vn->port);
	CHECK(n >= 1 && n <= NET_BATCH_MAX);
	for (unsigned i = 0; i < n; i++) {
		const struct net_frame *f = frames[i];
		uint8_t gso = f->off.gso_type;

		CHECK(f->len >= ETH_HLEN);
		CHECK(f->data >= vn->tx_buf && f->data + f->len <= vn->tx_buf + VNET_TX_ARENA);
		CHECK(!(f->off.flags & ~NET_OFF_NEEDS_CSUM));
		CHECK(!(f->off.flags & NET_OFF_NEEDS_CSUM) || neg(VIRTIO_NET_F_CSUM));
		if (gso == NET_GSO_NONE) {
			CHECK(f->len <= ETH_FRAME_MAX);
		} else {
			CHECK(gso == NET_GSO_TCPV4 || gso == NET_GSO_TCPV6);
			CHECK(neg(gso == NET_GSO_TCPV4 ? VIRTIO_NET_F_HOST_TSO4
						       : VIRTIO_NET_F_HOST_TSO6));
			CHECK(f->len <= NET_GSO_FRAME_MAX && f->off.gso_size);
		}
	}
	if (second_sender) {
		second_sender = false;
		add_and_run_again();
	}
}

static void notify_queue(struct virtio_dev *d, unsigned q)
{
	CHECK(d == &vn->dev && q < 2);
}

static void notify_config(struct virtio_dev *d)
{
	CHECK(d == &vn->dev && d->failure);
}

static void dev_up(void)
{
	struct virtio_dev *d = &vn->dev;

	virtio_dev_set_status(d, 0);
	CHECK(d->status == 0 && !d->failure && virtio_net_backlog(vn) == 0);
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	d->guest_features = features & d->host_features;
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					 VIRTIO_STATUS_FEATURES_OK);
	CHECK(d->status & VIRTIO_STATUS_FEATURES_OK);
	for (unsigned i = 0; i < 2; i++) {
		struct virtqueue *q = &d->vq[i];
		uint64_t base = RAM_BASE + (i ? TXQ_OFF : RXQ_OFF);

		q->size = qsize;
		q->desc_gpa = base;
		q->avail_gpa = base + 0x800;
		q->used_gpa = base + 0xa00;
		CHECK(vq_enable(q, &d->mem) == 0);
	}
	virtio_dev_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK(virtio_queue_ready(d, 0) && virtio_queue_ready(d, 1));
}

/* At most a few rounds of a ring's worth of chains, each bounded, plus their copies. */
static unsigned long work_bound(void)
{
	return (unsigned long)(VNET_TX_RUN_BATCHES + 4) * (qsize + 2) *
	       (qsize + 2 * VQ_MAX_SEGS + 16);
}

static void check_state(uint16_t used_rx, uint16_t used_tx, bool failed)
{
	CHECK(virtio_net_backlog(vn) <= VNET_BACKLOG_FRAMES);
	CHECK(vn->rx_count <= VNET_RX_STASH);
	CHECK(offered == vn->stats.rx_frames + vn->stats.rx_dropped + virtio_net_backlog(vn));
	CHECK(vn->stats.rx_dropped == vn->port.stats.out_drops);
	CHECK(vn->drained == vn->stats.tx_frames + vn->stats.tx_dropped);
	CHECK(!vn->tx_busy);
	if (failed) {
		CHECK(vn->dev.vq[0].used_idx == used_rx && vn->dev.vq[1].used_idx == used_tx);
	}
}

static void tx_run(void)
{
	vn->dev.ops->queue_notify(&vn->dev, VNET_TXQ);
	virtio_net_tx_run(vn);
}

static void add_and_run_again(void)
{
	/* the guest has added chains (or not): another context kicks while the batch is out */
	tx_run();
	CHECK(vn->tx_busy);
}

/* n frames built from the script's byte b: sizes from tiny to GSO, offloads of every kind. */
static void deliver(uint8_t b, unsigned n)
{
	static struct net_frame frames[8];
	struct net_frame *batch[8];
	static const uint32_t lens[] = { 0, 13, 14, 60, 1514, 1518, 1519, 4000, 30000,
					 NET_GSO_FRAME_MAX, NET_GSO_FRAME_MAX + 1 };

	for (unsigned i = 0; i < n; i++) {
		struct net_frame *f = &frames[i];
		unsigned k = (b + 3 * i) % (sizeof(lens) / sizeof(lens[0]));
		f->data = frame_data;
		/* the switch's limit; beyond would be its bug */
		f->len = lens[k] > NET_GSO_FRAME_MAX ? NET_GSO_FRAME_MAX : lens[k];
		memset(&f->off, 0, sizeof(f->off));
		f->off.flags = (uint8_t)((b >> 4) & 3);
		if ((f->len > ETH_FRAME_MAX && !(b & 0x04)) || (b & 0x40)) {
			f->off.gso_type = (b & 0x80) ? NET_GSO_TCPV6 : NET_GSO_TCPV4;
			if (b & 0x08)
				f->off.gso_type |= NET_GSO_ECN;
			f->off.gso_size = 1448;
			f->off.hdr_len = 54;
		}
		f->off.csum_start = 34;
		f->off.csum_offset = 16;
		batch[i] = f;
	}
	offered += n;
	vn->port.ops->deliver(&vn->port, batch, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *script;
	size_t nscript;

	if (size < HDR)
		return 0;
	nscript = data[2];
	if (size < HDR + nscript)
		nscript = size - HDR;
	script = data + HDR;
	ram_load(data + HDR + nscript, size - HDR - nscript);
	if (!vn)
		vn = malloc(sizeof(*vn));
	CHECK(vn);
	memset(vn, 0, sizeof(*vn));
	if (!frame_data[1])
		for (unsigned i = 0; i < sizeof(frame_data); i++)
			frame_data[i] = (uint8_t)(i * 7 + 1);

	qsize = (uint16_t)(2u << (data[0] % 7)); /* 2 .. 128 */
	features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC) |
		   (1ull << VIRTIO_NET_F_STATUS);
	if (data[1] & 1)
		features |= 1ull << VIRTIO_F_EVENT_IDX;
	if (data[1] & 2)
		features |= 1ull << VIRTIO_F_INDIRECT_DESC;
	if (data[1] & 4)
		features |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (data[1] & 8)
		features |= 1ull << VIRTIO_NET_F_CSUM;
	if (data[1] & 16)
		features |= 1ull << VIRTIO_NET_F_GUEST_CSUM;
	if (data[1] & 32)
		features |= (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6);
	if (data[1] & 64)
		features |= (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6);
	offered = 0;
	second_sender = false;

	static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
	vn->dev.notify_queue = notify_queue;
	vn->dev.notify_config = notify_config;
	virtio_net_init(vn, "fuzz.0", mac, &guest_mem);
	vn->poll_mode = data[1] & 128;
	vn->port.sw = (struct net_switch *)&fake_switch;
	dev_up();
	for (size_t pc = 0; pc < nscript; pc++) {
		uint8_t op = script[pc] & 15, arg = script[pc] >> 4;
		uint16_t used_rx = vn->dev.vq[0].used_idx, used_tx = vn->dev.vq[1].used_idx;
		bool failed = vn->dev.failure != NULL;
		unsigned long before = mem_calls;

		switch (op) {
		case 4:
			vn->dev.ops->queue_notify(&vn->dev, VNET_RXQ);
			break;
		case 5:
		case 6:
			deliver(pc + 1 < nscript ? script[++pc] : arg, 1 + arg % 8);
			break;
		case 7:
			virtio_net_poll(vn, arg & 1);
			break;
		case 8:
			dev_up(); /* what waited is dropped, and counted */
			failed = false;
			break;
		case 9:
			if (pc + 2 < nscript) {
				ram[(script[pc + 1] | (unsigned)arg << 8) * 8u % RAM_SIZE] = script[pc + 2];
				pc += 2;
			}
			break;
		case 10:
			second_sender = true;
			tx_run();
			second_sender = false;
			break;
		default:
			tx_run();
			break;
		}
		CHECK(mem_calls - before <= work_bound());
		check_state(used_rx, used_tx, failed);
	}
	return 0;
}

/* Linux's layout: receive buffers posted, frames queued for transmit. */
static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const uint8_t script[] = { 0, 0x35, 0x03, 4, 0x75, 0x49, 0x17, 0, 10, 8, 0x25, 0x60 };
	size_t len = HDR + sizeof(script) + 0x3800;
	uint8_t *img;

	if (i >= 4 || cap < len)
		return 0;
	memset(buf, 0, len);
	buf[0] = 4; /* 32 entries */
	buf[1] = (uint8_t)(i & 1 ? 0x7f : 0x05) | (i & 2 ? 0x80 : 0);
	buf[2] = sizeof(script);
	memcpy(buf + HDR, script, sizeof(script));
	img = buf + HDR + sizeof(script);
	/* receive: 8 buffers of 600 bytes at 0x2000 */
	for (unsigned r = 0; r < 8; r++) {
		seed_desc(img, RXQ_OFF, r, RAM_BASE + 0x2000 + 600ull * r, 600, VRING_DESC_F_WRITE, 0);
		put_le(img + RXQ_OFF + 0x800 + 4 + 2 * r, r, 2);
	}
	put_le(img + RXQ_OFF + 0x800 + 2, 8, 2);
	/* transmit: 8 frames, header then data, at 0x3300 */
	for (unsigned t = 0; t < 8; t++) {
		uint64_t h = 0x3300 + 16 * t, d = 0x3400 + 128 * t;
		uint16_t head = (uint16_t)(2 * t);
		img[h] = t & 1 ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
		put_le(img + h + 6, 34, 2);
		put_le(img + h + 8, 16, 2);
		for (unsigned k = 0; k < 12; k++)
			img[d + k] = (uint8_t)(k < 6 ? 0xff : k);
		seed_desc(img, TXQ_OFF, head, RAM_BASE + h, 12, VRING_DESC_F_NEXT,
			  (uint16_t)(head + 1));
		seed_desc(img, TXQ_OFF, head + 1u, RAM_BASE + d, 60 + 8 * t, 0, 0);
		put_le(img + TXQ_OFF + 0x800 + 4 + 2 * t, head, 2);
	}
	put_le(img + TXQ_OFF + 0x800 + 2, 8, 2);
	return len;
}

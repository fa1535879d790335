// SOURCES: guest/virtio/virtio_net.c guest/virtio/virtio_dev.c guest/virtio/virtqueue.c kernel/lib/string.c
/*
 * virtio-net driven as Linux's virtio_net driver drives it, with the switch
 * replaced by a recorder of net_switch_input(): feature negotiation and the
 * port's caps; transmit of one frame and of batches (one switch call per
 * batch of at most NET_BATCH_MAX); header checks and frames too short or
 * too long (dropped, counted, the device goes on); offloads passed through;
 * receive across several mergeable buffers, or one big one without
 * MRG_RXBUF; no buffers: the backlog, its drain on a receiveq kick, and its
 * bounds; poll mode; a second sender while a batch is out; hostile receive
 * chains and rings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "guest/virtio/virtio_net.h"
#include "tests/unit/virtio_fixture.h"

#define QSIZE 128
#define TXH(h) (DATA_GPA + 16ull * (h))			 /* transmit headers */
#define TXD(h) (DATA_GPA + 0x1000 + 2048ull * (h))	 /* transmit data, up to 2 KiB each */
#define BIG_GPA (DATA_GPA + 0x50000)			 /* one 64 KiB transmit frame */
#define RXB(i) (DATA_GPA + 0x70000 + 2048ull * (i))	 /* receive buffers, 2 KiB each */
#define RXBIG(i) (DATA_GPA + 0x90000 + 0x11000ull * (i)) /* 68 KiB receive buffers */
#define ALL_FEATURES                                                                          \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |                    \
	 (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_NET_F_MAC) |                          \
	 (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |                   \
	 (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |                    \
	 (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |                \
	 (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6))
#define F(bit) (1ull << (bit))

static const uint8_t MAC[6] = { 0x00, 0x16, 0x3e, 0x01, 0x02, 0x03 };
static const uint8_t PEER[6] = { 0x00, 0x16, 0x3e, 0x0a, 0x0b, 0x0c };

static struct virtio_net *vn;
static struct drv rx, tx; /* queue 0 and queue 1 */
static struct drv vqs[2];
static uint16_t rx_next; /* next free receive descriptor */

/* ---- the switch, as the device sees it ---- */

#define SENT_MAX 512
struct sent_frame {
	uint32_t len;
	struct net_offload off;
	uint8_t head[64];
	uint32_t sum;
};
static struct sent_frame sent[SENT_MAX];
static unsigned nsent, input_calls, last_batch;
static void (*on_input)(void);
static int fake_switch;

static uint32_t sum_of(const uint8_t *p, uint32_t len)
{
	uint32_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = s * 31 + p[i];
	return s;
}

void net_switch_input(struct net_port *from, struct net_frame *const *frames, unsigned n)
{
	assert_ptr_equal(from, &vn->port);
	assert_true(n >= 1 && n <= NET_BATCH_MAX);
	input_calls++;
	last_batch = n;
	for (unsigned i = 0; i < n; i++) {
		assert_true(nsent < SENT_MAX);
		struct sent_frame *s = &sent[nsent++];
		s->len = frames[i]->len;
		s->off = frames[i]->off;
		memcpy(s->head, frames[i]->data, frames[i]->len < 64 ? frames[i]->len : 64);
		s->sum = sum_of(frames[i]->data, frames[i]->len);
	}
	if (on_input) {
		void (*f)(void) = on_input;
		on_input = NULL;
		f();
	}
}

/* ---- the driver ---- */

static void start(uint64_t features)
{
	virtio_net_init(vn, "web.0", MAC, &guest_mem);
	vn->port.sw = (struct net_switch *)&fake_switch; /* attached */
	dev_up(&vn->dev, features & vn->dev.host_features, vqs, 2, QSIZE);
	rx = vqs[0];
	tx = vqs[1];
	rx_next = 0;
}

static int setup(void **state)
{
	(void)state;
	ram_setup();
	if (!vn)
		vn = malloc(sizeof(*vn));
	assert_non_null(vn);
	memset(vn, 0, sizeof(*vn));
	nsent = input_calls = last_batch = 0;
	on_input = NULL;
	start(ALL_FEATURES);
	return 0;
}

static void put_hdr(uint64_t gpa, uint8_t flags, uint8_t gso, uint16_t hdr_len, uint16_t gso_size,
		    uint16_t csum_start, uint16_t csum_off)
{
	uint8_t *h = G(gpa);
	h[0] = flags;
	h[1] = gso;
	memcpy(h + 2, &hdr_len, 2);
	memcpy(h + 4, &gso_size, 2);
	memcpy(h + 6, &csum_start, 2);
	memcpy(h + 8, &csum_off, 2);
	memset(h + 10, 0, 2);
}

/* An Ethernet frame of len bytes from MAC to PEER at gpa, its payload a pattern of seed. */
static void put_frame(uint64_t gpa, uint32_t len, uint8_t seed)
{
	uint8_t *p = G(gpa);
	memcpy(p, PEER, 6);
	if (len >= 12)
		memcpy(p + 6, MAC, 6);
	for (uint32_t i = 12; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* A transmit chain as Linux builds it: header, then the frame; descriptors h and h+1. */
static void tx_chain(uint16_t h, uint32_t len, uint8_t seed, uint8_t flags, uint8_t gso)
{
	uint64_t data = len > 2048 ? BIG_GPA : TXD(h);
	put_hdr(TXH(h), flags, gso, gso ? 54 : 0, gso ? 1448 : 0, flags ? 34 : 0, flags ? 16 : 0);
	put_frame(data, len, seed);
	desc(&tx, h, TXH(h), VIRTIO_NET_HDR_LEN, VRING_DESC_F_NEXT, (uint16_t)(h + 1));
	desc(&tx, (uint16_t)(h + 1), data, len, 0, 0);
	avail(&tx, h);
}

static void tx_kick_and_run(void)
{
	vn->dev.ops->queue_notify(&vn->dev, VNET_TXQ);
	assert_true(vn->tx_kicked);
	virtio_net_tx_run(vn);
	assert_false(vn->tx_kicked);
}

/* Posts one receive buffer (a chain of one writable descriptor). */
static uint16_t rx_post(uint64_t gpa, uint32_t len)
{
	uint16_t h = rx_next++;
	desc(&rx, h, gpa, len, VRING_DESC_F_WRITE, 0);
	avail(&rx, h);
	return h;
}

/* The switch delivers frames to the port. */
static void deliver(struct net_frame *const *frames, unsigned n)
{
	vn->port.ops->deliver(&vn->port, frames, n);
}

static uint8_t frame_buf[4][NET_GSO_FRAME_MAX];

static struct net_frame *mkframe(unsigned i, uint32_t len, uint8_t seed)
{
	static struct net_frame f[4];
	f[i].data = frame_buf[i];
	f[i].len = len;
	memset(&f[i].off, 0, sizeof(f[i].off));
	memcpy(frame_buf[i], MAC, 6);
	memcpy(frame_buf[i] + 6, PEER, 6);
	for (uint32_t k = 12; k < len; k++)
		frame_buf[i][k] = (uint8_t)(seed ^ (k * 13) ^ (k >> 8));
	return &f[i];
}

static uint16_t rd16(uint64_t gpa)
{
	return get16(gpa);
}

/* ---- tests ---- */

static void test_features_config_and_caps(void **state)
{
	struct virtio_dev *d = &vn->dev;

	(void)state;
	assert_int_equal(d->type, VIRTIO_ID_NET);
	assert_int_equal(d->nqueues, 2);
	assert_int_equal(d->queue_max[0], VNET_QUEUE_SIZE);
	assert_int_equal(d->host_features, ALL_FEATURES);
	assert_int_equal(d->cfg_size, VIRTIO_NET_CFG_SIZE);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(d->ops->cfg_read(d, VIRTIO_NET_CFG_MAC + i, 1), MAC[i]);
	assert_int_equal(d->ops->cfg_read(d, VIRTIO_NET_CFG_MAC, 4), 0x013e1600);
	assert_int_equal(d->ops->cfg_read(d, VIRTIO_NET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(d->ops->cfg_read(d, VIRTIO_NET_CFG_MTU, 2), 1500);
	assert_int_equal(d->ops->cfg_read(d, VIRTIO_NET_CFG_SIZE - 1, 2), 0); /* past the end */
	assert_null(d->ops->cfg_write); /* the MAC is read-only */
	/* the port */
	assert_string_equal(vn->port.name, "web.0");
	assert_memory_equal(vn->port.mac, MAC, 6);
	assert_true(vn->port.spoof_check);
	assert_int_equal(vn->port.kind, NET_PORT_VM);
	assert_int_equal(vn->port.caps, NET_CAP_CSUM | NET_CAP_GSO_TCPV4 | NET_CAP_GSO_TCPV6);
	/* caps follow what the driver took */
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	assert_int_equal(vn->port.caps, NET_CAP_CSUM | NET_CAP_GSO_TCPV4);
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC));
	assert_int_equal(vn->port.caps, 0);
	/* a reset takes them away until the next DRIVER_OK */
	start(ALL_FEATURES);
	virtio_dev_set_status(d, 0);
	assert_int_equal(vn->port.caps, 0);
	/* no control queue, no packed ring, no ECN or UFO offered */
	assert_false(d->host_features & F(VIRTIO_NET_F_CTRL_VQ));
	assert_false(d->host_features & F(VIRTIO_NET_F_HOST_UFO));
	assert_false(d->host_features & F(VIRTIO_NET_F_HOST_ECN));
	assert_false(d->host_features & F(34));
}

static void test_tx_one(void **state)
{
	uint32_t len;

	(void)state;
	tx_chain(0, 60, 1, 0, 0);
	tx_kick_and_run();
	assert_int_equal(input_calls, 1);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].len, 60);
	assert_memory_equal(sent[0].head, G(TXD(0)), 60);
	assert_int_equal(sent[0].off.flags, 0);
	assert_int_equal(sent[0].off.gso_type, NET_GSO_NONE);
	/* the chain is back at once, with nothing written */
	assert_int_equal(used_next(&tx, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(queue_irqs[VNET_TXQ], 1);
	assert_int_equal(vn->stats.tx_frames, 1);
	assert_int_equal(vn->stats.tx_bytes, 60);
	assert_int_equal(vn->stats.tx_dropped, 0);
	/* header and frame in one descriptor (Linux pushes the header into the headroom) */
	put_hdr(TXD(4), 0, 0, 0, 0, 0, 0);
	put_frame(TXD(4) + 12, 100, 9);
	desc(&tx, 4, TXD(4), 112, 0, 0);
	avail(&tx, 4);
	tx_kick_and_run();
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].len, 100);
	assert_memory_equal(sent[1].head, G(TXD(4) + 12), 64);
}

static void test_tx_batches(void **state)
{
	(void)state;
	/* 40 frames, one kick: one batch */
	for (uint16_t i = 0; i < 40; i++)
		tx_chain((uint16_t)(2 * i), 60 + i, (uint8_t)i, 0, 0);
	tx_kick_and_run();
	assert_int_equal(input_calls, 1);
	assert_int_equal(last_batch, 40);
	for (unsigned i = 0; i < 40; i++) {
		assert_int_equal(sent[i].len, 60 + i);
		assert_int_equal(sent[i].sum, sum_of(G(TXD(2 * i)), 60 + i));
	}
	assert_int_equal(queue_irqs[VNET_TXQ], 1); /* one interrupt for the batch */
	/* 64 + 36: two switch calls of at most NET_BATCH_MAX */
	nsent = input_calls = 0;
	for (uint16_t i = 0; i < 64; i++)
		tx_chain((uint16_t)(2 * i), 1514, (uint8_t)i, 0, 0);
	tx_kick_and_run();
	for (uint16_t i = 0; i < 36; i++)
		tx_chain((uint16_t)(2 * i), 1514, (uint8_t)i, 0, 0);
	tx_kick_and_run();
	assert_int_equal(nsent, 100);
	assert_int_equal(input_calls, 2);
	nsent = input_calls = 0;
	for (uint16_t i = 0; i < 64; i++)
		tx_chain((uint16_t)(2 * i), 1514, (uint8_t)i, 0, 0);
	assert_int_equal(virtio_net_tx_run(vn), 64);
	assert_int_equal(input_calls, 1);
	assert_int_equal(vn->stats.tx_frames, 40 + 100 + 64);
}

static void test_tx_more_than_a_batch_in_one_run(void **state)
{
	(void)state;
	/* 100 one-descriptor chains outstanding at once: batches of 64 and 36 in one run */
	for (uint16_t i = 0; i < 100; i++) {
		put_hdr(TXD(i), 0, 0, 0, 0, 0, 0);
		put_frame(TXD(i) + 12, 200, (uint8_t)i);
		desc(&tx, i, TXD(i), 212, 0, 0);
		avail(&tx, i);
	}
	assert_int_equal(virtio_net_tx_run(vn), 100);
	assert_int_equal(input_calls, 2);
	assert_int_equal(last_batch, 36);
	assert_int_equal(used_idx(&tx), 100);
	assert_int_equal(vn->stats.tx_batches, 2);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(sent[i].sum, sum_of(G(TXD(i) + 12), 200));
}

static void test_tx_header_checks(void **state)
{
	(void)state;
	/* a TSO frame with a checksum to finish: passed through as it is */
	tx_chain(0, 30000, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4);
	tx_kick_and_run();
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].len, 30000);
	assert_int_equal(sent[0].off.flags, NET_OFF_NEEDS_CSUM);
	assert_int_equal(sent[0].off.gso_type, NET_GSO_TCPV4);
	assert_int_equal(sent[0].off.hdr_len, 54);
	assert_int_equal(sent[0].off.gso_size, 1448);
	assert_int_equal(sent[0].off.csum_start, 34);
	assert_int_equal(sent[0].off.csum_offset, 16);
	assert_int_equal(sent[0].sum, sum_of(G(BIG_GPA), 30000));
	/* each of these is dropped and counted; the device goes on */
	tx_chain(2, 100, 1, 0x80, 0);					/* unknown flag */
	tx_chain(4, 100, 1, 0, VIRTIO_NET_HDR_GSO_UDP);			/* UFO not offered */
	tx_chain(6, 100, 1, 0, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN); /* no ECN */
	tx_chain(8, 2000, 1, 0, 0);					/* > 1518 without GSO */
	tx_chain(10, 100, 1, 0, 0x05);					/* unknown GSO type */
	put_hdr(TXH(12), 0, VIRTIO_NET_HDR_GSO_TCPV4, 54, 0, 0, 0);	/* gso_size 0 */
	put_frame(TXD(12), 100, 1);
	desc(&tx, 12, TXH(12), 12, VRING_DESC_F_NEXT, 13);
	desc(&tx, 13, TXD(12), 100, 0, 0);
	avail(&tx, 12);
	tx_kick_and_run();
	assert_int_equal(nsent, 1);
	assert_int_equal(vn->stats.tx_dropped, 6);
	assert_int_equal(used_idx(&tx), 7);
	assert_null(vn->dev.failure);
	/* DATA_VALID from a driver means nothing: cleared */
	tx_chain(14, 100, 1, VIRTIO_NET_HDR_F_DATA_VALID, 0);
	tx_kick_and_run();
	assert_int_equal(nsent, 2);
	assert_int_equal(sent[1].off.flags, 0);
	/* without CSUM / HOST_TSO4 negotiated those headers are refused */
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC));
	nsent = 0;
	tx_chain(0, 100, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0);
	tx_chain(2, 3000, 1, 0, VIRTIO_NET_HDR_GSO_TCPV4);
	tx_chain(4, 100, 1, 0, VIRTIO_NET_HDR_GSO_TCPV6);
	tx_kick_and_run();
	assert_int_equal(nsent, 0);
	assert_int_equal(vn->stats.tx_dropped, 3);
	assert_null(vn->dev.failure);
}

static void test_tx_lengths(void **state)
{
	(void)state;
	/* shorter than an Ethernet header: dropped */
	tx_chain(0, 13, 1, 0, 0);
	/* exactly 14 and 1518: taken */
	tx_chain(2, 14, 1, 0, 0);
	tx_chain(4, 1518, 1, 0, 0);
	/* a header alone, 8 bytes of header: dropped */
	desc(&tx, 6, TXH(6), 12, 0, 0);
	avail(&tx, 6);
	desc(&tx, 8, TXH(8), 8, 0, 0);
	avail(&tx, 8);
	/* a writable part on a transmit chain: dropped */
	put_hdr(TXH(10), 0, 0, 0, 0, 0, 0);
	desc(&tx, 10, TXH(10), 12, VRING_DESC_F_NEXT, 11);
	desc(&tx, 11, TXD(10), 100, VRING_DESC_F_WRITE, 0);
	avail(&tx, 10);
	/* the largest TSO frame, and one byte more (never read: not all of it is even there) */
	tx_chain(12, NET_GSO_FRAME_MAX, 1, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6);
	put_hdr(TXH(14), VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 54, 1448, 34, 16);
	desc(&tx, 14, TXH(14), 12, VRING_DESC_F_NEXT, 15);
	desc(&tx, 15, BIG_GPA, NET_GSO_FRAME_MAX + 1, 0, 0);
	avail(&tx, 14);
	tx_kick_and_run();
	assert_int_equal(nsent, 3);
	assert_int_equal(sent[0].len, 14);
	assert_int_equal(sent[1].len, 1518);
	assert_int_equal(sent[2].len, NET_GSO_FRAME_MAX);
	assert_int_equal(vn->stats.tx_dropped, 5);
	assert_int_equal(used_idx(&tx), 8);
	assert_null(vn->dev.failure);
}

/* A transmit ring the virtqueue core refuses: the device fails, nothing reaches the switch. */
static void test_tx_hostile_ring(void **state)
{
	(void)state;
	tx_chain(0, 100, 1, 0, 0);
	desc(&tx, 1, TXD(0), 100, VRING_DESC_F_NEXT, 1); /* a loop */
	tx_kick_and_run();
	assert_int_equal(nsent, 0);
	assert_non_null(vn->dev.failure);
	assert_true(vn->dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(config_irqs, 1);
	/* avail.idx far ahead */
	start(ALL_FEATURES);
	put16(tx.avail + 2, 1000);
	tx_kick_and_run();
	assert_non_null(vn->dev.failure);
	assert_int_equal(nsent, 0);
	/* further kicks and polls do nothing */
	tx_kick_and_run();
	assert_int_equal(virtio_net_poll(vn, true), 0);
	assert_int_equal(nsent, 0);
}

static void test_rx_mergeable(void **state)
{
	uint32_t len;

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		rx_post(RXB(i), 512);
	struct net_frame *f = mkframe(0, 1400, 3);
	deliver(&f, 1);
	/* three buffers: 12 + 500, 512, 376 */
	assert_int_equal(used_next(&rx, &len), 0);
	assert_int_equal(len, 512);
	assert_int_equal(used_next(&rx, &len), 1);
	assert_int_equal(len, 512);
	assert_int_equal(used_next(&rx, &len), 2);
	assert_int_equal(len, 12 + 1400 - 1024);
	assert_int_equal(rd16(RXB(0) + 10), 3); /* num_buffers */
	assert_int_equal(*(uint8_t *)G(RXB(0)), 0); /* flags */
	assert_memory_equal(G(RXB(0) + 12), frame_buf[0], 500);
	assert_memory_equal(G(RXB(1)), frame_buf[0] + 500, 512);
	assert_memory_equal(G(RXB(2)), frame_buf[0] + 1012, 388);
	assert_int_equal(queue_irqs[VNET_RXQ], 1);
	assert_int_equal(vn->stats.rx_frames, 1);
	assert_int_equal(vn->stats.rx_buffers, 3);
	/* the fourth buffer waits, stashed, for the next frame: one buffer each */
	rx_post(RXB(4), 512);
	set_used_event(&rx, 3); /* the driver wants the next interrupt (EVENT_IDX) */
	struct net_frame *fs[2] = { mkframe(1, 60, 4), mkframe(2, 400, 5) };
	deliver(fs, 2);
	assert_int_equal(used_next(&rx, &len), 3);
	assert_int_equal(len, 72);
	assert_int_equal(used_next(&rx, &len), 4);
	assert_int_equal(len, 412);
	assert_int_equal(rd16(RXB(3) + 10), 1);
	assert_memory_equal(G(RXB(4) + 12), frame_buf[2], 400);
	assert_int_equal(queue_irqs[VNET_RXQ], 2); /* one per batch */
	assert_int_equal(vn->port.stats.out_drops, 0);
}

static void test_rx_offloads(void **state)
{
	uint8_t *h;

	(void)state;
	rx_post(RXBIG(0), 0x11000);
	rx_post(RXB(0), 2048);
	struct net_frame *f = mkframe(0, 40000, 1);
	f->off = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM, .gso_type = NET_GSO_TCPV4,
				       .hdr_len = 54, .gso_size = 1448, .csum_start = 34,
				       .csum_offset = 16 };
	struct net_frame *g = mkframe(1, 100, 2);
	g->off.flags = NET_OFF_DATA_VALID;
	struct net_frame *fs[2] = { f, g };
	deliver(fs, 2);
	h = G(RXBIG(0));
	assert_int_equal(h[0], VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h[1], VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(rd16(RXBIG(0) + 2), 54);
	assert_int_equal(rd16(RXBIG(0) + 4), 1448);
	assert_int_equal(rd16(RXBIG(0) + 6), 34);
	assert_int_equal(rd16(RXBIG(0) + 8), 16);
	assert_memory_equal(G(RXBIG(0) + 12), frame_buf[0], 40000);
	assert_int_equal(*(uint8_t *)G(RXB(0)), VIRTIO_NET_HDR_F_DATA_VALID);
	/* a guest without GUEST_CSUM / GUEST_TSO: such frames are the switch's to finish;
	 * one that arrives unfinished anyway is dropped, DATA_VALID is not passed on */
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF));
	for (unsigned i = 0; i < 4; i++)
		rx_post(RXB(i), 2048);
	struct net_frame *c = mkframe(2, 100, 3);
	c->off = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 34,
				       .csum_offset = 16 };
	struct net_frame *fs2[3] = { f, c, g };
	deliver(fs2, 3);
	assert_int_equal(vn->stats.rx_frames, 1);
	assert_int_equal(vn->port.stats.out_drops, 2);
	assert_int_equal(*(uint8_t *)G(RXB(0)), 0);
	/* frames longer than allowed are dropped: 1519 without GSO */
	struct net_frame *l = mkframe(3, 1519, 3);
	deliver(&l, 1);
	assert_int_equal(vn->port.stats.out_drops, 3);
}

static void test_rx_without_mergeable(void **state)
{
	uint32_t len;

	(void)state;
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC));
	rx_post(RXB(0), 1526); /* Linux's small buffers: header + 1514 */
	rx_post(RXB(1), 1526);
	struct net_frame *f = mkframe(0, 1514, 1);
	deliver(&f, 1);
	assert_int_equal(used_next(&rx, &len), 0);
	assert_int_equal(len, 1526);
	assert_int_equal(rd16(RXB(0) + 10), 1);
	assert_memory_equal(G(RXB(0) + 12), frame_buf[0], 1514);
	/* a frame that does not fit the buffer is dropped; the buffer waits for the next */
	ram_setup();
	start(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC));
	rx_post(RXB(0), 200);
	f = mkframe(0, 1000, 1);
	deliver(&f, 1);
	assert_int_equal(vn->port.stats.out_drops, 1);
	assert_int_equal(used_idx(&rx), 0);
	f = mkframe(0, 150, 1);
	deliver(&f, 1);
	assert_int_equal(used_next(&rx, &len), 0);
	assert_int_equal(len, 162);
}

static void test_rx_backlog_then_drain(void **state)
{
	uint32_t len;

	(void)state;
	struct net_frame *fs[3] = { mkframe(0, 100, 1), mkframe(1, 200, 2), mkframe(2, 300, 3) };
	deliver(fs, 3);
	assert_int_equal(virtio_net_backlog(vn), 3);
	assert_int_equal(vn->port.stats.out_drops, 0);
	assert_int_equal(queue_irqs[VNET_RXQ], 0);
	/* with EVENT_IDX the device asked for a kick when the guest adds buffers */
	assert_int_equal(avail_event(&rx), 0);
	/* the guest posts two buffers and kicks: two frames go, in order */
	rx_post(RXB(0), 2048);
	rx_post(RXB(1), 2048);
	vn->dev.ops->queue_notify(&vn->dev, VNET_RXQ);
	assert_int_equal(virtio_net_backlog(vn), 1);
	assert_int_equal(used_next(&rx, &len), 0);
	assert_int_equal(len, 112);
	assert_memory_equal(G(RXB(0) + 12), frame_buf[0], 100);
	assert_int_equal(used_next(&rx, &len), 1);
	assert_int_equal(len, 212);
	assert_int_equal(queue_irqs[VNET_RXQ], 1);
	assert_int_equal(avail_event(&rx), 2);
	/* a new frame waits behind the backlog: order is kept */
	struct net_frame *n4 = mkframe(3, 400, 4);
	deliver(&n4, 1);
	assert_int_equal(virtio_net_backlog(vn), 2);
	rx_post(RXB(2), 2048);
	rx_post(RXB(3), 2048);
	vn->dev.ops->queue_notify(&vn->dev, VNET_RXQ);
	assert_int_equal(virtio_net_backlog(vn), 0);
	assert_int_equal(used_next(&rx, &len), 2);
	assert_int_equal(len, 312);
	assert_int_equal(used_next(&rx, &len), 3);
	assert_int_equal(len, 412);
	assert_int_equal(vn->stats.rx_backlogged, 4);
	assert_int_equal(vn->port.stats.out_drops, 0);
}

static void test_rx_backlog_bounds(void **state)
{
	(void)state;
	/* by frames */
	struct net_frame *f = mkframe(0, 100, 1);
	for (unsigned i = 0; i < VNET_BACKLOG_FRAMES + 36; i++)
		deliver(&f, 1);
	assert_int_equal(virtio_net_backlog(vn), VNET_BACKLOG_FRAMES);
	assert_int_equal(vn->port.stats.out_drops, 36);
	assert_int_equal(vn->stats.rx_dropped, 36);
	/* a reset drops what waits (counted) */
	virtio_dev_set_status(&vn->dev, 0);
	assert_int_equal(virtio_net_backlog(vn), 0);
	assert_int_equal(vn->port.stats.out_drops, 36 + VNET_BACKLOG_FRAMES);
	/* by bytes: 64 KiB frames, the backlog holds 128 KiB */
	setup(NULL);
	struct net_frame *g = mkframe(1, 60000, 2);
	g->off.gso_type = NET_GSO_TCPV4;
	g->off.gso_size = 1448;
	g->off.hdr_len = 54;
	for (unsigned i = 0; i < 5; i++)
		deliver(&g, 1);
	assert_int_equal(virtio_net_backlog(vn), 2);
	assert_int_equal(vn->port.stats.out_drops, 3);
	/* draining one makes room at the front of the byte ring: wrap-around */
	rx_post(RXBIG(0), 0x11000);
	vn->dev.ops->queue_notify(&vn->dev, VNET_RXQ);
	assert_int_equal(virtio_net_backlog(vn), 1);
	deliver(&g, 1);
	assert_int_equal(virtio_net_backlog(vn), 2);
	rx_post(RXBIG(1), 0x11000);
	rx_post(RXBIG(2), 0x11000);
	vn->dev.ops->queue_notify(&vn->dev, VNET_RXQ);
	assert_int_equal(virtio_net_backlog(vn), 0);
	assert_memory_equal(G(RXBIG(2) + 12), frame_buf[1], 60000);
	assert_int_equal(vn->stats.rx_frames, 3);
}

/* Before DRIVER_OK, and after a failure, frames are dropped and counted. */
static void test_rx_not_ready(void **state)
{
	(void)state;
	virtio_dev_set_status(&vn->dev, 0);
	struct net_frame *f = mkframe(0, 100, 1);
	deliver(&f, 1);
	assert_int_equal(vn->port.stats.out_drops, 1);
	assert_int_equal(virtio_net_backlog(vn), 0);
}

static void test_rx_hostile_chains(void **state)
{
	(void)state;
	/* a receive chain with a readable descriptor */
	desc(&rx, 0, RXB(0), 100, VRING_DESC_F_NEXT, 1);
	desc(&rx, 1, RXB(1), 2048, VRING_DESC_F_WRITE, 0);
	avail(&rx, 0);
	struct net_frame *fs[2] = { mkframe(0, 100, 1), mkframe(1, 100, 1) };
	deliver(fs, 2);
	assert_non_null(vn->dev.failure);
	assert_int_equal(config_irqs, 1);
	assert_int_equal(vn->port.stats.out_drops, 2);
	assert_int_equal(used_idx(&rx), 0);
	/* one shorter than the header */
	start(ALL_FEATURES);
	rx_post(RXB(0), 8);
	deliver(fs, 1);
	assert_non_null(vn->dev.failure);
	/* a receive buffer outside RAM: the virtqueue core refuses it */
	start(ALL_FEATURES);
	rx_post(RAM_END - 16, 2048);
	deliver(fs, 1);
	assert_non_null(vn->dev.failure);
	/* tiny (legal) buffers: a frame needing more than the stash holds is dropped */
	start(ALL_FEATURES);
	for (unsigned i = 0; i < 100; i++)
		rx_post(RXB(0) + 16 * i, 16);
	struct net_frame *big = mkframe(2, 1500, 1);
	deliver(&big, 1);
	assert_null(vn->dev.failure);
	assert_int_equal(vn->port.stats.out_drops, 1);
	/* the stashed buffers serve small frames */
	struct net_frame *small = mkframe(3, 14, 1);
	deliver(&small, 1);
	assert_int_equal(vn->stats.rx_frames, 1);
	assert_int_equal(vn->stats.rx_buffers, 2);
}

static void test_poll_mode(void **state)
{
	(void)state;
	vn->poll_mode = true;
	tx_chain(0, 100, 1, 0, 0);
	tx_kick_and_run();
	assert_int_equal(nsent, 1);
	assert_true(vn->polling);
	/* kicks stay off: avail_event was not moved on */
	assert_int_equal(avail_event(&tx), 0);
	/* frames the driver adds meanwhile are found by polls, without a kick */
	for (uint16_t i = 1; i <= 10; i++)
		tx_chain((uint16_t)(2 * i), 100, (uint8_t)i, 0, 0);
	assert_int_equal(virtio_net_poll(vn, true), 10);
	assert_int_equal(nsent, 11);
	assert_true(vn->polling);
	assert_int_equal(vn->polls, 1);
	assert_int_equal(vn->polled, 10);
	/* an empty look turns kicks back on */
	assert_int_equal(virtio_net_poll(vn, true), 0);
	assert_false(vn->polling);
	assert_int_equal(avail_event(&tx), 11);
	assert_int_equal(virtio_net_poll(vn, true), 0); /* not polling: nothing */
	/* without EVENT_IDX: NO_NOTIFY while polling */
	start(ALL_FEATURES & ~F(VIRTIO_F_EVENT_IDX));
	vn->poll_mode = true;
	tx_chain(0, 100, 1, 0, 0);
	tx_kick_and_run();
	assert_int_equal(get16(tx.used), VRING_USED_F_NO_NOTIFY);
	assert_int_equal(virtio_net_poll(vn, false), 0);
	assert_true(vn->polling);
	assert_int_equal(virtio_net_poll(vn, true), 0);
	assert_int_equal(get16(tx.used), 0);
}

/* A second sender (another vCPU's kick) while a batch is out: the first looks again. */
static void add_and_run_again(void)
{
	for (uint16_t i = 0; i < 5; i++)
		tx_chain((uint16_t)(20 + 2 * i), 80, (uint8_t)i, 0, 0);
	vn->dev.ops->queue_notify(&vn->dev, VNET_TXQ);
	assert_int_equal(virtio_net_tx_run(vn), 0); /* busy: left to the sender */
	assert_true(vn->tx_again);
}

static void test_second_sender_while_busy(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 3; i++)
		tx_chain((uint16_t)(2 * i), 80, (uint8_t)i, 0, 0);
	on_input = add_and_run_again;
	assert_int_equal(virtio_net_tx_run(vn), 8);
	assert_int_equal(nsent, 8);
	assert_int_equal(input_calls, 2);
	assert_false(vn->tx_busy);
}

static void test_unattached_port_sends_nothing(void **state)
{
	(void)state;
	vn->port.sw = NULL;
	tx_chain(0, 100, 1, 0, 0);
	tx_kick_and_run();
	assert_int_equal(nsent, 0);
	assert_int_equal(used_idx(&tx), 1); /* the chain is still returned */
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_features_config_and_caps),
		T(test_tx_one),
		T(test_tx_batches),
		T(test_tx_more_than_a_batch_in_one_run),
		T(test_tx_header_checks),
		T(test_tx_lengths),
		T(test_tx_hostile_ring),
		T(test_rx_mergeable),
		T(test_rx_offloads),
		T(test_rx_without_mergeable),
		T(test_rx_backlog_then_drain),
		T(test_rx_backlog_bounds),
		T(test_rx_not_ready),
		T(test_rx_hostile_chains),
		T(test_poll_mode),
		T(test_second_sender_while_busy),
		T(test_unattached_port_sends_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

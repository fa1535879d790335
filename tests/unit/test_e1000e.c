// SOURCES: drivers/net/e1000e_ring.c
/*
 * The e1000e driver's descriptor rings against a fake device: a register
 * file in an array, descriptor memory the test writes as the NIC would
 * (RX: from RDH up to RDT; TX: from TDH up to TDT). Frames come back intact
 * across many wrap-arounds; RDT is always the last descriptor reaped; the
 * device is never given more than size - 1 descriptors; what it says is
 * checked (lengths, errors, frames without EOP, a DD bit on a descriptor it
 * does not own) and counted; TX copies frames, drops what does not fit or
 * asks for offloads, and reclaims only what the device reported done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/e1000e_ring.h"

#define RING 16

static uint32_t regfile[0x20000 / 4];
static volatile uint8_t *const regs = (volatile uint8_t *)regfile;

static uint32_t reg(uint32_t off)
{
	return regfile[off / 4];
}

/* ---- a fake NIC's receive side ---- */

struct fake_rx {
	struct e1000_rx_desc desc[RING];
	uint8_t buf[RING * E1000E_BUF_SIZE];
	unsigned head; /* RDH */
};

static struct fake_rx *rx_fixture(struct e1000e_rx *r)
{
	struct fake_rx *f = calloc(1, sizeof(*f));
	memset(regfile, 0, sizeof(regfile));
	assert_true(e1000e_rx_init(r, regs, E1000_RDT(0), f->desc, f->buf, (uintptr_t)f->buf, RING));
	e1000e_rx_start(r);
	return f;
}

/* The device writes one received frame at RDH if it owns it; false: no descriptor free. */
static bool dev_rx(struct fake_rx *f, const uint8_t *data, uint16_t len, uint8_t status,
		   uint8_t errors)
{
	if (f->head == reg(E1000_RDT(0)))
		return false;
	struct e1000_rx_desc *d = &f->desc[f->head];
	assert_int_equal(d->status, 0); /* armed */
	assert_int_equal(d->addr, (uintptr_t)f->buf + f->head * E1000E_BUF_SIZE);
	memcpy((void *)(uintptr_t)d->addr, data, len < E1000E_BUF_SIZE ? len : E1000E_BUF_SIZE);
	d->len = len;
	d->errors = errors;
	d->status = status;
	f->head = (f->head + 1) % RING;
	return true;
}

static void fill_frame(uint8_t *p, uint16_t len, unsigned seq)
{
	for (unsigned k = 0; k < len; k++)
		p[k] = (uint8_t)(seq * 31 + k);
}

static bool frame_is(const struct net_frame *fr, uint16_t len, unsigned seq)
{
	if (fr->len != len)
		return false;
	for (unsigned k = 0; k < len; k++)
		if (fr->data[k] != (uint8_t)(seq * 31 + k))
			return false;
	return true;
}

#define GOOD (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP)

static void test_rx_init(void **state)
{
	(void)state;
	struct e1000e_rx r;
	struct fake_rx *f = rx_fixture(&r);

	/* every descriptor armed with its buffer, RDT = size - 1 */
	for (unsigned i = 0; i < RING; i++) {
		assert_int_equal(f->desc[i].addr, (uintptr_t)f->buf + i * E1000E_BUF_SIZE);
		assert_int_equal(f->desc[i].status, 0);
	}
	assert_int_equal(reg(E1000_RDT(0)), RING - 1);
	/* ring sizes must make RDLEN a multiple of 128 bytes */
	assert_false(e1000e_rx_init(&r, regs, E1000_RDT(0), f->desc, f->buf, 0, 12));
	assert_false(e1000e_rx_init(&r, regs, E1000_RDT(0), f->desc, f->buf, 0, 0));
	free(f);
}

static void test_rx_frames_and_wrap(void **state)
{
	(void)state;
	struct e1000e_rx r;
	struct fake_rx *f = rx_fixture(&r);
	struct netdev_stats st = {0};
	struct net_frame out[8];
	uint8_t frame[ETH_FRAME_MAX];
	unsigned sent = 0, got = 0;
	uint64_t bytes = 0;

	/* 1000 frames in bursts of 1..9, reaped 8 at a time: many wraps */
	for (unsigned round = 0; round < 200 && sent < 1000; round++) {
		unsigned burst = round % 9 + 1;
		for (unsigned b = 0; b < burst; b++) {
			uint16_t len = (uint16_t)(60 + (sent * 37) % (ETH_FRAME_MAX - 59));
			fill_frame(frame, len, sent);
			if (!dev_rx(f, frame, len, GOOD, 0))
				break;
			sent++;
		}
		for (;;) {
			unsigned used;
			unsigned n = e1000e_rx_reap(&r, out, 8, &used, &st);
			assert_int_equal(n, used);
			if (!used)
				break;
			for (unsigned k = 0; k < n; k++, got++) {
				uint16_t len = (uint16_t)(60 + (got * 37) % (ETH_FRAME_MAX - 59));
				assert_true(frame_is(&out[k], len, got));
				bytes += len;
			}
			e1000e_rx_refill(&r);
			/* RDT: the last descriptor reaped */
			assert_int_equal(reg(E1000_RDT(0)), (r.next + RING - 1) % RING);
		}
	}
	assert_true(sent >= 900);
	assert_int_equal(got, sent);
	assert_int_equal(st.rx_frames, sent);
	assert_int_equal(st.rx_bytes, bytes);
	assert_int_equal(st.rx_errors, 0);
	free(f);
}

static void test_rx_full_ring_and_stray_dd(void **state)
{
	(void)state;
	struct e1000e_rx r;
	struct fake_rx *f = rx_fixture(&r);
	struct netdev_stats st = {0};
	struct net_frame out[RING];
	uint8_t frame[64];
	unsigned used;

	/* the device gets size - 1 descriptors and no more */
	for (unsigned i = 0; i < RING - 1; i++) {
		fill_frame(frame, 64, i);
		assert_true(dev_rx(f, frame, 64, GOOD, 0));
	}
	fill_frame(frame, 64, 99);
	assert_false(dev_rx(f, frame, 64, GOOD, 0));
	/* a DD on the descriptor kept back (never handed over) is not taken */
	f->desc[RING - 1].status = GOOD;
	f->desc[RING - 1].len = 64;
	assert_int_equal(e1000e_rx_reap(&r, out, RING, &used, &st), RING - 1);
	assert_int_equal(used, RING - 1);
	/* nothing more while the frames are held */
	assert_int_equal(e1000e_rx_reap(&r, out, RING, &used, &st), 0);
	assert_int_equal(used, 0);
	e1000e_rx_refill(&r);
	assert_int_equal(reg(E1000_RDT(0)), RING - 2);
	assert_int_equal(f->desc[RING - 1].status, GOOD); /* still the stray one: not re-armed */
	/* the stray descriptor is now the device's to overwrite */
	f->desc[RING - 1].status = 0;
	fill_frame(frame, 64, 7);
	assert_true(dev_rx(f, frame, 64, GOOD, 0));
	assert_int_equal(e1000e_rx_reap(&r, out, RING, &used, &st), 1);
	assert_true(frame_is(&out[0], 64, 7));
	assert_int_equal(st.rx_frames, RING);
	free(f);
}

static void test_rx_bad_descriptors(void **state)
{
	(void)state;
	struct e1000e_rx r;
	struct fake_rx *f = rx_fixture(&r);
	struct netdev_stats st = {0};
	struct net_frame out[RING];
	uint8_t frame[E1000E_BUF_SIZE];
	unsigned used;

	fill_frame(frame, sizeof(frame), 1);
	assert_true(dev_rx(f, frame, 0, GOOD, 0));		      /* empty */
	assert_true(dev_rx(f, frame, ETH_HLEN - 1, GOOD, 0));	      /* runt */
	assert_true(dev_rx(f, frame, ETH_FRAME_MAX + 1, GOOD, 0));    /* too long */
	assert_true(dev_rx(f, frame, 0xffff, GOOD, 0));		      /* beyond the buffer */
	assert_true(dev_rx(f, frame, 64, GOOD, E1000_RXD_ERR_CE));    /* CRC error */
	assert_true(dev_rx(f, frame, 64, GOOD, E1000_RXD_ERR_RXE));   /* RX data error */
	/* a frame over three buffers: dropped as one */
	assert_true(dev_rx(f, frame, 2048, E1000_RXD_STAT_DD, 0));
	assert_true(dev_rx(f, frame, 2048, E1000_RXD_STAT_DD, 0));
	assert_true(dev_rx(f, frame, 100, GOOD, 0));
	/* then a good one */
	fill_frame(frame, 60, 5);
	assert_true(dev_rx(f, frame, 60, GOOD, 0));
	/* a checksum error bit alone (TCPE) does not drop the frame: no checksum offload is used */
	fill_frame(frame, 61, 6);
	assert_true(dev_rx(f, frame, 61, GOOD, 1u << 5));

	assert_int_equal(e1000e_rx_reap(&r, out, RING, &used, &st), 2);
	assert_int_equal(used, 11);
	assert_true(frame_is(&out[0], 60, 5));
	assert_true(frame_is(&out[1], 61, 6));
	assert_int_equal(st.rx_errors, 7);
	assert_int_equal(r.bad_len, 4);
	assert_int_equal(r.hw_errors, 2);
	assert_int_equal(r.split, 1);
	assert_int_equal(st.rx_frames, 2);
	assert_int_equal(st.rx_bytes, 121);
	e1000e_rx_refill(&r);
	assert_int_equal(reg(E1000_RDT(0)), 10);
	for (unsigned i = 0; i < 11; i++) {
		assert_int_equal(f->desc[i].status, 0);
		assert_int_equal(f->desc[i].addr, (uintptr_t)f->buf + i * E1000E_BUF_SIZE);
	}
	free(f);
}

static void test_rx_batch_limit(void **state)
{
	(void)state;
	struct e1000e_rx r;
	struct fake_rx *f = rx_fixture(&r);
	struct netdev_stats st = {0};
	struct net_frame out[2];
	uint8_t frame[64];
	unsigned used;

	for (unsigned i = 0; i < 5; i++) {
		fill_frame(frame, 64, i);
		assert_true(dev_rx(f, frame, 64, GOOD, 0));
	}
	assert_int_equal(e1000e_rx_reap(&r, out, 2, &used, &st), 2);
	assert_true(frame_is(&out[0], 64, 0) && frame_is(&out[1], 64, 1));
	e1000e_rx_refill(&r);
	assert_int_equal(e1000e_rx_reap(&r, out, 2, &used, &st), 2);
	assert_true(frame_is(&out[0], 64, 2) && frame_is(&out[1], 64, 3));
	e1000e_rx_refill(&r);
	assert_int_equal(e1000e_rx_reap(&r, out, 2, &used, &st), 1);
	assert_true(frame_is(&out[0], 64, 4));
	e1000e_rx_refill(&r);
	assert_int_equal(reg(E1000_RDT(0)), 4);
	free(f);
}

/* ---- a fake NIC's transmit side ---- */

struct fake_tx {
	struct e1000_tx_desc desc[RING];
	uint8_t buf[RING * E1000E_BUF_SIZE];
	unsigned head; /* TDH */
};

static struct fake_tx *tx_fixture(struct e1000e_tx *t)
{
	struct fake_tx *f = calloc(1, sizeof(*f));
	memset(regfile, 0, sizeof(regfile));
	assert_true(e1000e_tx_init(t, regs, E1000_TDT(0), f->desc, f->buf, (uintptr_t)f->buf, RING));
	return f;
}

/* The device sends what it was given up to TDT (at most max); returns how many, checking each. */
static unsigned dev_tx(struct fake_tx *f, unsigned max, unsigned *seq, uint8_t status)
{
	unsigned n = 0;
	while (f->head != reg(E1000_TDT(0)) && n < max) {
		struct e1000_tx_desc *d = &f->desc[f->head];
		assert_int_equal(d->cmd, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS);
		assert_int_equal(d->addr, (uintptr_t)f->buf + f->head * E1000E_BUF_SIZE);
		struct net_frame fr = {.data = (uint8_t *)(uintptr_t)d->addr, .len = d->len};
		assert_true(frame_is(&fr, (uint16_t)(60 + *seq % 1400), *seq));
		d->status = status;
		f->head = (f->head + 1) % RING;
		(*seq)++;
		n++;
	}
	return n;
}

static void test_tx_put_reclaim_wrap(void **state)
{
	(void)state;
	struct e1000e_tx t;
	struct fake_tx *f = tx_fixture(&t);
	struct netdev_stats st = {0};
	uint8_t data[4][ETH_FRAME_MAX];
	struct net_frame frames[4];
	struct net_frame *ptrs[4];
	unsigned queued = 0, seen = 0;

	assert_int_equal(e1000e_tx_free(&t), RING - 1);
	for (unsigned round = 0; round < 300; round++) {
		unsigned n = round % 4 + 1;
		for (unsigned k = 0; k < n; k++) {
			uint16_t len = (uint16_t)(60 + (queued + k) % 1400);
			fill_frame(data[k], len, queued + k);
			frames[k] = (struct net_frame){.data = data[k], .len = len};
			ptrs[k] = &frames[k];
		}
		e1000e_tx_reclaim(&t, &st);
		if (e1000e_tx_free(&t) < n) {
			dev_tx(f, RING, &seen, E1000_TXD_STAT_DD);
			e1000e_tx_reclaim(&t, &st);
		}
		assert_int_equal(e1000e_tx_put(&t, ptrs, n, &st), n);
		queued += n;
		/* the caller's buffers may be reused at once: the ring has its copies */
		memset(data, 0xee, sizeof(data));
		assert_int_equal(reg(E1000_TDT(0)), t.tail);
		dev_tx(f, round % 3, &seen, E1000_TXD_STAT_DD);
	}
	dev_tx(f, RING, &seen, E1000_TXD_STAT_DD);
	assert_int_equal(seen, queued);
	e1000e_tx_reclaim(&t, &st);
	assert_int_equal(e1000e_tx_free(&t), RING - 1);
	assert_int_equal(st.tx_frames, queued);
	assert_int_equal(st.tx_drops, 0);
	assert_int_equal(st.tx_errors, 0);
	free(f);
}

static void test_tx_full_and_bad_frames(void **state)
{
	(void)state;
	struct e1000e_tx t;
	struct fake_tx *f = tx_fixture(&t);
	struct netdev_stats st = {0};
	uint8_t data[RING + 4][128];
	struct net_frame frames[RING + 4];
	struct net_frame *ptrs[RING + 4];
	unsigned seen = 0;

	for (unsigned k = 0; k < RING + 4; k++) {
		fill_frame(data[k], 60 + k, k);
		frames[k] = (struct net_frame){.data = data[k], .len = 60 + k};
		ptrs[k] = &frames[k];
	}
	/* size - 1 fit; the other 5 are dropped and counted */
	assert_int_equal(e1000e_tx_put(&t, ptrs, RING + 4, &st), RING - 1);
	assert_int_equal(st.tx_drops, 5);
	assert_int_equal(t.full, 5);
	assert_int_equal(e1000e_tx_free(&t), 0);
	assert_int_equal(reg(E1000_TDT(0)), RING - 1);

	/* DD on a descriptor not handed over is ignored; reclaim stops at the first not done */
	f->desc[RING - 1].status = E1000_TXD_STAT_DD;
	assert_int_equal(dev_tx(f, 3, &seen, E1000_TXD_STAT_DD), 3);
	f->desc[4].status = E1000_TXD_STAT_DD; /* out of order: waits for 3 */
	assert_int_equal(e1000e_tx_reclaim(&t, &st), 3);
	assert_int_equal(e1000e_tx_free(&t), 3);
	/* an excess-collision status is counted as an error */
	assert_int_equal(dev_tx(f, 1, &seen, E1000_TXD_STAT_DD | E1000_TXD_STAT_EC), 1);
	assert_int_equal(e1000e_tx_reclaim(&t, &st), 2);
	assert_int_equal(st.tx_errors, 1);

	/* frames it will not send: empty, too long, TSO, checksum offload, NULL data */
	uint8_t big[ETH_FRAME_MAX + 1] = {0};
	struct net_frame bad[5] = {
	    {.data = big, .len = 0},
	    {.data = big, .len = ETH_FRAME_MAX + 1},
	    {.data = big, .len = 100, .off = {.gso_type = NET_GSO_TCPV4, .gso_size = 1448}},
	    {.data = big, .len = 100, .off = {.flags = NET_OFF_NEEDS_CSUM}},
	    {.data = NULL, .len = 100},
	};
	struct net_frame ok = {.data = data[0], .len = 60};
	struct net_frame *mix[7] = {&bad[0], &bad[1], &ok, &bad[2], &bad[3], &bad[4], NULL};
	unsigned tdt = reg(E1000_TDT(0));
	assert_int_equal(e1000e_tx_put(&t, mix, 7, &st), 1);
	assert_int_equal(t.bad_frame, 6);
	assert_int_equal(st.tx_drops, 11);
	assert_int_equal(reg(E1000_TDT(0)), (tdt + 1) % RING);
	assert_int_equal(f->desc[tdt].len, 60);
	/* nothing queued: TDT is not written */
	regfile[E1000_TDT(0) / 4] = 0x1234;
	assert_int_equal(e1000e_tx_put(&t, mix, 2, &st), 0);
	assert_int_equal(reg(E1000_TDT(0)), 0x1234);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rx_init),
	    cmocka_unit_test(test_rx_frames_and_wrap),
	    cmocka_unit_test(test_rx_full_ring_and_stray_dd),
	    cmocka_unit_test(test_rx_bad_descriptors),
	    cmocka_unit_test(test_rx_batch_limit),
	    cmocka_unit_test(test_tx_put_reclaim_wrap),
	    cmocka_unit_test(test_tx_full_and_bad_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

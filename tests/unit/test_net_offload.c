// SOURCES: kernel/net/net_offload.c
/*
 * Software offloads: checksums completed as a device would (verified by an
 * independent sum), 64 KiB TCP frames over IPv4 and IPv6 cut into segments
 * whose headers, flags and checksums are all checked, and frames whose
 * offload fields or headers do not add up refused without a byte written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/net/net_offload.h"
#include "tests/unit/net_fixture.h"

static uint8_t buf[NET_GSO_FRAME_MAX + 64], copy[NET_GSO_FRAME_MAX + 64];
static uint8_t scratch[NET_GSO_FRAME_MAX];

static void test_csum_add_fold(void **state)
{
	(void)state;
	/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(net_csum_add(0, d, sizeof(d)) & 0xffff, 0xddf2);
	assert_int_equal(net_csum_fold(0xddf2), 0x220d);
	/* in parts, the same */
	assert_int_equal(net_csum_fold(net_csum_add(net_csum_add(0, d, 4), d + 4, 4)), 0x220d);
	/* an odd byte is the high half of its word */
	const uint8_t o[] = {0x12};
	assert_int_equal(net_csum_add(0, o, 1), 0x1200);
	/* many carries */
	static uint8_t ff[65536];
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(net_csum_fold(net_csum_add(0, ff, sizeof(ff))), 0);
}

/* NEEDS_CSUM completed: the checksum verifies, nothing else changed, flags updated. */
static void check_csum(const struct fx_tcp_opts *o, uint32_t payload)
{
	struct net_frame f = {.data = buf};
	f.len = fx_build(buf, o, payload, 0, &f.off);
	assert_true(net_offload_valid(&f));
	memcpy(copy, buf, f.len);
	assert_int_equal(net_offload_csum(&f), 0);
	assert_int_equal(f.off.flags, NET_OFF_DATA_VALID);
	uint32_t l3 = ETH_HLEN + (o->vlan ? 4 : 0), iplen = o->v6 ? 40 : 20;
	assert_true(fx_l4_ok(buf + l3, o->v6, iplen, f.len - l3 - iplen, o->udp ? 17 : 6));
	uint32_t field = f.off.csum_start + f.off.csum_offset;
	assert_memory_equal(buf, copy, field);
	assert_memory_equal(buf + field + 2, copy + field + 2, f.len - field - 2);
	if (o->udp)
		assert_int_not_equal(fx_get16(buf + field), 0);
	/* a second call: nothing to do */
	memcpy(copy, buf, f.len);
	assert_int_equal(net_offload_csum(&f), 0);
	assert_memory_equal(buf, copy, f.len);
}

static void test_csum_tcp_udp_v4_v6(void **state)
{
	(void)state;
	const unsigned sizes[] = {0, 1, 2, 3, 100, 1401, 1460};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			for (int udp = 0; udp < 2; udp++) {
				struct fx_tcp_opts o = {.v6 = v6, .udp = udp, .seq = 77 + i,
							.ip_id = (uint16_t)i, .vlan = i & 1,
							.tcp_opts = (i % 3) * 4};
				check_csum(&o, sizes[i]);
			}
		}
	}
}

static void test_csum_refused(void **state)
{
	(void)state;
	struct fx_tcp_opts o = {0};
	struct net_frame f = {.data = buf};
	f.len = fx_build(buf, &o, 100, 0, &f.off);
	struct net_offload good = f.off;
	memcpy(copy, buf, f.len);

	f.off.csum_offset = (uint16_t)(f.len - f.off.csum_start - 1); /* the field crosses the end */
	assert_false(net_offload_valid(&f));
	assert_int_equal(net_offload_csum(&f), -1);
	f.off = good;
	f.off.csum_start = (uint16_t)f.len; /* at the end */
	f.off.csum_offset = 0;
	assert_int_equal(net_offload_csum(&f), -1);
	f.off = good;
	f.off.csum_start = 0xffff;
	f.off.csum_offset = 0xffff;
	assert_false(net_offload_valid(&f));
	assert_int_equal(net_offload_csum(&f), -1);
	f.off = good;
	f.off.csum_start = 4; /* inside the Ethernet header */
	f.off.csum_offset = 0;
	assert_false(net_offload_valid(&f));
	assert_int_equal(net_offload_csum(&f), -1);
	f.off = good;
	f.off.gso_type = NET_GSO_TCPV4; /* a GSO frame's checksum is its segments' */
	f.off.gso_size = 1000;
	assert_int_equal(net_offload_csum(&f), -1);
	assert_memory_equal(buf, copy, f.len);
	assert_int_equal(f.off.flags, NET_OFF_NEEDS_CSUM);

	/* the last two bytes of the frame: still fine */
	f.off = good;
	f.off.csum_offset = (uint16_t)(f.len - f.off.csum_start - 2);
	assert_true(net_offload_valid(&f));
	assert_int_equal(net_offload_csum(&f), 0);
}

/* ---- segmentation ---- */

struct seg_log {
	unsigned n;
	uint32_t lens[128];
	uint8_t *bytes[128];
	uint16_t flags[128];
};

static void record(void *ctx, struct net_frame *seg)
{
	struct seg_log *log = ctx;
	assert_true(log->n < 128);
	log->lens[log->n] = seg->len;
	log->bytes[log->n] = malloc(seg->len);
	memcpy(log->bytes[log->n], seg->data, seg->len);
	log->flags[log->n] = seg->off.flags | seg->off.gso_type << 8;
	log->n++;
}

static void log_free(struct seg_log *log)
{
	for (unsigned i = 0; i < log->n; i++)
		free(log->bytes[i]);
	log->n = 0;
}

static void check_segments(const struct fx_tcp_opts *o, uint32_t payload, uint16_t mss)
{
	struct net_frame f = {.data = buf};
	struct seg_log log = {0};

	f.len = fx_build(buf, o, payload, mss, &f.off);
	assert_true(f.len <= NET_GSO_FRAME_MAX);
	assert_true(net_offload_valid(&f));
	memcpy(copy, buf, f.len);
	uint32_t l3 = ETH_HLEN + (o->vlan ? 4 : 0), iplen = o->v6 ? 40 : 20;
	uint32_t hdr = l3 + iplen + 20 + o->tcp_opts;
	unsigned expect = (payload + mss - 1) / mss;

	int n = net_offload_segment(&f, scratch, sizeof(scratch), record, &log);
	assert_int_equal(n, expect);
	assert_int_equal(log.n, expect);
	assert_memory_equal(buf, copy, f.len); /* the sender's frame is left alone */
	uint8_t flags = o->tcp_flags ? o->tcp_flags : 0x18;
	for (unsigned i = 0; i < log.n; i++) {
		const uint8_t *s = log.bytes[i], *ip = s + l3, *tcp = ip + iplen;
		uint32_t chunk = i + 1 < expect ? mss : payload - (expect - 1) * mss;

		assert_int_equal(log.lens[i], hdr + chunk);
		assert_int_equal(log.flags[i], NET_OFF_DATA_VALID); /* no GSO, checksums done */
		assert_memory_equal(s, buf, l3);
		if (o->v6) {
			assert_int_equal(fx_get16(ip + 4), hdr + chunk - l3 - 40);
			assert_memory_equal(ip + 6, buf + l3 + 6, 34);
		} else {
			assert_int_equal(fx_get16(ip + 2), hdr + chunk - l3);
			assert_int_equal(fx_get16(ip + 4), (uint16_t)(o->ip_id + i));
			assert_true(fx_ip4_header_ok(ip));
			assert_memory_equal(ip + 12, buf + l3 + 12, 8);
		}
		assert_int_equal(fx_get32(tcp + 4), o->seq + i * mss);
		uint8_t want = flags;
		if (i)
			want &= (uint8_t)~0x80;
		if (i + 1 < expect)
			want &= (uint8_t)~0x09;
		assert_int_equal(tcp[13], want);
		assert_memory_equal(tcp + 8, buf + l3 + iplen + 8, 4); /* ack */
		assert_memory_equal(tcp + 20, buf + l3 + iplen + 20, o->tcp_opts);
		assert_true(fx_l4_ok(ip, o->v6, iplen, hdr + chunk - l3 - iplen, 6));
		assert_memory_equal(s + hdr, buf + hdr + i * mss, chunk);
	}
	log_free(&log);
}

static void test_segment_64k_tcpv4(void **state)
{
	(void)state;
	/* the largest IPv4 packet: 65535 bytes, 65495 of them data */
	struct fx_tcp_opts o = {.seq = 0xfffff000, .ip_id = 0xfff0, .tcp_flags = 0x80 | 0x10 | 0x08 | 0x01};
	check_segments(&o, 65495, 1448);
	struct net_frame f = {.data = buf};
	f.len = fx_build(buf, &o, 65495, 1448, &f.off);
	assert_int_equal(f.len, 65549);
	/* with options and a VLAN tag */
	struct fx_tcp_opts o2 = {.vlan = true, .tcp_opts = 12, .seq = 1, .ip_id = 7};
	check_segments(&o2, 65000, 1436);
}

static void test_segment_64k_tcpv6(void **state)
{
	(void)state;
	struct fx_tcp_opts o = {.v6 = true, .seq = 0x80000000, .tcp_flags = 0x80 | 0x10 | 0x01};
	check_segments(&o, 65476, 1440); /* 14 + 40 + 20 + 65476 = NET_GSO_FRAME_MAX */
	struct fx_tcp_opts o2 = {.v6 = true, .vlan = true, .tcp_opts = 12, .seq = 5};
	check_segments(&o2, 30000, 1428);
}

static void test_segment_small(void **state)
{
	(void)state;
	struct fx_tcp_opts o = {.seq = 10, .tcp_flags = 0x80 | 0x18 | 0x01};
	check_segments(&o, 1, 1448);    /* one segment: CWR, PSH and FIN together */
	check_segments(&o, 1448, 1448); /* exactly one */
	check_segments(&o, 1449, 1448); /* a one-byte tail */
	check_segments(&o, 100, 1);     /* one byte each */
}

static unsigned emitted;
static void count(void *ctx, struct net_frame *seg)
{
	(void)ctx;
	(void)seg;
	emitted++;
}

/* A frame that must be refused: not valid, nothing emitted, nothing written. */
static void refuse(struct net_frame *f)
{
	memcpy(copy, buf, f->len);
	emitted = 0;
	assert_false(net_offload_valid(f));
	assert_int_equal(net_offload_segment(f, scratch, sizeof(scratch), count, NULL), -1);
	assert_int_equal(emitted, 0);
	assert_memory_equal(buf, copy, f->len);
}

static void test_segment_refused(void **state)
{
	(void)state;
	struct fx_tcp_opts o = {.seq = 1};
	struct fx_tcp_opts o6 = {.v6 = true};
	struct net_frame f = {.data = buf};
	uint32_t len = fx_build(buf, &o, 5000, 1448, &f.off);
	struct net_offload good = f.off;
	f.len = len;
	assert_true(net_offload_valid(&f));

	f.off.gso_size = 0;
	refuse(&f);
	f.off = good;
	f.off.gso_type = NET_GSO_TCPV6; /* the frame is IPv4 */
	refuse(&f);
	f.off = good;
	f.off.gso_type = NET_GSO_UDP; /* UFO: nothing can finish it */
	refuse(&f);
	f.off = good;
	f.off.gso_type = 2;
	refuse(&f);

	/* headers cut short */
	f.off = good;
	for (uint32_t l = 0; l <= 54; l++) {
		f.len = l;
		refuse(&f);
	}
	f.len = len;

	/* bad IPv4 headers */
	buf[14] = 0x44; /* IHL 4 */
	refuse(&f);
	buf[14] = 0x4f; /* IHL 15: the TCP header then starts at 74 */
	buf[74 + 12] = 0xf0;
	f.len = 14 + 60 + 20;
	refuse(&f); /* the TCP header (60 bytes) ends past the frame */
	f.len = len;
	len = fx_build(buf, &o, 5000, 1448, &f.off);
	buf[14] = 0x65; /* version 6 in an IPv4 frame */
	refuse(&f);
	buf[14] = 0x45;
	buf[14 + 9] = 17; /* UDP */
	refuse(&f);
	buf[14 + 9] = 6;
	buf[14 + 6] = 0x20; /* a fragment (MF) */
	refuse(&f);
	buf[14 + 6] = 0x40;
	buf[14 + 7] = 1; /* a fragment offset */
	refuse(&f);
	buf[14 + 7] = 0;
	buf[14 + 20 + 12] = 0x40; /* TCP data offset 4 */
	refuse(&f);
	buf[14 + 20 + 12] = 0x50;
	fx_put16(buf + 12, 0x86dd); /* ethertype */
	refuse(&f);
	fx_put16(buf + 12, 0x0800);
	f.off.csum_start = 0; /* GSO frames name their TCP header */
	assert_false(net_offload_valid(&f));
	f.off = good;
	f.off.csum_offset = 6;
	assert_false(net_offload_valid(&f));
	f.off = good;
	f.off.flags = 0; /* GSO without NEEDS_CSUM */
	assert_false(net_offload_valid(&f));
	f.off = good;
	f.off.flags |= 0x40; /* unknown flags */
	assert_false(net_offload_valid(&f));
	f.off = good;
	f.off.hdr_len = (uint16_t)(f.len + 1);
	assert_false(net_offload_valid(&f));
	f.off = good;
	f.off.gso_type = NET_GSO_NONE | NET_GSO_ECN; /* ECN on no GSO */
	assert_false(net_offload_valid(&f));
	f.off = good;
	/* headers only: nothing to cut */
	f.len = 54;
	refuse(&f);
	f.len = len;
	/* scratch too small for one segment */
	assert_true(net_offload_valid(&f));
	assert_int_equal(net_offload_segment(&f, scratch, 54 + 1447, count, NULL), -1);
	assert_true(net_offload_segment(&f, scratch, 54 + 1448, count, NULL) == 4);
	/* a frame over the GSO limit */
	f.len = NET_GSO_FRAME_MAX + 1;
	refuse(&f);

	/* IPv6: an extension header, a wrong version */
	len = fx_build(buf, &o6, 5000, 1400, &f.off);
	f.len = len;
	good = f.off;
	assert_true(net_offload_valid(&f));
	buf[14 + 6] = 0; /* hop-by-hop options */
	refuse(&f);
	buf[14 + 6] = 6;
	buf[14] = 0x40;
	refuse(&f);
	buf[14] = 0x60;
	for (uint32_t l = 0; l <= 74; l++) {
		f.len = l;
		refuse(&f);
	}
	f.len = len;
	assert_true(net_offload_valid(&f));
	/* a VLAN tag cut short */
	fx_put16(buf + 12, 0x8100);
	f.len = 17;
	refuse(&f);
	f.data = NULL;
	f.len = 100;
	assert_false(net_offload_valid(&f));
	assert_int_equal(net_offload_segment(&f, scratch, sizeof(scratch), count, NULL), -1);
}

/* ECN GSO frames: the same cut. */
static void test_segment_ecn(void **state)
{
	(void)state;
	struct fx_tcp_opts o = {.seq = 9, .tcp_flags = 0x80 | 0x40 | 0x10};
	struct net_frame f = {.data = buf};
	struct seg_log log = {0};
	f.len = fx_build(buf, &o, 3000, 1000, &f.off);
	f.off.gso_type |= NET_GSO_ECN;
	assert_true(net_offload_valid(&f));
	assert_int_equal(net_offload_segment(&f, scratch, sizeof(scratch), record, &log), 3);
	assert_int_equal(log.bytes[0][14 + 20 + 13], 0x80 | 0x40 | 0x10);
	assert_int_equal(log.bytes[1][14 + 20 + 13], 0x40 | 0x10); /* ECE stays, CWR once */
	log_free(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum_add_fold),
	    cmocka_unit_test(test_csum_tcp_udp_v4_v6),
	    cmocka_unit_test(test_csum_refused),
	    cmocka_unit_test(test_segment_64k_tcpv4),
	    cmocka_unit_test(test_segment_64k_tcpv6),
	    cmocka_unit_test(test_segment_small),
	    cmocka_unit_test(test_segment_refused),
	    cmocka_unit_test(test_segment_ecn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Frames for the network tests: TCP over IPv4/IPv6 as a guest hands them
 * over with offloads (the checksum field seeded with the pseudo-header sum,
 * virtio style), and a checksum computed independently of net_offload.c
 * (byte by byte, with no folding until the end) to verify what it wrote.
 */
#ifndef TESTS_UNIT_NET_FIXTURE_H
#define TESTS_UNIT_NET_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernel/net/netframe.h"

static inline uint16_t fx_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t fx_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void fx_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fx_put32(uint8_t *p, uint32_t v)
{
	fx_put16(p, (uint16_t)(v >> 16));
	fx_put16(p + 2, (uint16_t)v);
}

/* The plain one's-complement sum of the byte runs, even bytes high, odd bytes low. */
struct fx_sum {
	uint64_t hi, lo;
	bool odd; /* the next byte is a low byte */
};

static inline void fx_sum_bytes(struct fx_sum *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->odd)
			s->lo += p[i];
		else
			s->hi += p[i];
		s->odd = !s->odd;
	}
}

static inline uint16_t fx_sum_result(const struct fx_sum *s)
{
	uint64_t v = (s->hi << 8) + s->lo;
	while (v > 0xffff)
		v = (v & 0xffff) + (v >> 16);
	return (uint16_t)v;
}

static const uint8_t fx_ip4_src[4] = {10, 0, 0, 1}, fx_ip4_dst[4] = {10, 0, 0, 2};
static const uint8_t fx_ip6_src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t fx_ip6_dst[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};

/* The sum of the L4 pseudo-header of an IPv4/IPv6 packet at ip, for l4_len bytes of protocol proto. */
static inline void fx_pseudo(struct fx_sum *s, const uint8_t *ip, bool v6, uint32_t l4_len,
			     uint8_t proto)
{
	uint8_t t[8] = {0};
	if (v6) {
		fx_sum_bytes(s, ip + 8, 32);
		fx_put32(t, l4_len);
		t[7] = proto;
		fx_sum_bytes(s, t, 8);
	} else {
		fx_sum_bytes(s, ip + 12, 8);
		t[1] = proto;
		fx_put16(t + 2, (uint16_t)l4_len);
		fx_sum_bytes(s, t, 4);
	}
}

/* Whether the L4 checksum of the packet at ip (l4 at ip + l3len) adds up. */
static inline bool fx_l4_ok(const uint8_t *ip, bool v6, uint32_t l3len, uint32_t l4_len,
			    uint8_t proto)
{
	struct fx_sum s = {0};
	fx_pseudo(&s, ip, v6, l4_len, proto);
	fx_sum_bytes(&s, ip + l3len, l4_len);
	return fx_sum_result(&s) == 0xffff;
}

static inline bool fx_ip4_header_ok(const uint8_t *ip)
{
	struct fx_sum s = {0};
	fx_sum_bytes(&s, ip, (ip[0] & 15u) * 4);
	return fx_sum_result(&s) == 0xffff;
}

struct fx_tcp_opts {
	bool v6, vlan;
	unsigned tcp_opts;  /* bytes of TCP options (a multiple of 4) */
	uint8_t tcp_flags;  /* 0: ACK|PSH */
	uint32_t seq;
	uint16_t ip_id;
	bool udp;	    /* a UDP datagram instead (no GSO) */
};

#define FX_DST_MAC 0x02, 0, 0, 0, 0, 0x0b
#define FX_SRC_MAC 0x02, 0, 0, 0, 0, 0x0a

/*
 * Builds a frame of `payload` bytes of data (byte i is (i * 7 + 3) & 0xff)
 * with the checksum field seeded for NEEDS_CSUM, and its offload fields:
 * NEEDS_CSUM; with gso_size, the GSO type too. Returns the frame's length.
 */
static inline uint32_t fx_build(uint8_t *buf, const struct fx_tcp_opts *o, uint32_t payload,
				uint16_t gso_size, struct net_offload *off)
{
	static const uint8_t dst[6] = {FX_DST_MAC}, src[6] = {FX_SRC_MAC};
	uint32_t l3 = ETH_HLEN, iplen = o->v6 ? 40 : 20;
	uint32_t l4len = (o->udp ? 8 : 20 + o->tcp_opts) + payload;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	if (o->vlan) {
		fx_put16(buf + 12, 0x8100);
		fx_put16(buf + 14, 42);
		l3 += 4;
	}
	fx_put16(buf + l3 - 2, o->v6 ? 0x86dd : 0x0800);
	uint8_t *ip = buf + l3, *l4 = ip + iplen;
	uint8_t proto = o->udp ? 17 : 6;
	memset(ip, 0, iplen);
	if (o->v6) {
		ip[0] = 0x60;
		fx_put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, fx_ip6_src, 16);
		memcpy(ip + 24, fx_ip6_dst, 16);
	} else {
		ip[0] = 0x45;
		fx_put16(ip + 2, (uint16_t)(20 + l4len));
		fx_put16(ip + 4, o->ip_id);
		fx_put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, fx_ip4_src, 4);
		memcpy(ip + 16, fx_ip4_dst, 4);
		struct fx_sum s = {0};
		fx_sum_bytes(&s, ip, 20);
		fx_put16(ip + 10, (uint16_t)~fx_sum_result(&s));
	}
	uint32_t hl = o->udp ? 8 : 20 + o->tcp_opts;
	memset(l4, 0, hl);
	fx_put16(l4, 40000);
	fx_put16(l4 + 2, 80);
	uint32_t csum_off;
	if (o->udp) {
		fx_put16(l4 + 4, (uint16_t)l4len);
		csum_off = 6;
	} else {
		fx_put32(l4 + 4, o->seq);
		fx_put32(l4 + 8, 0xa0b0c0d0);
		l4[12] = (uint8_t)((hl / 4) << 4);
		l4[13] = o->tcp_flags ? o->tcp_flags : 0x18;
		fx_put16(l4 + 14, 65535);
		for (unsigned i = 0; i < o->tcp_opts; i++)
			l4[20 + i] = i % 4 == 3 ? 0 : 1; /* NOPs and an end */
		csum_off = 16;
	}
	for (uint32_t i = 0; i < payload; i++)
		l4[hl + i] = (uint8_t)(i * 7 + 3);
	struct fx_sum s = {0};
	fx_pseudo(&s, ip, o->v6, l4len, proto);
	fx_put16(l4 + csum_off, fx_sum_result(&s));

	memset(off, 0, sizeof(*off));
	off->flags = NET_OFF_NEEDS_CSUM;
	off->csum_start = (uint16_t)(l4 - buf);
	off->csum_offset = (uint16_t)csum_off;
	if (gso_size) {
		off->gso_type = o->v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4;
		off->gso_size = gso_size;
		off->hdr_len = (uint16_t)(l4 - buf + hl);
	}
	return (uint32_t)(l4 - buf) + l4len;
}

#endif

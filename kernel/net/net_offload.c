/*
 * Software offloads (net_offload.h): what a port that cannot take a frame's
 * offloads gets instead. The frame comes from a guest, so its offload
 * fields and headers are checked before any byte they name is touched, and
 * only bytes below f->len are ever read.
 *
 * The checksum follows virtio_net_hdr: the field at csum_start +
 * csum_offset holds the pseudo-header sum (not complemented), and the sum
 * covers csum_start up to the end of the frame. Segmentation parses the
 * headers itself: a Linux guest's hdr_len is only a hint (the length of its
 * linear buffer), so it is never trusted.
 */
#include "kernel/net/net_offload.h"

#include "kernel/lib/string.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define IPPROTO_TCP_ 6

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Adds big-endian 16-bit words; an odd last byte counts as its word's high
 * half. Chained calls must give every part but the last an even length.
 * The result is kept below 2^17 so any number of calls can be chained.
 */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	while (len >= 2) {
		s += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* The checksum field's value for a sum: folded to 16 bits and complemented. */
uint16_t net_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Where a TCP GSO frame's headers are, all inside the frame. */
struct tcp_layout {
	uint32_t l3;  /* IP header */
	uint32_t l4;  /* TCP header */
	uint32_t hdr; /* the payload */
	bool v6;
};

static int parse_tcp(const struct net_frame *f, struct tcp_layout *o)
{
	uint32_t len = f->len, l3 = ETH_HLEN, l4;
	uint8_t gso = f->off.gso_type & (uint8_t)~NET_GSO_ECN;

	if (!f->data || len < ETH_HLEN || len > NET_GSO_FRAME_MAX)
		return -1;
	uint16_t type = get16(f->data + 12);
	if (type == ETHERTYPE_VLAN) {
		if (len < ETH_HLEN + 4)
			return -1;
		type = get16(f->data + 16);
		l3 = ETH_HLEN + 4;
	}
	const uint8_t *ip = f->data + l3;
	if (gso == NET_GSO_TCPV4) {
		if (type != ETHERTYPE_IPV4 || len < l3 + 20 || ip[0] >> 4 != 4)
			return -1;
		uint32_t ihl = (ip[0] & 15u) * 4;
		/* not a fragment: neither MF nor an offset */
		if (ihl < 20 || len < l3 + ihl || ip[9] != IPPROTO_TCP_ || (get16(ip + 6) & 0x3fff))
			return -1;
		l4 = l3 + ihl;
		o->v6 = false;
	} else if (gso == NET_GSO_TCPV6) {
		/* no extension headers: TCP right after the fixed header */
		if (type != ETHERTYPE_IPV6 || len < l3 + 40 || ip[0] >> 4 != 6 ||
		    ip[6] != IPPROTO_TCP_)
			return -1;
		l4 = l3 + 40;
		o->v6 = true;
	} else {
		return -1;
	}
	/* the IPv4 total length, the IPv6 payload length: 16 bits */
	if (len - l3 - (o->v6 ? 40 : 0) > 0xffff || len < l4 + 20)
		return -1;
	uint32_t doff = (uint32_t)(f->data[l4 + 12] >> 4) * 4;
	if (doff < 20 || len <= l4 + doff) /* headers, and at least one payload byte */
		return -1;
	o->l3 = l3;
	o->l4 = l4;
	o->hdr = l4 + doff;
	return 0;
}

/* The checksum field lies inside the frame, after the Ethernet header. */
static bool csum_fields_ok(const struct net_frame *f)
{
	uint32_t start = f->off.csum_start, field = start + f->off.csum_offset;

	return start >= ETH_HLEN && start < f->len && field + 2 <= f->len;
}

bool net_offload_valid(const struct net_frame *f)
{
	if (!f->data || f->len < ETH_HLEN || f->len > NET_GSO_FRAME_MAX)
		return false;
	if (f->off.flags & ~(NET_OFF_NEEDS_CSUM | NET_OFF_DATA_VALID))
		return false;
	if ((f->off.flags & NET_OFF_NEEDS_CSUM) && !csum_fields_ok(f))
		return false;
	if (f->off.gso_type == NET_GSO_NONE)
		return true;

	/* virtio: a GSO frame also asks for its checksum, and names its MSS */
	struct tcp_layout t;
	if (!(f->off.flags & NET_OFF_NEEDS_CSUM) || !f->off.gso_size || f->off.hdr_len > f->len)
		return false;
	if (parse_tcp(f, &t) < 0)
		return false;
	return f->off.csum_start == t.l4 && f->off.csum_offset == 16;
}

int net_offload_csum(struct net_frame *f)
{
	if (!(f->off.flags & NET_OFF_NEEDS_CSUM))
		return 0;
	/* a GSO frame's checksum is the segments' business */
	if (!f->data || f->len > NET_GSO_FRAME_MAX || f->off.gso_type != NET_GSO_NONE ||
	    !csum_fields_ok(f))
		return -1;
	uint32_t start = f->off.csum_start;
	uint8_t *field = f->data + start + f->off.csum_offset;
	uint16_t c = net_csum_fold(net_csum_add(0, f->data + start, f->len - start));

	/* 0 would mean "no checksum" to UDP; 0xffff is the same sum for TCP */
	put16(field, c ? c : 0xffff);
	f->off.flags = (uint8_t)((f->off.flags & ~NET_OFF_NEEDS_CSUM) | NET_OFF_DATA_VALID);
	return 0;
}

/* The sum of the TCP pseudo-header for a segment of tcp_len bytes of TCP. */
static uint32_t pseudo_sum(const uint8_t *ip, bool v6, uint32_t tcp_len)
{
	uint8_t tail[8];
	uint32_t s;

	if (v6) {
		s = net_csum_add(0, ip + 8, 32); /* source and destination */
		put32(tail, tcp_len);
		tail[4] = tail[5] = tail[6] = 0;
		tail[7] = IPPROTO_TCP_;
		return net_csum_add(s, tail, 8);
	}
	s = net_csum_add(0, ip + 12, 8);
	tail[0] = 0;
	tail[1] = IPPROTO_TCP_;
	put16(tail + 2, (uint16_t)tcp_len);
	return net_csum_add(s, tail, 4);
}

int net_offload_segment(const struct net_frame *f, uint8_t *scratch, size_t scratch_len,
			void (*emit)(void *ctx, struct net_frame *seg), void *ctx)
{
	struct tcp_layout t;

	if (!f->off.gso_size || parse_tcp(f, &t) < 0 || !scratch)
		return -1;
	uint32_t payload = f->len - t.hdr, mss = f->off.gso_size;
	uint32_t first = payload < mss ? payload : mss;
	if (scratch_len < (size_t)t.hdr + first)
		return -1;

	const uint8_t *tcp0 = f->data + t.l4;
	uint32_t seq0 = get32(tcp0 + 4);
	uint16_t id0 = t.v6 ? 0 : get16(f->data + t.l3 + 4);
	uint8_t flags0 = tcp0[13];
	uint32_t nseg = (payload + mss - 1) / mss;
	uint8_t *ip = scratch + t.l3, *tcp = scratch + t.l4;

	memcpy(scratch, f->data, t.hdr);
	for (uint32_t i = 0; i < nseg; i++) {
		uint32_t off = i * mss, chunk = payload - off < mss ? payload - off : mss;
		uint32_t seg_len = t.hdr + chunk;
		uint8_t fl = flags0;

		memcpy(scratch + t.hdr, f->data + t.hdr + off, chunk);
		if (t.v6) {
			put16(ip + 4, (uint16_t)(seg_len - t.l3 - 40));
		} else {
			uint32_t ihl = t.l4 - t.l3;
			put16(ip + 2, (uint16_t)(seg_len - t.l3));
			put16(ip + 4, (uint16_t)(id0 + i));
			put16(ip + 10, 0);
			put16(ip + 10, net_csum_fold(net_csum_add(0, ip, ihl)));
		}
		put32(tcp + 4, seq0 + off);
		if (i)
			fl &= (uint8_t)~TCP_CWR;
		if (i + 1 < nseg)
			fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
		tcp[13] = fl;
		put16(tcp + 16, 0);
		uint32_t tcp_len = seg_len - t.l4;
		uint32_t s = net_csum_add(pseudo_sum(ip, t.v6, tcp_len), tcp, tcp_len);
		put16(tcp + 16, net_csum_fold(s));

		struct net_frame seg = {
			.data = scratch,
			.len = seg_len,
			.off = {.flags = NET_OFF_DATA_VALID},
		};
		emit(ctx, &seg);
	}
	return (int)nseg;
}

/*
 * Fuzz target for the software offloads (kernel/net/net_offload.c): the
 * input is a frame as a guest hands it over, with its offload fields.
 * Whatever the bytes, nothing outside the frame is read (it lives in an
 * allocation of exactly its length), and what is accepted keeps the
 * promises: a completed checksum adds up and changes nothing but its field;
 * a valid GSO frame is cut into segments that fit the scratch, carry the
 * whole payload in order, and whose IPv4 header and TCP checksums add up;
 * a refused frame emits nothing.
 *
 * Input: [0] flags, [1] gso_type, [2..3] hdr_len, [4..5] gso_size,
 * [6..7] csum_start, [8..9] csum_offset (little-endian), then the frame.
 */
#include "tests/fuzz/fuzz_guest.h"

#include "kernel/net/net_offload.h"
#include "tests/unit/net_fixture.h"

#define PREFIX 10

static uint8_t scratch[NET_GSO_FRAME_MAX];

struct cut {
	const struct net_frame *f;
	uint32_t l3, l4, hdr; /* as the target found them */
	uint32_t done;	      /* payload bytes seen */
	unsigned n;
	size_t scratch_len;
};

static uint32_t get_le16(const uint8_t *p)
{
	return (uint32_t)(p[0] | p[1] << 8);
}

static void on_segment(void *ctx, struct net_frame *seg)
{
	struct cut *c = ctx;
	const uint8_t *s = seg->data;
	bool v6 = (c->f->off.gso_type & 0x7f) == NET_GSO_TCPV6;

	CHECK(seg->len > c->hdr && seg->len <= c->scratch_len);
	CHECK(seg->len - c->hdr <= c->f->off.gso_size);
	CHECK(seg->off.gso_type == NET_GSO_NONE && seg->off.flags == NET_OFF_DATA_VALID);
	CHECK(memcmp(s, c->f->data, c->l3) == 0);
	CHECK(memcmp(s + c->hdr, c->f->data + c->hdr + c->done, seg->len - c->hdr) == 0);
	if (!v6)
		CHECK(fx_ip4_header_ok(s + c->l3));
	CHECK(fx_l4_ok(s + c->l3, v6, c->l4 - c->l3, seg->len - c->l4, 6));
	c->done += seg->len - c->hdr;
	c->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < PREFIX || size - PREFIX > NET_GSO_FRAME_MAX)
		return 0;
	struct net_frame f;
	uint32_t len = (uint32_t)(size - PREFIX);
	uint8_t *bytes = malloc(len ? len : 1);
	CHECK(bytes);
	memcpy(bytes, data + PREFIX, len);
	f.data = bytes;
	f.len = len;
	f.off.flags = data[0];
	f.off.gso_type = data[1];
	f.off.hdr_len = (uint16_t)get_le16(data + 2);
	f.off.gso_size = (uint16_t)get_le16(data + 4);
	f.off.csum_start = (uint16_t)get_le16(data + 6);
	f.off.csum_offset = (uint16_t)get_le16(data + 8);

	bool valid = net_offload_valid(&f);

	/* segmentation, whatever valid says (it checks for itself) */
	struct cut c = {.f = &f, .scratch_len = sizeof(scratch)};
	if (len > 14) {
		/* the split the target must have found, for a frame it accepts */
		c.l3 = 14;
		if (bytes[12] == 0x81 && bytes[13] == 0 && len >= 18)
			c.l3 = 18;
		bool v6 = (f.off.gso_type & 0x7f) == NET_GSO_TCPV6;
		c.l4 = c.l3 + (v6 ? 40 : (c.l3 < len ? (bytes[c.l3] & 15u) * 4 : 0));
		c.hdr = c.l4 + (c.l4 + 12 < len ? (uint32_t)(bytes[c.l4 + 12] >> 4) * 4 : 0);
	}
	int n = net_offload_segment(&f, scratch, sizeof(scratch), on_segment, &c);
	CHECK(memcmp(bytes, data + PREFIX, len) == 0); /* the frame is read only */
	if (n < 0) {
		CHECK(c.n == 0);
		CHECK(!valid || f.off.gso_type == NET_GSO_NONE);
	} else {
		CHECK((unsigned)n == c.n && n > 0);
		CHECK(c.done == len - c.hdr);
	}
	if (valid && f.off.gso_type != NET_GSO_NONE)
		CHECK(n > 0);

	/* the checksum, on the frame itself */
	int r = net_offload_csum(&f);
	if (!(data[0] & NET_OFF_NEEDS_CSUM)) {
		CHECK(r == 0 && memcmp(bytes, data + PREFIX, len) == 0);
	} else if (r < 0) {
		CHECK(!valid || f.off.gso_type != NET_GSO_NONE);
		CHECK(memcmp(bytes, data + PREFIX, len) == 0);
		CHECK(f.off.flags == data[0]);
	} else {
		uint32_t start = f.off.csum_start, field = start + f.off.csum_offset;

		CHECK(field + 2 <= len && start >= 14);
		CHECK(!(f.off.flags & NET_OFF_NEEDS_CSUM) && (f.off.flags & NET_OFF_DATA_VALID));
		CHECK(memcmp(bytes, data + PREFIX, field) == 0);
		CHECK(memcmp(bytes + field + 2, data + PREFIX + field + 2, len - field - 2) == 0);
		/* the field is the complement of the sum over csum_start..end with the seed
		   (what the field held) in its place; an odd offset is the sender's muddle */
		uint8_t sb[2] = {data[PREFIX + field], data[PREFIX + field + 1]};
		if ((field - start) % 2 == 0) {
			struct fx_sum u = {0};
			fx_sum_bytes(&u, bytes + start, field - start);
			fx_sum_bytes(&u, sb, 2);
			fx_sum_bytes(&u, bytes + field + 2, len - field - 2);
			uint16_t want = (uint16_t)~fx_sum_result(&u);
			uint16_t got = (uint16_t)(bytes[field] << 8 | bytes[field + 1]);
			CHECK(got == (want ? want : 0xffff));
		}
	}
	free(bytes);
	return 0;
}

static size_t seed_with(uint8_t *buf, size_t cap, const struct fx_tcp_opts *o, uint32_t payload,
			uint16_t mss)
{
	struct net_offload off;
	uint32_t len;

	if (cap < PREFIX + 14 + 4 + 40 + 60 + payload)
		return 0;
	len = fx_build(buf + PREFIX, o, payload, mss, &off);
	buf[0] = off.flags;
	buf[1] = off.gso_type;
	put_le(buf + 2, off.hdr_len, 2);
	put_le(buf + 4, off.gso_size, 2);
	put_le(buf + 6, off.csum_start, 2);
	put_le(buf + 8, off.csum_offset, 2);
	return PREFIX + len;
}

static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	struct fx_tcp_opts v4 = {.seq = 1, .ip_id = 5, .tcp_flags = 0x99};
	struct fx_tcp_opts v6 = {.v6 = true, .seq = 0xfffffff0, .vlan = true, .tcp_opts = 12};
	struct fx_tcp_opts u4 = {.udp = true};
	struct fx_tcp_opts u6 = {.udp = true, .v6 = true, .vlan = true};

	switch (i) {
	case 0:
		return seed_with(buf, cap, &v4, 8000, 1448);
	case 1:
		return seed_with(buf, cap, &v6, 6000, 1000);
	case 2:
		return seed_with(buf, cap, &v4, 1400, 0);
	case 3:
		return seed_with(buf, cap, &u4, 333, 0);
	case 4:
		return seed_with(buf, cap, &u6, 1000, 0);
	case 5:
		return seed_with(buf, cap, &v4, 40, 7);
	default:
		return 0;
	}
}

// SOURCES: kernel/net/switch.c kernel/net/net_offload.c kernel/lib/string.c kernel/lib/format.c
/*
 * The virtual switch: learning, ageing, flooding, never back where a frame
 * came from, the spoofing guard and its counters, a full table and a port's
 * share of it, malformed frames, ports leaving, one deliver() per
 * destination per input batch, and offloads finished for ports without
 * them (the sender's bytes untouched), plus net-list and the names.
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
#include "kernel/net/switch.h"
#include "tests/unit/net_fixture.h"

/* ---- the kernel services switch.c uses ---- */

static char logbuf[65536], conbuf[1 << 20];
static unsigned log_lines;

static void append(char *b, size_t size, const char *fmt, va_list ap)
{
	size_t used = strlen(b);
	if (used < size)
		vsnprintf(b + used, size - used, fmt, ap);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	append(logbuf, sizeof(logbuf), fmt, ap);
	va_end(ap);
	log_lines++;
}

void console_print(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	append(conbuf, sizeof(conbuf), fmt, ap);
	va_end(ap);
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

uint64_t uptime_us(void)
{
	return 0;
}

static unsigned vm_ports_told, vm_ports_calls;
void uplink_vm_ports_changed(unsigned n)
{
	vm_ports_told = n;
	vm_ports_calls++;
}

static uint64_t now_ms;
static uint64_t test_clock(void)
{
	return now_ms;
}

/* ---- ports that record what they get ---- */

#define MAXGOT 256

struct rec {
	struct net_port port;
	unsigned calls;		/* deliver() calls */
	unsigned batch[64];	/* the size of each */
	unsigned n;		/* frames */
	uint32_t len[MAXGOT];
	uint8_t *data[MAXGOT];
	const uint8_t *ptr[MAXGOT]; /* where the bytes were */
	struct net_offload off[MAXGOT];
};

static void rec_deliver(struct net_port *p, struct net_frame *const *frames, unsigned n)
{
	struct rec *r = (struct rec *)p;
	assert_true(n >= 1 && n <= NET_BATCH_MAX);
	if (r->calls < 64)
		r->batch[r->calls] = n;
	r->calls++;
	for (unsigned i = 0; i < n; i++) {
		if (r->n == MAXGOT)
			continue;
		r->len[r->n] = frames[i]->len;
		r->data[r->n] = malloc(frames[i]->len);
		memcpy(r->data[r->n], frames[i]->data, frames[i]->len);
		r->ptr[r->n] = frames[i]->data;
		r->off[r->n] = frames[i]->off;
		r->n++;
	}
}

static const struct net_port_ops rec_ops = {.deliver = rec_deliver};

static void rec_clear(struct rec *r)
{
	for (unsigned i = 0; i < r->n; i++)
		free(r->data[i]);
	r->n = 0;
	r->calls = 0;
}

#define NRECS 4
static struct rec recs[NRECS];
static struct net_switch *sw;

static void mac_of(uint8_t *m, unsigned id)
{
	m[0] = 0x02;
	m[1] = 0;
	m[2] = 0;
	m[3] = (uint8_t)(id >> 16);
	m[4] = (uint8_t)(id >> 8);
	m[5] = (uint8_t)id;
}

static struct rec *port(unsigned i, const char *name, enum net_port_kind kind, unsigned macid)
{
	struct rec *r = &recs[i];
	char err[128];

	memset(r, 0, sizeof(*r));
	snprintf(r->port.name, sizeof(r->port.name), "%s", name);
	r->port.kind = kind;
	mac_of(r->port.mac, macid);
	r->port.spoof_check = kind == NET_PORT_VM;
	r->port.ops = &rec_ops;
	assert_int_equal(net_switch_attach(sw, &r->port, err, sizeof(err)), 0);
	return r;
}

static int setup(void **state)
{
	char err[128];
	(void)state;
	now_ms = 1000;
	net_switch_set_clock(test_clock);
	sw = net_switch_get("t", err, sizeof(err));
	assert_non_null(sw);
	logbuf[0] = conbuf[0] = 0;
	log_lines = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NRECS; i++) {
		if (recs[i].port.sw)
			net_switch_detach(&recs[i].port);
		rec_clear(&recs[i]);
	}
	net_switch_reset();
	return 0;
}

static uint8_t frames_buf[NET_BATCH_MAX * 2][128];
static struct net_frame frames[NET_BATCH_MAX * 2];
static struct net_frame *fptr[NET_BATCH_MAX * 2];

/* A plain frame of len bytes from MAC id src to MAC id dst (0xffffff: broadcast). */
static struct net_frame *frame(unsigned i, unsigned dst, unsigned src, uint32_t len)
{
	uint8_t *d = frames_buf[i];
	memset(d, 0, sizeof(frames_buf[i]));
	if (dst == 0xffffff)
		memset(d, 0xff, 6);
	else
		mac_of(d, dst);
	mac_of(d + 6, src);
	d[12] = 0x08;
	d[14] = (uint8_t)i;
	frames[i] = (struct net_frame){.data = d, .len = len};
	fptr[i] = &frames[i];
	return &frames[i];
}

static void send1(struct rec *from, unsigned dst, unsigned src)
{
	frame(0, dst, src, 60);
	net_switch_input(&from->port, fptr, 1);
}

static void clear_all(void)
{
	for (unsigned i = 0; i < NRECS; i++)
		rec_clear(&recs[i]);
}

#define BCAST 0xffffff

static void test_learning_and_flooding(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);

	send1(a, 2, 1); /* b unknown: flooded, not back to a */
	assert_int_equal(a->n, 0);
	assert_int_equal(b->n, 1);
	assert_int_equal(c->n, 1);
	assert_int_equal(b->len[0], 60);
	assert_int_equal(b->data[0][14], 0);
	clear_all();

	send1(b, 1, 2); /* a was learned: to a only */
	assert_int_equal(a->n, 1);
	assert_int_equal(b->n + c->n, 0);
	clear_all();

	send1(a, 2, 1); /* and b now too */
	assert_int_equal(b->n, 1);
	assert_int_equal(a->n + c->n, 0);
	clear_all();

	send1(a, BCAST, 1); /* broadcast: everyone else */
	assert_int_equal(a->n, 0);
	assert_int_equal(b->n, 1);
	assert_int_equal(c->n, 1);
	clear_all();

	frame(0, 2, 1, 60);
	frames_buf[0][0] = 0x01; /* multicast 01:00:00:00:00:02 */
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(b->n, 1);
	assert_int_equal(c->n, 1);
	clear_all();

	send1(c, 99, 3); /* unknown unicast */
	assert_int_equal(a->n, 1);
	assert_int_equal(b->n, 1);
	assert_int_equal(c->n, 0);

	assert_int_equal(a->port.stats.in_frames, 4);
	assert_int_equal(a->port.stats.in_bytes, 240);
	assert_int_equal(a->port.stats.out_frames, 2);
	assert_int_equal(a->port.stats.out_bytes, 120);
	assert_int_equal(b->port.stats.out_frames, 5);
	assert_int_equal(a->port.stats.in_errors + a->port.stats.spoofed, 0);
}

/* A frame for a station on the port it came from goes nowhere. */
static void test_no_hairpin(void **state)
{
	(void)state;
	struct rec *u = port(0, "uplink:eth0", NET_PORT_UPLINK, 100);
	struct rec *a = port(1, "a.0", NET_PORT_VM, 1);
	u->port.spoof_check = false;

	send1(u, 1, 50); /* station 50 is behind the uplink */
	assert_int_equal(a->n, 1);
	send1(u, 51, 52); /* 52 too */
	clear_all();
	send1(u, 50, 52); /* from the wire, for the wire */
	assert_int_equal(a->n + u->n, 0);
	send1(a, 50, 1);
	assert_int_equal(u->n, 1);
	assert_int_equal(a->n, 0);
	clear_all();
	send1(u, BCAST, 50);
	assert_int_equal(u->n, 0);
	assert_int_equal(a->n, 1);
}

static void test_ageing(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);

	send1(a, BCAST, 1);
	clear_all();
	now_ms += NET_SWITCH_AGEING_MS - 1;
	send1(b, 1, 2); /* still known */
	assert_int_equal(a->n, 1);
	assert_int_equal(c->n, 0);
	clear_all();
	send1(a, BCAST, 1); /* refreshed */
	now_ms += NET_SWITCH_AGEING_MS - 1;
	clear_all();
	send1(b, 1, 2);
	assert_int_equal(c->n, 0);
	now_ms += 1;
	clear_all();
	send1(b, 1, 2); /* aged out: flooded */
	assert_int_equal(a->n, 1);
	assert_int_equal(c->n, 1);

	/* net-list shows what is learned, with its age */
	now_ms += 5000;
	net_switch_list();
	assert_non_null(strstr(conbuf, "switch t: 3 ports, 1 MAC learned"));
	assert_non_null(strstr(conbuf, "02:00:00:00:00:02  b.0"));
	assert_non_null(strstr(conbuf, " 5 s"));
	assert_null(strstr(conbuf, "02:00:00:00:00:01"));
}

static void test_spoofing(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);

	for (int i = 0; i < 5; i++)
		send1(a, BCAST, 7); /* not a's MAC */
	assert_int_equal(b->n, 0);
	assert_int_equal(a->port.stats.spoofed, 5);
	assert_int_equal(a->port.stats.in_frames, 0);
	assert_int_equal(log_lines, 1);
	assert_non_null(strstr(logbuf, "a.0: dropping frames sent from 02:00:00:00:00:07, not its MAC "
				       "02:00:00:00:00:01"));
	now_ms += 9999;
	send1(a, BCAST, 7);
	assert_int_equal(log_lines, 1);
	now_ms += 1;
	send1(a, BCAST, 8);
	assert_int_equal(log_lines, 2);
	assert_int_equal(a->port.stats.spoofed, 7);
	/* the spoofed source was not learned: a frame to it floods */
	send1(b, 7, 2);
	assert_int_equal(a->n, 1);
	/* its own MAC passes */
	send1(a, 2, 1);
	assert_int_equal(b->n, 1);
	/* a port without the check may send from any MAC */
	struct rec *u = port(2, "hv", NET_PORT_HOST, 3);
	u->port.spoof_check = false;
	send1(u, 2, 77);
	assert_int_equal(b->n, 2);
	assert_int_equal(u->port.stats.spoofed, 0);

	net_switch_list();
	assert_non_null(strstr(conbuf, "a.0"));
	assert_non_null(strstr(conbuf, "Spoofed"));
}

static void test_malformed(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *u = port(2, "uplink:eth0", NET_PORT_UPLINK, 100);
	u->port.spoof_check = false;

	for (uint32_t l = 0; l < ETH_HLEN; l++) {
		frame(0, 2, 1, l);
		net_switch_input(&a->port, fptr, 1);
	}
	assert_int_equal(a->port.stats.in_errors, ETH_HLEN);
	/* too long for the port */
	static uint8_t big[ETH_FRAME_MAX + 2];
	memcpy(big, frame(0, 2, 1, 60)->data, 60);
	frames[0].data = big;
	frames[0].len = ETH_FRAME_MAX + 1;
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(a->port.stats.in_errors, ETH_HLEN + 1);
	frames[0].len = ETH_FRAME_MAX;
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(a->port.stats.in_errors, ETH_HLEN + 1);
	assert_int_equal(b->n, 1);
	/* a port with a larger limit */
	a->port.max_len = ETH_FRAME_MAX + 1;
	frames[0].len = ETH_FRAME_MAX + 1;
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(b->n, 2);
	/* offload fields pointing outside the frame */
	frame(0, 2, 1, 60);
	frames[0].off.flags = NET_OFF_NEEDS_CSUM;
	frames[0].off.csum_start = 50;
	frames[0].off.csum_offset = 9;
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(a->port.stats.in_errors, ETH_HLEN + 2);
	frames[0].off.csum_offset = 8; /* the last two bytes: fine */
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(a->port.stats.in_errors, ETH_HLEN + 2);
	/* a GSO frame that is not TCP */
	frame(0, 2, 1, 60);
	frames[0].off.gso_type = NET_GSO_TCPV4;
	frames[0].off.gso_size = 1000;
	frames[0].off.flags = NET_OFF_NEEDS_CSUM;
	frames[0].off.csum_start = 34;
	frames[0].off.csum_offset = 16;
	net_switch_input(&a->port, fptr, 1);
	assert_int_equal(a->port.stats.in_errors, ETH_HLEN + 3);
	/* a multicast or zero source */
	frame(0, 2, 0, 60);
	memset(frames_buf[0] + 6, 0, 6);
	net_switch_input(&u->port, fptr, 1);
	frame(0, 2, 5, 60);
	frames_buf[0][6] = 0x03;
	net_switch_input(&u->port, fptr, 1);
	assert_int_equal(u->port.stats.in_errors, 2);
	/* a NULL frame pointer in a batch */
	frame(0, 2, 5, 60);
	fptr[1] = NULL;
	net_switch_input(&u->port, fptr, 2);
	assert_int_equal(u->port.stats.in_errors, 3);
	assert_int_equal(b->n, 4);
	assert_int_equal(a->port.stats.in_frames, 3);
}

/* A full table learns nothing more until entries age out; lookups still work. */
static void test_table_full(void **state)
{
	(void)state;
	struct rec *u = port(0, "uplink:eth0", NET_PORT_UPLINK, 100000);
	struct rec *a = port(1, "a.0", NET_PORT_VM, 1);
	u->port.spoof_check = false;

	send1(a, BCAST, 1);
	for (unsigned i = 0; i < NET_SWITCH_TABLE + 10; i++) {
		frame(i % NET_BATCH_MAX, 1, 1000 + i, 60);
		if (i % NET_BATCH_MAX == NET_BATCH_MAX - 1 || i == NET_SWITCH_TABLE + 9)
			net_switch_input(&u->port, fptr, i % NET_BATCH_MAX + 1);
	}
	assert_int_equal(a->port.stats.out_frames, NET_SWITCH_TABLE + 10);
	clear_all();
	/* a's entry and the first 1023 of the uplink's fit */
	send1(a, 1000, 1);
	send1(a, 1000 + NET_SWITCH_TABLE - 2, 1);
	assert_int_equal(u->n, 2);
	send1(a, 1000 + NET_SWITCH_TABLE - 1, 1); /* not learned: flooded to all others (u only) */
	assert_int_equal(u->n, 3);
	net_switch_list();
	assert_non_null(strstr(conbuf, "1024 MACs learned, 11 not learned"));

	/* all but a age out (a sends on); new stations are learned again */
	now_ms += NET_SWITCH_AGEING_MS / 2;
	send1(a, BCAST, 1);
	now_ms += NET_SWITCH_AGEING_MS / 2 + 1;
	send1(u, 1, 5000);
	clear_all();
	send1(a, 5000, 1);
	assert_int_equal(u->n, 1);
	conbuf[0] = 0;
	net_switch_list();
	assert_non_null(strstr(conbuf, "2 MACs learned"));
}

/* A port other than the uplink owns at most NET_SWITCH_PORT_MACS entries. */
static void test_port_mac_limit(void **state)
{
	(void)state;
	struct rec *h = port(0, "hv", NET_PORT_HOST, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);
	h->port.spoof_check = false;
	c->port.spoof_check = false;

	for (unsigned i = 0; i < NET_SWITCH_PORT_MACS + 1; i++)
		send1(h, BCAST, 10 + i);
	clear_all();
	for (unsigned i = 0; i < NET_SWITCH_PORT_MACS; i++)
		send1(b, 10 + i, 2);
	assert_int_equal(h->n, NET_SWITCH_PORT_MACS);
	assert_int_equal(c->n, 0);
	send1(b, 10 + NET_SWITCH_PORT_MACS, 2); /* the ninth: unknown */
	assert_int_equal(c->n, 1);
	/* a station moving to a port with room follows it */
	clear_all();
	send1(c, BCAST, 10);
	send1(b, 10, 2);
	assert_int_equal(c->n, 1);
	assert_int_equal(h->n, 1); /* only the broadcast */
	/* and h has room again */
	send1(h, BCAST, 30);
	clear_all();
	send1(b, 30, 2);
	assert_int_equal(h->n, 1);
	assert_int_equal(c->n, 0);
}

static void test_detach_forgets(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);

	send1(a, BCAST, 1);
	clear_all();
	net_switch_detach(&a->port);
	assert_null(a->port.sw);
	send1(b, 1, 2); /* a's MAC is forgotten: flooded to c */
	assert_int_equal(a->n, 0);
	assert_int_equal(c->n, 1);
	net_switch_detach(&a->port); /* twice: nothing */
	/* input from a detached port goes nowhere */
	send1(a, BCAST, 1);
	assert_int_equal(b->n + c->n, 1);
	/* a comes back in a free slot and learns again */
	char err[128];
	assert_int_equal(net_switch_attach(sw, &a->port, err, sizeof(err)), 0);
	send1(a, BCAST, 1);
	clear_all();
	send1(b, 1, 2);
	assert_int_equal(a->n, 1);
	assert_int_equal(c->n, 0);
}

/* One deliver() per destination port per input batch, frames in order. */
static void test_batching(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);

	send1(b, BCAST, 2);
	send1(c, BCAST, 3);
	clear_all();
	for (unsigned i = 0; i < 30; i++)
		frame(i, i % 3 == 0 ? BCAST : i % 3 == 1 ? 2u : 3u, 1, 60 + i);
	net_switch_input(&a->port, fptr, 30);
	assert_int_equal(b->calls, 1);
	assert_int_equal(c->calls, 1);
	assert_int_equal(b->n, 20);
	assert_int_equal(c->n, 20);
	for (unsigned i = 0, k = 0; i < 30; i++) {
		if (i % 3 == 2)
			continue;
		assert_int_equal(b->data[k][14], i); /* in order */
		assert_ptr_equal(b->ptr[k], frames_buf[i]); /* as it was: no copy */
		k++;
	}
	clear_all();
	/* more than NET_BATCH_MAX in one call: batches of at most NET_BATCH_MAX */
	for (unsigned i = 0; i < NET_BATCH_MAX * 2; i++)
		frame(i, 2, 1, 60);
	net_switch_input(&a->port, fptr, NET_BATCH_MAX * 2);
	assert_int_equal(b->calls, 2);
	assert_int_equal(b->batch[0], NET_BATCH_MAX);
	assert_int_equal(b->batch[1], NET_BATCH_MAX);
	assert_int_equal(c->calls, 0);
	assert_int_equal(b->port.stats.out_frames, 1 + 20 + NET_BATCH_MAX * 2);
}

/* ---- offloads finished per port ---- */

static uint8_t tcpbuf[NET_GSO_FRAME_MAX], tcpcopy[NET_GSO_FRAME_MAX];

static void test_csum_for_ports_without(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2); /* no offloads */
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);
	c->port.caps = NET_CAP_CSUM;
	uint8_t amac[6];
	mac_of(amac, 1);

	/* many checksummed frames, broadcast (the fixture's MACs, with a's source) */
	struct fx_tcp_opts o = {.seq = 1};
	struct net_frame tf[NET_BATCH_MAX];
	struct net_frame *tp[NET_BATCH_MAX];
	static uint8_t bufs[NET_BATCH_MAX][1600];
	for (unsigned i = 0; i < NET_BATCH_MAX; i++) {
		tf[i].data = bufs[i];
		o.udp = i & 1;
		o.v6 = i & 2;
		tf[i].len = fx_build(bufs[i], &o, 1300 + i, 0, &tf[i].off);
		memset(bufs[i], 0xff, 6);
		memcpy(bufs[i] + 6, amac, 6);
		tp[i] = &tf[i];
	}
	static uint8_t before[NET_BATCH_MAX][1600];
	memcpy(before, bufs, sizeof(bufs));
	net_switch_input(&a->port, tp, NET_BATCH_MAX);
	assert_memory_equal(before, bufs, sizeof(bufs)); /* the sender's bytes untouched */
	assert_int_equal(b->calls, 1); /* ~90 KiB of copies fit the arena */
	assert_int_equal(c->calls, 1);
	assert_int_equal(b->n, NET_BATCH_MAX);
	for (unsigned i = 0; i < NET_BATCH_MAX; i++) {
		bool v6 = i & 2;
		uint32_t iplen = v6 ? 40 : 20;
		/* c takes them as they are */
		assert_ptr_equal(c->ptr[i], bufs[i]);
		assert_int_equal(c->off[i].flags, NET_OFF_NEEDS_CSUM);
		/* b gets them complete */
		assert_ptr_not_equal(b->ptr[i], bufs[i]);
		assert_int_equal(b->len[i], tf[i].len);
		assert_int_equal(b->off[i].flags, NET_OFF_DATA_VALID);
		assert_true(fx_l4_ok(b->data[i] + 14, v6, iplen, tf[i].len - 14 - iplen,
				     i & 1 ? 17 : 6));
	}
}

static void test_gso_for_ports_without(void **state)
{
	(void)state;
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	struct rec *b = port(1, "b.0", NET_PORT_VM, 2);
	struct rec *c = port(2, "c.0", NET_PORT_VM, 3);
	struct rec *d = port(3, "d.0", NET_PORT_VM, 4);
	b->port.caps = NET_CAP_CSUM;			   /* no TSO */
	c->port.caps = NET_CAP_CSUM | NET_CAP_GSO_TCPV4; /* TSO */
	d->port.caps = NET_CAP_CSUM | NET_CAP_GSO_TCPV6; /* TSO6 only */
	uint8_t amac[6];
	mac_of(amac, 1);

	struct fx_tcp_opts o = {.seq = 100, .ip_id = 1, .tcp_flags = 0x19};
	struct net_frame f = {.data = tcpbuf};
	f.len = fx_build(tcpbuf, &o, 65495, 1448, &f.off);
	memset(tcpbuf, 0xff, 6);
	memcpy(tcpbuf + 6, amac, 6);
	memcpy(tcpcopy, tcpbuf, f.len);
	struct net_frame *fp = &f;
	net_switch_input(&a->port, &fp, 1);
	assert_memory_equal(tcpbuf, tcpcopy, f.len);
	assert_int_equal(a->port.stats.in_frames, 1);
	assert_int_equal(a->port.stats.in_errors, 0);
	/* c: the whole frame */
	assert_int_equal(c->n, 1);
	assert_int_equal(c->len[0], f.len);
	assert_int_equal(c->off[0].gso_type, NET_GSO_TCPV4);
	/* b and d: 46 segments, in one deliver() */
	assert_int_equal(b->n, 46);
	assert_int_equal(b->calls, 1);
	assert_int_equal(d->n, 46);
	uint32_t total = 0;
	for (unsigned i = 0; i < b->n; i++) {
		uint32_t tcp_len = b->len[i] - 34;
		assert_true(fx_ip4_header_ok(b->data[i] + 14));
		assert_true(fx_l4_ok(b->data[i] + 14, false, 20, tcp_len, 6));
		assert_int_equal(fx_get32(b->data[i] + 38), 100 + i * 1448);
		assert_int_equal(b->data[i][47], i == 45 ? 0x19 : 0x10);
		total += tcp_len - 20;
		assert_memory_equal(b->data[i], d->data[i], b->len[i]);
	}
	assert_int_equal(total, 65495);
	assert_int_equal(b->port.stats.out_frames, 46);

	/* ECN: only a port with the ECN capability takes it whole */
	clear_all();
	f.off.gso_type |= NET_GSO_ECN;
	net_switch_input(&a->port, &fp, 1);
	assert_int_equal(c->n, 46);
	c->port.caps |= NET_CAP_GSO_ECN;
	clear_all();
	net_switch_input(&a->port, &fp, 1);
	assert_int_equal(c->n, 1);
	/* TSO without checksum offload makes no sense: cut */
	clear_all();
	c->port.caps = NET_CAP_GSO_TCPV4 | NET_CAP_GSO_ECN;
	net_switch_input(&a->port, &fp, 1);
	assert_int_equal(c->n, 46);
}

/* ---- ports, names ---- */

static void test_attach_rules(void **state)
{
	(void)state;
	char err[128];
	struct rec *a = port(0, "a.0", NET_PORT_VM, 1);
	(void)a;

	/* a second port with the same MAC and the check */
	struct net_port dup = {.name = "dup", .kind = NET_PORT_VM, .spoof_check = true,
			       .ops = &rec_ops};
	mac_of(dup.mac, 1);
	assert_int_equal(net_switch_attach(sw, &dup, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "02:00:00:00:00:01 is already used by port a.0"));
	/* no deliver */
	struct net_port nodel = {.name = "x"};
	assert_int_equal(net_switch_attach(sw, &nodel, err, sizeof(err)), -1);
	/* twice */
	assert_int_equal(net_switch_attach(sw, &recs[0].port, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already on switch t"));

	/* a full switch */
	static struct net_port many[NET_SWITCH_PORTS];
	for (unsigned i = 0; i < NET_SWITCH_PORTS - 1; i++) {
		many[i] = (struct net_port){.kind = NET_PORT_VM, .spoof_check = true, .ops = &rec_ops};
		mac_of(many[i].mac, 100 + i);
		assert_int_equal(net_switch_attach(sw, &many[i], err, sizeof(err)), 0);
	}
	many[63] = (struct net_port){.kind = NET_PORT_VM, .ops = &rec_ops};
	assert_int_equal(net_switch_attach(sw, &many[63], err, sizeof(err)), -1);
	assert_non_null(strstr(err, "full"));
	net_switch_detach(&many[5]);
	assert_int_equal(net_switch_attach(sw, &many[63], err, sizeof(err)), 0);
	assert_int_equal(many[63].index, many[5].index);
	for (unsigned i = 0; i < NET_SWITCH_PORTS; i++)
		net_switch_detach(&many[i]);
}

static void test_names_and_registry(void **state)
{
	(void)state;
	char err[128];

	assert_ptr_equal(net_switch_get("t", err, sizeof(err)), sw);
	assert_ptr_equal(net_switch_find("t"), sw);
	assert_null(net_switch_find("nope"));
	assert_string_equal(net_switch_name(sw), "t");
	const char *bad[] = {"", "a b", "0123456789abcdef", "x/y", "é", NULL};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_null(net_switch_get(bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, "bad switch name"));
	}
	assert_non_null(net_switch_get("0123456789abcde", err, sizeof(err)));
	assert_non_null(net_switch_get("br-0_x.y", err, sizeof(err)));
	for (unsigned i = 3; i < NET_SWITCH_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%u", i);
		assert_non_null(net_switch_get(name, err, sizeof(err)));
	}
	assert_null(net_switch_get("onemore", err, sizeof(err)));
	assert_non_null(strstr(err, "16 switches exist"));
	assert_non_null(net_switch_get("s3", err, sizeof(err))); /* existing ones still found */
	net_switch_list();
	assert_non_null(strstr(conbuf, "switch br-0_x.y: 0 ports"));
}

/* VM ports on `uplink` drive promiscuous mode; other ports and switches do not. */
static void test_uplink_vm_ports(void **state)
{
	(void)state;
	char err[128];
	struct net_switch *up = net_switch_get(NET_SWITCH_UPLINK, err, sizeof(err));
	struct net_port vm1 = {.name = "v1", .kind = NET_PORT_VM, .ops = &rec_ops};
	struct net_port vm2 = {.name = "v2", .kind = NET_PORT_VM, .ops = &rec_ops};
	struct net_port host = {.name = "hv", .kind = NET_PORT_HOST, .ops = &rec_ops};
	mac_of(vm1.mac, 1);
	mac_of(vm2.mac, 2);
	vm_ports_calls = 0;

	assert_int_equal(net_switch_attach(up, &host, err, sizeof(err)), 0);
	assert_int_equal(vm_ports_calls, 0);
	assert_int_equal(net_switch_attach(up, &vm1, err, sizeof(err)), 0);
	assert_int_equal(vm_ports_told, 1);
	assert_int_equal(net_switch_attach(up, &vm2, err, sizeof(err)), 0);
	assert_int_equal(vm_ports_told, 2);
	net_switch_detach(&vm1);
	assert_int_equal(vm_ports_told, 1);
	net_switch_detach(&vm2);
	assert_int_equal(vm_ports_told, 0);
	net_switch_detach(&host);
	assert_int_equal(vm_ports_calls, 4);
	/* a VM on another switch: nothing */
	assert_int_equal(net_switch_attach(sw, &vm1, err, sizeof(err)), 0);
	assert_int_equal(vm_ports_calls, 4);
	net_switch_detach(&vm1);
}

struct walk {
	unsigned n;
};

static void walk_fn(void *ctx, const struct net_switch *s, const struct net_port *p)
{
	struct walk *w = ctx;
	assert_ptr_equal(s, sw);
	assert_ptr_equal(p->sw, sw);
	w->n++;
}

static void test_for_each_port(void **state)
{
	(void)state;
	port(0, "a.0", NET_PORT_VM, 1);
	port(1, "b.0", NET_PORT_VM, 2);
	struct walk w = {0};
	net_switch_for_each_port(walk_fn, &w);
	assert_int_equal(w.n, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_learning_and_flooding),
	    T(test_no_hairpin),
	    T(test_ageing),
	    T(test_spoofing),
	    T(test_malformed),
	    T(test_table_full),
	    T(test_port_mac_limit),
	    T(test_detach_forgets),
	    T(test_batching),
	    T(test_csum_for_ports_without),
	    T(test_gso_for_ports_without),
	    T(test_attach_rules),
	    T(test_names_and_registry),
	    T(test_uplink_vm_ports),
	    T(test_for_each_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Virtual switches (switch.h): learning L2 bridges.
 *
 * Each switch is one allocation made when it is first named, with its MAC
 * table (a fixed pool of NET_SWITCH_TABLE entries chained from a keyed hash)
 * and the buffers its software offloads work in, so that forwarding never
 * allocates. Everything is under the switch's one lock, deliver() included.
 *
 * One input call is handled in two passes: every frame is checked, its
 * source learned and its destinations found (a bit mask: a switch has at
 * most 64 ports); then each destination port gets its frames in one
 * deliver() call, in order, as they are when the port can take them and
 * otherwise completed into the switch's arena (a checksum filled in, a GSO
 * frame cut into segments). The sender's bytes are never written: another
 * port may take the same frame as it is. A batch is handed over early only
 * when it reaches NET_BATCH_MAX frames or the arena is full.
 *
 * in_frames and in_bytes count the frames the switch accepted; those it
 * dropped are counted in in_errors or spoofed instead.
 */
#include "kernel/net/switch.h"

#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/net/net_offload.h"
#include "kernel/net/uplink.h"
#include "kernel/time/tsc.h"

#define HASH_BUCKETS NET_SWITCH_TABLE /* a power of two */
#define NO_ENTRY 0xffff
#define ARENA_BYTES (128u * 1024)  /* a full batch of completed frames, or a cut 64 KiB frame */
#define SCRATCH_BYTES NET_GSO_FRAME_MAX
#define SWEEP_MS 1000u	       /* at most one scan of the whole table for aged entries per second */
#define SPOOF_LOG_MS 10000u    /* one log line per spoofing port per burst */

struct mac_entry {
	uint8_t mac[ETH_ALEN];
	uint8_t port;
	uint8_t used;
	uint16_t next;
	uint64_t seen_ms;
};

struct net_switch {
	char name[NET_SWITCH_NAME_MAX];
	spinlock_t lock;
	struct net_port *ports[NET_SWITCH_PORTS];
	uint64_t port_mask; /* the slots in use */
	uint16_t port_macs[NET_SWITCH_PORTS];
	uint32_t seed;
	uint16_t buckets[HASH_BUCKETS];
	struct mac_entry table[NET_SWITCH_TABLE];
	uint16_t free_head;
	unsigned nentries;
	uint64_t last_sweep_ms;
	uint64_t not_learned; /* sources the table (or the port's share) had no room for */

	/* one input call's work */
	uint64_t dest[NET_BATCH_MAX];
	struct net_port *cur; /* the port a batch is gathered for */
	struct net_frame *batch[NET_BATCH_MAX];
	unsigned nbatch;
	struct net_frame copies[NET_BATCH_MAX]; /* completed frames, their bytes in the arena */
	unsigned ncopies;
	size_t arena_used;
	uint8_t *arena;	  /* ARENA_BYTES */
	uint8_t *scratch; /* SCRATCH_BYTES: the segment being cut */
};

static spinlock_t registry_lock = SPINLOCK_INIT;
static struct net_switch *switches[NET_SWITCH_MAX];
static unsigned nswitches;

static uint64_t uptime_ms(void)
{
	return uptime_us() / 1000;
}

static uint64_t (*clock_ms)(void) = uptime_ms;

void net_switch_set_clock(uint64_t (*now_ms)(void))
{
	clock_ms = now_ms ? now_ms : uptime_ms;
}

static void mac_str(char out[18], const uint8_t *m)
{
	format(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static bool name_ok(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++) {
		char c = name[n];
		if (n >= NET_SWITCH_NAME_MAX - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return n > 0;
}

static struct net_switch *find_locked(const char *name)
{
	for (unsigned i = 0; i < nswitches; i++)
		if (strcmp(switches[i]->name, name) == 0)
			return switches[i];
	return NULL;
}

struct net_switch *net_switch_find(const char *name)
{
	spin_lock(&registry_lock);
	struct net_switch *sw = name ? find_locked(name) : NULL;
	spin_unlock(&registry_lock);
	return sw;
}

const char *net_switch_name(const struct net_switch *sw)
{
	return sw->name;
}

static void table_init(struct net_switch *sw)
{
	for (unsigned i = 0; i < HASH_BUCKETS; i++)
		sw->buckets[i] = NO_ENTRY;
	for (unsigned i = 0; i < NET_SWITCH_TABLE; i++)
		sw->table[i].next = i + 1 < NET_SWITCH_TABLE ? (uint16_t)(i + 1) : NO_ENTRY;
	sw->free_head = 0;
	sw->nentries = 0;
}

static void switch_free(struct net_switch *sw)
{
	if (!sw)
		return;
	kfree(sw->arena);
	kfree(sw->scratch);
	kfree(sw);
}

struct net_switch *net_switch_get(const char *name, char *err, size_t errlen)
{
	if (!name || !name_ok(name)) {
		format(err, errlen, "bad switch name '%s' (letters, digits, '-', '_', '.'; at most %u)",
		       name ? name : "", NET_SWITCH_NAME_MAX - 1);
		return NULL;
	}
	spin_lock(&registry_lock);
	struct net_switch *sw = find_locked(name);
	if (sw)
		goto out;
	if (nswitches == NET_SWITCH_MAX) {
		format(err, errlen, "no room for switch %s: %u switches exist", name, NET_SWITCH_MAX);
		goto out;
	}
	sw = kzalloc(sizeof(*sw));
	if (sw) {
		sw->arena = kmalloc(ARENA_BYTES);
		sw->scratch = kmalloc(SCRATCH_BYTES);
	}
	if (!sw || !sw->arena || !sw->scratch) {
		switch_free(sw);
		sw = NULL;
		format(err, errlen, "out of memory for switch %s", name);
		goto out;
	}
	strlcpy_hv(sw->name, name, sizeof(sw->name));
	sw->lock = (spinlock_t)SPINLOCK_INIT;
	/* keyed, so that no one outside can pick MACs that share one chain */
	sw->seed = (uint32_t)(clock_ms() * 2654435761u) ^ (uint32_t)(uintptr_t)sw ^ 0x5bd1e995u;
	table_init(sw);
	switches[nswitches++] = sw;
	printk("net: switch %s created\n", sw->name);
out:
	spin_unlock(&registry_lock);
	return sw;
}

/* ---- the MAC table ---- */

static unsigned hash_mac(const struct net_switch *sw, const uint8_t *m)
{
	uint32_t h = sw->seed;

	for (unsigned i = 0; i < ETH_ALEN; i++)
		h = (h ^ m[i]) * 16777619u;
	h ^= h >> 15;
	return h & (HASH_BUCKETS - 1);
}

static void entry_remove(struct net_switch *sw, unsigned b, uint16_t prev, uint16_t e)
{
	struct mac_entry *me = &sw->table[e];

	if (prev == NO_ENTRY)
		sw->buckets[b] = me->next;
	else
		sw->table[prev].next = me->next;
	sw->port_macs[me->port]--;
	me->used = 0;
	me->next = sw->free_head;
	sw->free_head = e;
	sw->nentries--;
}

static bool expired(uint64_t seen, uint64_t now)
{
	return now > seen && now - seen >= NET_SWITCH_AGEING_MS;
}

/* The entry for mac, or NO_ENTRY; an aged one is removed on the way. */
static uint16_t lookup(struct net_switch *sw, const uint8_t *mac, uint64_t now)
{
	unsigned b = hash_mac(sw, mac);
	uint16_t prev = NO_ENTRY;

	for (uint16_t e = sw->buckets[b]; e != NO_ENTRY; prev = e, e = sw->table[e].next) {
		struct mac_entry *me = &sw->table[e];
		if (memcmp(me->mac, mac, ETH_ALEN) != 0)
			continue;
		if (expired(me->seen_ms, now)) {
			entry_remove(sw, b, prev, e);
			return NO_ENTRY;
		}
		return e;
	}
	return NO_ENTRY;
}

/* Removes the entries for which drop(entry) holds (all buckets). */
static void table_remove_if(struct net_switch *sw, bool (*drop)(const struct mac_entry *, uint64_t),
			    uint64_t arg)
{
	for (unsigned b = 0; b < HASH_BUCKETS; b++) {
		uint16_t prev = NO_ENTRY, e = sw->buckets[b];
		while (e != NO_ENTRY) {
			uint16_t next = sw->table[e].next;
			if (drop(&sw->table[e], arg))
				entry_remove(sw, b, prev, e);
			else
				prev = e;
			e = next;
		}
	}
}

static bool drop_aged(const struct mac_entry *me, uint64_t now)
{
	return expired(me->seen_ms, now);
}

static bool drop_port(const struct mac_entry *me, uint64_t port)
{
	return me->port == port;
}

/* Makes room from aged entries, at most once per SWEEP_MS (a flood of new MACs costs no more). */
static void try_sweep(struct net_switch *sw, uint64_t now)
{
	if (sw->last_sweep_ms && now - sw->last_sweep_ms < SWEEP_MS)
		return;
	sw->last_sweep_ms = now ? now : 1;
	table_remove_if(sw, drop_aged, now);
}

static bool port_has_room(struct net_switch *sw, unsigned port, uint64_t now)
{
	if (sw->ports[port]->kind == NET_PORT_UPLINK)
		return true;
	if (sw->port_macs[port] >= NET_SWITCH_PORT_MACS)
		try_sweep(sw, now);
	return sw->port_macs[port] < NET_SWITCH_PORT_MACS;
}

static void learn(struct net_switch *sw, unsigned port, const uint8_t *mac, uint64_t now)
{
	uint16_t e = lookup(sw, mac, now);

	if (e != NO_ENTRY) {
		struct mac_entry *me = &sw->table[e];
		if (me->port == port) {
			me->seen_ms = now;
			return;
		}
		/* the station moved; if its new port has no room, forget it (frames flood) */
		unsigned b = hash_mac(sw, mac);
		uint16_t prev = NO_ENTRY;
		for (uint16_t i = sw->buckets[b]; i != e; i = sw->table[i].next)
			prev = i;
		entry_remove(sw, b, prev, e);
	}
	if (!port_has_room(sw, port, now)) {
		sw->not_learned++;
		return;
	}
	if (sw->free_head == NO_ENTRY)
		try_sweep(sw, now);
	if (sw->free_head == NO_ENTRY) {
		sw->not_learned++;
		return;
	}
	unsigned b = hash_mac(sw, mac);
	e = sw->free_head;
	struct mac_entry *me = &sw->table[e];
	sw->free_head = me->next;
	memcpy(me->mac, mac, ETH_ALEN);
	me->port = (uint8_t)port;
	me->used = 1;
	me->seen_ms = now;
	me->next = sw->buckets[b];
	sw->buckets[b] = e;
	sw->port_macs[port]++;
	sw->nentries++;
}

/* ---- ports ---- */

static unsigned vm_ports(const struct net_switch *sw)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NET_SWITCH_PORTS; i++)
		if (sw->ports[i] && sw->ports[i]->kind == NET_PORT_VM)
			n++;
	return n;
}

/*
 * Ports join and leave one at a time (attach_lock, taken before a switch's
 * lock), so that the uplink hears of VM ports in order; it is told after
 * the switch's lock is dropped, as setting the NIC's mode may wait for the
 * device.
 */
static spinlock_t attach_lock = SPINLOCK_INIT;

static bool drives_promisc(const struct net_switch *sw, const struct net_port *p)
{
	return p->kind == NET_PORT_VM && strcmp(sw->name, NET_SWITCH_UPLINK) == 0;
}

int net_switch_attach(struct net_switch *sw, struct net_port *p, char *err, size_t errlen)
{
	char mac[18];

	if (!sw || !p || !p->ops || !p->ops->deliver) {
		format(err, errlen, "port %s has no deliver()", p ? p->name : "?");
		return -1;
	}
	spin_lock(&attach_lock);
	if (p->sw) {
		format(err, errlen, "port %s is already on switch %s", p->name, p->sw->name);
		spin_unlock(&attach_lock);
		return -1;
	}
	spin_lock(&sw->lock);
	unsigned slot = NET_SWITCH_PORTS;
	for (unsigned i = 0; i < NET_SWITCH_PORTS; i++) {
		struct net_port *o = sw->ports[i];
		if (!o) {
			if (slot == NET_SWITCH_PORTS)
				slot = i;
			continue;
		}
		if (o->spoof_check && memcmp(o->mac, p->mac, ETH_ALEN) == 0) {
			mac_str(mac, p->mac);
			format(err, errlen, "MAC %s is already used by port %s on switch %s", mac,
			       o->name, sw->name);
			spin_unlock(&sw->lock);
			spin_unlock(&attach_lock);
			return -1;
		}
	}
	if (slot == NET_SWITCH_PORTS) {
		format(err, errlen, "switch %s is full (%u ports)", sw->name, NET_SWITCH_PORTS);
		spin_unlock(&sw->lock);
		spin_unlock(&attach_lock);
		return -1;
	}
	p->sw = sw;
	p->index = slot;
	p->spoof_logged_ms = 0;
	sw->port_macs[slot] = 0;
	sw->ports[slot] = p;
	sw->port_mask |= 1ull << slot;
	unsigned vms = vm_ports(sw);
	spin_unlock(&sw->lock);
	if (drives_promisc(sw, p))
		uplink_vm_ports_changed(vms);
	spin_unlock(&attach_lock);
	return 0;
}

void net_switch_detach(struct net_port *p)
{
	if (!p)
		return;
	spin_lock(&attach_lock);
	struct net_switch *sw = p->sw;
	if (!sw) {
		spin_unlock(&attach_lock);
		return;
	}
	spin_lock(&sw->lock);
	table_remove_if(sw, drop_port, p->index);
	sw->ports[p->index] = NULL;
	sw->port_mask &= ~(1ull << p->index);
	unsigned vms = vm_ports(sw);
	spin_unlock(&sw->lock);
	p->sw = NULL;
	if (drives_promisc(sw, p))
		uplink_vm_ports_changed(vms);
	spin_unlock(&attach_lock);
}

/* ---- forwarding ---- */

static void spoofed(struct net_port *from, const uint8_t *src, uint64_t now)
{
	from->stats.spoofed++;
	if (from->spoof_logged_ms && now - from->spoof_logged_ms < SPOOF_LOG_MS)
		return;
	from->spoof_logged_ms = now ? now : 1;
	char got[18], own[18];
	mac_str(got, src);
	mac_str(own, from->mac);
	printk("net: %s: dropping frames sent from %s, not its MAC %s (%llu so far)\n", from->name,
	       got, own, (unsigned long long)from->stats.spoofed);
}

/* Checks and learns one frame; returns the ports it goes to. */
static uint64_t classify(struct net_switch *sw, struct net_port *from, struct net_frame *f,
			 uint64_t now)
{
	static const uint8_t zero[ETH_ALEN];
	uint32_t max_len = from->max_len ? from->max_len : ETH_FRAME_MAX;

	if (!f || !net_offload_valid(f) ||
	    (f->off.gso_type == NET_GSO_NONE && f->len > max_len)) {
		from->stats.in_errors++;
		return 0;
	}
	const uint8_t *dst = f->data, *src = f->data + ETH_ALEN;
	if (from->spoof_check && memcmp(src, from->mac, ETH_ALEN) != 0) {
		spoofed(from, src, now);
		return 0;
	}
	if (eth_is_multicast(src) || memcmp(src, zero, ETH_ALEN) == 0) {
		from->stats.in_errors++;
		return 0;
	}
	from->stats.in_frames++;
	from->stats.in_bytes += f->len;
	learn(sw, from->index, src, now);

	uint64_t self = 1ull << from->index;
	if (!eth_is_multicast(dst)) {
		uint16_t e = lookup(sw, dst, now);
		if (e != NO_ENTRY)
			return (1ull << sw->table[e].port) & ~self;
	}
	return sw->port_mask & ~self;
}

static void flush(struct net_switch *sw)
{
	struct net_port *p = sw->cur;
	uint64_t bytes = 0;

	if (!sw->nbatch)
		return;
	for (unsigned i = 0; i < sw->nbatch; i++)
		bytes += sw->batch[i]->len;
	p->ops->deliver(p, sw->batch, sw->nbatch);
	p->stats.out_frames += sw->nbatch;
	p->stats.out_bytes += bytes;
	sw->nbatch = 0;
	sw->ncopies = 0;
	sw->arena_used = 0;
}

static void add(struct net_switch *sw, struct net_frame *f)
{
	sw->batch[sw->nbatch++] = f;
	if (sw->nbatch == NET_BATCH_MAX)
		flush(sw);
}

/* A frame in the arena for len bytes (handing the batch over first if it is full). */
static struct net_frame *copy_slot(struct net_switch *sw, uint32_t len)
{
	if (len > ARENA_BYTES)
		return NULL;
	if (sw->arena_used + len > ARENA_BYTES || sw->ncopies == NET_BATCH_MAX)
		flush(sw);
	struct net_frame *c = &sw->copies[sw->ncopies++];
	c->data = sw->arena + sw->arena_used;
	c->len = len;
	sw->arena_used += (len + 7) & ~7u;
	return c;
}

static void emit_segment(void *ctx, struct net_frame *seg)
{
	struct net_switch *sw = ctx;
	struct net_frame *c = copy_slot(sw, seg->len);

	if (!c) {
		sw->cur->stats.out_drops++;
		return;
	}
	memcpy(c->data, seg->data, seg->len);
	c->off = seg->off;
	add(sw, c);
}

static uint32_t gso_caps(uint8_t gso_type)
{
	uint32_t need = NET_CAP_CSUM;

	switch (gso_type & (uint8_t)~NET_GSO_ECN) {
	case NET_GSO_TCPV4:
		need |= NET_CAP_GSO_TCPV4;
		break;
	case NET_GSO_TCPV6:
		need |= NET_CAP_GSO_TCPV6;
		break;
	default:
		return UINT32_MAX; /* nothing takes it as it is */
	}
	if (gso_type & NET_GSO_ECN)
		need |= NET_CAP_GSO_ECN;
	return need;
}

/* One frame for sw->cur: as it is, or completed for it. */
static void fit(struct net_switch *sw, struct net_frame *f)
{
	struct net_port *p = sw->cur;

	if (f->off.gso_type != NET_GSO_NONE) {
		uint32_t need = gso_caps(f->off.gso_type);
		if ((p->caps & need) == need) {
			add(sw, f);
			return;
		}
		if (net_offload_segment(f, sw->scratch, SCRATCH_BYTES, emit_segment, sw) < 0)
			p->stats.out_drops++; /* net_offload_valid passed it: not expected */
		return;
	}
	if (!(f->off.flags & NET_OFF_NEEDS_CSUM) || (p->caps & NET_CAP_CSUM)) {
		add(sw, f);
		return;
	}
	struct net_frame *c = copy_slot(sw, f->len);
	if (!c) {
		p->stats.out_drops++;
		return;
	}
	memcpy(c->data, f->data, f->len);
	c->off = f->off;
	if (net_offload_csum(c) < 0) {
		sw->ncopies--; /* the last slot: not in the batch */
		p->stats.out_drops++;
		return;
	}
	add(sw, c);
}

static void input_batch(struct net_switch *sw, struct net_port *from, struct net_frame *const *frames,
			unsigned n)
{
	uint64_t now = clock_ms(), all = 0;

	for (unsigned i = 0; i < n; i++) {
		sw->dest[i] = classify(sw, from, frames[i], now);
		all |= sw->dest[i];
	}
	while (all) {
		unsigned d = (unsigned)__builtin_ctzll(all);
		uint64_t bit = 1ull << d;

		all &= ~bit;
		sw->cur = sw->ports[d];
		sw->nbatch = sw->ncopies = 0;
		sw->arena_used = 0;
		for (unsigned i = 0; i < n; i++)
			if (sw->dest[i] & bit)
				fit(sw, frames[i]);
		flush(sw);
	}
	sw->cur = NULL;
}

void net_switch_input(struct net_port *from, struct net_frame *const *frames, unsigned n)
{
	struct net_switch *sw = from ? from->sw : NULL;

	if (!sw || !frames)
		return;
	spin_lock(&sw->lock);
	while (n) {
		unsigned k = n < NET_BATCH_MAX ? n : NET_BATCH_MAX;
		input_batch(sw, from, frames, k);
		frames += k;
		n -= k;
	}
	spin_unlock(&sw->lock);
}

/* ---- reporting ---- */

void net_switch_for_each_port(void (*fn)(void *ctx, const struct net_switch *sw,
					 const struct net_port *p),
			      void *ctx)
{
	spin_lock(&registry_lock);
	unsigned n = nswitches;
	spin_unlock(&registry_lock);
	/* switches are never removed: the first n stay where they are */
	for (unsigned s = 0; s < n; s++) {
		struct net_switch *sw = switches[s];
		spin_lock(&sw->lock);
		for (unsigned i = 0; i < NET_SWITCH_PORTS; i++)
			if (sw->ports[i])
				fn(ctx, sw, sw->ports[i]);
		spin_unlock(&sw->lock);
	}
}

/* What net-list prints of one switch, copied under its lock and printed after. */
struct list_snapshot {
	unsigned nports;
	struct {
		char name[32];
		enum net_port_kind kind;
		unsigned index, macs;
		struct net_port_stats st;
	} ports[NET_SWITCH_PORTS];
	unsigned nmacs;
	struct {
		uint8_t mac[ETH_ALEN];
		uint8_t port;
		uint64_t age_ms;
	} macs[NET_SWITCH_TABLE];
	uint64_t not_learned;
};

static const char *kind_name(enum net_port_kind k)
{
	switch (k) {
	case NET_PORT_VM:
		return "vm";
	case NET_PORT_UPLINK:
		return "uplink";
	case NET_PORT_HOST:
		return "host";
	}
	return "?";
}

static void snapshot(struct net_switch *sw, struct list_snapshot *s, uint64_t now)
{
	spin_lock(&sw->lock);
	s->nports = 0;
	for (unsigned i = 0; i < NET_SWITCH_PORTS; i++) {
		const struct net_port *p = sw->ports[i];
		if (!p)
			continue;
		strlcpy_hv(s->ports[s->nports].name, p->name, sizeof(s->ports[0].name));
		s->ports[s->nports].kind = p->kind;
		s->ports[s->nports].index = i;
		s->ports[s->nports].macs = sw->port_macs[i];
		s->ports[s->nports].st = p->stats;
		s->nports++;
	}
	s->nmacs = 0;
	for (unsigned e = 0; e < NET_SWITCH_TABLE; e++) {
		const struct mac_entry *me = &sw->table[e];
		if (!me->used || expired(me->seen_ms, now))
			continue;
		memcpy(s->macs[s->nmacs].mac, me->mac, ETH_ALEN);
		s->macs[s->nmacs].port = me->port;
		s->macs[s->nmacs].age_ms = now > me->seen_ms ? now - me->seen_ms : 0;
		s->nmacs++;
	}
	s->not_learned = sw->not_learned;
	spin_unlock(&sw->lock);
}

static const char *port_name(const struct list_snapshot *s, unsigned index)
{
	for (unsigned i = 0; i < s->nports; i++)
		if (s->ports[i].index == index)
			return s->ports[i].name;
	return "?";
}

void net_switch_list(void)
{
	spin_lock(&registry_lock);
	unsigned n = nswitches;
	spin_unlock(&registry_lock);
	if (!n) {
		console_print("no switches\n");
		return;
	}
	struct list_snapshot *s = kmalloc(sizeof(*s));
	if (!s) {
		console_print("net-list: out of memory\n");
		return;
	}
	uint64_t now = clock_ms();
	for (unsigned k = 0; k < n; k++) {
		struct net_switch *sw = switches[k];
		snapshot(sw, s, now);
		console_print("%sswitch %s: %u port%s, %u MAC%s learned", k ? "\n" : "", sw->name,
			      s->nports, s->nports == 1 ? "" : "s", s->nmacs, s->nmacs == 1 ? "" : "s");
		if (s->not_learned)
			console_print(", %llu not learned (table or port full)",
				      (unsigned long long)s->not_learned);
		console_print("\n");
		if (s->nports)
			console_print("  %-20s %-6s %10s %12s %10s %12s %7s %7s %7s\n", "Port", "Kind",
				      "In", "In bytes", "Out", "Out bytes", "Errors", "Spoofed",
				      "Drops");
		for (unsigned i = 0; i < s->nports; i++) {
			const struct net_port_stats *st = &s->ports[i].st;
			console_print("  %-20s %-6s %10llu %12llu %10llu %12llu %7llu %7llu %7llu\n",
				      s->ports[i].name, kind_name(s->ports[i].kind),
				      (unsigned long long)st->in_frames,
				      (unsigned long long)st->in_bytes,
				      (unsigned long long)st->out_frames,
				      (unsigned long long)st->out_bytes,
				      (unsigned long long)st->in_errors,
				      (unsigned long long)st->spoofed,
				      (unsigned long long)st->out_drops);
		}
		if (s->nmacs)
			console_print("  %-17s  %-20s %s\n", "MAC", "Port", "Age");
		for (unsigned i = 0; i < s->nmacs; i++) {
			char mac[18];
			mac_str(mac, s->macs[i].mac);
			console_print("  %-17s  %-20s %llu s\n", mac, port_name(s, s->macs[i].port),
				      (unsigned long long)(s->macs[i].age_ms / 1000));
		}
	}
	kfree(s);
}

#ifdef HV_HOSTED
/* For the hosted tests: forget every switch (their ports must be gone). */
void net_switch_reset(void)
{
	for (unsigned i = 0; i < nswitches; i++) {
		switch_free(switches[i]);
		switches[i] = NULL;
	}
	nswitches = 0;
	clock_ms = uptime_ms;
}
#endif

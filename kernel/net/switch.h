/*
 * Virtual switches: learning L2 bridges inside the hypervisor (after
 * Xvisor's netswitch and the Linux bridge). A switch is named: `uplink` is
 * bridged to the host's first NIC and carries the hypervisor's own
 * interface (lwIP); any other name is an internal switch joining VMs only.
 * Switches are created when a port first names them and live until the
 * host stops.
 *
 * Ports: one per VM NIC (virtio-net), the host NIC behind `uplink`, and the
 * hypervisor's interface. A port hands frames in with net_switch_input()
 * and receives frames through its ops->deliver(), in batches of at most
 * NET_BATCH_MAX.
 *
 * What the switch does with each frame handed in:
 *   - length below ETH_HLEN, above the port's limit, or offload fields that
 *     point outside the frame: dropped, counted as in_errors;
 *   - a port with spoof_check (every VM port) whose source MAC is not its
 *     own: dropped, counted as spoofed (and logged once per burst);
 *   - a multicast source MAC: dropped (in_errors);
 *   - otherwise the source is learned for that port (the table holds
 *     NET_SWITCH_TABLE entries; an entry ages out after
 *     NET_SWITCH_AGEING_MS without traffic; a port may own at most
 *     NET_SWITCH_PORT_MACS entries, the uplink more), then
 *   - a unicast destination the table knows goes to that port only (never
 *     back to the port it came from); unknown unicast, broadcast and
 *     multicast are flooded to every other port.
 * Only the Ethernet header is read (the destination and source MACs); no
 * byte beyond a frame's length is ever looked at.
 *
 * Before delivery a frame is made fit for the receiving port: a port
 * without NET_CAP_CSUM gets the checksum filled in, one without the GSO
 * capability for the frame's gso_type gets it segmented (net_offload.h).
 *
 * Locking: the switch has one lock, taken for its table and port list.
 * deliver() is called with it held: a port's deliver() takes only its own
 * locks and never calls net_switch_input() (no loops through the switch).
 * net_switch_input() is called with no device lock held.
 */
#ifndef HV_NET_SWITCH_H
#define HV_NET_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/net/netframe.h"

#define NET_SWITCH_NAME_MAX 16
#define NET_SWITCH_MAX 16
#define NET_SWITCH_PORTS 64
#define NET_SWITCH_TABLE 1024
#define NET_SWITCH_AGEING_MS 300000u
#define NET_SWITCH_PORT_MACS 8 /* for ports other than the uplink */
#define NET_SWITCH_UPLINK "uplink"

/* port->caps: what a port takes as it is */
#define NET_CAP_CSUM (1u << 0)	   /* frames with NET_OFF_NEEDS_CSUM */
#define NET_CAP_GSO_TCPV4 (1u << 1) /* NET_GSO_TCPV4 frames */
#define NET_CAP_GSO_TCPV6 (1u << 2)
#define NET_CAP_GSO_ECN (1u << 3)

enum net_port_kind { NET_PORT_VM, NET_PORT_UPLINK, NET_PORT_HOST };

struct net_port;

struct net_port_ops {
	/*
	 * Frames for this port. The port copies what it keeps (into a guest's
	 * RX buffers, a NIC's TX ring, lwIP's inbox) and counts in
	 * stats.out_drops what it has no room for. Must not block.
	 */
	void (*deliver)(struct net_port *p, struct net_frame *const *frames, unsigned n);
};

struct net_port_stats {
	/* into the switch, from this port */
	uint64_t in_frames, in_bytes;
	uint64_t in_errors; /* malformed: dropped */
	uint64_t spoofed;   /* a source MAC not its own: dropped */
	/* out of the switch, to this port */
	uint64_t out_frames, out_bytes;
	uint64_t out_drops; /* the port had no room (its deliver counts these) */
};

struct net_port {
	/* set by the owner before net_switch_attach */
	char name[32];		/* "web.0" (VM web, vif 0), "uplink:eth0", "hv" */
	enum net_port_kind kind;
	uint8_t mac[ETH_ALEN];	/* a VM port's own MAC (with spoof_check, the only source allowed) */
	bool spoof_check;
	uint32_t caps;		/* NET_CAP_* */
	uint32_t max_len;	/* the longest non-GSO frame it may send in (0: ETH_FRAME_MAX) */
	const struct net_port_ops *ops;
	void *ctx;
	struct net_port_stats stats;
	/* the switch's */
	struct net_switch *sw;
	unsigned index;
	uint64_t spoof_logged_ms;
};

/*
 * The switch named `name` (letters, digits, '-', '_', '.', at most
 * NET_SWITCH_NAME_MAX - 1), created if there is none yet; NULL with err
 * set (a bad name, or NET_SWITCH_MAX switches exist).
 */
struct net_switch *net_switch_get(const char *name, char *err, size_t errlen);
/* The switch of that name if it exists. */
struct net_switch *net_switch_find(const char *name);
const char *net_switch_name(const struct net_switch *sw);
/* 0, or -1 with err set (the switch is full, or another port has that MAC with spoof_check). */
int net_switch_attach(struct net_switch *sw, struct net_port *p, char *err, size_t errlen);
/* Takes the port off its switch and forgets what was learned for it; no deliver() after this returns. */
void net_switch_detach(struct net_port *p);
/* Frames from port `from` (see the top of this file). */
void net_switch_input(struct net_port *from, struct net_frame *const *frames, unsigned n);

/* `net-list`: the switches, their ports with counters and learned MACs (console_print). */
void net_switch_list(void);
/* Calls fn for every port of every switch (metrics, the API), under the switch's lock. */
void net_switch_for_each_port(void (*fn)(void *ctx, const struct net_switch *sw,
					 const struct net_port *p),
			      void *ctx);

/* For the hosted tests: the clock the table ages by (default: uptime in ms). */
void net_switch_set_clock(uint64_t (*now_ms)(void));
#ifdef HV_HOSTED
/* For the hosted tests: forgets every switch (no port may be attached) and the clock. */
void net_switch_reset(void);
#endif

#endif

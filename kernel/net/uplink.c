/*
 * The `uplink` switch's wire (uplink.h): one host NIC, bridged through a
 * port of kind NET_PORT_UPLINK. The switch hands the port only what the
 * NIC can take (its caps are the NIC's), so deliver() passes frames
 * straight to the driver's xmit(); received frames go straight into the
 * switch from the driver's deferred work.
 */
#include "kernel/net/uplink.h"

#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/net/switch.h"

static struct netdev *uplink_nd;
static struct net_port uplink_port;
static spinlock_t mode_lock = SPINLOCK_INIT;
static unsigned vm_ports;   /* on `uplink`, as last told */
static int promisc = -1;    /* the mode the NIC was last put in (-1: not yet) */

static void uplink_deliver(struct net_port *p, struct net_frame *const *frames, unsigned n)
{
	struct netdev *nd = p->ctx;
	unsigned taken = nd->ops->xmit(nd, frames, n);

	if (taken < n)
		p->stats.out_drops += n - taken;
}

static const struct net_port_ops uplink_ops = {
	.deliver = uplink_deliver,
};

static void uplink_rx(struct netdev *nd, struct net_frame *const *frames, unsigned n)
{
	(void)nd;
	net_switch_input(&uplink_port, frames, n);
}

/* Puts the NIC in the mode the VM ports ask for; mode_lock held. */
static void apply_mode(void)
{
	bool want = vm_ports > 0;

	if (!uplink_nd || !uplink_nd->ops->set_rx_mode || promisc == (int)want)
		return;
	uplink_nd->ops->set_rx_mode(uplink_nd, want, want);
	if (promisc >= 0 || want)
		printk("net: uplink: %s promiscuous mode %s (%u VM port%s)\n", uplink_nd->name,
		       want ? "on" : "off", vm_ports, vm_ports == 1 ? "" : "s");
	promisc = want;
}

void uplink_vm_ports_changed(unsigned n)
{
	spin_lock(&mode_lock);
	vm_ports = n;
	apply_mode();
	spin_unlock(&mode_lock);
}

struct netdev *uplink_netdev(void)
{
	return uplink_nd;
}

void uplink_init(const char *nic_name)
{
	char err[128];
	struct netdev *nd;

	if (uplink_nd) {
		printk("net: uplink: already on %s\n", uplink_nd->name);
		return;
	}
	if (netdev_count() == 0) {
		printk("net: no NIC: uplink has no wire\n");
		return;
	}
	if (nic_name && nic_name[0]) {
		nd = netdev_find(nic_name);
		if (!nd) {
			printk("net: uplink_nic=%s: no such NIC (eth0..eth%u): uplink has no wire\n",
			       nic_name, netdev_count() - 1);
			return;
		}
	} else {
		nd = netdev_at(0);
	}
	if (!nd || !nd->ops || !nd->ops->xmit) {
		printk("net: no usable NIC: uplink has no wire\n");
		return;
	}
	struct net_switch *sw = net_switch_get(NET_SWITCH_UPLINK, err, sizeof(err));
	if (!sw) {
		printk("net: uplink: %s\n", err);
		return;
	}
	format(uplink_port.name, sizeof(uplink_port.name), "uplink:%s", nd->name);
	uplink_port.kind = NET_PORT_UPLINK;
	memcpy(uplink_port.mac, nd->mac, ETH_ALEN);
	uplink_port.spoof_check = false;
	uplink_port.caps = nd->caps;
	uplink_port.max_len = 0;
	uplink_port.ops = &uplink_ops;
	uplink_port.ctx = nd;
	if (net_switch_attach(sw, &uplink_port, err, sizeof(err)) < 0) {
		printk("net: uplink: %s\n", err);
		return;
	}
	/* the port is ready before the driver may hand it anything */
	nd->rx_ctx = &uplink_port;
	__atomic_store_n(&nd->rx, uplink_rx, __ATOMIC_RELEASE);

	spin_lock(&mode_lock);
	uplink_nd = nd;
	apply_mode(); /* VM ports may have joined before the wire */
	spin_unlock(&mode_lock);
	printk("net: uplink: %s (%s, link %s)\n", nd->name, nd->driver ? nd->driver : "?",
	       nd->link_up ? "up" : "down");
}

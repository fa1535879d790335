#include "kernel/mgmt/lwip_netif.h"

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/net/switch.h"

#define ETH_MIN_FRAME 60 /* without the FCS: shorter frames are padded */
#define POLL_BUDGET 64	 /* frames handed to lwIP per mgmt_poll: the console stays responsive */

struct inbox_slot {
	uint16_t len;
	uint8_t data[ETH_FRAME_MAX];
};

/*
 * A ring with one producer at a time (deliver runs under the switch's
 * lock) and one consumer (mgmt_poll): the lock orders the indices; the
 * consumer copies a slot out before it gives the slot back.
 */
static struct {
	spinlock_t lock;
	struct inbox_slot *slots;
	uint32_t head, tail; /* frames ever put in, taken out */
	uint64_t drops;
} inbox = {.lock = SPINLOCK_INIT};

static struct net_port port;
static struct netdev *nic;
static uint8_t tx_buf[ETH_FRAME_MAX];

/* Frames for the hypervisor's MAC and broadcasts; the rest of a flood is not ours. */
static bool for_us(const uint8_t *dst)
{
	return eth_is_broadcast(dst) || memcmp(dst, port.mac, ETH_ALEN) == 0;
}

static void deliver(struct net_port *p, struct net_frame *const *frames, unsigned n)
{
	uint64_t flags = spin_lock_irqsave(&inbox.lock);
	for (unsigned i = 0; i < n; i++) {
		const struct net_frame *f = frames[i];
		/* the switch finishes offloads for a port with caps 0: a GSO frame here is a bug, not ours */
		if (f->len < ETH_HLEN || f->len > ETH_FRAME_MAX || f->off.gso_type != NET_GSO_NONE ||
		    !for_us(f->data))
			continue;
		if (inbox.head - inbox.tail >= HV_NETIF_INBOX) {
			inbox.drops++;
			p->stats.out_drops++;
			continue;
		}
		struct inbox_slot *s = &inbox.slots[inbox.head % HV_NETIF_INBOX];
		memcpy(s->data, f->data, f->len);
		s->len = (uint16_t)f->len;
		inbox.head++;
	}
	spin_unlock_irqrestore(&inbox.lock, flags);
}

static const struct net_port_ops port_ops = {.deliver = deliver};

uint64_t hv_netif_inbox_drops(void)
{
	return inbox.drops;
}

/* lwIP's output: one frame into the switch (called inside mgmt_poll only). */
static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	(void)netif;
	if (p->tot_len > sizeof(tx_buf))
		return ERR_BUF; /* lwIP never builds one: the MTU is 1500 */
	uint16_t len = pbuf_copy_partial(p, tx_buf, p->tot_len, 0);
	if (len < ETH_MIN_FRAME) {
		memset(tx_buf + len, 0, ETH_MIN_FRAME - len);
		len = ETH_MIN_FRAME;
	}
	struct net_frame f = {.data = tx_buf, .len = len};
	struct net_frame *fp = &f;
	net_switch_input(&port, &fp, 1);
	return ERR_OK;
}

static err_t netif_init_cb(struct netif *netif)
{
	netif->name[0] = 'h';
	netif->name[1] = 'v';
	netif->hostname = "hv";
	netif->mtu = ETH_MTU;
	netif->hwaddr_len = ETH_ALEN;
	memcpy(netif->hwaddr, nic->mac, ETH_ALEN);
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
	netif->output = etharp_output;
	netif->linkoutput = linkoutput;
	return ERR_OK;
}

int hv_netif_start(struct netif *netif, struct netdev *nd, char *err, size_t errlen)
{
	struct net_switch *sw = net_switch_get(NET_SWITCH_UPLINK, err, errlen);
	if (!sw)
		return -1;
	inbox.slots = kmalloc(sizeof(struct inbox_slot) * HV_NETIF_INBOX);
	if (!inbox.slots) {
		strlcpy_hv(err, "no memory for the receive queue", errlen);
		return -1;
	}
	nic = nd;
	if (!netif_add(netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, netif_init_cb,
		       ethernet_input)) {
		strlcpy_hv(err, "lwIP refused the interface", errlen);
		return -1;
	}
	netif_set_default(netif);

	strlcpy_hv(port.name, "hv", sizeof(port.name));
	port.kind = NET_PORT_HOST;
	memcpy(port.mac, nd->mac, ETH_ALEN);
	port.spoof_check = false;
	port.caps = 0; /* lwIP checks and fills in every checksum itself */
	port.max_len = ETH_FRAME_MAX;
	port.ops = &port_ops;
	if (net_switch_attach(sw, &port, err, errlen) < 0) {
		netif_remove(netif);
		return -1;
	}
	netif_set_up(netif);
	if (nd->link_up)
		netif_set_link_up(netif);
	return 0;
}

void hv_netif_poll(struct netif *netif)
{
	bool up = nic->link_up;
	if (up != !!netif_is_link_up(netif)) {
		if (up)
			netif_set_link_up(netif);
		else
			netif_set_link_down(netif);
	}

	for (unsigned budget = POLL_BUDGET; budget; budget--) {
		uint64_t flags = spin_lock_irqsave(&inbox.lock);
		bool empty = inbox.head == inbox.tail;
		spin_unlock_irqrestore(&inbox.lock, flags);
		if (empty)
			break;
		struct inbox_slot *s = &inbox.slots[inbox.tail % HV_NETIF_INBOX];
		struct pbuf *p = pbuf_alloc(PBUF_RAW, s->len, PBUF_POOL);
		if (p)
			pbuf_take(p, s->data, s->len);
		flags = spin_lock_irqsave(&inbox.lock);
		inbox.tail++; /* the slot is free for deliver again */
		if (!p) {
			inbox.drops++; /* lwIP's pool is full: it holds frames it has not finished with */
			port.stats.out_drops++;
		}
		spin_unlock_irqrestore(&inbox.lock, flags);
		if (p && netif->input(p, netif) != ERR_OK)
			pbuf_free(p);
	}
}

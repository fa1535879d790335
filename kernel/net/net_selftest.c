/* See net_selftest.h. */
#include "kernel/net/net_selftest.h"

#include "kernel/cmdline.h"
#include "kernel/cpu/deferred.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/net/netdev.h"
#include "kernel/time/tsc.h"

#define TIMEOUT_US 3000000
#define ARP_LEN 42

static const uint8_t my_ip[4] = {10, 0, 2, 15};
static const uint8_t gw_ip[4] = {10, 0, 2, 2};

static volatile int got_reply;
static uint8_t reply_mac[ETH_ALEN];

/* Looks at what the NIC receives for an ARP reply from the gateway to us. */
static void on_rx(struct netdev *nd, struct net_frame *const *frames, unsigned n)
{
	(void)nd;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = frames[i]->data;
		if (frames[i]->len < ARP_LEN)
			continue;
		if (p[12] != 0x08 || p[13] != 0x06 || p[20] != 0 || p[21] != 2)
			continue; /* not an ARP reply */
		if (memcmp(p + 28, gw_ip, 4) != 0 || memcmp(p + 38, my_ip, 4) != 0)
			continue;
		memcpy(reply_mac, p + 22, ETH_ALEN);
		__atomic_store_n(&got_reply, 1, __ATOMIC_RELEASE);
	}
}

static void build_request(const struct netdev *nd, uint8_t *f)
{
	memset(f, 0xff, ETH_ALEN); /* broadcast */
	memcpy(f + 6, nd->mac, ETH_ALEN);
	f[12] = 0x08, f[13] = 0x06;			   /* ARP */
	f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0;	   /* Ethernet, IPv4 */
	f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;	   /* request */
	memcpy(f + 22, nd->mac, ETH_ALEN);
	memcpy(f + 28, my_ip, 4);
	memset(f + 32, 0, ETH_ALEN);
	memcpy(f + 38, gw_ip, 4);
}

static bool probe(struct netdev *nd, unsigned round)
{
	uint8_t buf[60] = {0}; /* padded to the Ethernet minimum */
	build_request(nd, buf);
	struct net_frame fr = {.data = buf, .len = sizeof(buf)};
	struct net_frame *frames[1] = {&fr};
	__atomic_store_n(&got_reply, 0, __ATOMIC_RELEASE);
	uint64_t t0 = uptime_us();
	if (nd->ops->xmit(nd, frames, 1) != 1) {
		printk("net-test: %s: FAILED: the TX ring took no frame (round %u)\n", nd->name, round);
		return false;
	}
	while (!__atomic_load_n(&got_reply, __ATOMIC_ACQUIRE)) {
		if (uptime_us() - t0 > TIMEOUT_US) {
			printk("net-test: %s: FAILED: no ARP reply from 10.0.2.2 in %u s (round %u, "
			       "rx %llu frames, tx %llu)\n",
			       nd->name, TIMEOUT_US / 1000000, round,
			       (unsigned long long)nd->stats.rx_frames,
			       (unsigned long long)nd->stats.tx_frames);
			return false;
		}
		deferred_run(); /* the driver reaps its rings at safe points */
		__asm__ volatile("pause");
	}
	if (round == 0) {
		char mac[18];
		net_format_mac(mac, reply_mac);
		printk("net-test: %s: ARP reply from 10.0.2.2 at %s after %llu us\n", nd->name, mac,
		       (unsigned long long)(uptime_us() - t0));
	}
	return true;
}

void net_selftest(const char *cmdline)
{
	uint64_t rounds = 1;
	const char *v;
	size_t len;
	if (!cmdline_find(cmdline, "test_net", &v, &len))
		return;
	if (len)
		cmdline_get_u64(cmdline, "test_net", &rounds);
	if (rounds == 0)
		rounds = 1;
	if (netdev_count() == 0) {
		printk("net-test: FAILED: no NIC\n");
		return;
	}
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *nd = netdev_at(i);
		void (*saved_rx)(struct netdev *, struct net_frame *const *, unsigned) = nd->rx;
		nd->rx = on_rx;
		unsigned r;
		for (r = 0; r < rounds; r++)
			if (!probe(nd, r))
				break;
		nd->rx = saved_rx;
		if (r == rounds)
			printk("net-test: %s: %llu of %llu ARP round trips ok\n", nd->name,
			       (unsigned long long)r, (unsigned long long)rounds);
	}
}

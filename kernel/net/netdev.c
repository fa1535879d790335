/* See netdev.h: the registry of the host's NICs. */
#include "kernel/net/netdev.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"

static struct netdev *devs[NETDEV_MAX];
static unsigned ndevs;

void net_format_mac(char out[18], const uint8_t mac[ETH_ALEN])
{
	format(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
	       mac[5]);
}

void netdev_register(struct netdev *nd)
{
	char mac[18];
	net_format_mac(mac, nd->mac);
	if (ndevs == NETDEV_MAX) {
		printk("net: %s %s at %s: not used, this build takes %u NICs\n", nd->driver, mac,
		       nd->pci_addr, NETDEV_MAX);
		return;
	}
	format(nd->name, sizeof(nd->name), "eth%u", ndevs);
	nd->index = ndevs;
	devs[ndevs++] = nd;
	char speed[24] = "";
	if (nd->link_up && nd->speed_mbps)
		format(speed, sizeof(speed), " %u Mb/s", nd->speed_mbps);
	printk("net: %s: %s %s at %s, link %s%s, %s\n", nd->name, nd->driver, mac, nd->pci_addr,
	       nd->link_up ? "up" : "down", speed, nd->irq_mode ? nd->irq_mode : "polling");
}

unsigned netdev_count(void)
{
	return ndevs;
}

struct netdev *netdev_at(unsigned i)
{
	return i < ndevs ? devs[i] : NULL;
}

struct netdev *netdev_find(const char *name)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (strcmp(devs[i]->name, name) == 0)
			return devs[i];
	return NULL;
}

void netdev_link_changed(struct netdev *nd, bool up)
{
	if (nd->link_up == up)
		return;
	nd->link_up = up;
	nd->stats.link_changes++;
	if (nd->name[0]) /* not yet registered: the registration line says it */
		printk("net: %s: link %s\n", nd->name, up ? "up" : "down");
}

void netdev_shutdown_all(void)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i]->ops && devs[i]->ops->shutdown)
			devs[i]->ops->shutdown(devs[i]);
}

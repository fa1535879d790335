/*
 * The host's network interfaces: the hypervisor's own NIC drivers
 * (drivers/net: virtio-net, e1000e) register each NIC they bring up, named
 * eth0, eth1, ... in PCI order. The uplink (uplink.h) takes the one
 * `uplink_nic=` names, else eth0, and bridges it to the `uplink` switch.
 *
 * The interface is batched (after BitVisor's netapi): xmit() takes several
 * frames, and received frames are handed to nd->rx() several at a time.
 * A driver written against it needs only its rings and registers: the
 * igb/ixgbe class fits the same shape.
 *
 * Contexts: xmit() may be called on any core, concurrently, with no lock of
 * the caller's held except a switch's (the driver serialises its TX ring
 * itself). Received frames are reaped in the driver's deferred work
 * (kernel/cpu/deferred.h), never in its interrupt handler, and passed to
 * nd->rx() there with none of the driver's TX locks held.
 */
#ifndef HV_NET_NETDEV_H
#define HV_NET_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/net/netframe.h"

#define NETDEV_MAX 8

struct netdev;

struct netdev_ops {
	/*
	 * Puts frames on the TX ring (copying them; none may carry a GSO type
	 * unless caps allow it, nor NEEDS_CSUM unless NETDEV_CAP_CSUM).
	 * Returns how many were taken; the rest are counted in tx_drops by the
	 * driver. Never waits for the ring to drain.
	 */
	unsigned (*xmit)(struct netdev *nd, struct net_frame *const *frames, unsigned n);
	/* Receive everything (promisc), or all multicast, besides the NIC's own MAC and broadcast. */
	void (*set_rx_mode)(struct netdev *nd, bool promisc, bool allmulti);
	/* Stops DMA for good: the host is powering off or rebooting. */
	void (*shutdown)(struct netdev *nd);
};

struct netdev_stats {
	uint64_t rx_frames, rx_bytes, rx_drops, rx_errors;
	uint64_t tx_frames, tx_bytes, tx_drops, tx_errors;
	uint64_t interrupts, link_changes;
};

struct netdev {
	/* set by the driver before netdev_register */
	const char *driver;	/* "virtio-net", "e1000e" */
	uint8_t mac[ETH_ALEN];
	uint32_t caps;		/* NET_CAP_* of switch.h that the NIC does in hardware */
	const struct netdev_ops *ops;
	void *drv;
	char pci_addr[16];	/* "0000:00:02.0" */
	const char *irq_mode;	/* "msi-x", "msi", "polling" */
	/* kept current by the driver */
	volatile bool link_up;
	uint32_t speed_mbps;	/* 0: unknown */
	struct netdev_stats stats;
	/* set by netdev_register */
	char name[8];		/* "eth0" */
	unsigned index;
	/* where received frames go (NULL: dropped and counted): set by the uplink */
	void (*rx)(struct netdev *nd, struct net_frame *const *frames, unsigned n);
	void *rx_ctx;
};

/* Names nd (eth<N>) and adds it; logs "net: eth0: e1000e 52:54:00:12:34:56 at 0000:00:02.0, link up, msi-x". */
void netdev_register(struct netdev *nd);
unsigned netdev_count(void);
struct netdev *netdev_at(unsigned i);
struct netdev *netdev_find(const char *name);
/* Called by a driver when it sees the link change; logs it once. */
void netdev_link_changed(struct netdev *nd, bool up);
/* host-poweroff, host-reboot and the harness's exit: every NIC's shutdown(). */
void netdev_shutdown_all(void);
/* Driver helper: formats a MAC as "52:54:00:12:34:56" (18 bytes with the NUL). */
void net_format_mac(char out[18], const uint8_t mac[ETH_ALEN]);

#endif

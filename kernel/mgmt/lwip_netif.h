/*
 * lwIP's network interface as the port "hv" on the `uplink` switch: what
 * the switch delivers is copied into a bounded inbox (any core, any
 * context), and mgmt_poll() feeds the inbox to lwIP; what lwIP sends goes
 * into the switch. Only mgmt.c uses it.
 */
#ifndef HV_MGMT_LWIP_NETIF_H
#define HV_MGMT_LWIP_NETIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/net/netdev.h"

struct netif;

#define HV_NETIF_INBOX 256 /* received frames waiting for mgmt_poll; more are dropped and counted */

/*
 * Adds the netif (the NIC's MAC, no address yet, up, the NIC's link state)
 * and joins the port to `uplink`. 0, or -1 with err set (no memory, the
 * switch refused the port).
 */
int hv_netif_start(struct netif *netif, struct netdev *nd, char *err, size_t errlen);
/* From mgmt_poll: the inbox into lwIP, and the NIC's link state onto the netif. */
void hv_netif_poll(struct netif *netif);
/* Frames the inbox had no room for (also in the port's out_drops). */
uint64_t hv_netif_inbox_drops(void);

#endif

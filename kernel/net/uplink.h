/*
 * The `uplink` switch's connection to the wire: the host NIC given by
 * `uplink_nic=ethN` on the command line, else the first NIC registered.
 * Its port (kind NET_PORT_UPLINK, "uplink:eth0") sends what the switch
 * delivers out of the NIC, and hands what the NIC receives to the switch.
 * The NIC is put in promiscuous mode once a VM port joins the switch (the
 * VMs' MACs are not the NIC's), and is left in its own-MAC mode while only
 * the hypervisor's interface uses it.
 *
 * The hypervisor's own interface (lwIP) uses the NIC's MAC, so on a lab
 * network the host is seen with the address printed on its NIC.
 */
#ifndef HV_NET_UPLINK_H
#define HV_NET_UPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/net/netdev.h"

/* After the PCI drivers have probed: joins the chosen NIC to `uplink` (logs which, or that there is none). */
void uplink_init(const char *nic_name);
/* The NIC behind `uplink`, or NULL. */
struct netdev *uplink_netdev(void);
/* A VM port joined or left `uplink`: promiscuous mode follows. */
void uplink_vm_ports_changed(unsigned vm_ports);

#endif

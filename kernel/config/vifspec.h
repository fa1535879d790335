/*
 * One `vif` entry of a VM file in xl's VIFSPEC syntax (xl-network-configuration(5)):
 * comma-separated `key=value` items, e.g.
 *
 *   'mac=00:16:3e:01:02:03, bridge=uplink'
 *   'bridge=lab'                      (the MAC derived from the VM's name)
 *   ''                                (every default: bridge=uplink, derived MAC)
 *
 * Supported:
 *   mac      six hex octets with ':' (or '-'); unicast (bit 0 of the first octet
 *            clear) and not all zero. Missing: 00:16:3e (Xen's OUI) followed by three
 *            bytes of a hash of the VM's name and the vif's index, stable across
 *            restarts (vifspec_derive_mac)
 *   bridge   the switch: `uplink` (the default) is bridged to the host NIC; any other
 *            name (letters, digits, '-', '_', '.', at most 15) is an internal switch
 *   model    virtio-net / virtio (the only model: every vif is a virtio-net device);
 *            e1000, rtl8139 and others are refused
 *   vifname  the port's name in `net-list` (default NAME.N), at most 15 characters
 * xl's other keys (ip, script, backend, rate, type, gatewaydev, ...) are refused by name,
 * unknown keys as unknown. Each key at most once.
 *
 * Pure logic.
 */
#ifndef HV_CONFIG_VIFSPEC_H
#define HV_CONFIG_VIFSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIF_BRIDGE_MAX 15
#define VIF_NAME_MAX 15

struct vm_vif {
	uint8_t mac[6];
	bool mac_given;			  /* false: derived */
	char bridge[VIF_BRIDGE_MAX + 1];  /* "uplink" when not given */
	char vifname[VIF_NAME_MAX + 1];	  /* "" when not given */
};

/* Parses spec into *out; true, or false with the reason (for "file:line: vif: REASON"). */
bool vifspec_parse(const char *spec, struct vm_vif *out, char *why, size_t whylen);
/* 00:16:3e + 24 bits of a hash of (vm_name, index): the same on every boot. */
void vifspec_derive_mac(const char *vm_name, unsigned index, uint8_t mac[6]);

#endif

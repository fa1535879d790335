/*
 * The hypervisor's management endpoint: lwIP (built from Debian's source
 * package, NO_SYS=1) with its netif as the port "hv" on the `uplink`
 * switch, an HTTP/1.1 JSON API on mgmt_port (8080) behind a bearer token,
 * Prometheus metrics and remote syslog.
 *
 * Command line:
 *   mgmt=dhcp (the default when a NIC exists) | mgmt=ADDR/PREFIX[,gw=GW] | mgmt=off
 *   mgmt_port=N     mgmt_token=TOKEN (no token: the API is off, said at boot)
 *   mgmt_token_file=PATH: the token is the first line of that boot module
 *                   (the image's demo entry: a random token made at build time)
 *   syslog=HOST[:PORT] (RFC 5424 over UDP, port 514 by default)
 *
 * lwIP runs in one context only: mgmt_poll(), called from the boot CPU's
 * console loop. Never from an interrupt handler, never on two cores; a
 * nested call (a verb that waits and polls) returns at once.
 */
#ifndef HV_MGMT_MGMT_H
#define HV_MGMT_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/* After uplink_init: brings the interface up as the command line says (logs the outcome). */
void mgmt_init(const struct boot_info *bi);
/* Runs lwIP: the inbox of received frames, its timers, the connections. Cheap when idle. */
void mgmt_poll(void);
/* "10.0.2.15/24 gw 10.0.2.2 (dhcp)", "waiting for dhcp", "off (no NIC)": for `info` and the boot report. */
void mgmt_describe(char *out, size_t size);

#endif

/*
 * Remote syslog (syslog=HOST[:PORT]): the hypervisor's log lines, RFC 5424
 * over UDP (syslog_format.h), starting with the boot log still in the log
 * ring. printk only queues a line (any core, any context); mgmt_poll sends.
 */
#ifndef HV_MGMT_SYSLOG_H
#define HV_MGMT_SYSLOG_H

#include <stdint.h>

struct netif;

/* Addresses in host order. Logs the destination, or why nothing will be sent. */
void syslog_start(uint32_t addr, uint16_t port);
/* From mgmt_poll: sends what is queued once the interface has an address. */
void syslog_poll(struct netif *netif);

#endif

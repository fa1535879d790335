/*
 * lwIP's configuration for the hypervisor's management interface: one
 * Ethernet netif on the `uplink` switch, IPv4 with DHCP or a static address,
 * ARP, ICMP (ping), UDP (DHCP, syslog) and TCP (the HTTP API), driven by
 * mgmt_poll() alone (NO_SYS, no threads, no sockets or netconn). All memory
 * is lwIP's own static heap and pools, so a flood from the wire runs out of
 * pbufs and is dropped, and never takes the host's memory.
 */
#ifndef HV_MGMT_LWIPOPTS_H
#define HV_MGMT_LWIPOPTS_H

#include "kernel/mgmt/http_conn.h"

/* One context (mgmt_poll), never an interrupt handler: no locking inside lwIP. */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_TIMERS 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_NETIF_API 0
#define LWIP_ALTCP 0

/* Memory: a 128 KiB heap (outgoing data: 4 connections × TCP_SND_BUF, syslog datagrams) and fixed pools, all in .bss. */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (128 * 1024)
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
#define MEMP_NUM_PBUF 32
#define MEMP_NUM_UDP_PCB 4 /* DHCP, syslog */
/* the API's connections, and as many again closing (FIN_WAIT, TIME_WAIT) */
#define MEMP_NUM_TCP_PCB (2 * HTTP_MAX_CONNS)
#define MEMP_NUM_TCP_PCB_LISTEN 1
#define MEMP_NUM_TCP_SEG 128
#define MEMP_NUM_ARP_QUEUE 16
#define PBUF_POOL_SIZE 64 /* received frames held inside lwIP: the windows of 4 connections, and more */
#define TCP_LISTEN_BACKLOG 1

/* Protocols */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 1
#define LWIP_AUTOIP 0
#define LWIP_DNS 0
#define LWIP_IGMP 0
#define IP_FORWARD 0
/* nothing the API or syslog sends needs fragments; reassembly would hold pbufs for strangers */
#define IP_REASSEMBLY 0
#define IP_FRAG 0

/* TCP: an Ethernet MSS, 8 segments in each direction per connection */
#define TCP_MSS 1460
#define TCP_WND (8 * TCP_MSS)
#define TCP_SND_BUF (8 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_PBUFS 8
#define LWIP_TCP_KEEPALIVE 0
#define LWIP_CALLBACK_API 1

/* The netif */
#define LWIP_SINGLE_NETIF 1
#define LWIP_NETIF_HOSTNAME 1 /* sent in DHCP requests: "hv" */
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define PBUF_LINK_HLEN 14
#define ETH_PAD_SIZE 0

/* Checksums in software, both ways (the switch hands us frames with theirs filled in). */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1

/* No statistics or debug output: the switch's port counters tell what moved. */
#define LWIP_STATS 0
#define LWIP_STATS_DISPLAY 0

#endif

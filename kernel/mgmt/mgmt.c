/*
 * The management endpoint (mgmt.h): lwIP brought up on the uplink NIC as
 * the command line says, and run from mgmt_poll() only. The pieces: the
 * netif (lwip_netif.c), the HTTP listener (mgmt_http_tcp.c), remote syslog
 * (syslog.c).
 */
#include "kernel/mgmt/mgmt.h"

#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"

#include "kernel/boot/bootinfo.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/mgmt/http_conn.h"
#include "kernel/mgmt/lwip_netif.h"
#include "kernel/mgmt/mgmt_config.h"
#include "kernel/mgmt/mgmt_http_tcp.h"
#include "kernel/mgmt/syslog.h"
#include "kernel/net/uplink.h"

static struct mgmt_config cfg;
static struct netif hv_netif;
static const char *off_reason = "off"; /* what mgmt_describe says while not running */
static bool running;
static int in_poll;
static uint32_t announced; /* the address last logged (host order), 0: none */

static uint32_t host_order(const ip4_addr_t *a)
{
	return lwip_ntohl(ip4_addr_get_u32(a));
}

static void describe_addr(char *out, size_t size)
{
	uint32_t addr = host_order(netif_ip4_addr(&hv_netif));
	int prefix = mgmt_mask_prefix(host_order(netif_ip4_netmask(&hv_netif)));
	mgmt_format_addr(out, size, addr, prefix < 0 ? 0 : (unsigned)prefix,
			 host_order(netif_ip4_gw(&hv_netif)),
			 cfg.mode == MGMT_DHCP ? "dhcp" : "static");
}

void mgmt_describe(char *out, size_t size)
{
	if (!running)
		strlcpy_hv(out, off_reason, size);
	else if (ip4_addr_isany_val(*netif_ip4_addr(&hv_netif)))
		strlcpy_hv(out, netif_is_link_up(&hv_netif) ? "waiting for dhcp" : "waiting for dhcp (link down)",
			   size);
	else
		describe_addr(out, size);
}

/* lwIP calls this (inside mgmt_poll) when the interface's address or state changes. */
static void status_changed(struct netif *netif)
{
	uint32_t addr = host_order(netif_ip4_addr(netif));
	if (addr == announced)
		return;
	announced = addr;
	if (addr) {
		char buf[80];
		describe_addr(buf, sizeof(buf));
		printk("mgmt: %s\n", buf);
	} else if (cfg.mode == MGMT_DHCP) {
		printk("mgmt: the dhcp lease is gone; waiting for dhcp\n");
	}
}

static void set_static(void)
{
	ip4_addr_t a, m, g;
	ip4_addr_set_u32(&a, lwip_htonl(cfg.addr));
	ip4_addr_set_u32(&m, lwip_htonl(mgmt_prefix_mask(cfg.prefix)));
	ip4_addr_set_u32(&g, lwip_htonl(cfg.gw));
	netif_set_addr(&hv_netif, &a, &m, &g);
}

/* mgmt_token_file=PATH: the token is the first line of that boot module. */
static void token_from_module(const struct boot_info *bi)
{
	size_t n = strlen(cfg.token_file);
	for (size_t i = 0; i < bi->nmodules; i++) {
		const struct boot_module *m = &bi->modules[i];
		if (strncmp(m->cmdline, cfg.token_file, n) != 0 ||
		    (m->cmdline[n] != 0 && m->cmdline[n] != ' '))
			continue;
		if (mgmt_token_from_text(phys_to_virt(m->start), (size_t)(m->end - m->start),
					 cfg.token, sizeof(cfg.token)) < 0) {
			cfg.token[0] = 0;
			printk("mgmt: mgmt_token_file=%s: its first line is no token (1 to 128 "
			       "printable characters, no spaces)\n",
			       cfg.token_file);
		}
		return;
	}
	printk("mgmt: mgmt_token_file=%s: no such boot module\n", cfg.token_file);
}

void mgmt_init(const struct boot_info *bi)
{
	char err[128];

	int bad = mgmt_config_parse(bi->cmdline, &cfg, err, sizeof(err));
	if (bad)
		printk("mgmt: %s%s\n", err, bad > 1 ? " (and more)" : "");
	if (!cfg.token[0] && cfg.token_file[0])
		token_from_module(bi);
	http_set_token(cfg.token[0] ? cfg.token : NULL);

	struct netdev *nd = uplink_netdev();
	if (!nd) {
		off_reason = "off (no NIC)";
		printk("mgmt: off (no NIC)\n");
		return;
	}
	if (cfg.mode == MGMT_OFF) {
		off_reason = bad ? "off (bad mgmt= option)" : "off (mgmt=off)";
		printk("mgmt: %s\n", off_reason);
		return;
	}

	lwip_init();
	if (hv_netif_start(&hv_netif, nd, err, sizeof(err)) < 0) {
		off_reason = "off (could not join the uplink switch)";
		printk("mgmt: off: %s\n", err);
		return;
	}
	running = true;
	netif_set_status_callback(&hv_netif, status_changed);
	if (cfg.mode == MGMT_STATIC) {
		set_static(); /* logs the address through status_changed */
	} else {
		err_t e = dhcp_start(&hv_netif);
		if (e != ERR_OK)
			printk("mgmt: dhcp could not start (lwIP error %d)\n", e);
		else
			printk("mgmt: waiting for dhcp on %s\n", nd->name);
	}

	mgmt_http_start(cfg.port, cfg.token[0] != 0);
	if (cfg.syslog)
		syslog_start(cfg.syslog_addr, cfg.syslog_port);
}

void mgmt_poll(void)
{
	if (!running)
		return;
	/* one context only: a verb that waits and polls from inside an API request returns here */
	if (__atomic_exchange_n(&in_poll, 1, __ATOMIC_ACQUIRE))
		return;
	hv_netif_poll(&hv_netif);
	sys_check_timeouts();
	syslog_poll(&hv_netif);
	__atomic_store_n(&in_poll, 0, __ATOMIC_RELEASE);
}

/*
 * Link stand-ins, until the switch (kernel/net/switch.c, uplink.c) and the
 * HTTP connection (kernel/mgmt/http_conn.c) reach this branch: weak, so the
 * real ones win as soon as they are linked in, and this file goes then.
 * Without them there is no uplink NIC, so mgmt says "off (no NIC)" and
 * nothing below is ever called.
 */
#include "kernel/mgmt/http_conn.h"
#include "kernel/net/switch.h"
#include "kernel/net/uplink.h"

#define WEAK __attribute__((weak))

WEAK struct netdev *uplink_netdev(void)
{
	return NULL;
}

WEAK struct net_switch *net_switch_get(const char *name, char *err, size_t errlen)
{
	(void)name;
	(void)err;
	(void)errlen;
	return NULL;
}

WEAK int net_switch_attach(struct net_switch *sw, struct net_port *p, char *err, size_t errlen)
{
	(void)sw;
	(void)p;
	(void)err;
	(void)errlen;
	return -1;
}

WEAK void net_switch_input(struct net_port *from, struct net_frame *const *frames, unsigned n)
{
	(void)from;
	(void)frames;
	(void)n;
}

WEAK int http_conn_open(struct http_conn *c, uint32_t peer_ip)
{
	(void)c;
	(void)peer_ip;
	return -1;
}

WEAK enum http_conn_result http_conn_input(struct http_conn *c, const uint8_t *data, size_t len)
{
	(void)c;
	(void)data;
	(void)len;
	return HTTP_CONN_MORE;
}

WEAK enum http_conn_result http_conn_sent(struct http_conn *c)
{
	(void)c;
	return HTTP_CONN_MORE;
}

WEAK void http_conn_close(struct http_conn *c)
{
	(void)c;
}

WEAK void http_set_token(const char *token)
{
	(void)token;
}

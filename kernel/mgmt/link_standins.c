/*
 * Link stand-ins, until the HTTP connection (kernel/mgmt/http_conn.c, helper
 * "http") reaches this branch: weak, so the real ones win as soon as they
 * are linked in, and this file goes then. Until then every API connection
 * is refused ("no memory").
 */
#include "kernel/mgmt/http_conn.h"

#define WEAK __attribute__((weak))

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

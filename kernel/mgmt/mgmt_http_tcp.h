/*
 * The management API's TCP side: a listener on mgmt_port (lwIP's raw API,
 * inside mgmt_poll only) that feeds each connection's bytes to its
 * http_conn (http_conn.h) and sends what it answers. At most
 * HTTP_MAX_CONNS connections (more are reset), each closed after
 * HTTP_IDLE_MS without a byte from its client, or when a request takes
 * longer than HTTP_REQUEST_MS to arrive in full.
 */
#ifndef HV_MGMT_MGMT_HTTP_TCP_H
#define HV_MGMT_MGMT_HTTP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#define HTTP_REQUEST_MS 30000

/* Listens on port; have_token false: says at boot that the API is off (it answers 503). */
void mgmt_http_start(uint16_t port, bool have_token);
/* Connections open now (for `info` and the metrics). */
unsigned mgmt_http_open_conns(void);

#endif

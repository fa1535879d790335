/*
 * One HTTP/1.1 connection of the management API, independent of the TCP
 * stack: lwIP's raw TCP callbacks (mgmt_http_tcp.c) feed it the bytes that
 * arrive and send what it produces. Pure request handling lives behind it
 * (http_parse.c, json.c, api.c), hosted-tested and fuzzed.
 *
 * Limits: a request line and headers of at most HTTP_HEADER_MAX bytes, a
 * body of at most HTTP_BODY_MAX (a VM file), keep-alive with one request
 * at a time. What breaks the rules gets its 4xx and, when the stream can
 * no longer be trusted (a bad request line, oversized headers), the
 * connection is closed after the response.
 */
#ifndef HV_MGMT_HTTP_CONN_H
#define HV_MGMT_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEADER_MAX 8192
#define HTTP_BODY_MAX 65536
#define HTTP_RESPONSE_MAX 262144 /* a connection's first response buffer: a console ring fits */
/*
 * A GET whose answer outgrows the buffer (/metrics or /v1/vms with hundreds of
 * VMs) is answered again into one twice as big, up to this.
 */
#define HTTP_RESPONSE_LIMIT (16u << 20)
#define HTTP_MAX_CONNS 4
#define HTTP_IDLE_MS 10000 /* a connection that sends nothing this long is closed */

enum http_conn_result {
	HTTP_CONN_MORE,	      /* keep reading */
	HTTP_CONN_RESPOND,    /* a response is in out[0..out_len): send it, then call http_conn_sent */
	HTTP_CONN_RESPOND_CLOSE, /* send it, then close */
};

struct http_conn {
	uint8_t in[HTTP_HEADER_MAX + HTTP_BODY_MAX];
	size_t in_len;
	char *out; /* the response (heap, out_cap bytes), owned by the connection */
	size_t out_len, out_cap;
	uint32_t peer_ip; /* IPv4, network order: for the log of failed logins */
	uint64_t requests;
	/* http_conn.c's */
	size_t scanned;	  /* how far the search for the head's end got */
	bool pending;	  /* a response is out, not yet sent */
	bool closing;	  /* the response out is the last */
	bool overflowed;  /* pipelined bytes beyond in[] were dropped */
};

/* 0, or -1 (no memory for the response buffer). */
int http_conn_open(struct http_conn *c, uint32_t peer_ip);
/*
 * Bytes that arrived; may be called with a partial request, or more than
 * one, and while a response is out (they wait, then: pipelining). What does
 * not fit in in[] then is dropped, and once the requests before it are
 * answered the connection gets a 503 and is closed.
 */
enum http_conn_result http_conn_input(struct http_conn *c, const uint8_t *data, size_t len);
/* The response was sent: the next pipelined request (if any) is looked at; same results. */
enum http_conn_result http_conn_sent(struct http_conn *c);
void http_conn_close(struct http_conn *c);

/* The token the API checks (mgmt_token=), or NULL: the API answers 503 to everything. */
void http_set_token(const char *token);

#endif

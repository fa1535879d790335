/*
 * One HTTP/1.1 connection of the management API (http_conn.h): requests
 * are parsed as bytes arrive, answered one at a time, and each answer is
 * checked against the bearer token before the routes (api.c) see it.
 */
#include "kernel/mgmt/http_conn.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mgmt/api.h"
#include "kernel/mgmt/api_backend.h"
#include "kernel/mgmt/http_parse.h"

#define TOKEN_MAX 256
#define HEAD_RESERVE 512 /* the status line and header fields go before the body */
#define AUTH_LOG_MS 1000 /* at most one line per second about failed logins */

static char token[TOKEN_MAX];
static size_t token_len; /* 0: no token, the API is off */
static uint64_t auth_logged_ms, auth_suppressed;

void http_set_token(const char *t)
{
	token_len = 0;
	if (t && strlen(t) < TOKEN_MAX) {
		token_len = strlen(t);
		memcpy(token, t, token_len);
	} else if (t) {
		api_log("mgmt: mgmt_token is longer than %u characters: the API is off\n",
			TOKEN_MAX - 1);
	}
}

/* Whether given equals the token, in time that depends only on given's length. */
static bool token_equal(struct http_str given)
{
	size_t diff = given.len ^ token_len;
	for (size_t i = 0; i < given.len; i++)
		diff |= (uint8_t)given.p[i] ^ (uint8_t)token[i % token_len];
	return diff == 0;
}

/* "Bearer TOKEN" (the scheme in any case, RFC 6750); false if it is not that. */
static bool bearer(struct http_str v, struct http_str *tok)
{
	if (v.len < 7 || !http_str_ieq((struct http_str){v.p, 6}, "bearer") || v.p[6] != ' ')
		return false;
	size_t i = 7;
	while (i < v.len && v.p[i] == ' ')
		i++;
	*tok = (struct http_str){v.p + i, v.len - i};
	return tok->len > 0;
}

static void log_failure(const struct http_conn *c, const char *what)
{
	uint64_t now = api_now_ms();
	if (auth_logged_ms && now - auth_logged_ms < AUTH_LOG_MS) {
		auth_suppressed++;
		return;
	}
	const uint8_t *ip = (const uint8_t *)&c->peer_ip;
	if (auth_suppressed)
		api_log("mgmt: %s from %u.%u.%u.%u (and %llu more failed requests not logged)\n",
			what, ip[0], ip[1], ip[2], ip[3], (unsigned long long)auth_suppressed);
	else
		api_log("mgmt: %s from %u.%u.%u.%u\n", what, ip[0], ip[1], ip[2], ip[3]);
	auth_logged_ms = now ? now : 1;
	auth_suppressed = 0;
}

/* 0 when the request may go on; else the status of the refusal. */
static unsigned authorize(const struct http_conn *c, const struct http_request *req)
{
	struct http_str given;
	if (!token_len)
		return 503;
	if (!req->authorization.len) {
		log_failure(c, "a request without a token");
		return 401;
	}
	if (!bearer(req->authorization, &given) || !token_equal(given)) {
		log_failure(c, "a request with a wrong token");
		return 401;
	}
	return 0;
}

int http_conn_open(struct http_conn *c, uint32_t peer_ip)
{
	c->in_len = 0;
	c->out_len = 0;
	c->peer_ip = peer_ip;
	c->requests = 0;
	c->scanned = 0;
	c->pending = c->closing = c->overflowed = false;
	c->out = api_alloc(HTTP_RESPONSE_MAX);
	c->out_cap = c->out ? HTTP_RESPONSE_MAX : 0;
	return c->out ? 0 : -1;
}

void http_conn_close(struct http_conn *c)
{
	api_free(c->out);
	c->out = NULL;
}

/* Puts the status line and header fields before the body and moves the whole to out[0]. */
static enum http_conn_result respond(struct http_conn *c, const struct api_response *r,
				     bool keep_alive, bool minor0)
{
	char head[HEAD_RESERVE];
	size_t n = 0;
	format_append(head, sizeof(head), &n,
		      "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Cache-Control: no-store\r\n",
		      r->status, http_reason(r->status), r->content_type, r->len);
	if (r->allow)
		format_append(head, sizeof(head), &n, "Allow: %s\r\n", r->allow);
	if (r->status == 401)
		format_append(head, sizeof(head), &n, "WWW-Authenticate: Bearer realm=\"hv\"\r\n");
	if (!keep_alive)
		format_append(head, sizeof(head), &n, "Connection: close\r\n");
	else if (minor0)
		format_append(head, sizeof(head), &n, "Connection: keep-alive\r\n");
	format_append(head, sizeof(head), &n, "\r\n");
	memcpy(c->out, head, n);
	memmove(c->out + n, c->out + HEAD_RESERVE, r->len);
	c->out_len = n + r->len;
	c->pending = true;
	c->closing = !keep_alive;
	c->requests++;
	return keep_alive ? HTTP_CONN_RESPOND : HTTP_CONN_RESPOND_CLOSE;
}

static void body_area(struct http_conn *c, struct api_response *r)
{
	r->body = c->out + HEAD_RESERVE;
	r->cap = c->out_cap - HEAD_RESERVE;
	r->len = 0;
	r->allow = NULL;
	r->too_small = false;
}

/*
 * Trades out[] for one twice as big (the response in it is thrown away);
 * false at HTTP_RESPONSE_LIMIT or when memory is short, out[] unchanged.
 */
static bool grow_out(struct http_conn *c)
{
	if (c->out_cap >= HTTP_RESPONSE_LIMIT)
		return false;
	char *bigger = api_alloc(c->out_cap * 2);
	if (!bigger)
		return false;
	api_free(c->out);
	c->out = bigger;
	c->out_cap *= 2;
	return true;
}

static enum http_conn_result error_close(struct http_conn *c, unsigned status, const char *why)
{
	struct api_response r;
	body_area(c, &r);
	api_error(&r, status, why);
	c->in_len = 0; /* the stream cannot be trusted any more */
	return respond(c, &r, false, false);
}

/* Looks at what in[] holds: answers the first request if it is whole. */
static enum http_conn_result process(struct http_conn *c)
{
	struct http_request req;
	struct http_parse_error err;
	struct api_response r;

	if (c->closing || c->pending || !c->out)
		return HTTP_CONN_MORE;
	switch (http_parse(c->in, c->in_len, &c->scanned, &req, &err)) {
	case HTTP_PARSE_INCOMPLETE:
		if (c->overflowed)
			return error_close(c, 503, "too many pipelined requests");
		return HTTP_CONN_MORE;
	case HTTP_PARSE_ERROR:
		return error_close(c, err.status, err.why);
	case HTTP_PARSE_OK:
		break;
	}

	body_area(c, &r);
	unsigned refused = authorize(c, &req);
	if (refused == 503)
		api_error(&r, 503, "the management API is off: no mgmt_token= on the command line");
	else if (refused)
		api_error(&r, 401, "a valid token is needed: Authorization: Bearer TOKEN");
	else {
		api_handle(&req, &r);
		/* only a GET may run twice: it changes nothing */
		while (r.too_small && req.method == HTTP_GET && grow_out(c)) {
			body_area(c, &r);
			api_handle(&req, &r);
		}
	}

	/* the request is answered: what follows it moves to the front */
	size_t rest = c->in_len - req.total;
	memmove(c->in, c->in + req.total, rest);
	c->in_len = rest;
	c->scanned = 0;
	return respond(c, &r, req.keep_alive, req.minor == 0);
}

enum http_conn_result http_conn_input(struct http_conn *c, const uint8_t *data, size_t len)
{
	if (c->closing)
		return HTTP_CONN_MORE; /* the last response is on its way; then the close */
	if (c->overflowed)
		return HTTP_CONN_MORE; /* what comes after dropped bytes cannot be parsed */
	size_t room = sizeof(c->in) - c->in_len;
	if (len > room) {
		/* the requests before the cut are answered, then a 503 (process) */
		c->overflowed = true;
		len = room;
	}
	if (len)
		memcpy(c->in + c->in_len, data, len);
	c->in_len += len;
	return process(c);
}

enum http_conn_result http_conn_sent(struct http_conn *c)
{
	c->pending = false;
	c->out_len = 0;
	if (c->closing)
		return HTTP_CONN_MORE;
	return process(c);
}

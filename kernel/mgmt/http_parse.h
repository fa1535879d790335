/*
 * An HTTP/1.1 request parser (RFC 9112) for the management API: the request
 * line, the header fields, and a body framed by Content-Length. Pure logic:
 * it reads a buffer and never copies or allocates; the request it fills
 * points into that buffer.
 *
 * It is incremental in the sense TCP needs: http_parse() is called with
 * everything received so far and answers INCOMPLETE until a whole request
 * (head and body) is there, or an error as soon as the bytes so far are
 * bad whatever comes next (so an oversized head is refused at
 * HTTP_HEADER_MAX bytes, not after the peer has sent megabytes). `scanned`
 * lets the caller skip the part already searched for the head's end.
 *
 * What it accepts:
 *   - lines ending in CRLF, or a bare LF (RFC 9112 section 2.2); a CR
 *     anywhere else is an error;
 *   - a method token, an origin-form target ("/path?query", at most
 *     HTTP_TARGET_MAX bytes), HTTP/1.1 or HTTP/1.0 (another HTTP/x.y: 505);
 *   - header fields "name: value"; obsolete line folding is refused;
 *   - Content-Length (digits only; repeated with different values: 400;
 *     above HTTP_BODY_MAX: 413); any Transfer-Encoding: chunked gets 411
 *     (send Content-Length), any other coding 501. Both close the
 *     connection, since the body cannot be framed.
 *   - Connection: close / keep-alive (HTTP/1.0 closes by default).
 * Other fields are skipped, except those the API reads (Authorization,
 * Content-Type).
 */
#ifndef HV_MGMT_HTTP_PARSE_H
#define HV_MGMT_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/mgmt/http_conn.h"

#define HTTP_TARGET_MAX 1024
#define HTTP_FIELDS_MAX 64 /* header fields in one request */

enum http_method { HTTP_GET, HTTP_POST, HTTP_HEAD, HTTP_PUT, HTTP_DELETE, HTTP_OTHER };

/* A slice of the parsed buffer. */
struct http_str {
	const char *p;
	size_t len;
};

struct http_request {
	enum http_method method;
	struct http_str method_text;
	struct http_str path;  /* the target up to '?', still percent-encoded */
	struct http_str query; /* after '?', without it; len 0 if none */
	unsigned minor;	       /* HTTP/1.minor */
	bool keep_alive;
	struct http_str authorization; /* the field's value, len 0 if absent */
	struct http_str content_type;
	bool has_length;
	size_t content_length;
	struct http_str body;
	size_t total; /* bytes of the whole request: the next one starts there */
};

enum http_parse_result {
	HTTP_PARSE_INCOMPLETE,
	HTTP_PARSE_OK,
	HTTP_PARSE_ERROR, /* see status and why; the connection closes after the answer */
};

/* What an error is, for the response. */
struct http_parse_error {
	unsigned status; /* 400, 411, 413, 414, 431, 501, 505 */
	const char *why; /* a short English sentence, static */
};

/*
 * Parses buf[0..len). *scanned (0 on the first call for a request) is how
 * far the search for the head's end got; it is updated. On OK, *req is
 * filled; on ERROR, *err.
 */
enum http_parse_result http_parse(const uint8_t *buf, size_t len, size_t *scanned,
				  struct http_request *req, struct http_parse_error *err);

/* The reason phrase for a status code ("Not Found"); "Unknown" if none. */
const char *http_reason(unsigned status);

/* Whether s equals the NUL-terminated lit, ignoring ASCII case. */
bool http_str_ieq(struct http_str s, const char *lit);
bool http_str_eq(struct http_str s, const char *lit);

/*
 * Percent-decodes a path segment or query value into out (NUL-terminated);
 * false if it has a bad escape, decodes to a NUL, or does not fit.
 */
bool http_pct_decode(struct http_str s, char *out, size_t size);
/*
 * The raw value of the query parameter `name` ("since" in "since=12&x=1");
 * false if absent. "name" alone gives an empty value.
 */
bool http_query_param(struct http_str query, const char *name, struct http_str *value);

#endif

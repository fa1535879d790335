/* The HTTP/1.1 request parser (see http_parse.h for what it accepts). */
#include "kernel/mgmt/http_parse.h"

#include "kernel/lib/string.h"

static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
	case '-': case '.': case '^': case '_': case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

bool http_str_ieq(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s.p[i]) != lower(lit[i]))
			return false;
	return true;
}

bool http_str_eq(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && memcmp(s.p, lit, n) == 0;
}

const char *http_reason(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

static enum http_parse_result fail(struct http_parse_error *err, unsigned status, const char *why)
{
	err->status = status;
	err->why = why;
	return HTTP_PARSE_ERROR;
}

/* Trims spaces and tabs at both ends. */
static struct http_str trim(struct http_str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

static enum http_method method_of(struct http_str m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} known[] = {
	    {"GET", HTTP_GET}, {"POST", HTTP_POST}, {"HEAD", HTTP_HEAD},
	    {"PUT", HTTP_PUT}, {"DELETE", HTTP_DELETE},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (http_str_eq(m, known[i].name)) /* methods are case-sensitive */
			return known[i].m;
	return HTTP_OTHER;
}

static enum http_parse_result request_line(struct http_str line, struct http_request *req,
					   struct http_parse_error *err)
{
	size_t i = 0;
	while (i < line.len && is_tchar((uint8_t)line.p[i]))
		i++;
	if (i == 0 || i == line.len || line.p[i] != ' ')
		return fail(err, 400, "malformed request line");
	req->method_text = (struct http_str){line.p, i};
	req->method = method_of(req->method_text);

	size_t t = ++i;
	while (i < line.len && (uint8_t)line.p[i] > 0x20 && (uint8_t)line.p[i] < 0x7f)
		i++;
	if (i == t || i == line.len || line.p[i] != ' ')
		return fail(err, 400, "malformed request line");
	if (i - t > HTTP_TARGET_MAX)
		return fail(err, 414, "request target too long");
	if (line.p[t] != '/')
		return fail(err, 400, "the request target must be a path (origin form)");
	struct http_str target = {line.p + t, i - t};
	req->path = target;
	req->query = (struct http_str){NULL, 0};
	for (size_t k = 0; k < target.len; k++) {
		if (target.p[k] == '#')
			return fail(err, 400, "a fragment in the request target");
		if (target.p[k] == '?' && req->path.len == target.len) {
			req->path.len = k;
			req->query = (struct http_str){target.p + k + 1, target.len - k - 1};
		}
	}

	struct http_str v = {line.p + i + 1, line.len - i - 1};
	if (v.len != 8 || memcmp(v.p, "HTTP/", 5) != 0 || v.p[5] < '0' || v.p[5] > '9' ||
	    v.p[6] != '.' || v.p[7] < '0' || v.p[7] > '9')
		return fail(err, 400, "malformed HTTP version");
	if (v.p[5] != '1')
		return fail(err, 505, "only HTTP/1.1 and HTTP/1.0 are supported");
	req->minor = v.p[7] == '0' ? 0 : 1; /* 1.x above 1: served as 1.1 */
	req->keep_alive = req->minor == 1;
	return HTTP_PARSE_OK;
}

/* Content-Length: 1*DIGIT, at most HTTP_BODY_MAX (checked by the caller). */
static bool parse_length(struct http_str v, size_t *out)
{
	size_t n = 0;
	if (!v.len)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		if (n > (size_t)HTTP_BODY_MAX * 16) /* big enough to say 413, no overflow */
			continue;
		n = n * 10 + (size_t)(v.p[i] - '0');
	}
	*out = n;
	return true;
}

/* Connection: a comma-separated list of tokens. */
static void connection_options(struct http_str v, struct http_request *req)
{
	size_t start = 0;
	for (size_t i = 0; i <= v.len; i++) {
		if (i < v.len && v.p[i] != ',')
			continue;
		struct http_str tok = trim((struct http_str){v.p + start, i - start});
		if (http_str_ieq(tok, "close"))
			req->keep_alive = false;
		else if (http_str_ieq(tok, "keep-alive") && req->minor == 0)
			req->keep_alive = true;
		start = i + 1;
	}
}

static bool contains_ci(struct http_str v, const char *lit)
{
	size_t n = strlen(lit);
	for (size_t i = 0; i + n <= v.len; i++)
		if (http_str_ieq((struct http_str){v.p + i, n}, lit))
			return true;
	return false;
}

static enum http_parse_result field(struct http_str line, struct http_request *req,
				    bool *close_keep, struct http_parse_error *err)
{
	if (line.p[0] == ' ' || line.p[0] == '\t')
		return fail(err, 400, "obsolete line folding in a header field");
	size_t i = 0;
	while (i < line.len && is_tchar((uint8_t)line.p[i]))
		i++;
	if (i == 0 || i == line.len || line.p[i] != ':')
		return fail(err, 400, "malformed header field");
	struct http_str name = {line.p, i};
	struct http_str value = trim((struct http_str){line.p + i + 1, line.len - i - 1});
	for (size_t k = 0; k < value.len; k++) {
		uint8_t c = (uint8_t)value.p[k];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(err, 400, "a control character in a header field");
	}

	if (http_str_ieq(name, "content-length")) {
		size_t n;
		if (!parse_length(value, &n))
			return fail(err, 400, "malformed Content-Length");
		if (req->has_length && n != req->content_length)
			return fail(err, 400, "conflicting Content-Length fields");
		req->has_length = true;
		req->content_length = n;
	} else if (http_str_ieq(name, "transfer-encoding")) {
		*close_keep = true;
		if (contains_ci(value, "chunked"))
			return fail(err, 411, "chunked request bodies are not supported: send "
					      "Content-Length");
		return fail(err, 501, "transfer codings are not supported");
	} else if (http_str_ieq(name, "connection")) {
		connection_options(value, req);
	} else if (http_str_ieq(name, "authorization")) {
		if (req->authorization.p)
			return fail(err, 400, "more than one Authorization field");
		req->authorization = value;
	} else if (http_str_ieq(name, "content-type")) {
		req->content_type = value;
	}
	return HTTP_PARSE_OK;
}

enum http_parse_result http_parse(const uint8_t *buf, size_t len, size_t *scanned,
				  struct http_request *req, struct http_parse_error *err)
{
	/* empty lines before a request are ignored (RFC 9112 section 2.2) */
	size_t lead = 0;
	while (lead < len && (buf[lead] == '\r' || buf[lead] == '\n') && lead < HTTP_HEADER_MAX)
		lead++;

	/* the head ends with an empty line: LF, then CR LF or LF */
	size_t end = 0;
	for (size_t i = *scanned > lead ? *scanned : lead; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if ((i >= lead + 1 && buf[i - 1] == '\n') ||
		    (i >= lead + 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')) {
			end = i + 1;
			break;
		}
	}
	if (!end) {
		*scanned = len;
		if (len > HTTP_HEADER_MAX)
			return fail(err, 431, "the request line and header fields are too long");
		return HTTP_PARSE_INCOMPLETE;
	}
	if (end > HTTP_HEADER_MAX)
		return fail(err, 431, "the request line and header fields are too long");

	memset(req, 0, sizeof(*req));
	bool first = true, close_keep = false;
	unsigned fields = 0;
	size_t start = lead;
	for (size_t i = lead; i < end; i++) {
		uint8_t c = buf[i];
		if (c == 0)
			return fail(err, 400, "a NUL byte in the request head");
		if (c == '\r' && buf[i + 1] != '\n')
			return fail(err, 400, "a CR not followed by LF");
		if (c != '\n')
			continue;
		struct http_str line = {(const char *)buf + start, i - start};
		if (line.len && line.p[line.len - 1] == '\r')
			line.len--;
		start = i + 1;
		if (!line.len)
			break; /* the empty line at the end */
		enum http_parse_result r;
		if (first) {
			r = request_line(line, req, err);
			first = false;
		} else if (++fields > HTTP_FIELDS_MAX) {
			return fail(err, 431, "too many header fields");
		} else {
			r = field(line, req, &close_keep, err);
		}
		if (r != HTTP_PARSE_OK)
			return r;
	}

	if (req->content_length > HTTP_BODY_MAX)
		return fail(err, 413, "the request body is too large");
	if (len - end < req->content_length)
		return HTTP_PARSE_INCOMPLETE;
	req->body = (struct http_str){(const char *)buf + end, req->content_length};
	req->total = end + req->content_length;
	return HTTP_PARSE_OK;
}

bool http_pct_decode(struct http_str s, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (c == '%') {
			if (i + 2 >= s.len)
				return false;
			int hi = hex_digit_value(s.p[i + 1]), lo = hex_digit_value(s.p[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi << 4 | lo);
			if (c == 0)
				return false;
			i += 2;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	if (!size)
		return false;
	out[n] = 0;
	return true;
}

bool http_query_param(struct http_str query, const char *name, struct http_str *value)
{
	size_t nl = strlen(name);
	size_t start = 0;
	if (!query.p)
		return false; /* no query: nothing to offset from */
	for (size_t i = 0; i <= query.len; i++) {
		if (i < query.len && query.p[i] != '&')
			continue;
		struct http_str item = {query.p + start, i - start};
		start = i + 1;
		if (item.len < nl || memcmp(item.p, name, nl) != 0)
			continue;
		if (item.len == nl) {
			*value = (struct http_str){item.p + nl, 0};
			return true;
		}
		if (item.p[nl] == '=') {
			*value = (struct http_str){item.p + nl + 1, item.len - nl - 1};
			return true;
		}
	}
	return false;
}

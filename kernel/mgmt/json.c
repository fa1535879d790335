/* JSON: the writer and the strict parser (see json.h). */
#include "kernel/mgmt/json.h"

#include "kernel/lib/string.h"

/*
 * The length of the valid UTF-8 sequence at s (1..4; *cp its code point),
 * or 0: a stray continuation byte, a cut sequence, an overlong form, a
 * surrogate or a code point above U+10FFFF.
 */
static unsigned utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0];
	unsigned len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (unsigned i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* ---- writer ---- */

static void put(struct json_out *j, const char *s, size_t n)
{
	if (j->overflow || n > j->cap - 1 - j->len) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

static void putc_(struct json_out *j, char c)
{
	put(j, &c, 1);
}

void json_init(struct json_out *j, char *buf, size_t cap)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = cap;
	if (cap)
		buf[0] = 0;
	else
		j->overflow = true;
}

/* Before a value: the comma between members, unless a key has just been written. */
static void value_start(struct json_out *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth && (j->nonempty >> j->depth & 1))
		putc_(j, ',');
	j->nonempty |= 1ull << j->depth;
}

static void open_(struct json_out *j, char c)
{
	value_start(j);
	putc_(j, c);
	if (j->depth + 1 >= 64) {
		j->overflow = true;
		return;
	}
	j->depth++;
	j->nonempty &= ~(1ull << j->depth);
}

static void close_(struct json_out *j, char c)
{
	if (!j->depth) {
		j->overflow = true;
		return;
	}
	j->depth--;
	putc_(j, c);
}

void json_obj_begin(struct json_out *j)
{
	open_(j, '{');
}

void json_obj_end(struct json_out *j)
{
	close_(j, '}');
}

void json_arr_begin(struct json_out *j)
{
	open_(j, '[');
}

void json_arr_end(struct json_out *j)
{
	close_(j, ']');
}

static void string(struct json_out *j, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	putc_(j, '"');
	size_t run = 0; /* bytes copied as they are, written in one go */
	for (size_t i = 0; i < n;) {
		uint8_t c = (uint8_t)s[i];
		uint32_t cp;
		unsigned len = c >= 0x20 && c != '"' && c != '\\' && c != 0x7f
				       ? utf8_decode((const uint8_t *)s + i, n - i, &cp)
				       : 0;
		if (len) {
			i += len;
			run += len;
			continue;
		}
		put(j, s + i - run, run);
		run = 0;
		char esc[8];
		switch (c) {
		case '"': put(j, "\\\"", 2); break;
		case '\\': put(j, "\\\\", 2); break;
		case '\n': put(j, "\\n", 2); break;
		case '\r': put(j, "\\r", 2); break;
		case '\t': put(j, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
				esc[4] = hex[c >> 4], esc[5] = hex[c & 15];
				put(j, esc, 6);
			} else {
				put(j, "\xef\xbf\xbd", 3); /* not UTF-8: U+FFFD */
			}
		}
		i++;
	}
	put(j, s + n - run, run);
	putc_(j, '"');
}

void json_key(struct json_out *j, const char *key)
{
	value_start(j);
	string(j, key, strlen(key));
	putc_(j, ':');
	j->after_key = true;
}

void json_strn(struct json_out *j, const char *s, size_t n)
{
	value_start(j);
	string(j, s, n);
}

void json_str(struct json_out *j, const char *s)
{
	json_strn(j, s, strlen(s));
}

void json_u64(struct json_out *j, uint64_t v)
{
	char d[24];
	size_t n = sizeof(d);
	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	value_start(j);
	put(j, d + n, sizeof(d) - n);
}

void json_bool(struct json_out *j, bool v)
{
	value_start(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json_out *j)
{
	value_start(j);
	put(j, "null", 4);
}

void json_kv_str(struct json_out *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_kv_u64(struct json_out *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kv_bool(struct json_out *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

bool json_done(const struct json_out *j)
{
	return !j->overflow && j->depth == 0 && !j->after_key;
}

/* ---- parser ---- */

struct parser {
	const char *s;
	size_t len, at;
	struct json_tok *tok;
	unsigned max, n;
	struct json_error *err;
};

static bool error(struct parser *p, const char *why)
{
	p->err->why = why;
	p->err->at = p->at;
	return false;
}

static void skip_ws(struct parser *p)
{
	while (p->at < p->len) {
		char c = p->s[p->at];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->at++;
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int new_tok(struct parser *p, enum json_type type)
{
	if (p->n == p->max) {
		error(p, "too many values");
		return -1;
	}
	struct json_tok *t = &p->tok[p->n];
	t->type = type;
	t->start = (uint32_t)p->at;
	t->len = 0;
	t->count = 0;
	t->next = 0;
	return (int)p->n++;
}

static int hex4(const char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int d = hex_digit_value(s[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

static bool parse_string(struct parser *p)
{
	int t = new_tok(p, JSON_STRING);
	if (t < 0)
		return false;
	p->at++; /* the opening quote */
	p->tok[t].start = (uint32_t)p->at;
	while (p->at < p->len) {
		uint8_t c = (uint8_t)p->s[p->at];
		if (c == '"') {
			p->tok[t].len = (uint32_t)(p->at - p->tok[t].start);
			p->tok[t].next = p->n;
			p->at++;
			return true;
		}
		if (c < 0x20)
			return error(p, "a control character in a string");
		if (c == '\\') {
			if (p->at + 1 >= p->len)
				break;
			char e = p->s[p->at + 1];
			if (e == 'u') {
				if (p->at + 6 > p->len)
					break;
				int u = hex4(p->s + p->at + 2);
				if (u < 0)
					return error(p, "a bad \\u escape");
				p->at += 6;
				if (u >= 0xdc00 && u <= 0xdfff)
					return error(p, "a lone low surrogate");
				if (u >= 0xd800 && u <= 0xdbff) {
					int lo = p->at + 6 <= p->len && p->s[p->at] == '\\' &&
							 p->s[p->at + 1] == 'u'
						     ? hex4(p->s + p->at + 2)
						     : -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return error(p, "a high surrogate without its low one");
					p->at += 6;
				}
				continue;
			}
			if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
			    e != 'r' && e != 't')
				return error(p, "a bad escape in a string");
			p->at += 2;
			continue;
		}
		uint32_t cp;
		unsigned n = utf8_decode((const uint8_t *)p->s + p->at, p->len - p->at, &cp);
		if (!n)
			return error(p, "a string that is not UTF-8");
		p->at += n;
	}
	return error(p, "an unterminated string");
}

static bool parse_number(struct parser *p)
{
	int t = new_tok(p, JSON_NUMBER);
	if (t < 0)
		return false;
	size_t a = p->at;
	if (a < p->len && p->s[a] == '-')
		a++;
	if (a >= p->len || !is_digit(p->s[a])) {
		p->at = a;
		return error(p, "a bad number");
	}
	if (p->s[a] == '0')
		a++;
	else
		while (a < p->len && is_digit(p->s[a]))
			a++;
	if (a < p->len && p->s[a] == '.') {
		a++;
		if (a >= p->len || !is_digit(p->s[a])) {
			p->at = a;
			return error(p, "a bad number");
		}
		while (a < p->len && is_digit(p->s[a]))
			a++;
	}
	if (a < p->len && (p->s[a] == 'e' || p->s[a] == 'E')) {
		a++;
		if (a < p->len && (p->s[a] == '+' || p->s[a] == '-'))
			a++;
		if (a >= p->len || !is_digit(p->s[a])) {
			p->at = a;
			return error(p, "a bad number");
		}
		while (a < p->len && is_digit(p->s[a]))
			a++;
	}
	p->tok[t].len = (uint32_t)(a - p->at);
	p->tok[t].next = p->n;
	p->at = a;
	return true;
}

static bool parse_literal(struct parser *p, const char *word, enum json_type type)
{
	size_t n = strlen(word);
	if (p->len - p->at < n || memcmp(p->s + p->at, word, n) != 0)
		return error(p, "an unexpected character");
	int t = new_tok(p, type);
	if (t < 0)
		return false;
	p->tok[t].len = (uint32_t)n;
	p->tok[t].next = p->n;
	p->at += n;
	return true;
}

static bool parse_value(struct parser *p, unsigned depth);

static bool parse_container(struct parser *p, unsigned depth, bool object)
{
	if (depth >= JSON_DEPTH_MAX)
		return error(p, "nested too deep");
	int t = new_tok(p, object ? JSON_OBJECT : JSON_ARRAY);
	if (t < 0)
		return false;
	char close = object ? '}' : ']';
	p->at++;
	skip_ws(p);
	if (p->at < p->len && p->s[p->at] == close) {
		p->at++;
	} else {
		for (;;) {
			if (object) {
				skip_ws(p);
				if (p->at >= p->len || p->s[p->at] != '"')
					return error(p, "expected a member name (a string)");
				if (!parse_string(p))
					return false;
				skip_ws(p);
				if (p->at >= p->len || p->s[p->at] != ':')
					return error(p, "expected ':'");
				p->at++;
			}
			if (!parse_value(p, depth + 1))
				return false;
			p->tok[t].count++;
			skip_ws(p);
			if (p->at < p->len && p->s[p->at] == ',') {
				p->at++;
				continue;
			}
			if (p->at < p->len && p->s[p->at] == close) {
				p->at++;
				break;
			}
			return error(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	p->tok[t].len = (uint32_t)(p->at - p->tok[t].start);
	p->tok[t].next = p->n;
	return true;
}

static bool parse_value(struct parser *p, unsigned depth)
{
	skip_ws(p);
	if (p->at >= p->len)
		return error(p, "unexpected end of the text");
	switch (p->s[p->at]) {
	case '{':
		return parse_container(p, depth, true);
	case '[':
		return parse_container(p, depth, false);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true", JSON_TRUE);
	case 'f':
		return parse_literal(p, "false", JSON_FALSE);
	case 'n':
		return parse_literal(p, "null", JSON_NULL);
	default:
		if (p->s[p->at] == '-' || is_digit(p->s[p->at]))
			return parse_number(p);
		return error(p, "an unexpected character");
	}
}

int json_parse(const char *text, size_t len, struct json_tok *tok, unsigned max,
	       struct json_error *err)
{
	struct parser p = {.s = text, .len = len, .tok = tok, .max = max, .err = err};
	if (len > UINT32_MAX)
		return error(&p, "too long"), -1;
	if (!parse_value(&p, 0))
		return -1;
	skip_ws(&p);
	if (p.at != len) {
		error(&p, "text after the value");
		return -1;
	}
	return (int)p.n;
}

/* Appends code point cp as UTF-8; false if it does not fit. */
static bool put_utf8(char *out, size_t size, size_t *n, uint32_t cp)
{
	uint8_t b[4];
	unsigned len;
	if (cp < 0x80)
		b[0] = (uint8_t)cp, len = 1;
	else if (cp < 0x800)
		b[0] = (uint8_t)(0xc0 | cp >> 6), b[1] = (uint8_t)(0x80 | (cp & 0x3f)), len = 2;
	else if (cp < 0x10000)
		b[0] = (uint8_t)(0xe0 | cp >> 12), b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)),
		b[2] = (uint8_t)(0x80 | (cp & 0x3f)), len = 3;
	else
		b[0] = (uint8_t)(0xf0 | cp >> 18), b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f)),
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), b[3] = (uint8_t)(0x80 | (cp & 0x3f)),
		len = 4;
	if (*n + len >= size)
		return false;
	memcpy(out + *n, b, len);
	*n += len;
	return true;
}

/* The string token was checked by the parser: every escape is whole and right. */
bool json_string(const char *text, const struct json_tok *t, char *out, size_t size, size_t *n)
{
	const char *s = text + t->start;
	size_t k = 0;
	if (!size || t->type != JSON_STRING)
		return false;
	for (size_t i = 0; i < t->len;) {
		uint32_t cp;
		if (s[i] != '\\') {
			if (k + 1 >= size)
				return false;
			out[k++] = s[i++];
			continue;
		}
		char e = s[i + 1];
		i += 2;
		switch (e) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = (uint32_t)hex4(s + i);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				uint32_t lo = (uint32_t)hex4(s + i + 2);
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			break;
		default: cp = (uint8_t)e; break; /* " \ / */
		}
		if (!put_utf8(out, size, &k, cp))
			return false;
	}
	out[k] = 0;
	if (n)
		*n = k;
	return true;
}

bool json_string_eq(const char *text, const struct json_tok *t, const char *key)
{
	char buf[64];
	size_t n;
	size_t kl = strlen(key);
	if (kl >= sizeof(buf) || !json_string(text, t, buf, sizeof(buf), &n))
		return false;
	return n == kl && memcmp(buf, key, n) == 0;
}

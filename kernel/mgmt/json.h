/*
 * JSON (RFC 8259) for the management API: a writer that escapes whatever it
 * is given into valid JSON (bytes that are not UTF-8 become U+FFFD, so a
 * guest's console output is safe to send), and a strict parser for request
 * bodies. Pure logic, no allocation.
 *
 * The parser accepts exactly RFC 8259's grammar: no comments, no trailing
 * commas, no leading zeros, no control characters in strings, escapes
 * checked (a \u surrogate must come in a pair), strings valid UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF), at most
 * JSON_DEPTH_MAX levels of nesting, only whitespace after the value. It
 * fills an array of tokens, in document order, that point into the text.
 */
#ifndef HV_MGMT_JSON_H
#define HV_MGMT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 32

/* ---- writer ---- */

struct json_out {
	char *buf;
	size_t cap, len;
	bool overflow;	 /* something did not fit; the text is cut */
	unsigned depth;
	uint64_t nonempty; /* bit d: the container at depth d has a member already */
	bool after_key;
};

void json_init(struct json_out *j, char *buf, size_t cap);
void json_obj_begin(struct json_out *j);
void json_obj_end(struct json_out *j);
void json_arr_begin(struct json_out *j);
void json_arr_end(struct json_out *j);
void json_key(struct json_out *j, const char *key);
void json_str(struct json_out *j, const char *s);
void json_strn(struct json_out *j, const char *s, size_t n);
void json_u64(struct json_out *j, uint64_t v);
void json_bool(struct json_out *j, bool v);
void json_null(struct json_out *j);
/* Shorthands for a member of an object. */
void json_kv_str(struct json_out *j, const char *key, const char *s);
void json_kv_u64(struct json_out *j, const char *key, uint64_t v);
void json_kv_bool(struct json_out *j, const char *key, bool v);
/* True when the text is whole: nothing cut, every container closed. */
bool json_done(const struct json_out *j);

/* ---- parser ---- */

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_tok {
	enum json_type type;
	uint32_t start, len; /* the text: a string's without its quotes */
	uint32_t count;	     /* an array's elements, an object's members */
	uint32_t next;	     /* the token after this one and everything inside it */
};

struct json_error {
	const char *why; /* static */
	size_t at;	 /* byte offset */
};

/*
 * Parses text[0..len) into tok[0..max); returns the number of tokens (the
 * value is tok[0]; an object's members come as key, value, key, value), or
 * -1 with *err set. Running out of tokens is an error ("too many values").
 */
int json_parse(const char *text, size_t len, struct json_tok *tok, unsigned max,
	       struct json_error *err);
/*
 * A string token's value, unescaped, into out (NUL-terminated); *n is its
 * length (it may hold a NUL from \u0000). False if it does not fit.
 */
bool json_string(const char *text, const struct json_tok *t, char *out, size_t size, size_t *n);
/* Whether string token t equals the NUL-terminated key (after unescaping). */
bool json_string_eq(const char *text, const struct json_tok *t, const char *key);

#endif

/*
 * Fuzz target for the management API's JSON (kernel/mgmt/json.c). The
 * input is parsed: a parse either fails with a reason and an offset inside
 * the text, or gives tokens whose spans and links stay inside it and whose
 * strings unescape. Then the input is written as a JSON string: the writer's
 * output always parses back as one string, which unescapes to the input
 * (or, where the input was not UTF-8, to text with U+FFFD in it).
 */
#define _GNU_SOURCE /* memmem */
#include "tests/fuzz/fuzz_guest.h"

#include "kernel/mgmt/json.h"

#define TOKENS 512

static struct json_tok tok[TOKENS];
static char out[6 * FUZZ_MAX_INPUT + 16];
static char back[6 * FUZZ_MAX_INPUT + 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_error err = {0};
	int n = json_parse(text, size, tok, TOKENS, &err);
	if (n < 0) {
		CHECK(err.why != NULL);
		CHECK(err.at <= size);
	} else {
		CHECK(n >= 1 && (unsigned)n <= TOKENS);
		CHECK(tok[0].next == (uint32_t)n);
		for (int i = 0; i < n; i++) {
			const struct json_tok *t = &tok[i];
			CHECK(t->start <= size && t->len <= size - t->start);
			CHECK(t->next > (uint32_t)i && t->next <= (uint32_t)n);
			CHECK(t->type <= JSON_OBJECT);
			if (t->type != JSON_ARRAY && t->type != JSON_OBJECT)
				CHECK(t->next == (uint32_t)i + 1);
			if (t->type == JSON_STRING) {
				size_t len;
				CHECK(json_string(text, t, back, sizeof(back), &len));
				CHECK(len <= t->len);
			}
			if (t->type == JSON_OBJECT) {
				/* members: key, value; count of them */
				uint32_t k = (uint32_t)i + 1, c = 0;
				while (k < t->next) {
					CHECK(tok[k].type == JSON_STRING);
					k = tok[k].next;
					CHECK(k < t->next);
					k = tok[k].next;
					c++;
				}
				CHECK(k == t->next && c == t->count);
			}
		}
	}

	/* the writer: any bytes in, valid JSON out */
	struct json_out j;
	json_init(&j, out, sizeof(out));
	json_strn(&j, text, size);
	CHECK(json_done(&j));
	CHECK(j.len == strlen(out));
	CHECK(json_parse(out, j.len, tok, TOKENS, &err) == 1 && tok[0].type == JSON_STRING);
	size_t len;
	CHECK(json_string(out, &tok[0], back, sizeof(back), &len));
	if (len != size || memcmp(back, text, size) != 0)
		CHECK(memmem(back, len, "\xef\xbf\xbd", 3) != NULL);
	return 0;
}

static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const char *const seeds[] = {
	    "{\"module\": \"/boot/vms/x.cfg\"}",
	    "{\"config\": \"name = \\\"web\\\"\\nmemory = 64\\nkernel = \\\"/boot/k\\\"\\n\"}",
	    "[1, -0.5e+3, true, false, null, {\"a\": [[]], \"b\": {}}, \"\\u00e9\\ud83d\\ude00\"]",
	    "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	    "{\"a\":1,}",
	    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	    "0",
	    "-12.5E-7",
	};
	if (i >= sizeof(seeds) / sizeof(seeds[0]))
		return 0;
	size_t n = strlen(seeds[i]);
	if (n > cap)
		n = cap;
	memcpy(buf, seeds[i], n);
	return n;
}

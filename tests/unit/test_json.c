// SOURCES: kernel/mgmt/json.c kernel/lib/string.c
/* JSON for the management API: the writer's escaping and nesting, the parser's strictness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mgmt/json.h"

static struct json_tok tok[64];
static struct json_error jerr;

static int parse(const char *s)
{
	return json_parse(s, strlen(s), tok, 64, &jerr);
}

static void writer(void **state)
{
	(void)state;
	char buf[256];
	struct json_out j;
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j);
	json_kv_str(&j, "a", "x\"\\\n\r\t\x01\x7f");
	json_kv_u64(&j, "n", 18446744073709551615ull);
	json_key(&j, "l");
	json_arr_begin(&j);
	json_u64(&j, 0);
	json_bool(&j, true);
	json_null(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_kv_bool(&j, "f", false);
	json_obj_end(&j);
	assert_true(json_done(&j));
	assert_string_equal(buf, "{\"a\":\"x\\\"\\\\\\n\\r\\t\\u0001\\u007f\",\"n\":18446744073709551615,"
				 "\"l\":[0,true,null,{},[]],\"f\":false}");
	assert_int_equal(j.len, strlen(buf));
	/* what the writer writes, the parser takes */
	assert_true(parse(buf) > 0);
}

static void writer_utf8(void **state)
{
	(void)state;
	char buf[64];
	struct json_out j;
	json_init(&j, buf, sizeof(buf));
	/* valid UTF-8 passes through; a stray byte, a cut sequence, an overlong form do not */
	json_strn(&j, "\xc3\xa9\xff\xe2\x82\xc0\x80z", 8);
	assert_true(json_done(&j));
	assert_string_equal(buf, "\"\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\"");
	assert_true(parse(buf) == 1);
}

static void writer_overflow(void **state)
{
	(void)state;
	char buf[8];
	struct json_out j;
	json_init(&j, buf, sizeof(buf));
	json_str(&j, "0123456789");
	assert_false(json_done(&j));
	assert_true(j.overflow);
	assert_true(strlen(buf) < sizeof(buf));
	json_init(&j, buf, sizeof(buf));
	json_obj_begin(&j);
	assert_false(json_done(&j)); /* not closed */
}

static void parser_good(void **state)
{
	(void)state;
	const char *s = " {\"module\" : \"/boot/vms/x.cfg\", \"n\": [1, -0.5e+3, {}], \"t\": true} ";
	int n = parse(s);
	assert_int_equal(n, 10);
	assert_int_equal(tok[0].type, JSON_OBJECT);
	assert_int_equal(tok[0].count, 3);
	assert_int_equal(tok[0].next, 10);
	assert_true(json_string_eq(s, &tok[1], "module"));
	char out[64];
	size_t len;
	assert_true(json_string(s, &tok[2], out, sizeof(out), &len));
	assert_string_equal(out, "/boot/vms/x.cfg");
	assert_int_equal(tok[4].type, JSON_ARRAY);
	assert_int_equal(tok[4].count, 3);
	assert_int_equal(tok[4].next, 8);
	assert_int_equal(tok[6].type, JSON_NUMBER);
	assert_int_equal(tok[6].len, 7);
	assert_int_equal(tok[9].type, JSON_TRUE);
	assert_int_equal(parse("0"), 1);
	assert_int_equal(parse("\"\""), 1);
	assert_int_equal(parse("[]"), 1);
	assert_int_equal(parse("null"), 1);
}

static void parser_escapes(void **state)
{
	(void)state;
	const char *s = "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000\"";
	assert_int_equal(parse(s), 1);
	char out[64];
	size_t len;
	assert_true(json_string(s, &tok[0], out, sizeof(out), &len));
	assert_int_equal(len, 16);
	assert_memory_equal(out, "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\0", 17);
	/* too small a buffer */
	assert_false(json_string(s, &tok[0], out, 5, &len));
}

static void parser_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\"}", "{a:1}", "{'a':1}", "01", "1.",
	    ".5", "-", "1e", "+1", "0x10", "tru", "nulls", "[1 2]", "\"abc", "\"a\\x\"",
	    "\"\\u12g4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"",
	    "\"\xff\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "1 2", "[] x",
	    "/* c */ 1", "NaN", "Infinity", "[\"a\":1]", "{\"a\" 1}", "{1:2}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		jerr.why = NULL;
		if (parse(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(jerr.why);
		assert_true(jerr.at <= strlen(bad[i]));
	}
}

static void parser_limits(void **state)
{
	(void)state;
	char deep[2 * JSON_DEPTH_MAX + 4];
	memset(deep, '[', JSON_DEPTH_MAX);
	memset(deep + JSON_DEPTH_MAX, ']', JSON_DEPTH_MAX);
	deep[2 * JSON_DEPTH_MAX] = 0;
	assert_int_equal(parse(deep), JSON_DEPTH_MAX);
	memset(deep, '[', JSON_DEPTH_MAX + 1);
	memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
	deep[2 * JSON_DEPTH_MAX + 2] = 0;
	assert_int_equal(parse(deep), -1);
	assert_string_equal(jerr.why, "nested too deep");
	struct json_tok few[2];
	assert_int_equal(json_parse("[1,2]", 5, few, 2, &jerr), -1);
	assert_string_equal(jerr.why, "too many values");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(writer),	     cmocka_unit_test(writer_utf8),
	    cmocka_unit_test(writer_overflow), cmocka_unit_test(parser_good),
	    cmocka_unit_test(parser_escapes), cmocka_unit_test(parser_bad),
	    cmocka_unit_test(parser_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

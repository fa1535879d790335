// SOURCES: kernel/mgmt/http_parse.c kernel/lib/string.c
/* The management API's HTTP/1.1 request parser: what it accepts, and each 4xx/5xx it gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mgmt/http_parse.h"

static struct http_request req;
static struct http_parse_error err;

static enum http_parse_result parse(const char *s)
{
	size_t scanned = 0;
	return http_parse((const uint8_t *)s, strlen(s), &scanned, &req, &err);
}

static void expect_error(const char *s, unsigned status)
{
	assert_int_equal(parse(s), HTTP_PARSE_ERROR);
	assert_int_equal(err.status, status);
	assert_non_null(err.why);
}

static void simple_get(void **state)
{
	(void)state;
	const char *s = "GET /v1/vms?since=5&x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t0k\r\n\r\n";
	assert_int_equal(parse(s), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_GET);
	assert_true(http_str_eq(req.path, "/v1/vms"));
	assert_true(http_str_eq(req.query, "since=5&x"));
	assert_true(http_str_eq(req.authorization, "Bearer t0k"));
	assert_int_equal(req.minor, 1);
	assert_true(req.keep_alive);
	assert_int_equal(req.total, strlen(s));
	assert_int_equal(req.body.len, 0);
	struct http_str v;
	assert_true(http_query_param(req.query, "since", &v));
	assert_true(http_str_eq(v, "5"));
	assert_true(http_query_param(req.query, "x", &v));
	assert_int_equal(v.len, 0);
	assert_false(http_query_param(req.query, "sinc", &v));
	/* no query at all (found by the http fuzz target: no offset from NULL) */
	assert_int_equal(parse("GET /v1/vms HTTP/1.1\r\n\r\n"), HTTP_PARSE_OK);
	assert_null(req.query.p);
	assert_false(http_query_param(req.query, "since", &v));
}

static void body_and_pipelining(void **state)
{
	(void)state;
	const char *s = "POST /v1/vms HTTP/1.1\r\ncontent-LENGTH: 5\r\nContent-Type: text/plain\r\n\r\n"
			"hello"
			"GET / HTTP/1.1\r\n\r\n";
	assert_int_equal(parse(s), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_POST);
	assert_true(req.has_length);
	assert_true(http_str_eq(req.body, "hello"));
	assert_true(http_str_eq(req.content_type, "text/plain"));
	assert_int_equal(req.total, strlen(s) - strlen("GET / HTTP/1.1\r\n\r\n"));
}

static void incremental(void **state)
{
	(void)state;
	const char *s = "POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	size_t n = strlen(s), scanned = 0;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(http_parse((const uint8_t *)s, i, &scanned, &req, &err),
				 HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse((const uint8_t *)s, n, &scanned, &req, &err), HTTP_PARSE_OK);
	assert_true(http_str_eq(req.body, "abc"));
}

static void bare_lf_and_leading_blank_lines(void **state)
{
	(void)state;
	assert_int_equal(parse("\r\n\nGET /a HTTP/1.0\nConnection: keep-alive\n\n"), HTTP_PARSE_OK);
	assert_true(http_str_eq(req.path, "/a"));
	assert_int_equal(req.minor, 0);
	assert_true(req.keep_alive);
	assert_int_equal(parse("GET /a HTTP/1.0\r\n\r\n"), HTTP_PARSE_OK);
	assert_false(req.keep_alive);
	assert_int_equal(parse("GET /a HTTP/1.1\r\nConnection: foo, Close\r\n\r\n"), HTTP_PARSE_OK);
	assert_false(req.keep_alive);
}

static void malformed(void **state)
{
	(void)state;
	expect_error("GET\r\n\r\n", 400);
	expect_error("GET  / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1 \r\n\r\n", 400);
	expect_error("GET x HTTP/1.1\r\n\r\n", 400);
	expect_error("GET http://a/ HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / FTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/11\r\n\r\n", 400);
	expect_error("G(T / HTTP/1.1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nA : b\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400);
	expect_error("GET / HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n", 400);
	expect_error("GET /#f HTTP/1.1\r\n\r\n", 400);
	/* a NUL byte */
	size_t scanned = 0;
	const uint8_t nul[] = "GET /\0 HTTP/1.1\r\n\r\n";
	assert_int_equal(http_parse(nul, sizeof(nul) - 1, &scanned, &req, &err), HTTP_PARSE_ERROR);
	assert_int_equal(err.status, 400);
}

static void limits(void **state)
{
	(void)state;
	expect_error("GET / HTTP/2.0\r\n\r\n", 505);
	expect_error("GET / HTTP/0.9\r\n\r\n", 505);
	assert_int_equal(parse("GET / HTTP/1.7\r\n\r\n"), HTTP_PARSE_OK);
	expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	expect_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
	expect_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413);
	assert_int_equal(parse("POST / HTTP/1.1\r\nContent-Length: 65536\r\n\r\n"),
			 HTTP_PARSE_INCOMPLETE);

	/* a target over HTTP_TARGET_MAX: 414 */
	static char big[HTTP_HEADER_MAX * 2];
	strcpy(big, "GET /");
	memset(big + 5, 'a', HTTP_TARGET_MAX);
	strcpy(big + 5 + HTTP_TARGET_MAX, " HTTP/1.1\r\n\r\n");
	expect_error(big, 414);

	/* a head that never ends: 431 once it passes HTTP_HEADER_MAX, not before */
	strcpy(big, "GET / HTTP/1.1\r\nX: ");
	size_t n = strlen(big);
	memset(big + n, 'a', HTTP_HEADER_MAX - n);
	size_t scanned = 0;
	assert_int_equal(http_parse((uint8_t *)big, HTTP_HEADER_MAX, &scanned, &req, &err),
			 HTTP_PARSE_INCOMPLETE);
	big[HTTP_HEADER_MAX] = 'a';
	assert_int_equal(http_parse((uint8_t *)big, HTTP_HEADER_MAX + 1, &scanned, &req, &err),
			 HTTP_PARSE_ERROR);
	assert_int_equal(err.status, 431);

	/* too many fields */
	strcpy(big, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_FIELDS_MAX; i++)
		strcat(big, "A: b\r\n");
	strcat(big, "\r\n");
	expect_error(big, 431);
}

static void methods(void **state)
{
	(void)state;
	assert_int_equal(parse("DELETE / HTTP/1.1\r\n\r\n"), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_DELETE);
	assert_int_equal(parse("get / HTTP/1.1\r\n\r\n"), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_int_equal(parse("BREW / HTTP/1.1\r\n\r\n"), HTTP_PARSE_OK);
	assert_int_equal(req.method, HTTP_OTHER);
	assert_true(http_str_eq(req.method_text, "BREW"));
}

static void pct_decode(void **state)
{
	(void)state;
	char out[8];
	assert_true(http_pct_decode((struct http_str){"a%41%7a", 7}, out, sizeof(out)));
	assert_string_equal(out, "aAz");
	assert_false(http_pct_decode((struct http_str){"%4", 2}, out, sizeof(out)));
	assert_false(http_pct_decode((struct http_str){"%zz", 3}, out, sizeof(out)));
	assert_false(http_pct_decode((struct http_str){"%00", 3}, out, sizeof(out)));
	assert_false(http_pct_decode((struct http_str){"12345678", 8}, out, sizeof(out)));
	assert_true(http_pct_decode((struct http_str){"1234567", 7}, out, sizeof(out)));
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(999), "Unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(simple_get),
	    cmocka_unit_test(body_and_pipelining),
	    cmocka_unit_test(incremental),
	    cmocka_unit_test(bare_lf_and_leading_blank_lines),
	    cmocka_unit_test(malformed),
	    cmocka_unit_test(limits),
	    cmocka_unit_test(methods),
	    cmocka_unit_test(pct_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

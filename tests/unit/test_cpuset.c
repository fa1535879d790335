// SOURCES: kernel/lib/cpuset.c kernel/lib/format.c kernel/lib/string.c
/*
 * The host-core set: bit operations, iteration, and its text form (xl's
 * CPU-LIST) on hosts of 1, 8, 64, 255+ and 1024 cores.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/lib/cpuset.h"

static struct cpuset parse_ok(const char *text, unsigned host)
{
	struct cpuset s;
	char err[160] = "";
	int rc = cpuset_parse(text, strlen(text), host, &s, err, sizeof(err));
	if (rc != 0)
		fail_msg("\"%s\" on %u cores: %s", text, host, err);
	return s;
}

static void parse_err(const char *text, unsigned host, const char *want)
{
	struct cpuset s;
	char err[200] = "";
	memset(&s, 0xff, sizeof(s));
	assert_int_equal(cpuset_parse(text, strlen(text), host, &s, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	assert_true(cpuset_empty(&s));
}

static const char *fmt(const struct cpuset *s)
{
	static char buf[8192];
	size_t n = cpuset_format(s, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	return buf;
}

/* parse(format(s)) == s, and format(parse(text)) == text for canonical text. */
static void roundtrip(const char *text, unsigned host)
{
	struct cpuset s = parse_ok(text, host);
	assert_string_equal(fmt(&s), text);
	struct cpuset t = parse_ok(fmt(&s), host);
	assert_true(cpuset_equal(&s, &t));
}

static void test_bits(void **state)
{
	(void)state;
	struct cpuset s, t, d;
	cpuset_clear(&s);
	assert_true(cpuset_empty(&s));
	assert_int_equal(cpuset_first(&s), CPUSET_MAX);
	cpuset_add(&s, 0);
	cpuset_add(&s, 63);
	cpuset_add(&s, 64);
	cpuset_add(&s, CPUSET_MAX - 1);
	cpuset_add(&s, CPUSET_MAX); /* past the end: ignored */
	cpuset_add(&s, 0xffffffffu);
	assert_int_equal(cpuset_count(&s), 4);
	assert_true(cpuset_has(&s, 63) && cpuset_has(&s, 64) && cpuset_has(&s, CPUSET_MAX - 1));
	assert_false(cpuset_has(&s, 1) || cpuset_has(&s, CPUSET_MAX) || cpuset_has(&s, ~0u));
	cpuset_del(&s, 63);
	cpuset_del(&s, CPUSET_MAX + 5);
	assert_int_equal(cpuset_count(&s), 3);

	unsigned seen[8], n = 0;
	for (CPUSET_FOR_EACH(c, &s))
		seen[n++] = c;
	assert_int_equal(n, 3);
	assert_int_equal(seen[0], 0);
	assert_int_equal(seen[1], 64);
	assert_int_equal(seen[2], CPUSET_MAX - 1);
	assert_int_equal(cpuset_next(&s, 1), 64);
	assert_int_equal(cpuset_next(&s, 65), CPUSET_MAX - 1);
	assert_int_equal(cpuset_next(&s, CPUSET_MAX), CPUSET_MAX);

	cpuset_only(&t, 64);
	assert_true(cpuset_subset(&t, &s));
	assert_false(cpuset_subset(&s, &t));
	assert_true(cpuset_intersects(&s, &t));
	cpuset_andnot(&d, &s, &t);
	assert_int_equal(cpuset_count(&d), 2);
	assert_false(cpuset_intersects(&d, &t));
	cpuset_or(&d, &d, &t);
	assert_true(cpuset_equal(&d, &s));
	cpuset_and(&d, &s, &t);
	assert_true(cpuset_equal(&d, &t));
}

static void test_ranges(void **state)
{
	(void)state;
	struct cpuset s;
	/* every (lo, hi) near word edges against the bit-by-bit answer */
	const unsigned edges[] = {0, 1, 62, 63, 64, 65, 127, 128, 254, 255, 256, 511, 1022, 1023};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		for (size_t j = i; j < sizeof(edges) / sizeof(edges[0]); j++) {
			unsigned lo = edges[i], hi = edges[j];
			cpuset_fill(&s, CPUSET_MAX);
			cpuset_del_range(&s, lo, hi);
			assert_int_equal(cpuset_count(&s), CPUSET_MAX - (hi - lo + 1));
			cpuset_clear(&s);
			cpuset_add_range(&s, lo, hi);
			assert_int_equal(cpuset_count(&s), hi - lo + 1);
			assert_int_equal(cpuset_first(&s), lo);
			assert_false(cpuset_has(&s, lo - 1) && lo > 0);
			assert_false(cpuset_has(&s, hi + 1));
		}
	}
	cpuset_clear(&s);
	cpuset_add_range(&s, 1000, 5000); /* clipped */
	assert_int_equal(cpuset_count(&s), CPUSET_MAX - 1000);
	cpuset_fill(&s, 0);
	assert_true(cpuset_empty(&s));
	cpuset_fill(&s, 1);
	assert_int_equal(cpuset_count(&s), 1);
	cpuset_fill(&s, 255);
	assert_int_equal(cpuset_count(&s), 255);
	assert_false(cpuset_has(&s, 255));
}

static void test_parse_forms(void **state)
{
	(void)state;
	struct cpuset s = parse_ok("2", 8);
	assert_int_equal(cpuset_count(&s), 1);
	assert_true(cpuset_has(&s, 2));
	s = parse_ok("0,2-3,6", 8);
	assert_string_equal(fmt(&s), "0,2-3,6");
	s = parse_ok("all", 8);
	assert_string_equal(fmt(&s), "0-7");
	s = parse_ok("all,^0", 8);
	assert_string_equal(fmt(&s), "1-7");
	s = parse_ok("0-3,^1", 8);
	assert_string_equal(fmt(&s), "0,2-3");
	s = parse_ok("0-7,^2-5,4", 8);
	assert_string_equal(fmt(&s), "0-1,4,6-7");
	/* left to right: a later item adds back what an earlier one took out */
	s = parse_ok("^3,3", 8);
	assert_string_equal(fmt(&s), "3");
	s = parse_ok("3,3,3-3", 8);
	assert_string_equal(fmt(&s), "3");
	s = parse_ok("007", 8); /* leading zeros are still decimal */
	assert_string_equal(fmt(&s), "7");
	/* a length shorter than the string: the rest is not read */
	char err[100];
	assert_int_equal(cpuset_parse("1-3,junk", 3, 8, &s, err, sizeof(err)), 0);
	assert_string_equal(fmt(&s), "1-3");
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_err("8", 8, "host core 8 does not exist (the host has cores 0-7)");
	parse_err("0,6-9", 8, "host core 9 does not exist (the host has cores 0-7)");
	parse_err("1", 1, "host core 1 does not exist (the host has only core 0)");
	parse_err("0", 0, "host core 0 does not exist");
	parse_err("1024", 2000, "host core 1024 is past the 1024 this hypervisor supports");
	parse_err("99999999999999999999999", 8,
		  "\"99999999999999999999999\" is not a list of host cores (expected N, N-M or all, "
		  "each may start with ^ to leave those out, comma-separated)");
	parse_err("3-1", 8, "range 3-1 goes backwards");
	parse_err("^1", 8, "\"^1\" leaves no host core");
	parse_err("0-3,^0-3", 8, "\"0-3,^0-3\" leaves no host core");
	static const char *const bad[] = {"",    ",",   "1,",   ",1",  "1,,2", "1-",  "-1",  "1--2",
					  "^",   "^^1", "0x1",  "+1",   " 1",  "1 ",  "a",   "al",
					  "alll", "all-3", "1-all", "nodes:0", "1;2", "1-2-3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[200];
		snprintf(want, sizeof(want),
			 "\"%s\" is not a list of host cores (expected N, N-M or all, each may start "
			 "with ^ to leave those out, comma-separated)",
			 bad[i]);
		parse_err(bad[i], 8, want);
	}
	/* a long bad text is quoted in part */
	char longbad[300];
	memset(longbad, '1', sizeof(longbad));
	longbad[sizeof(longbad) - 1] = 0;
	longbad[100] = 'x';
	struct cpuset s;
	char err[200];
	assert_int_equal(cpuset_parse(longbad, strlen(longbad), 8, &s, err, sizeof(err)), -1);
	char head[64];
	snprintf(head, sizeof(head), "\"%.40s\" is not", longbad);
	assert_int_equal(strncmp(err, head, strlen(head)), 0);
}

/* Hosts of 1, 8, 64, 255+ and 1024 cores: "all" is exactly the host, ranges at the edges. */
static void test_host_sizes(void **state)
{
	(void)state;
	const unsigned hosts[] = {1, 8, 64, 65, 255, 256, 257, 1000, 1024};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		unsigned h = hosts[i];
		char text[64], want[64];
		struct cpuset s = parse_ok("all", h);
		assert_int_equal(cpuset_count(&s), h);
		snprintf(want, sizeof(want), h == 1 ? "0" : "0-%u", h - 1);
		assert_string_equal(fmt(&s), want);
		snprintf(text, sizeof(text), "%u", h - 1);
		s = parse_ok(text, h);
		assert_true(cpuset_has(&s, h - 1));
		char err[120];
		snprintf(text, sizeof(text), "%u", h);
		assert_int_equal(cpuset_parse(text, strlen(text), h, &s, err, sizeof(err)), -1);
	}
	roundtrip("0-3,8,100-199", 200);
	roundtrip("0-3,8,100-199,254-258,1023", 1024);
	roundtrip("1,3,5,7,9,11,13", 16);
	roundtrip("0-1023", 1024);
	roundtrip("63-64", 1024);
	roundtrip("127-128,255-256", 1024);
	/* more cores than the build supports: "all" stops at the build's limit */
	struct cpuset s = parse_ok("all", 4096);
	assert_int_equal(cpuset_count(&s), CPUSET_MAX);
}

static void test_format_every_other_core(void **state)
{
	(void)state;
	struct cpuset s;
	cpuset_clear(&s);
	for (unsigned c = 0; c < CPUSET_MAX; c += 2)
		cpuset_add(&s, c);
	const char *t = fmt(&s);
	struct cpuset back = parse_ok(t, CPUSET_MAX);
	assert_true(cpuset_equal(&s, &back));
	cpuset_clear(&s);
	assert_string_equal(fmt(&s), "");
}

static void test_format_truncation(void **state)
{
	(void)state;
	struct cpuset s = parse_ok("0-3,8,100-199", 200);
	char buf[32];
	const size_t full = strlen("0-3,8,100-199");
	for (size_t len = 0; len <= sizeof(buf); len++) {
		memset(buf, 'Z', sizeof(buf));
		assert_int_equal(cpuset_format(&s, buf, len), full);
		if (len == 0) {
			assert_int_equal(buf[0], 'Z');
			continue;
		}
		size_t n = strnlen(buf, len);
		assert_true(n < len);
		if (len > full) {
			assert_string_equal(buf, "0-3,8,100-199");
			continue;
		}
		/* cut: whole items then "...", never a partial item read as a smaller set */
		if (len >= 4) {
			assert_true(n >= 3 && strcmp(buf + n - 3, "...") == 0);
			const char *whole[] = {"...", "0-3...", "0-3,8..."};
			bool ok = false;
			for (size_t k = 0; k < 3; k++)
				ok |= strcmp(buf, whole[k]) == 0;
			if (!ok)
				fail_msg("len %zu: \"%s\"", len, buf);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_host_sizes),
		cmocka_unit_test(test_format_every_other_core),
		cmocka_unit_test(test_format_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: kernel/mgmt/syslog_format.c kernel/lib/calendar.c kernel/lib/format.c kernel/lib/string.c
/*
 * Remote syslog: RFC 5424 framing of the hypervisor's log lines, and the
 * bounded queue that holds them until the network can send them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mgmt/syslog_format.h"

#define T_2026 1767225600ll /* 2026-01-01T00:00:00Z */

static void fmt(char *out, int64_t time, const char *host, const char *line)
{
	size_t n = syslog_format(out, SYSLOG_MSG_MAX, time, host, line, strlen(line));
	assert_int_equal(n, strlen(out));
}

static void test_header(void **state)
{
	(void)state;
	char out[SYSLOG_MSG_MAX];
	fmt(out, T_2026 + 12 * 3600 + 34 * 60 + 56, "10.0.2.15", "mgmt: 10.0.2.15/24 gw 10.0.2.2 (dhcp)");
	assert_string_equal(out, "<30>1 2026-01-01T12:34:56Z 10.0.2.15 hv - mgmt - "
				 "mgmt: 10.0.2.15/24 gw 10.0.2.2 (dhcp)");
	fmt(out, 951782400ll, "hv", "hv: x86-64 hypervisor starting"); /* 2000-02-29 */
	assert_string_equal(out, "<30>1 2000-02-29T00:00:00Z hv hv - hv - hv: x86-64 hypervisor starting");
}

static void test_nil_values(void **state)
{
	(void)state;
	char out[SYSLOG_MSG_MAX];
	/* no clock, no hostname, no "subsystem: " prefix */
	fmt(out, -1, NULL, "no prefix here");
	assert_string_equal(out, "<30>1 - - hv - - - no prefix here");
	fmt(out, -1, "", "x:y");
	assert_string_equal(out, "<30>1 - - hv - - - x:y");
	fmt(out, -1, "bad host", "a b: c");
	assert_string_equal(out, "<30>1 - - hv - - - a b: c");
	/* a MSGID is at most 32 characters */
	fmt(out, -1, "h", "abcdefghijklmnopqrstuvwxyz0123456: too long");
	assert_string_equal(out, "<30>1 - h hv - - - abcdefghijklmnopqrstuvwxyz0123456: too long");
	fmt(out, -1, "h", "abcdefghijklmnopqrstuvwxyz012345: fits");
	assert_string_equal(out, "<30>1 - h hv - abcdefghijklmnopqrstuvwxyz012345 - "
				 "abcdefghijklmnopqrstuvwxyz012345: fits");
}

static void test_severity(void **state)
{
	(void)state;
	char out[SYSLOG_MSG_MAX];
	fmt(out, -1, "h", "PANIC: lwIP: assertion failed");
	assert_memory_equal(out, "<26>1 ", 6);
	fmt(out, -1, "h", "nvme0: Error reading the log");
	assert_memory_equal(out, "<27>1 ", 6);
	fmt(out, -1, "h", "net-test: eth0: FAILED: no reply");
	assert_memory_equal(out, "<27>1 ", 6);
	fmt(out, -1, "h", "mgmt: warning: mgmt_token is short");
	assert_memory_equal(out, "<28>1 ", 6);
	assert_int_equal(syslog_severity_of("all fine", 8), SYSLOG_INFO);
	assert_int_equal(syslog_severity_of("erro", 4), SYSLOG_INFO);
}

static void test_unprintable_and_truncation(void **state)
{
	(void)state;
	char out[64];
	const char line[] = "vm: \033[1mbold\033[0m \xc3\xa9\ttab";
	syslog_format(out, sizeof(out), -1, "h", line, strlen(line));
	assert_string_equal(out, "<30>1 - h hv - vm - vm: ?[1mbold?[0m ???tab");

	char big[600];
	memset(big, 'x', sizeof(big));
	size_t n = syslog_format(out, sizeof(out), -1, "h", big, sizeof(big));
	assert_int_equal(n, sizeof(out) - 1);
	assert_int_equal(strlen(out), sizeof(out) - 1);
	n = syslog_format(out, 4, -1, "h", "a", 1);
	assert_int_equal(n, 3);
	assert_string_equal(out, "<30");
}

static struct syslog_queue *new_queue(void)
{
	struct syslog_queue *q = malloc(sizeof(*q));
	syslog_queue_init(q);
	return q;
}

static void assert_pop(struct syslog_queue *q, const char *want, int64_t want_time)
{
	char line[SYSLOG_LINE_MAX + 1];
	size_t len;
	int64_t t;
	assert_true(syslog_queue_pop(q, line, sizeof(line), &len, &t));
	assert_string_equal(line, want);
	assert_int_equal(len, strlen(want));
	assert_int_equal(t, want_time);
}

static void test_queue_lines(void **state)
{
	(void)state;
	struct syslog_queue *q = new_queue();
	char line[64];
	size_t len;
	int64_t t;
	assert_true(syslog_queue_empty(q));
	assert_false(syslog_queue_pop(q, line, sizeof(line), &len, &t));
	/* a line printed in pieces is one line, with the time it began */
	syslog_queue_text(q, "hv: one", 7, 100);
	assert_true(syslog_queue_empty(q));
	syslog_queue_text(q, " two\r\nthree\n\nfour", 17, 101);
	syslog_queue_text(q, "\n", 1, 105);
	assert_pop(q, "hv: one two", 100);
	assert_pop(q, "three", 101);
	assert_pop(q, "four", 101);
	assert_true(syslog_queue_empty(q));
	assert_int_equal(q->dropped, 0);
	free(q);
}

static void test_queue_long_line_split(void **state)
{
	(void)state;
	struct syslog_queue *q = new_queue();
	char big[SYSLOG_LINE_MAX + 11];
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	syslog_queue_text(q, big, sizeof(big), 7);
	char want[SYSLOG_LINE_MAX + 1];
	memset(want, 'a', SYSLOG_LINE_MAX);
	want[SYSLOG_LINE_MAX] = 0;
	assert_pop(q, want, 7);
	assert_pop(q, "aaaaaaaaaa", 7);
	/* a caller's small buffer gets the start of the line; the record is consumed */
	syslog_queue_text(q, "0123456789\nnext\n", 16, 8);
	char small[5];
	size_t len;
	int64_t t;
	assert_true(syslog_queue_pop(q, small, sizeof(small), &len, &t));
	assert_string_equal(small, "0123");
	assert_int_equal(len, 4);
	assert_pop(q, "next", 8);
	free(q);
}

static void test_queue_full_drops_and_wraps(void **state)
{
	(void)state;
	struct syslog_queue *q = new_queue();
	char line[100];
	unsigned pushed = 0;
	/* 99-character lines: records of 109 bytes; the queue holds 300 of them */
	for (unsigned i = 0; i < 400; i++) {
		memset(line, 'a' + i % 26, 99);
		line[99] = '\n';
		syslog_queue_text(q, line, 100, i);
		pushed++;
	}
	unsigned fit = SYSLOG_QUEUE_BYTES / 109;
	assert_int_equal(fit, 300);
	assert_int_equal(q->dropped, pushed - fit);
	/* drain half, push more: the ring wraps and keeps the order */
	char got[SYSLOG_LINE_MAX + 1];
	size_t len;
	int64_t t;
	for (unsigned i = 0; i < fit / 2; i++) {
		assert_true(syslog_queue_pop(q, got, sizeof(got), &len, &t));
		assert_int_equal(t, i);
		assert_int_equal(got[0], 'a' + i % 26);
	}
	for (unsigned i = 0; i < fit / 2; i++) {
		memset(line, 'A' + i % 26, 99);
		line[99] = '\n';
		syslog_queue_text(q, line, 100, 1000 + i);
	}
	assert_int_equal(q->dropped, pushed - fit);
	for (unsigned i = fit / 2; i < fit; i++) {
		assert_true(syslog_queue_pop(q, got, sizeof(got), &len, &t));
		assert_int_equal(t, i);
		assert_int_equal(len, 99);
	}
	for (unsigned i = 0; i < fit / 2; i++) {
		assert_true(syslog_queue_pop(q, got, sizeof(got), &len, &t));
		assert_int_equal(t, 1000 + i);
		assert_int_equal(got[98], 'A' + i % 26);
	}
	assert_true(syslog_queue_empty(q));
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_nil_values),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_unprintable_and_truncation),
		cmocka_unit_test(test_queue_lines),
		cmocka_unit_test(test_queue_long_line_split),
		cmocka_unit_test(test_queue_full_drops_and_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: kernel/console/lineq.c kernel/lib/string.c
/*
 * The queue of VMs' console lines: order, wrap-around, lines cut to the
 * maximum, and drops counted (never a partial line) when it is full.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/console/lineq.h"

static char buf[256];
static struct lineq q;

static int setup(void **state)
{
	(void)state;
	memset(buf, 0x55, sizeof(buf));
	lineq_init(&q, buf, sizeof(buf));
	return 0;
}

static void expect(const char *want)
{
	char out[LINEQ_LINE_MAX + 1];
	size_t n = lineq_get(&q, out);
	out[n] = 0;
	assert_string_equal(out, want);
}

static void lines_come_out_in_order(void **state)
{
	(void)state;
	assert_true(lineq_empty(&q));
	assert_true(lineq_put(&q, "web", "hello"));
	assert_true(lineq_put(&q, "db/hvc0", ""));
	assert_true(lineq_put(&q, "web", "second"));
	assert_false(lineq_empty(&q));
	expect("[web] hello\n");
	expect("[db/hvc0] \n");
	expect("[web] second\n");
	expect("");
	assert_true(lineq_empty(&q));
	assert_int_equal(lineq_take_dropped(&q), 0);
}

/* Many more bytes than the buffer holds go through it, each line whole. */
static void wraps_around(void **state)
{
	(void)state;
	char text[64], want[80];
	for (unsigned i = 0; i < 999; i++) {
		snprintf(text, sizeof(text), "line %u %.*s", i, (int)(i % 37), "abcdefghijklmnopqrstuvwxyz0123456789");
		assert_true(lineq_put(&q, "vm", text));
		if (i % 3 == 2) { /* the reader lags by up to three lines */
			for (unsigned k = i - 2; k <= i; k++) {
				snprintf(want, sizeof(want), "[vm] line %u %.*s\n", k, (int)(k % 37),
					 "abcdefghijklmnopqrstuvwxyz0123456789");
				expect(want);
			}
		}
	}
	expect("");
	assert_true(q.head > 10 * sizeof(buf));
}

/* A line longer than the maximum is cut, and still ends with its newline. */
static void long_lines_are_cut(void **state)
{
	(void)state;
	static char big[4096];
	memset(big, 'x', sizeof(big) - 1);
	char store[1024];
	lineq_init(&q, store, sizeof(store));
	assert_true(lineq_put(&q, "vm", big));
	char out[LINEQ_LINE_MAX];
	size_t n = lineq_get(&q, out);
	assert_int_equal(n, LINEQ_LINE_MAX);
	assert_memory_equal(out, "[vm] xxx", 8);
	assert_int_equal(out[n - 1], '\n');
	assert_int_equal(out[n - 2], 'x');
}

/* Full: the line is refused whole and counted; the count is taken once. */
static void full_queue_drops_whole_lines_and_counts_them(void **state)
{
	(void)state;
	unsigned put = 0;
	while (lineq_put(&q, "vm", "0123456789"))
		put++;
	assert_int_equal(put, sizeof(buf) / (2 + strlen("[vm] 0123456789\n")));
	assert_false(lineq_put(&q, "vm", "0123456789"));
	assert_int_equal(q.dropped, 2);
	/* a short line may still fit in what is left */
	size_t left = sizeof(buf) - (size_t)(q.head - q.tail);
	assert_true(left < 2 + 16);
	for (unsigned i = 0; i < put; i++)
		expect("[vm] 0123456789\n");
	expect("");
	assert_int_equal(lineq_take_dropped(&q), 2);
	assert_int_equal(lineq_take_dropped(&q), 0);
	assert_int_equal(q.dropped_all, 2);
	assert_true(lineq_put(&q, "vm", "after"));
	expect("[vm] after\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(lines_come_out_in_order, setup),
	    cmocka_unit_test_setup(wraps_around, setup),
	    cmocka_unit_test_setup(long_lines_are_cut, setup),
	    cmocka_unit_test_setup(full_queue_drops_whole_lines_and_counts_them, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: kernel/lib/format.c kernel/lib/string.c
/*
 * format(): the printf subset every log line and shell reply goes through,
 * and the two string helpers beside it (parse_u64, strlcpy_hv).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"

/* Calls format_v without the printf attribute, for flag combinations gcc warns about. */
static int fmt_noattr(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = format_v(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Formats into a roomy buffer and checks both the text and the returned length. */
#define EXPECT(want, ...)                                                                      \
	do {                                                                                   \
		char buf_[256];                                                                \
		memset(buf_, 'Z', sizeof(buf_));                                               \
		int n_ = format(buf_, sizeof(buf_), __VA_ARGS__);                              \
		assert_string_equal(buf_, want);                                               \
		assert_int_equal(n_, strlen(want));                                            \
	} while (0)

#define EXPECT_NOATTR(want, ...)                                                               \
	do {                                                                                   \
		char buf_[256];                                                                \
		int n_ = fmt_noattr(buf_, sizeof(buf_), __VA_ARGS__);                          \
		assert_string_equal(buf_, want);                                               \
		assert_int_equal(n_, strlen(want));                                            \
	} while (0)

static void test_plain_text_and_percent(void **state)
{
	(void)state;
	EXPECT("", "%s", "");
	EXPECT("hello, world", "hello, world");
	EXPECT("100%", "100%%");
	EXPECT("a%b", "a%%b");
}

static void test_signed_decimal(void **state)
{
	(void)state;
	EXPECT("0", "%d", 0);
	EXPECT("42", "%d", 42);
	EXPECT("-42", "%i", -42);
	EXPECT("2147483647", "%d", INT_MAX);
	EXPECT("-2147483648", "%d", INT_MIN);
	EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT("9223372036854775807", "%lld", (long long)INT64_MAX);
	EXPECT("-9223372036854775808", "%ld", (long)INT64_MIN);
	EXPECT("-1", "%zd", (ptrdiff_t)-1);
	EXPECT("-5", "%td", (ptrdiff_t)-5);
	/* hh and h truncate to the narrower type as C says */
	EXPECT("-56", "%hhd", 200);
	EXPECT("-25536", "%hd", 40000);
}

static void test_unsigned_decimal(void **state)
{
	(void)state;
	EXPECT("4294967295", "%u", UINT_MAX);
	EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	EXPECT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
	EXPECT("18446744073709551615", "%zu", (size_t)SIZE_MAX);
	EXPECT("255", "%hhu", 0x1ff);
	EXPECT("65535", "%hu", 0xfffff);
}

static void test_width_and_padding(void **state)
{
	(void)state;
	EXPECT("   42", "%5d", 42);
	EXPECT("42   |", "%-5d|", 42);
	EXPECT("00042", "%05d", 42);
	EXPECT("-0042", "%05d", -42);
	EXPECT("  -42", "%5d", -42);
	EXPECT("-42  |", "%-5d|", -42);
	EXPECT_NOATTR("-42  |", "%-05d|", -42); /* '-' overrides '0' */
	EXPECT("+42", "%+d", 42);
	EXPECT("-42", "%+d", -42);
	EXPECT(" 42", "% d", 42);
	EXPECT("+0042", "%+05d", 42);
	EXPECT("123456", "%3d", 123456); /* width never truncates */
	EXPECT("   42", "%*d", 5, 42);
	EXPECT("42   |", "%*d|", -5, 42); /* negative '*' width means left-justify */
}

static void test_precision_on_numbers(void **state)
{
	(void)state;
	EXPECT("007", "%.3d", 7);
	EXPECT("-007", "%.3d", -7);
	EXPECT("     007", "%8.3d", 7);
	EXPECT_NOATTR("     007", "%08.3d", 7); /* a precision turns '0' off */
	EXPECT("", "%.0d", 0);
	EXPECT("[  ]", "[%2.0d]", 0);
	EXPECT("00ff", "%.4x", 0xff);
	EXPECT("007", "%.*d", 3, 7);
	EXPECT("7", "%.*d", -1, 7); /* negative precision: as if none */
	EXPECT("00007", "%0*d", 5, 7);
}

static void test_hex_and_octal(void **state)
{
	(void)state;
	EXPECT("deadbeef", "%x", 0xdeadbeefu);
	EXPECT("DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT("0", "%x", 0u);
	EXPECT("0xff", "%#x", 0xffu);
	EXPECT("0XFF", "%#X", 0xffu);
	EXPECT("0", "%#x", 0u); /* C: no prefix on zero */
	EXPECT("000000ff", "%08x", 0xffu);
	EXPECT("0x000000ff", "%#010x", 0xffu);
	EXPECT("      0xff", "%#10x", 0xffu);
	EXPECT("123456789abcdef0", "%llx", 0x123456789abcdef0ull);
	EXPECT("ffffffffffffffff", "%llx", ~0ull);
	EXPECT("ffffffffffffffff", "%lx", ~0ul);
	EXPECT("ffffffff", "%x", -1); /* int argument read as unsigned int */
	EXPECT("ff", "%hhx", 0x1ff);
	EXPECT("2345", "%hx", 0x12345);
	EXPECT("1000", "%zx", (size_t)0x1000);
	EXPECT("10", "%o", 8u);
	EXPECT("010", "%#o", 8u);
	EXPECT("0", "%#o", 0u);
	EXPECT("1777777777777777777777", "%llo", ~0ull);
}

static void test_pointer(void **state)
{
	(void)state;
	EXPECT("0x1000", "%p", (void *)0x1000);
	EXPECT("0xffff800000000000", "%p", (void *)0xffff800000000000ull);
	EXPECT("    0xabc", "%9p", (void *)0xabc);
	EXPECT("0xabc    |", "%-9p|", (void *)0xabc);
}

static void test_strings_and_chars(void **state)
{
	(void)state;
	EXPECT("abc", "%s", "abc");
	EXPECT("       abc", "%10s", "abc");
	EXPECT("abc       |", "%-10s|", "abc");
	EXPECT("abc", "%.3s", "abcdef");
	EXPECT("ab", "%.*s", 2, "abcdef");
	EXPECT("  ab", "%4.2s", "abcdef");
	EXPECT("abcdef", "%.*s", -1, "abcdef");
	const char *volatile null_str = NULL;
	EXPECT_NOATTR("(null)", "%s", null_str);
	/* %.*s must not read past the precision: the string need not be terminated */
	char unterminated[3] = {'x', 'y', 'z'};
	EXPECT("xyz", "%.3s", unterminated);
	EXPECT("x", "%c", 'x');
	EXPECT("    x", "%5c", 'x');
	EXPECT("x    |", "%-5c|", 'x');
	EXPECT("a=1 b=two c=3", "a=%d b=%s c=%c", 1, "two", '3');
}

static void test_mixed_lengths_keep_argument_order(void **state)
{
	(void)state;
	/* a wrongly sized va_arg would shift every later argument */
	EXPECT("1 2 3 4 5 6", "%hhd %hd %d %ld %lld %zu", 1, 2, 3, 4L, 5LL, (size_t)6);
	EXPECT("ffffffffff 7 x", "%llx %d %s", 0xffffffffffull, 7, "x");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[16];

	memset(buf, 'Z', sizeof(buf));
	int n = format(buf, 8, "%s", "hello world");
	assert_int_equal(n, 11); /* the length the full output would have */
	assert_string_equal(buf, "hello w");
	assert_int_equal(buf[8], 'Z'); /* nothing written past size */

	memset(buf, 'Z', sizeof(buf));
	n = format(buf, 6, "%d", -123456789);
	assert_int_equal(n, 10);
	assert_string_equal(buf, "-1234");

	memset(buf, 'Z', sizeof(buf));
	n = format(buf, 4, "%08x", 0xabu);
	assert_int_equal(n, 8);
	assert_string_equal(buf, "000");

	memset(buf, 'Z', sizeof(buf));
	n = format(buf, 1, "abc");
	assert_int_equal(n, 3);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 'Z');

	/* exactly fitting: size == length + 1 */
	memset(buf, 'Z', sizeof(buf));
	n = format(buf, 4, "abc");
	assert_int_equal(n, 3);
	assert_string_equal(buf, "abc");

	/* one short: the last character is dropped for the terminator */
	memset(buf, 'Z', sizeof(buf));
	n = format(buf, 3, "abc");
	assert_int_equal(n, 3);
	assert_string_equal(buf, "ab");
}

static void test_size_zero_writes_nothing(void **state)
{
	(void)state;
	char c = 'Z';
	assert_int_equal(format(&c, 0, "%s %d", "measure", 12345), 13);
	assert_int_equal(c, 'Z');
	assert_int_equal(format(NULL, 0, "%llu", (unsigned long long)UINT64_MAX), 20);
}

static void test_malformed_directives(void **state)
{
	(void)state;
	EXPECT_NOATTR("%q", "%q");
	EXPECT_NOATTR("50", "50%"); /* a lone trailing '%' is dropped, never read past */
	EXPECT_NOATTR("x", "x%-");
	EXPECT_NOATTR("x", "x%5l");
}

static void test_sign_flags_only_on_signed_conversions(void **state)
{
	(void)state;
	/* C 7.21.6.1: '+' and ' ' apply to signed conversions only */
	EXPECT_NOATTR("5", "%+u", 5u);
	EXPECT_NOATTR("ff", "%+x", 0xffu);
	EXPECT_NOATTR("ff", "% x", 0xffu);
	EXPECT_NOATTR("0x10", "%+p", (void *)0x10);
}

static void test_format_v_passes_va_list(void **state)
{
	(void)state;
	char buf[32];
	assert_int_equal(fmt_noattr(buf, sizeof(buf), "%s-%d-%llx", "cpu", 3, 0x10ull), 8);
	assert_string_equal(buf, "cpu-3-10");
}

static void test_parse_u64(void **state)
{
	(void)state;
	uint64_t v = 0;

	assert_int_equal(parse_u64("123", 3, &v), 3);
	assert_int_equal(v, 123);
	assert_int_equal(parse_u64("0x1F", 4, &v), 4);
	assert_int_equal(v, 31);
	assert_int_equal(parse_u64("0XaB", 4, &v), 4);
	assert_int_equal(v, 0xab);
	assert_int_equal(parse_u64("0", 1, &v), 1);
	assert_int_equal(v, 0);
	/* stops at the first non-digit and says how far it got */
	assert_int_equal(parse_u64("12abc", 5, &v), 2);
	assert_int_equal(v, 12);
	assert_int_equal(parse_u64("1234", 2, &v), 2);
	assert_int_equal(v, 12);
	assert_int_equal(parse_u64("18446744073709551615", 20, &v), 20);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("0xffffffffffffffff", 18, &v), 18);
	assert_true(v == UINT64_MAX);

	/* errors leave the output alone */
	v = 77;
	assert_int_equal(parse_u64("", 0, &v), 0);
	assert_int_equal(parse_u64("0x", 2, &v), 0);
	assert_int_equal(parse_u64("abc", 3, &v), 0);
	assert_int_equal(parse_u64("-1", 2, &v), 0);
	assert_int_equal(parse_u64("18446744073709551616", 20, &v), 0);
	assert_int_equal(parse_u64("0x10000000000000000", 19, &v), 0);
	assert_int_equal(v, 77);
}

static void test_strlcpy_hv(void **state)
{
	(void)state;
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(strlcpy_hv(buf, "abc", sizeof(buf)), 3);
	assert_string_equal(buf, "abc");

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(strlcpy_hv(buf, "0123456789", sizeof(buf)), 10);
	assert_string_equal(buf, "0123456");

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(strlcpy_hv(buf, "0123456789", 0), 10);
	assert_int_equal(buf[0], 'Z');

	assert_int_equal(strlcpy_hv(buf, "xyz", 1), 3);
	assert_int_equal(buf[0], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_and_percent),
		cmocka_unit_test(test_signed_decimal),
		cmocka_unit_test(test_unsigned_decimal),
		cmocka_unit_test(test_width_and_padding),
		cmocka_unit_test(test_precision_on_numbers),
		cmocka_unit_test(test_hex_and_octal),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_strings_and_chars),
		cmocka_unit_test(test_mixed_lengths_keep_argument_order),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_size_zero_writes_nothing),
		cmocka_unit_test(test_malformed_directives),
		cmocka_unit_test(test_sign_flags_only_on_signed_conversions),
		cmocka_unit_test(test_format_v_passes_va_list),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_strlcpy_hv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

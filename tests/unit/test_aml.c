// SOURCES: guest/aml.c kernel/lib/string.c
/*
 * The AML writer's encodings against ACPI 6.5 §20.2 (and what iasl emits for the
 * same ASL): integers, names, EISA IDs, and PkgLength in each of its four sizes,
 * nested, with the counting pass agreeing with the writing pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/aml.h"

static uint8_t buf[1 << 21];
static struct aml a;

static void start(void)
{
	memset(buf, 0xcc, 64);
	aml_init(&a, buf, sizeof(buf));
}

#define EXPECT(...)                                                                      \
	do {                                                                             \
		static const uint8_t want[] = { __VA_ARGS__ };                           \
		assert_int_equal(a.len, sizeof(want));                                   \
		assert_memory_equal(buf, want, sizeof(want));                            \
		assert_false(a.overflow);                                                \
	} while (0)

static void test_integers(void **state)
{
	(void)state;
	start();
	aml_integer(&a, 0);
	EXPECT(0x00);
	start();
	aml_integer(&a, 1);
	EXPECT(0x01);
	start();
	aml_integer(&a, 2);
	EXPECT(0x0a, 0x02);
	start();
	aml_integer(&a, 0xff);
	EXPECT(0x0a, 0xff);
	start();
	aml_integer(&a, 0x100);
	EXPECT(0x0b, 0x00, 0x01);
	start();
	aml_integer(&a, 0xffff);
	EXPECT(0x0b, 0xff, 0xff);
	start();
	aml_integer(&a, 0x1ffff);
	EXPECT(0x0c, 0xff, 0xff, 0x01, 0x00);
	start();
	aml_integer(&a, 0xfebfffff);
	EXPECT(0x0c, 0xff, 0xff, 0xbf, 0xfe);
	start();
	aml_integer(&a, 0x1000000000ull);
	EXPECT(0x0e, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00);
}

static void test_names(void **state)
{
	(void)state;
	start();
	aml_name(&a, "_HID");
	EXPECT('_', 'H', 'I', 'D');
	start();
	aml_name(&a, "\\_S5");
	EXPECT(0x5c, '_', 'S', '5', '_');
	start();
	aml_name(&a, "\\_SB.PCI0");
	EXPECT(0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0');
	start();
	aml_name(&a, "\\_SB.PCI0.S08");
	EXPECT(0x5c, 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', '0', '8', '_');
	start();
	aml_string(&a, "QEMU0001");
	EXPECT(0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0);
}

static void test_eisaid(void **state)
{
	(void)state;
	/* what iasl emits for EisaId ("PNP0A03") and ("PNP0A08") */
	assert_int_equal(aml_eisaid_value("PNP0A03"), 0x030ad041);
	start();
	aml_eisaid(&a, "PNP0A08");
	EXPECT(0x0c, 0x41, 0xd0, 0x0a, 0x08);
	start();
	aml_eisaid(&a, "PNP0C02");
	EXPECT(0x0c, 0x41, 0xd0, 0x0c, 0x02);
}

/* A Package whose body is n bytes of filler: returns the PkgLength's size. */
static size_t package_of(size_t n)
{
	start();
	aml_byte(&a, 0x12);
	size_t m = aml_pkg_open(&a);
	for (size_t i = 0; i < n; i++)
		aml_byte(&a, (uint8_t)i);
	aml_pkg_close(&a, m);
	assert_false(a.overflow);
	size_t size = 1 + (buf[1] >> 6);
	assert_int_equal(a.len, 1 + size + n);
	/* decode it back: the length counts itself and the body */
	size_t v = size == 1 ? buf[1] & 0x3f : buf[1] & 0x0f;
	for (size_t i = 1; i < size; i++)
		v |= (size_t)buf[1 + i] << (4 + 8 * (i - 1));
	assert_int_equal(v, size + n);
	if (size > 1)
		assert_int_equal(buf[1] & 0x30, 0); /* bits 5:4 reserved */
	/* the body slid up intact */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf[1 + size + i], (uint8_t)i);
	return size;
}

static void test_pkg_length_sizes(void **state)
{
	(void)state;
	assert_int_equal(package_of(0), 1);
	assert_int_equal(package_of(62), 1);   /* 63: the most one byte says */
	assert_int_equal(package_of(63), 2);   /* 64 + ... */
	assert_int_equal(package_of(0xffd), 2); /* 0xfff */
	assert_int_equal(package_of(0xffe), 3);
	assert_int_equal(package_of(0xffffc), 3); /* 0xfffff */
	assert_int_equal(package_of(0xffffd), 4);
	start();
	aml_byte(&a, 0x12);
	size_t m = aml_pkg_open(&a);
	aml_bytes(&a, (const uint8_t[]){ 1, 2 }, 2);
	aml_pkg_close(&a, m);
	EXPECT(0x12, 0x03, 1, 2);
}

/* Scope { Device { 70 bytes } }: the inner length is fixed before the outer grows. */
static void test_nested_and_counted(void **state)
{
	struct aml count;

	(void)state;
	for (int pass = 0; pass < 2; pass++) {
		struct aml *w = pass ? &a : &count;
		if (pass)
			start();
		else
			aml_init(&count, NULL, 0);
		size_t scope = aml_scope_open(w, "\\_SB");
		size_t dev = aml_device_open(w, "PCI0");
		for (int i = 0; i < 70; i++)
			aml_byte(w, 0x00);
		aml_pkg_close(w, dev);
		aml_pkg_close(w, scope);
	}
	assert_int_equal(count.len, a.len);
	/* 0x10, PkgLength(2), "\_SB_"(5), 0x5b 0x82, PkgLength(2), "PCI0"(4), 70 bytes */
	assert_int_equal(a.len, 1 + 2 + 5 + 2 + 2 + 4 + 70);
	assert_int_equal(buf[0], 0x10);
	assert_int_equal((buf[1] & 0xf) | buf[2] << 4, a.len - 1);
	assert_int_equal(buf[8], 0x5b);
	assert_int_equal(buf[9], 0x82);
	assert_int_equal((buf[10] & 0xf) | buf[11] << 4, 2 + 4 + 70);
	assert_memory_equal(buf + 12, "PCI0", 4);
}

static void test_overflow_is_reported_not_written(void **state)
{
	uint8_t small[8];
	struct aml w;

	(void)state;
	memset(small, 0xcc, sizeof(small));
	aml_init(&w, small, 4);
	aml_string(&w, "QEMU0001");
	assert_true(w.overflow);
	assert_int_equal(w.len, 10);
	assert_int_equal(small[4], 0xcc); /* nothing past cap */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_eisaid),
		cmocka_unit_test(test_pkg_length_sizes),
		cmocka_unit_test(test_nested_and_counted),
		cmocka_unit_test(test_overflow_is_reported_not_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

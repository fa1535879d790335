// SOURCES:
/*
 * The host local APIC's mode and CPU naming (drivers/lapic_mode.h): the
 * x2APIC cases no emulator here can give (APIC IDs above 255, sparse,
 * 32-bit), checked as logic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/lapic_mode.h"

static void test_mode_choice(void **state)
{
	(void)state;
	assert_false(lapic_want_x2apic(false, false)); /* an old CPU: xAPIC */
	assert_true(lapic_want_x2apic(true, false));   /* the CPU has it: x2APIC */
	assert_true(lapic_want_x2apic(true, true));    /* the firmware handed it over */
	assert_true(lapic_want_x2apic(false, true));   /* the MSR says x2APIC: no way back */
}

static void test_reachable_ids(void **state)
{
	(void)state;
	/* xAPIC: 8-bit IDs, 0xff is the broadcast */
	assert_true(lapic_id_reachable(false, 0));
	assert_true(lapic_id_reachable(false, 254));
	assert_false(lapic_id_reachable(false, 255));
	assert_false(lapic_id_reachable(false, 256));
	assert_false(lapic_id_reachable(false, 0x100 + 3)); /* would alias ID 3 if truncated */
	/* x2APIC: 32-bit IDs of sparse multi-socket parts */
	assert_true(lapic_id_reachable(true, 255));
	assert_true(lapic_id_reachable(true, 256));
	assert_true(lapic_id_reachable(true, 0x10000));
	assert_true(lapic_id_reachable(true, 0xfffffffe));
	assert_false(lapic_id_reachable(true, 0xffffffff));
}

static void test_icr_encoding(void **state)
{
	(void)state;
	/* x2APIC: one 64-bit write, destination in the high half, vector and mode low */
	assert_true(lapic_icr_x2apic(0x123, 0x4000 | 0x500) == 0x0000012300004500ull);
	assert_true(lapic_icr_x2apic(0xfffffffe, 0xfd) == 0xfffffffe000000fdull);
	assert_true(lapic_icr_x2apic(256, 0) >> 32 == 256);
	/* xAPIC: 8-bit destination in bits 31:24 of the high dword */
	assert_int_equal(lapic_icr_high_xapic(0), 0);
	assert_int_equal(lapic_icr_high_xapic(1), 0x01000000);
	assert_int_equal(lapic_icr_high_xapic(254), 0xfe000000);
}

static void test_id_register(void **state)
{
	(void)state;
	assert_int_equal(lapic_id_from_register(false, 0x05000000), 5);
	assert_int_equal(lapic_id_from_register(false, 0xfe000000), 254);
	assert_int_equal(lapic_id_from_register(true, 0x105), 0x105);
	assert_int_equal(lapic_id_from_register(true, 0x00abcdef), 0x00abcdef);
}

static void test_ap_reads_its_id(void **state)
{
	(void)state;
	assert_false(lapic_ap_id_from_leaf_0b(false, 0x20)); /* xAPIC: leaf 1's 8 bits suffice */
	assert_true(lapic_ap_id_from_leaf_0b(true, 0x0b));
	assert_true(lapic_ap_id_from_leaf_0b(true, 0x1f));
	assert_false(lapic_ap_id_from_leaf_0b(true, 0x0a)); /* no leaf 0BH: leaf 1 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_choice),
		cmocka_unit_test(test_reachable_ids),
		cmocka_unit_test(test_icr_encoding),
		cmocka_unit_test(test_id_register),
		cmocka_unit_test(test_ap_reads_its_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

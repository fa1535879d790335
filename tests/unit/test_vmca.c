// SOURCES: kernel/vm/vmca.c kernel/lib/string.c
/*
 * The virtual machine-check banks as Linux's mce code drives them at boot
 * (mcheck_cpu_init: MCG_CAP, MCG_CTL all ones, each bank's CTL all ones and
 * STATUS cleared, then the poll reading STATUS), and the SDM/APM write rules
 * a hostile guest meets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/vm/vmca.h"

static struct vmca m;

static int setup(void **state)
{
	(void)state;
	vmca_reset(&m);
	return 0;
}

static uint64_t rd(uint32_t msr)
{
	uint64_t v = 0xdeadbeef;
	assert_int_equal(vmca_read(&m, msr, &v), 0);
	return v;
}

static void test_cap_says_banks_and_ctl(void **state)
{
	(void)state;
	uint64_t cap = rd(MSR_MCG_CAP);
	assert_int_equal(cap & 0xff, VMCA_BANKS);
	assert_true(cap & MCG_CTL_P);
	/* no CMCI (10), TES (11), SER (24), LMCE (27), EXT (9): their MSRs do not exist */
	assert_int_equal(cap & ((1ull << 9) | (1ull << 10) | (1ull << 11) | (1ull << 24) | (1ull << 27)), 0);
	assert_int_equal(vmca_write(&m, MSR_MCG_CAP, cap, false), -1);
}

static void test_linux_boot_sequence(void **state)
{
	(void)state;
	assert_int_equal(vmca_write(&m, MSR_MCG_STATUS, 0, false), 0);
	assert_int_equal(vmca_write(&m, MSR_MCG_CTL, ~0ull, false), 0);
	assert_int_equal(rd(MSR_MCG_CTL), ~0ull);
	for (unsigned i = 0; i < VMCA_BANKS; i++) {
		assert_int_equal(vmca_write(&m, MSR_MC0_CTL + 4 * i, ~0ull, false), 0);
		assert_int_equal(vmca_write(&m, MSR_MC0_CTL + 4 * i + 1, 0, false), 0);
	}
	for (unsigned i = 0; i < VMCA_BANKS; i++) {
		assert_int_equal(rd(MSR_MC0_CTL + 4 * i), ~0ull);
		/* no error ever logged: VAL (bit 63) clear */
		assert_int_equal(rd(MSR_MC0_CTL + 4 * i + 1), 0);
	}
	assert_int_equal(rd(MSR_MCG_STATUS), 0);
}

static void test_status_takes_only_zero(void **state)
{
	(void)state;
	uint32_t status = MSR_MC0_CTL + 4 * 3 + 1;
	assert_int_equal(vmca_write(&m, status, 1ull << 63, false), -1);
	assert_int_equal(rd(status), 0);
	/* AMD's HWCR.McStatusWrEn lets error-injection software plant a value */
	assert_int_equal(vmca_write(&m, status, 1ull << 63 | 0x42, true), 0);
	assert_int_equal(rd(status), 1ull << 63 | 0x42);
	assert_int_equal(vmca_write(&m, status, 0, false), 0);
	assert_int_equal(rd(status), 0);
}

static void test_addr_misc_ctl_read_back(void **state)
{
	(void)state;
	uint32_t b = MSR_MC0_CTL + 4 * (VMCA_BANKS - 1);
	assert_int_equal(vmca_write(&m, b, 0x1234, false), 0);
	assert_int_equal(vmca_write(&m, b + 2, 0xabcd000, false), 0);
	assert_int_equal(vmca_write(&m, b + 3, 0x55, false), 0);
	assert_int_equal(rd(b), 0x1234);
	assert_int_equal(rd(b + 2), 0xabcd000);
	assert_int_equal(rd(b + 3), 0x55);
	vmca_reset(&m);
	assert_int_equal(rd(b), 0);
	assert_int_equal(rd(b + 2), 0);
}

static void test_mcg_ctl_and_status_rules(void **state)
{
	(void)state;
	assert_int_equal(vmca_write(&m, MSR_MCG_CTL, 0x1, false), -1);
	assert_int_equal(vmca_write(&m, MSR_MCG_CTL, 0, false), 0);
	assert_int_equal(vmca_write(&m, MSR_MCG_STATUS, 0x7, false), 0);
	assert_int_equal(rd(MSR_MCG_STATUS), 0x7);
	assert_int_equal(vmca_write(&m, MSR_MCG_STATUS, 0x8, false), -1);
	assert_int_equal(vmca_write(&m, MSR_MCG_STATUS, 1ull << 40, false), -1);
}

static void test_range_ends_at_last_bank(void **state)
{
	(void)state;
	uint64_t v;
	uint32_t past = MSR_MC0_CTL + 4 * VMCA_BANKS;
	assert_false(vmca_owns(past));
	assert_true(vmca_owns(past - 1));
	assert_int_equal(vmca_read(&m, past, &v), -1);
	assert_int_equal(vmca_write(&m, past, 0, false), -1);
	/* MCi_CTL2 (0x280+i) needs CMCI, MCG_EXT_CTL (0x4d0) LMCE: neither is ours */
	assert_false(vmca_owns(0x280));
	assert_false(vmca_owns(0x4d0));
	assert_false(vmca_owns(0x178));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_cap_says_banks_and_ctl, setup),
	    cmocka_unit_test_setup(test_linux_boot_sequence, setup),
	    cmocka_unit_test_setup(test_status_takes_only_zero, setup),
	    cmocka_unit_test_setup(test_addr_misc_ctl_read_back, setup),
	    cmocka_unit_test_setup(test_mcg_ctl_and_status_rules, setup),
	    cmocka_unit_test_setup(test_range_ends_at_last_bank, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: kernel/vm/pvclock_calc.c
/*
 * The KVM clock's arithmetic (kernel/vm/pvclock.h): the TSC frequency the
 * guest derives from the scale is exactly the hypervisor's, and its clock
 * reads the nanoseconds the hypervisor's own clocks count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vm/pvclock.h"

static void test_layout_is_the_abi(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct pvclock_time_info), 32);
	assert_int_equal(offsetof(struct pvclock_time_info, tsc_timestamp), 8);
	assert_int_equal(offsetof(struct pvclock_time_info, system_time), 16);
	assert_int_equal(offsetof(struct pvclock_time_info, tsc_to_system_mul), 24);
	assert_int_equal(offsetof(struct pvclock_time_info, tsc_shift), 28);
	assert_int_equal(offsetof(struct pvclock_time_info, flags), 29);
	assert_int_equal(sizeof(struct pvclock_wall_clock), 12);
}

/* Linux's kvm_get_tsc_khz must give back exactly tsc_khz, whatever it is. */
static void test_guest_tsc_khz_is_exact(void **state)
{
	(void)state;
	static const uint32_t fixed[] = {1,	  999,	    1000,     100000,	999999,	 1000000,
					 1000001, 1193182,  2000000,  2399999,	2500000, 2904000,
					 3000000, 3600123,  4294967, 6000000,	10000000, 60000000};
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint32_t mul;
		int8_t shift;
		pvclock_scale(fixed[i], &mul, &shift);
		assert_true(shift >= 0);
		assert_int_equal(pvclock_khz(mul, shift), fixed[i]);
	}
	/* and a sweep over the frequencies real TSCs run at */
	for (uint32_t khz = 500000; khz < 6000000; khz += 977) {
		uint32_t mul;
		int8_t shift;
		pvclock_scale(khz, &mul, &shift);
		if (pvclock_khz(mul, shift) != khz)
			fail_msg("khz %u: guest reads %llu", khz,
				 (unsigned long long)pvclock_khz(mul, shift));
	}
}

/* The guest's clock against the exact ns of the TSC delta: within 1 ns per second. */
static void test_clock_reads_elapsed_ns(void **state)
{
	(void)state;
	static const uint32_t rates[] = {1000000, 2500000, 2904000, 3600123};
	for (unsigned i = 0; i < 4; i++) {
		struct pvclock_time_info t = {.tsc_timestamp = 0xfffffffff0000000ull,
					      .system_time = 0};
		pvclock_scale(rates[i], &t.tsc_to_system_mul, &t.tsc_shift);
		uint64_t khz = rates[i];
		for (uint64_t s = 0; s <= 7200; s += 600) {
			uint64_t ticks = s * khz * 1000 + 12345;
			uint64_t want = ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
			uint64_t got = pvclock_read_ns(&t, t.tsc_timestamp + ticks);
			uint64_t err = got > want ? got - want : want - got;
			assert_true(err <= s + 1);
		}
	}
}

static void test_kvm_leaves(void **state)
{
	(void)state;
	uint32_t r[4];
	assert_false(pvclock_cpuid(0x40000000u, r));
	assert_false(pvclock_cpuid(0x40000200u, r));
	assert_true(pvclock_cpuid(KVM_CPUID_BASE, r));
	assert_int_equal(r[0], KVM_CPUID_BASE + 1);
	assert_memory_equal(&r[1], "KVMKVMKVM\0\0\0", 12);
	assert_true(pvclock_cpuid(KVM_CPUID_BASE + 1, r));
	assert_int_equal(r[0], KVM_FEATURES_OFFERED);
	assert_int_equal(r[3], 0);
	assert_true(pvclock_cpuid(KVM_CPUID_BASE + 0x80, r));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_is_the_abi),
	    cmocka_unit_test(test_guest_tsc_khz_is_exact),
	    cmocka_unit_test(test_clock_reads_elapsed_ns),
	    cmocka_unit_test(test_kvm_leaves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

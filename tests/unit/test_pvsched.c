// SOURCES: kernel/vm/pvsched_calc.c
/*
 * KVM's paravirtual scheduling features, the pure part (kernel/vm/pvsched.h):
 * the steal-time record's layout and protocol, the MSR's reserved bits, the
 * TSC-to-ns conversion, and hypercall targets (a hostile guest's APIC IDs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/vm/pvsched.h"

static void test_record_layout_is_kvm_steal_time(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct pv_steal_time), 64);
	assert_int_equal(offsetof(struct pv_steal_time, steal), 0);
	assert_int_equal(offsetof(struct pv_steal_time, version), 8);
	assert_int_equal(offsetof(struct pv_steal_time, flags), 12);
	assert_int_equal(offsetof(struct pv_steal_time, preempted), 16);
	/* CPUID 0x40000101 EAX bits as Linux reads them */
	assert_int_equal(KVM_FEATURE_STEAL_TIME, 1 << 5);
	assert_int_equal(KVM_FEATURE_PV_UNHALT, 1 << 7);
	assert_int_equal(KVM_FEATURE_PV_TLB_FLUSH, 1 << 9);
	assert_int_equal(KVM_FEATURE_PV_SCHED_YIELD, 1 << 13);
	assert_int_equal(MSR_KVM_STEAL_TIME, 0x4b564d03);
}

static void test_msr_reserved_bits_are_refused(void **state)
{
	(void)state;
	assert_true(pvsched_steal_msr_ok(0));
	assert_true(pvsched_steal_msr_ok(0x12340000ull | 1));
	assert_true(pvsched_steal_msr_ok(0x12340040ull | 1)); /* 64-byte aligned */
	for (unsigned bit = 1; bit <= 5; bit++)
		assert_false(pvsched_steal_msr_ok(0x12340000ull | 1 | (1ull << bit)));
}

static void test_ticks_to_ns_is_exact_and_does_not_overflow(void **state)
{
	(void)state;
	assert_int_equal(pvsched_ticks_to_ns(0, 2000000), 0);
	assert_int_equal(pvsched_ticks_to_ns(2000000, 2000000), 1000000); /* 1 ms at 2 GHz */
	assert_int_equal(pvsched_ticks_to_ns(3, 3000000), 1);
	assert_int_equal(pvsched_ticks_to_ns(2002225ull * 1000, 2002225), 1000000000ull);
	/* 10 hours at 2 GHz: ticks * 1e6 is far past 2^64 */
	uint64_t ticks = 2000000000ull * 36000;
	assert_int_equal(pvsched_ticks_to_ns(ticks, 2000000), 36000ull * 1000000000ull);
	/* the largest count: no wrap, and about ticks / 2 at 2 GHz */
	uint64_t ns = pvsched_ticks_to_ns(UINT64_MAX, 2000000);
	assert_true(ns > UINT64_MAX / 2 - 1 && ns <= UINT64_MAX / 2 + 1);
	/* monotonic over a range of small values at an odd frequency */
	uint64_t last = 0;
	for (uint64_t t = 0; t < 100000; t += 7) {
		uint64_t n = pvsched_ticks_to_ns(t, 2002225);
		assert_true(n >= last);
		last = n;
	}
}

static void test_publish_leaves_an_even_version_and_the_value(void **state)
{
	(void)state;
	struct pv_steal_time st;
	memset(&st, 0, sizeof(st));
	st.preempted = PV_VCPU_PREEMPTED;
	pvsched_steal_publish(&st, 12345);
	assert_int_equal(st.steal, 12345);
	assert_int_equal(st.version % 2, 0);
	assert_true(st.version > 0);
	uint32_t v1 = st.version;
	pvsched_steal_publish(&st, 99999);
	assert_int_equal(st.steal, 99999);
	assert_int_equal(st.version, v1 + 2);
	assert_int_equal(st.preempted, PV_VCPU_PREEMPTED); /* publishing leaves the flag alone */
	/* a guest that wrote an odd version (garbage): still even afterwards */
	st.version = 7;
	pvsched_steal_publish(&st, 1);
	assert_int_equal(st.version % 2, 0);
	assert_true(st.version > 7);
}

static void test_take_preempted_reports_a_flush_request_once(void **state)
{
	(void)state;
	struct pv_steal_time st;
	memset(&st, 0, sizeof(st));
	assert_false(pvsched_take_preempted(&st));
	st.preempted = PV_VCPU_PREEMPTED;
	assert_false(pvsched_take_preempted(&st));
	assert_int_equal(st.preempted, 0);
	st.preempted = PV_VCPU_PREEMPTED | PV_VCPU_FLUSH_TLB; /* the guest's cmpxchg */
	assert_true(pvsched_take_preempted(&st));
	assert_int_equal(st.preempted, 0);
	assert_false(pvsched_take_preempted(&st));
	/* a guest that sets the flush bit alone still gets its flush */
	st.preempted = PV_VCPU_FLUSH_TLB | 0xf0;
	assert_true(pvsched_take_preempted(&st));
	assert_int_equal(st.preempted, 0);
}

static void test_hostile_apic_ids_name_no_vcpu(void **state)
{
	(void)state;
	assert_int_equal(pvsched_apic_target(0, 1), 0);
	assert_int_equal(pvsched_apic_target(15, 16), 15);
	assert_int_equal(pvsched_apic_target(16, 16), -1);
	assert_int_equal(pvsched_apic_target(0xff, 16), -1);
	assert_int_equal(pvsched_apic_target(0xffffffffull, 16), -1);
	assert_int_equal(pvsched_apic_target(UINT64_MAX, 512), -1);
	assert_int_equal(pvsched_apic_target(1ull << 32, 512), -1); /* not truncated to 0 */
	assert_int_equal(pvsched_apic_target(0, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_layout_is_kvm_steal_time),
	    cmocka_unit_test(test_msr_reserved_bits_are_refused),
	    cmocka_unit_test(test_ticks_to_ns_is_exact_and_does_not_overflow),
	    cmocka_unit_test(test_publish_leaves_an_even_version_and_the_value),
	    cmocka_unit_test(test_take_preempted_reports_a_flush_request_once),
	    cmocka_unit_test(test_hostile_apic_ids_name_no_vcpu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

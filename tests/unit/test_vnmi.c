// SOURCES: kernel/vm/vnmi.c
/*
 * The NMI latch (SDM Vol. 3A §6.7.1) and the software NMI mask that SVM
 * follows through the IRET intercept, driven as the VM core and the SVM
 * backend drive them: NMIs arrive, the backend reports blocking after each
 * exit, the core asks before each entry whether to inject or to wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kernel/vm/vnmi.h"

static void test_one_nmi_is_injected_once(void **state)
{
	(void)state;
	struct vnmi n;
	vnmi_reset(&n);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_NONE);
	assert_false(vnmi_deliverable(&n));
	vnmi_arrive(&n, 1);
	assert_true(vnmi_deliverable(&n));
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_INJECT);
	assert_true(n.blocked); /* its delivery blocks the next */
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_NONE);
}

static void test_not_ready_asks_for_a_window(void **state)
{
	(void)state;
	struct vnmi n;
	vnmi_reset(&n);
	vnmi_arrive(&n, 1);
	/* a shadow or an event already queued: wait, do not lose it */
	assert_int_equal(vnmi_before_entry(&n, false), VNMI_WINDOW);
	assert_int_equal(vnmi_before_entry(&n, false), VNMI_WINDOW);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_INJECT);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_NONE);
}

static void test_while_blocked_one_is_latched_and_more_merge(void **state)
{
	(void)state;
	struct vnmi n;
	vnmi_reset(&n);
	vnmi_arrive(&n, 1);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_INJECT);
	vnmi_set_blocked(&n, true); /* the handler runs */
	vnmi_arrive(&n, 1);
	vnmi_arrive(&n, 2);
	assert_int_equal(n.pending, 1);
	assert_false(vnmi_deliverable(&n)); /* does not wake a HLT in the handler */
	assert_int_equal(vnmi_before_entry(&n, false), VNMI_WINDOW);
	vnmi_set_blocked(&n, false); /* its IRET */
	assert_true(vnmi_deliverable(&n));
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_INJECT);
	vnmi_set_blocked(&n, false); /* that one's IRET */
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_NONE);
}

static void test_two_while_unblocked_are_both_delivered(void **state)
{
	(void)state;
	struct vnmi n;
	vnmi_reset(&n);
	/* two IPIs before the vCPU ran: one delivered, one latched behind it */
	vnmi_arrive(&n, 1);
	vnmi_arrive(&n, 1);
	vnmi_arrive(&n, 1);
	assert_int_equal(n.pending, 2);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_INJECT);
	assert_int_equal(n.pending, 1);
	/* the backend says blocked until the IRET */
	vnmi_set_blocked(&n, true);
	assert_int_equal(vnmi_before_entry(&n, false), VNMI_WINDOW);
	vnmi_set_blocked(&n, false);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_INJECT);
	vnmi_set_blocked(&n, true);
	vnmi_set_blocked(&n, false);
	assert_int_equal(vnmi_before_entry(&n, true), VNMI_NONE);
}

static void test_blocking_reported_caps_pending(void **state)
{
	(void)state;
	struct vnmi n;
	vnmi_reset(&n);
	vnmi_arrive(&n, 2);
	vnmi_set_blocked(&n, true); /* e.g. a re-injected NMI is on its way */
	assert_int_equal(n.pending, 1);
	vnmi_reset(&n);
	assert_int_equal(n.pending, 0);
	assert_false(n.blocked);
}

static void test_sw_mask_follows_the_iret(void **state)
{
	(void)state;
	struct vnmi_sw_mask m;
	vnmi_sw_reset(&m);
	assert_false(m.masked);
	assert_false(vnmi_sw_wants_iret_intercept(&m));
	vnmi_sw_exit(&m, 0x1000);
	assert_false(m.masked);

	vnmi_sw_injected(&m);
	assert_true(m.masked);
	assert_true(vnmi_sw_wants_iret_intercept(&m));
	vnmi_sw_exit(&m, 0x2000); /* an I/O exit in the handler */
	assert_true(m.masked);

	/* the IRET intercept: the IRET has not run yet */
	vnmi_sw_exit(&m, 0x2040);
	vnmi_sw_iret(&m, 0x2040);
	assert_true(m.masked);
	assert_false(vnmi_sw_wants_iret_intercept(&m)); /* let it run */
	vnmi_sw_exit(&m, 0x2040); /* e.g. an interrupt exit before it ran */
	assert_true(m.masked);
	vnmi_sw_exit(&m, 0x1234); /* past it: NMIs unmasked */
	assert_false(m.masked);
	assert_false(m.awaiting_iret);
	assert_false(vnmi_sw_wants_iret_intercept(&m));
}

static void test_sw_mask_ignores_iret_outside_a_handler(void **state)
{
	(void)state;
	struct vnmi_sw_mask m;
	vnmi_sw_reset(&m);
	vnmi_sw_iret(&m, 0x10);
	assert_false(m.awaiting_iret);
	vnmi_sw_exit(&m, 0x20);
	assert_false(m.masked);
	/* a new NMI injected while awaiting the last IRET starts over */
	vnmi_sw_injected(&m);
	vnmi_sw_iret(&m, 0x30);
	vnmi_sw_injected(&m);
	assert_true(vnmi_sw_wants_iret_intercept(&m));
	vnmi_sw_exit(&m, 0x40);
	assert_true(m.masked);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_nmi_is_injected_once),
		cmocka_unit_test(test_not_ready_asks_for_a_window),
		cmocka_unit_test(test_while_blocked_one_is_latched_and_more_merge),
		cmocka_unit_test(test_two_while_unblocked_are_both_delivered),
		cmocka_unit_test(test_blocking_reported_caps_pending),
		cmocka_unit_test(test_sw_mask_follows_the_iret),
		cmocka_unit_test(test_sw_mask_ignores_iret_outside_a_handler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

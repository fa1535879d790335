// SOURCES: guest/vlapic.c guest/apic_bus.c kernel/lib/string.c kernel/lib/format.c
/*
 * The APIC bus at many vCPUs: destination sets past one machine word (64,
 * 255 and 300 local APICs), physical IDs above 255 in x2APIC mode,
 * broadcasts and shorthands reaching every APIC, x2APIC clusters, and
 * lowest-priority arbitration picking exactly one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/apic_bus.h"
#include "guest/vlapic.h"

#define MAXN 300
static struct vlapic lapic[MAXN];
static uint64_t set[APIC_BUS_WORDS(MAXN)];
static unsigned rotor;

/* n APICs, IDs 0..n-1, software-enabled, in x2APIC mode (x2) or xAPIC mode. */
static void machine(unsigned n, bool x2)
{
	for (unsigned i = 0; i < n; i++) {
		struct vlapic_config cfg = { .apic_id = i, .bsp = i == 0, .x2apic = true,
					     .phys_bits = 39, .tsc_khz = 1000000 };
		vlapic_init(&lapic[i], &cfg, NULL, 0);
		uint64_t base;
		assert_int_equal(vlapic_msr_read(&lapic[i], VLAPIC_MSR_APIC_BASE, &base, 0),
				 VLAPIC_OK);
		if (x2) {
			assert_int_equal(vlapic_msr_write(&lapic[i], VLAPIC_MSR_APIC_BASE,
							  base | (1u << 10), 0),
					 VLAPIC_OK);
			assert_int_equal(vlapic_msr_write(&lapic[i], VLAPIC_MSR_X2APIC_FIRST +
								     (VLAPIC_SVR >> 4),
							  0x1ff, 0),
					 VLAPIC_OK);
		} else {
			vlapic_mmio_write(&lapic[i], VLAPIC_SVR, 0x1ff, 0);
		}
	}
	rotor = 0;
}

static unsigned targets(unsigned n, const struct vlapic *src, unsigned dest_mode, uint32_t dest,
			unsigned shorthand, unsigned mode)
{
	memset(set, 0xa5, sizeof(set)); /* every word of the set is written */
	unsigned count = apic_bus_targets(lapic, n, src, dest_mode, dest, shorthand, mode, 0x40,
					  &rotor, set);
	unsigned bits = 0;
	for (unsigned i = 0; i < n; i++)
		bits += apic_bus_has(set, i);
	assert_int_equal(bits, count);
	for (unsigned i = n; i < APIC_BUS_WORDS(n) * 64; i++)
		assert_false(apic_bus_has(set, i));
	return count;
}

static void test_physical_ids_past_a_word_and_past_255(void **state)
{
	(void)state;
	machine(MAXN, true);
	static const unsigned ids[] = { 0, 31, 32, 63, 64, 65, 127, 200, 254, 255, 256, 299 };
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		assert_int_equal(targets(MAXN, &lapic[0], VLAPIC_DEST_PHYSICAL, ids[k],
					 VLAPIC_SH_NONE, VLAPIC_DM_FIXED),
				 1);
		assert_true(apic_bus_has(set, ids[k]));
	}
	/* an ID nobody has */
	assert_int_equal(targets(MAXN, &lapic[0], VLAPIC_DEST_PHYSICAL, 300, VLAPIC_SH_NONE,
				 VLAPIC_DM_FIXED),
			 0);
}

static void test_broadcast_and_shorthands_reach_all(void **state)
{
	(void)state;
	static const unsigned sizes[] = { 1, 8, 63, 64, 65, 255, MAXN };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		unsigned n = sizes[k];
		machine(n, true);
		const struct vlapic *src = &lapic[n - 1];
		assert_int_equal(targets(n, src, VLAPIC_DEST_PHYSICAL, 0xffffffffu, VLAPIC_SH_NONE,
					 VLAPIC_DM_FIXED),
				 n);
		assert_int_equal(targets(n, src, 0, 0, VLAPIC_SH_ALL, VLAPIC_DM_FIXED), n);
		assert_int_equal(targets(n, src, 0, 0, VLAPIC_SH_OTHERS, VLAPIC_DM_INIT), n - 1);
		assert_false(apic_bus_has(set, n - 1));
		assert_int_equal(targets(n, src, 0, 0, VLAPIC_SH_SELF, VLAPIC_DM_FIXED), 1);
		assert_true(apic_bus_has(set, n - 1));
	}
	/* xAPIC mode, an IOAPIC's 8-bit broadcast: 64 APICs */
	machine(64, false);
	assert_int_equal(targets(64, NULL, VLAPIC_DEST_PHYSICAL, 0xff, VLAPIC_SH_NONE,
				 VLAPIC_DM_FIXED),
			 64);
}

/* x2APIC logical: cluster (ID >> 4) in 31:16, bit (ID & 15) in 15:0 (SDM Vol. 3A §11.12.10.2). */
static void test_x2apic_clusters(void **state)
{
	(void)state;
	machine(MAXN, true);
	uint32_t cluster = 290 >> 4; /* IDs 288..299 */
	assert_int_equal(targets(MAXN, &lapic[0], VLAPIC_DEST_LOGICAL, cluster << 16 | 0xffff,
				 VLAPIC_SH_NONE, VLAPIC_DM_FIXED),
			 12);
	for (unsigned id = 288; id < MAXN; id++)
		assert_true(apic_bus_has(set, id));
	assert_int_equal(targets(MAXN, &lapic[0], VLAPIC_DEST_LOGICAL, 4u << 16 | 1u << 3,
				 VLAPIC_SH_NONE, VLAPIC_DM_FIXED),
			 1);
	assert_true(apic_bus_has(set, 4 * 16 + 3));
}

/* Lowest priority among many: exactly one, the lowest TPR class, taken in turn among equals. */
static void test_lowest_priority_picks_one(void **state)
{
	(void)state;
	machine(MAXN, true);
	for (unsigned i = 0; i < MAXN; i++)
		assert_int_equal(vlapic_msr_write(&lapic[i],
						  VLAPIC_MSR_X2APIC_FIRST + (VLAPIC_TPR >> 4),
						  i == 270 || i == 280 ? 0x10 : 0x20, 0),
				 VLAPIC_OK);
	assert_int_equal(targets(MAXN, &lapic[0], VLAPIC_DEST_PHYSICAL, 0xffffffffu,
				 VLAPIC_SH_NONE, VLAPIC_DM_LOWEST),
			 1);
	unsigned first = apic_bus_has(set, 270) ? 270 : 280;
	assert_true(apic_bus_has(set, first));
	targets(MAXN, &lapic[0], VLAPIC_DEST_PHYSICAL, 0xffffffffu, VLAPIC_SH_NONE,
		VLAPIC_DM_LOWEST);
	assert_true(apic_bus_has(set, first == 270 ? 280 : 270)); /* the other, in turn */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_physical_ids_past_a_word_and_past_255),
		cmocka_unit_test(test_broadcast_and_shorthands_reach_all),
		cmocka_unit_test(test_x2apic_clusters),
		cmocka_unit_test(test_lowest_priority_picks_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

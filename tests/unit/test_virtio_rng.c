// SOURCES: guest/virtio/virtio_rng.c guest/virtio/virtio_dev.c guest/virtio/virtqueue.c
/*
 * virtio-rng as Linux's hw_random driver uses it: buffers filled from the
 * entropy source, fewer bytes (even none) when it runs short, at most
 * VIRTIO_RNG_MAX_PER_CHAIN per chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/virtio/virtio_rng.h"
#include "tests/unit/virtio_fixture.h"

static struct virtio_rng vr;
static struct drv v;
static size_t budget; /* bytes the source still gives */
static uint8_t counter;
static int token;

static size_t entropy(void *ctx, void *buf, size_t n)
{
	assert_ptr_equal(ctx, &token);
	if (n > budget)
		n = budget;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = ++counter;
	budget -= n;
	return n;
}

static int setup(void **state)
{
	(void)state;
	ram_setup();
	budget = SIZE_MAX;
	counter = 0;
	virtio_rng_init(&vr, "rng0", entropy, &token, &guest_mem);
	dev_up(&vr.dev, vr.dev.host_features, &v, 1, 8);
	return 0;
}

static void kick(void)
{
	vr.dev.ops->queue_notify(&vr.dev, 0);
}

static void test_fills_buffers(void **state)
{
	uint32_t len;

	(void)state;
	assert_int_equal(vr.dev.type, VIRTIO_ID_RNG);
	assert_int_equal(vr.dev.cfg_size, 0);
	desc(&v, 0, DATA_GPA, 100, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	desc(&v, 1, DATA_GPA + 0x1000, 50, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	kick();
	assert_int_equal(used_next(&v, &len), 0);
	assert_int_equal(len, 150);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(*(uint8_t *)G(DATA_GPA + i), (uint8_t)(i + 1));
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(*(uint8_t *)G(DATA_GPA + 0x1000 + i), (uint8_t)(i + 101));
	assert_int_equal(queue_irqs[0], 1);
	assert_int_equal(vr.bytes, 150);
}

static void test_short_source(void **state)
{
	uint32_t len;

	(void)state;
	budget = 10;
	desc(&v, 0, DATA_GPA, 64, VRING_DESC_F_WRITE, 0);
	desc(&v, 1, DATA_GPA + 0x100, 64, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	avail(&v, 1);
	kick();
	assert_int_equal(used_next(&v, &len), 0);
	assert_int_equal(len, 10);
	assert_int_equal(used_next(&v, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(vr.short_chains, 2);
}

static void test_capped_per_chain(void **state)
{
	uint32_t len;

	(void)state;
	desc(&v, 0, DATA_GPA, 0x10000, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	kick();
	assert_int_equal(used_next(&v, &len), 0);
	assert_int_equal(len, VIRTIO_RNG_MAX_PER_CHAIN);
	assert_int_equal(*(uint8_t *)G(DATA_GPA + VIRTIO_RNG_MAX_PER_CHAIN), 0);
}

static void test_readable_only_chain_gets_nothing(void **state)
{
	uint32_t len;

	(void)state;
	desc(&v, 0, DATA_GPA, 64, 0, 0);
	avail(&v, 0);
	kick();
	assert_int_equal(used_next(&v, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(*(uint8_t *)G(DATA_GPA), 0);
}

static void test_bad_chain_fails_device(void **state)
{
	(void)state;
	desc(&v, 0, RAM_END, 64, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	kick();
	assert_true(vr.dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(used_idx(&v), 0);
	assert_int_equal(config_irqs, 1);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fills_buffers),
		T(test_short_source),
		T(test_capped_per_chain),
		T(test_readable_only_chain_gets_nothing),
		T(test_bad_chain_fails_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

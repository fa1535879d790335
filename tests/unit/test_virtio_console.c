// SOURCES: guest/virtio/virtio_console.c guest/virtio/virtio_dev.c guest/virtio/virtqueue.c
/*
 * virtio-console with one port as Linux's hvc driver uses it: transmit
 * chains of several buffers reach the output whole and come back with
 * length 0; host input fills the posted receive buffers in order and what
 * does not fit stays the caller's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/virtio/virtio_console.h"
#include "tests/unit/virtio_fixture.h"

static struct virtio_console vc;
static struct drv v[2]; /* receiveq, transmitq */
static uint8_t out[512];
static size_t out_len;
static unsigned rx_ready_calls;
static int token;

static void output(void *ctx, const uint8_t *buf, size_t n)
{
	assert_ptr_equal(ctx, &token);
	assert_true(n >= 1 && out_len + n <= sizeof(out));
	memcpy(out + out_len, buf, n);
	out_len += n;
}

static void rx_ready(void *ctx)
{
	assert_ptr_equal(ctx, &token);
	rx_ready_calls++;
}

static int setup(void **state)
{
	const struct virtio_console_ops ops = { .output = output, .rx_ready = rx_ready, .ctx = &token };

	(void)state;
	ram_setup();
	out_len = 0;
	rx_ready_calls = 0;
	virtio_console_init(&vc, "con0", &ops, &guest_mem);
	dev_up(&vc.dev, vc.dev.host_features, v, 2, 8);
	return 0;
}

static void test_identity(void **state)
{
	(void)state;
	assert_int_equal(vc.dev.type, VIRTIO_ID_CONSOLE);
	assert_int_equal(vc.dev.nqueues, 2);
	assert_int_equal(vc.dev.cfg_size, VIRTIO_CONSOLE_CFG_SIZE);
	assert_int_equal(vc.dev.ops->cfg_read(&vc.dev, 0, 2), 0); /* cols */
	assert_int_equal(vc.dev.ops->cfg_read(&vc.dev, 4, 4), 0); /* max_nr_ports */
	/* only transport features: no SIZE, MULTIPORT, EMERG_WRITE */
	assert_int_equal(vc.dev.host_features & 0xffffff, 0);
	assert_int_equal(rx_ready_calls, 1); /* DRIVER_OK */
}

static void test_transmit_whole_chains(void **state)
{
	uint32_t len;

	(void)state;
	memcpy(G(DATA_GPA), "Linux version ", 14);
	memcpy(G(DATA_GPA + 0x100), "6.1\n", 4);
	memcpy(G(DATA_GPA + 0x200), "login: ", 7);
	desc(&v[1], 0, DATA_GPA, 14, VRING_DESC_F_NEXT, 1);
	desc(&v[1], 1, DATA_GPA + 0x100, 4, 0, 0);
	desc(&v[1], 2, DATA_GPA + 0x200, 7, 0, 0);
	avail(&v[1], 0);
	avail(&v[1], 2);
	vc.dev.ops->queue_notify(&vc.dev, VIRTIO_CONSOLE_TX);
	assert_int_equal(out_len, 25);
	assert_memory_equal(out, "Linux version 6.1\nlogin: ", 25);
	assert_int_equal(used_next(&v[1], &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(used_next(&v[1], &len), 2);
	assert_int_equal(len, 0);
	assert_int_equal(queue_irqs[VIRTIO_CONSOLE_TX], 1);
	assert_int_equal(vc.stats.tx_bytes, 25);
}

static void test_transmit_large_buffer_in_pieces(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 300; i++)
		*(uint8_t *)G(DATA_GPA + i) = (uint8_t)i;
	desc(&v[1], 0, DATA_GPA, 300, 0, 0);
	avail(&v[1], 0);
	vc.dev.ops->queue_notify(&vc.dev, VIRTIO_CONSOLE_TX);
	assert_int_equal(out_len, 300);
	assert_memory_equal(out, G(DATA_GPA), 300);
}

static void test_input_fills_posted_buffers(void **state)
{
	uint32_t len;

	(void)state;
	/* Nothing posted: nothing taken. */
	assert_int_equal(virtio_console_input(&vc, (const uint8_t *)"abc", 3), 0);
	desc(&v[0], 0, DATA_GPA, 4, VRING_DESC_F_WRITE, 0);
	desc(&v[0], 1, DATA_GPA + 0x10, 2, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
	desc(&v[0], 2, DATA_GPA + 0x20, 2, VRING_DESC_F_WRITE, 0);
	avail(&v[0], 0);
	avail(&v[0], 1);
	vc.dev.ops->queue_notify(&vc.dev, VIRTIO_CONSOLE_RX);
	assert_int_equal(rx_ready_calls, 2);
	assert_int_equal(virtio_console_input(&vc, (const uint8_t *)"hello world", 11), 8);
	assert_memory_equal(G(DATA_GPA), "hell", 4);
	assert_memory_equal(G(DATA_GPA + 0x10), "o ", 2);
	assert_memory_equal(G(DATA_GPA + 0x20), "wo", 2);
	assert_int_equal(used_next(&v[0], &len), 0);
	assert_int_equal(len, 4);
	assert_int_equal(used_next(&v[0], &len), 1);
	assert_int_equal(len, 4);
	assert_int_equal(queue_irqs[VIRTIO_CONSOLE_RX], 1);
	assert_int_equal(virtio_console_input(&vc, (const uint8_t *)"rld", 3), 0);
	/* A short input uses part of one buffer. */
	desc(&v[0], 3, DATA_GPA + 0x30, 64, VRING_DESC_F_WRITE, 0);
	avail(&v[0], 3);
	assert_int_equal(virtio_console_input(&vc, (const uint8_t *)"rld", 3), 3);
	assert_int_equal(used_next(&v[0], &len), 3);
	assert_int_equal(len, 3);
	assert_int_equal(vc.stats.rx_bytes, 11);
}

static void test_bad_chain_fails_device(void **state)
{
	(void)state;
	desc(&v[1], 0, DATA_GPA, 4, VRING_DESC_F_NEXT, 0);
	avail(&v[1], 0);
	vc.dev.ops->queue_notify(&vc.dev, VIRTIO_CONSOLE_TX);
	assert_true(vc.dev.status & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(config_irqs, 1);
	assert_int_equal(out_len, 0);
	desc(&v[0], 0, DATA_GPA, 4, VRING_DESC_F_WRITE, 0);
	avail(&v[0], 0);
	assert_int_equal(virtio_console_input(&vc, (const uint8_t *)"x", 1), 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity),
		T(test_transmit_whole_chains),
		T(test_transmit_large_buffer_in_pieces),
		T(test_input_fills_posted_buffers),
		T(test_bad_chain_fails_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

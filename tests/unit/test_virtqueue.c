// SOURCES: guest/virtio/virtqueue.c
/*
 * The split virtqueue as a Linux driver fills it (direct and indirect
 * chains, event index both ways, across the 16-bit wrap), and as a hostile
 * guest fills it: every case of the header's list must break the queue
 * with a reason, take nothing more, and never loop or reach outside RAM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/virtio_fixture.h"

static struct virtqueue q;
static struct drv v;
static struct vq_elem e;

static int setup(void **state)
{
	(void)state;
	ram_setup();
	vq_reset(&q);
	drv_init(&v, &q, 8);
	assert_int_equal(vq_enable(&q, &guest_mem), 0);
	assert_true(q.enabled);
	return 0;
}

/* The queue is broken with a reason containing `why`, and stays broken. */
static void assert_broken(const char *why)
{
	assert_int_equal(vq_pop(&q, &guest_mem, &e), -1);
	assert_non_null(q.error);
	if (!strstr(q.error, why))
		fail_msg("error \"%s\" does not mention \"%s\"", q.error, why);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), -1);
	assert_int_equal(q.in_flight, 0);
}

static void test_enable_checks_setup(void **state)
{
	(void)state;
	static const uint16_t bad_sizes[] = { 0, 3, 6, 512, 1024 };

	for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		q.size = bad_sizes[i];
		assert_int_equal(vq_enable(&q, &guest_mem), -1);
		assert_false(q.enabled);
		assert_non_null(strstr(q.error, "size"));
	}
	q.size = 256;
	assert_int_equal(vq_enable(&q, &guest_mem), 0);
	assert_null(q.error);
	q.desc_gpa = DESC_GPA + 8; /* 16-aligned required */
	assert_int_equal(vq_enable(&q, &guest_mem), -1);
	q.desc_gpa = DESC_GPA;
	q.avail_gpa = AVAIL_GPA + 1;
	assert_int_equal(vq_enable(&q, &guest_mem), -1);
	q.avail_gpa = AVAIL_GPA;
	q.used_gpa = USED_GPA + 2;
	assert_int_equal(vq_enable(&q, &guest_mem), -1);
	assert_non_null(strstr(q.error, "misaligned"));
	/* The used ring's last bytes (avail_event) past the end of RAM. */
	q.used_gpa = RAM_END - 4 - 8 * 256;
	assert_int_equal(vq_enable(&q, &guest_mem), -1);
	assert_non_null(strstr(q.error, "RAM"));
	q.used_gpa = USED_GPA;
	q.desc_gpa = 0xfffffffffffff000ull; /* wraps */
	assert_int_equal(vq_enable(&q, &guest_mem), -1);
	q.desc_gpa = DESC_GPA;
	assert_int_equal(vq_enable(&q, &guest_mem), 0);
}

static void test_disabled_queue_gives_nothing(void **state)
{
	(void)state;
	q.enabled = false;
	desc(&v, 0, DATA_GPA, 16, 0, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 0);
	assert_int_equal(vq_push(&q, &guest_mem, 0, 0), -1);
}

static void test_pop_push_chain(void **state)
{
	uint32_t len;

	(void)state;
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 0);
	/* header (readable), data (readable), status (writable): a virtio-blk write */
	desc(&v, 3, DATA_GPA, 16, VRING_DESC_F_NEXT, 5);
	desc(&v, 5, DATA_GPA + 0x1000, 512, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, DATA_GPA + 0x2000, 1, VRING_DESC_F_WRITE, 0);
	avail(&v, 3);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(e.head, 3);
	assert_int_equal(e.nout, 2);
	assert_int_equal(e.nin, 1);
	assert_int_equal(e.out_len, 528);
	assert_int_equal(e.in_len, 1);
	assert_int_equal(e.seg[0].gpa, DATA_GPA);
	assert_int_equal(e.seg[1].gpa, DATA_GPA + 0x1000);
	assert_int_equal(e.seg[1].len, 512);
	assert_int_equal(e.seg[2].gpa, DATA_GPA + 0x2000);
	assert_int_equal(q.in_flight, 1);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 0);

	assert_int_equal(vq_push(&q, &guest_mem, 3, 1), 0);
	assert_int_equal(used_idx(&v), 1);
	assert_int_equal(used_next(&v, &len), 3);
	assert_int_equal(len, 1);
	assert_int_equal(q.in_flight, 0);
	assert_int_equal(q.pops, 1);
	assert_int_equal(q.pushes, 1);
	assert_null(q.error);
}

static void test_chain_changed_after_pop_changes_nothing(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 100, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, DATA_GPA + 100, 50, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	/* The guest rewrites the table: the popped element is a copy. */
	desc(&v, 0, 0xdead0000, 0xffffffff, VRING_DESC_F_NEXT, 7);
	assert_int_equal(e.seg[0].gpa, DATA_GPA);
	assert_int_equal(e.seg[0].len, 100);
	assert_int_equal(e.seg[1].len, 50);
}

static void test_elem_read_write_span_segments(void **state)
{
	uint8_t buf[64];

	(void)state;
	memcpy(G(DATA_GPA), "hello ", 6);
	memcpy(G(DATA_GPA + 0x100), "world", 5);
	desc(&v, 0, DATA_GPA, 6, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, DATA_GPA + 0x100, 5, VRING_DESC_F_NEXT, 2);
	desc(&v, 2, DATA_GPA + 0x200, 3, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	desc(&v, 3, DATA_GPA + 0x300, 4, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(vq_elem_read(&e, &guest_mem, 0, buf, 11), 0);
	assert_memory_equal(buf, "hello world", 11);
	assert_int_equal(vq_elem_read(&e, &guest_mem, 4, buf, 4), 0);
	assert_memory_equal(buf, "o wo", 4);
	assert_int_equal(vq_elem_read(&e, &guest_mem, 8, buf, 4), -1); /* past the end */
	assert_int_equal(vq_elem_read(&e, &guest_mem, 12, buf, 0), -1);
	assert_int_equal(vq_elem_read(&e, &guest_mem, 11, buf, 0), 0);
	assert_int_equal(vq_elem_write(&e, &guest_mem, 1, "abcdef", 6), 0);
	assert_memory_equal(G(DATA_GPA + 0x201), "ab", 2);
	assert_memory_equal(G(DATA_GPA + 0x300), "cdef", 4);
	assert_int_equal(vq_elem_write(&e, &guest_mem, 0, "abcdefgh", 8), -1);
	assert_int_equal(vq_elem_write(&e, &guest_mem, 0xffffffff, "a", 1), -1);
}

static void test_many_chains_in_order_and_wrap(void **state)
{
	(void)state;
	/* 5 rounds of 8: the ring index wraps, heads are reused once used. */
	for (unsigned round = 0; round < 5; round++) {
		for (uint16_t i = 0; i < 8; i++) {
			desc(&v, i, DATA_GPA + 64 * i, 64, VRING_DESC_F_WRITE, 0);
			avail(&v, (uint16_t)(7 - i));
		}
		for (uint16_t i = 0; i < 8; i++) {
			assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
			assert_int_equal(e.head, 7 - i);
		}
		assert_int_equal(vq_pop(&q, &guest_mem, &e), 0);
		for (uint16_t i = 0; i < 8; i++)
			assert_int_equal(vq_push(&q, &guest_mem, i, 64), 0);
		for (uint16_t i = 0; i < 8; i++)
			assert_int_equal(used_next(&v, NULL), i);
	}
	assert_int_equal(q.last_avail, 40);
	assert_int_equal(used_idx(&v), 40);
}

static void test_index_wraps_at_16_bits(void **state)
{
	(void)state;
	v.avail_idx = 65534;
	q.last_avail = 65534;
	q.used_idx = 65534;
	v.used_seen = 65534;
	for (uint16_t i = 0; i < 4; i++) {
		desc(&v, i, DATA_GPA, 8, 0, 0);
		avail(&v, i);
	}
	assert_int_equal(get16(v.avail + 2), 2);
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
		assert_int_equal(e.head, i);
		assert_int_equal(vq_push(&q, &guest_mem, i, 0), 0);
		assert_int_equal(used_next(&v, NULL), i);
	}
	assert_int_equal(q.last_avail, 2);
	assert_int_equal(used_idx(&v), 2);
	assert_null(q.error);
}

static void test_indirect_chain(void **state)
{
	(void)state;
	q.indirect = true;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 2);
	desc_at(ITABLE_GPA, 2, DATA_GPA + 0x1000, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	desc_at(ITABLE_GPA, 1, DATA_GPA + 0x3000, 1, VRING_DESC_F_WRITE, 0);
	desc(&v, 4, ITABLE_GPA, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 4);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(e.head, 4);
	assert_int_equal(e.nout, 1);
	assert_int_equal(e.nin, 2);
	assert_int_equal(e.in_len, 4097);
	assert_int_equal(e.seg[1].gpa, DATA_GPA + 0x1000);
	assert_int_equal(vq_push(&q, &guest_mem, 4, 4097), 0);
	assert_null(q.error);
}

static void test_indirect_table_bigger_than_the_queue(void **state)
{
	(void)state;
	/* An indirect table is bounded by its own length, not the queue size (8). */
	q.indirect = true;
	for (uint16_t i = 0; i < 100; i++)
		desc_at(ITABLE_GPA, i, DATA_GPA + 8 * i, 8, i < 99 ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	desc(&v, 0, ITABLE_GPA, 100 * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(e.nout, 100);
	assert_int_equal(e.out_len, 800);
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, 0, 0);
	desc(&v, 0, ITABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("INDIRECT_DESC");
}

static void test_indirect_nested(void **state)
{
	(void)state;
	q.indirect = true;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	desc_at(ITABLE_GPA, 1, ITABLE_GPA + 0x100, 32, VRING_DESC_F_INDIRECT, 0);
	desc(&v, 0, ITABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("nested");
}

static void test_indirect_bad_lengths(void **state)
{
	static const uint32_t lens[] = { 0, 15, 17, 40 };

	(void)state;
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		setup(NULL);
		q.indirect = true;
		desc(&v, 0, ITABLE_GPA, lens[i], VRING_DESC_F_INDIRECT, 0);
		avail(&v, 0);
		assert_broken("multiple of 16");
	}
	/* 2^16+1 entries: more than any chain can be. */
	setup(NULL);
	q.indirect = true;
	desc(&v, 0, ITABLE_GPA, 65537 * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("too large");
	/* A table that wraps the address space. */
	setup(NULL);
	q.indirect = true;
	desc(&v, 0, 0xfffffffffffffff0ull, 32, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("too large");
}

static void test_indirect_with_next_or_not_head(void **state)
{
	(void)state;
	q.indirect = true;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, 0, 0);
	desc(&v, 0, ITABLE_GPA, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	desc(&v, 1, DATA_GPA, 16, 0, 0);
	avail(&v, 0);
	assert_broken("NEXT");

	setup(NULL);
	q.indirect = true;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, 0, 0);
	desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, ITABLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("head");
}

static void test_indirect_loop_and_next_out_of_table(void **state)
{
	(void)state;
	q.indirect = true;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	desc_at(ITABLE_GPA, 1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	desc(&v, 0, ITABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("loop");

	setup(NULL);
	q.indirect = true;
	desc_at(ITABLE_GPA, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 2); /* table has 2 entries */
	desc(&v, 0, ITABLE_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("indirect table");
}

static void test_indirect_table_not_in_ram(void **state)
{
	(void)state;
	q.indirect = true;
	desc(&v, 0, RAM_END - 16, 32, VRING_DESC_F_INDIRECT, 0);
	desc_at(RAM_END - 16, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	avail(&v, 0);
	assert_broken("not in guest RAM");
}

static void test_too_many_segments(void **state)
{
	(void)state;
	q.indirect = true;
	for (uint16_t i = 0; i <= VQ_MAX_SEGS; i++)
		desc_at(ITABLE_GPA, i, DATA_GPA, 8, i < VQ_MAX_SEGS ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	desc(&v, 0, ITABLE_GPA, (VQ_MAX_SEGS + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_broken("more buffers");
	/* Exactly VQ_MAX_SEGS is fine. */
	setup(NULL);
	q.indirect = true;
	for (uint16_t i = 0; i < VQ_MAX_SEGS; i++)
		desc_at(ITABLE_GPA, i, DATA_GPA, 8, i < VQ_MAX_SEGS - 1 ? VRING_DESC_F_NEXT : 0,
			(uint16_t)(i + 1));
	desc(&v, 0, ITABLE_GPA, VQ_MAX_SEGS * 16, VRING_DESC_F_INDIRECT, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(e.nout, VQ_MAX_SEGS);
}

static void test_loops(void **state)
{
	(void)state;
	desc(&v, 2, DATA_GPA, 16, VRING_DESC_F_NEXT, 2); /* itself */
	avail(&v, 2);
	assert_broken("loop");

	setup(NULL);
	desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, DATA_GPA, 16, VRING_DESC_F_NEXT, 2);
	desc(&v, 2, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	avail(&v, 1);
	assert_broken("loop");
	assert_true(mem_reads < 64); /* bounded: no more than size + a few reads */
}

static void test_chain_as_long_as_the_queue(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 8; i++)
		desc(&v, i, DATA_GPA, 16, i < 7 ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(e.nout, 8);
}

static void test_head_out_of_range(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 16, 0, 0);
	avail(&v, 8);
	assert_broken("head");
}

static void test_next_out_of_range(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 8);
	avail(&v, 0);
	assert_broken("next");

	setup(NULL);
	desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 0xffff);
	avail(&v, 0);
	assert_broken("next");
}

static void test_avail_idx_jump(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 16, 0, 0);
	put16(v.avail + 2, 9); /* 9 new entries in a ring of 8 */
	assert_broken("avail.idx");

	setup(NULL);
	put16(v.avail + 2, 0xffff); /* "backwards" is a jump too */
	assert_broken("avail.idx");

	setup(NULL);
	put16(v.avail + 2, 8); /* exactly a full ring is fine */
	for (uint16_t i = 0; i < 8; i++) {
		desc(&v, i, DATA_GPA, 16, 0, 0);
		put16(v.avail + 4 + 2 * i, i);
	}
	for (uint16_t i = 0; i < 8; i++)
		assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 0);
}

static void test_head_reused_while_in_flight(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 16, 0, 0);
	avail(&v, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), -1);
	assert_non_null(strstr(q.error, "again"));
}

static void test_push_of_head_not_popped(void **state)
{
	(void)state;
	assert_int_equal(vq_push(&q, &guest_mem, 3, 0), -1);
	assert_non_null(q.error);
	assert_int_equal(used_idx(&v), 0);

	setup(NULL);
	assert_int_equal(vq_push(&q, &guest_mem, 9, 0), -1);
	assert_int_equal(used_idx(&v), 0);

	/* pushed twice */
	setup(NULL);
	desc(&v, 0, DATA_GPA, 16, 0, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(vq_push(&q, &guest_mem, 0, 0), 0);
	assert_int_equal(vq_push(&q, &guest_mem, 0, 0), -1);
	assert_int_equal(used_idx(&v), 1);
}

static void test_readable_after_writable(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	desc(&v, 1, DATA_GPA, 16, 0, 0);
	avail(&v, 0);
	assert_broken("readable");
}

static void test_buffers_not_in_ram(void **state)
{
	static const struct {
		uint64_t gpa;
		uint32_t len;
	} bad[] = {
		{ 0, 16 },			  /* below RAM */
		{ RAM_BASE - 1, 2 },		  /* straddles the start */
		{ RAM_END - 8, 16 },		  /* straddles the end */
		{ RAM_END, 1 },			  /* just past */
		{ 0xfffffffffffffff0ull, 0x20 }, /* wraps */
		{ RAM_BASE, 0x7fffffff },	  /* huge */
	};

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(NULL);
		desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
		desc(&v, 1, bad[i].gpa, bad[i].len, VRING_DESC_F_WRITE, 0);
		avail(&v, 0);
		assert_broken("not in guest RAM");
	}
}

static void test_buffer_check_without_is_ram(void **state)
{
	struct vq_mem plain = guest_mem;

	(void)state;
	plain.is_ram = NULL; /* the check falls back to reading through */
	desc(&v, 0, DATA_GPA, 1000, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, RAM_END - 100, 101, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &plain, &e), -1);
	assert_non_null(strstr(q.error, "RAM"));

	setup(NULL);
	desc(&v, 0, DATA_GPA, 1000, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, RAM_END - 100, 100, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &plain, &e), 1);
}

static void test_lengths_overflow(void **state)
{
	(void)state;
	/* Pretend 16 GiB of RAM so that only the sum is wrong. */
	fake_ram_end = 1ull << 34;
	desc(&v, 0, 1ull << 32, 0xfffffff0u, VRING_DESC_F_NEXT, 1);
	desc(&v, 1, 1ull << 33, 0x20, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	assert_broken("overflow");
}

static void test_rings_leaving_ram_break_not_crash(void **state)
{
	(void)state;
	/* A queue set up in RAM, then (hostile transport use) pointed outside. */
	q.avail_gpa = RAM_END + 0x1000;
	assert_int_equal(vq_pop(&q, &guest_mem, &e), -1);
	assert_non_null(strstr(q.error, "available ring"));
	assert_false(vq_set_notification(&q, &guest_mem, true));
	assert_false(vq_should_interrupt(&q, &guest_mem));
}

static void test_reset_forgets(void **state)
{
	(void)state;
	desc(&v, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 9);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), -1);
	vq_reset(&q);
	assert_null(q.error);
	assert_false(q.enabled);
	assert_int_equal(q.size, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 0);
}

/* ---- interrupts and notifications ---- */

static uint16_t pop_push_n(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t head = (uint16_t)(v.avail_idx % 8);

		desc(&v, head, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
		avail(&v, head);
		assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
		assert_int_equal(vq_push(&q, &guest_mem, head, 16), 0);
	}
	return q.used_idx;
}

static void test_interrupt_flag_without_event_idx(void **state)
{
	(void)state;
	assert_false(vq_should_interrupt(&q, &guest_mem)); /* nothing used yet */
	pop_push_n(1);
	assert_true(vq_should_interrupt(&q, &guest_mem));
	assert_false(vq_should_interrupt(&q, &guest_mem)); /* nothing new */
	put16(v.avail + 0, VRING_AVAIL_F_NO_INTERRUPT);
	pop_push_n(2);
	assert_false(vq_should_interrupt(&q, &guest_mem));
	put16(v.avail + 0, 0);
	pop_push_n(1);
	assert_true(vq_should_interrupt(&q, &guest_mem));
	assert_int_equal(q.interrupts, 2);
	assert_int_equal(q.interrupts_suppressed, 1);
}

static void test_used_event(void **state)
{
	(void)state;
	q.event_idx = true;
	set_used_event(&v, 0);
	pop_push_n(1); /* used 1; event 0 in [0,1) */
	assert_true(vq_should_interrupt(&q, &guest_mem));
	set_used_event(&v, 4); /* "interrupt me when used passes 4" */
	pop_push_n(2); /* used 3 */
	assert_false(vq_should_interrupt(&q, &guest_mem));
	pop_push_n(1); /* used 4: event 4 not in [3,4) */
	assert_false(vq_should_interrupt(&q, &guest_mem));
	pop_push_n(1); /* used 5: 4 in [4,5) */
	assert_true(vq_should_interrupt(&q, &guest_mem));
	/* an event far behind (the driver is not listening) */
	set_used_event(&v, 1);
	pop_push_n(3);
	assert_false(vq_should_interrupt(&q, &guest_mem));
	/* several at once, event among them */
	set_used_event(&v, 9);
	pop_push_n(3); /* used 8 -> 11 */
	assert_true(vq_should_interrupt(&q, &guest_mem));
}

static void test_used_event_across_wrap(void **state)
{
	(void)state;
	q.event_idx = true;
	v.avail_idx = q.last_avail = 65533;
	v.used_seen = q.used_idx = 65533;
	q.signalled_used = 65533;
	q.signalled_valid = true;
	set_used_event(&v, 65535);
	pop_push_n(2); /* used 65535: event not passed */
	assert_false(vq_should_interrupt(&q, &guest_mem));
	pop_push_n(1); /* used 0: 65535 in [65535, 0) */
	assert_int_equal(q.used_idx, 0);
	assert_true(vq_should_interrupt(&q, &guest_mem));
	set_used_event(&v, 1);
	pop_push_n(1); /* used 1 */
	assert_false(vq_should_interrupt(&q, &guest_mem));
	pop_push_n(1); /* used 2 */
	assert_true(vq_should_interrupt(&q, &guest_mem));
}

static void test_avail_event_and_recheck(void **state)
{
	(void)state;
	q.event_idx = true;
	pop_push_n(3);
	/* Disabling with EVENT_IDX writes nothing: avail_event stays behind. */
	put16(v.used + 4 + 8 * 8, 0x7777);
	assert_false(vq_set_notification(&q, &guest_mem, false));
	assert_int_equal(avail_event(&v), 0x7777);
	/* Enabling asks for a kick at the next entry and finds nothing new. */
	assert_false(vq_set_notification(&q, &guest_mem, true));
	assert_int_equal(avail_event(&v), 3);
	/* The driver added one meanwhile: enable reports it. */
	desc(&v, 3, DATA_GPA, 16, 0, 0);
	avail(&v, 3);
	assert_true(vq_set_notification(&q, &guest_mem, true));
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_false(vq_set_notification(&q, &guest_mem, true));
	assert_int_equal(avail_event(&v), 4);
}

static void test_no_notify_flag_without_event_idx(void **state)
{
	(void)state;
	assert_false(vq_set_notification(&q, &guest_mem, false));
	assert_int_equal(get16(v.used), VRING_USED_F_NO_NOTIFY);
	desc(&v, 0, DATA_GPA, 16, 0, 0);
	avail(&v, 0);
	assert_true(vq_set_notification(&q, &guest_mem, true));
	assert_int_equal(get16(v.used), 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_false(vq_set_notification(&q, &guest_mem, true));
}

static void test_zero_length_descriptor(void **state)
{
	(void)state;
	desc(&v, 0, 0, 0, VRING_DESC_F_NEXT, 1); /* no bytes: no address to check */
	desc(&v, 1, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
	avail(&v, 0);
	assert_int_equal(vq_pop(&q, &guest_mem, &e), 1);
	assert_int_equal(e.out_len, 0);
	assert_int_equal(e.in_len, 16);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_enable_checks_setup),
		T(test_disabled_queue_gives_nothing),
		T(test_pop_push_chain),
		T(test_chain_changed_after_pop_changes_nothing),
		T(test_elem_read_write_span_segments),
		T(test_many_chains_in_order_and_wrap),
		T(test_index_wraps_at_16_bits),
		T(test_indirect_chain),
		T(test_indirect_table_bigger_than_the_queue),
		T(test_indirect_not_negotiated),
		T(test_indirect_nested),
		T(test_indirect_bad_lengths),
		T(test_indirect_with_next_or_not_head),
		T(test_indirect_loop_and_next_out_of_table),
		T(test_indirect_table_not_in_ram),
		T(test_too_many_segments),
		T(test_loops),
		T(test_chain_as_long_as_the_queue),
		T(test_head_out_of_range),
		T(test_next_out_of_range),
		T(test_avail_idx_jump),
		T(test_head_reused_while_in_flight),
		T(test_push_of_head_not_popped),
		T(test_readable_after_writable),
		T(test_buffers_not_in_ram),
		T(test_buffer_check_without_is_ram),
		T(test_lengths_overflow),
		T(test_rings_leaving_ram_break_not_crash),
		T(test_reset_forgets),
		T(test_interrupt_flag_without_event_idx),
		T(test_used_event),
		T(test_used_event_across_wrap),
		T(test_avail_event_and_recheck),
		T(test_no_notify_flag_without_event_idx),
		T(test_zero_length_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SOURCES: drivers/nvme/nvme_queue.c
/*
 * The NVMe driver's queue arithmetic and PRP descriptions: the SQ fills at
 * size - 1 and takes only heads it handed over, the CQ's phase flips at each
 * wrap, command identifiers rotate and are reused only once freed, and
 * transfers of 1, 2, 3 and 600 pages, unaligned or broken in the middle,
 * become the PRP entries the specification asks for, split by MDTS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/nvme/nvme_queue.h"

#define PG NVME_PAGE_SIZE

/* ---- submission queue ---- */

static void test_sq_full_and_wrap(void **state)
{
	(void)state;
	struct nvme_sq q;

	nvme_sq_init(&q, 4);
	assert_int_equal(nvme_sq_push(&q), 0);
	assert_int_equal(nvme_sq_push(&q), 1);
	assert_int_equal(nvme_sq_push(&q), 2);
	/* four slots hold three commands: tail may not catch up with head */
	assert_true(nvme_sq_full(&q));
	assert_int_equal(nvme_sq_push(&q), -1);
	assert_int_equal(nvme_sq_used(&q), 3);

	/* the controller fetched two: two slots free again, the tail wraps */
	assert_true(nvme_sq_set_head(&q, 2));
	assert_false(nvme_sq_full(&q));
	assert_int_equal(nvme_sq_push(&q), 3);
	assert_int_equal(nvme_sq_push(&q), 0);
	assert_true(nvme_sq_full(&q));
	assert_int_equal(q.tail, 1);
}

static void test_sq_head_only_what_was_handed_over(void **state)
{
	(void)state;
	struct nvme_sq q;

	nvme_sq_init(&q, 8);
	nvme_sq_push(&q);
	nvme_sq_push(&q); /* tail 2 */
	assert_false(nvme_sq_set_head(&q, 3)); /* never handed over */
	assert_false(nvme_sq_set_head(&q, 8)); /* not a slot */
	assert_int_equal(q.head, 0);
	assert_true(nvme_sq_set_head(&q, 1));
	assert_false(nvme_sq_set_head(&q, 0)); /* backwards */
	assert_true(nvme_sq_set_head(&q, 2));
	assert_int_equal(nvme_sq_used(&q), 0);
}

/* ---- completion queue ---- */

static void post(struct nvme_cqe *ring, uint16_t slot, uint16_t cid, unsigned phase, uint16_t sc)
{
	ring[slot].cid = cid;
	ring[slot].dw0 = 0x1000u + cid;
	ring[slot].status = (uint16_t)((sc << 1) | phase);
}

static void test_cq_phase_flips_on_wrap(void **state)
{
	(void)state;
	struct nvme_cqe ring[4], e;
	struct nvme_cq q;

	memset(ring, 0, sizeof(ring)); /* zeroed memory: phase 0, nothing posted */
	nvme_cq_init(&q, 4);
	assert_int_equal(q.phase, 1);
	assert_false(nvme_cq_pop(&q, ring, &e));

	for (uint16_t i = 0; i < 4; i++)
		post(ring, i, (uint16_t)(10 + i), 1, 0);
	for (uint16_t i = 0; i < 4; i++) {
		assert_true(nvme_cq_pop(&q, ring, &e));
		assert_int_equal(e.cid, 10 + i);
		assert_int_equal(e.dw0, 0x1000u + 10 + i);
	}
	/* wrapped: the old entries (phase 1) are not new any more */
	assert_int_equal(q.head, 0);
	assert_int_equal(q.phase, 0);
	assert_false(nvme_cq_pop(&q, ring, &e));

	/* second pass: the controller posts with phase 0, and an error status */
	post(ring, 0, 20, 0, 0x80);
	assert_true(nvme_cq_pop(&q, ring, &e));
	assert_int_equal(e.cid, 20);
	assert_false(NVME_STATUS_OK(e.status));
	assert_int_equal(NVME_STATUS_SC(e.status), 0x80);
	assert_false(nvme_cq_pop(&q, ring, &e));

	/* a third pass flips back to 1 */
	for (uint16_t i = 1; i < 4; i++)
		post(ring, i, i, 0, 0);
	for (uint16_t i = 1; i < 4; i++)
		assert_true(nvme_cq_pop(&q, ring, &e));
	assert_int_equal(q.phase, 1);
	post(ring, 0, 30, 1, 0);
	assert_true(nvme_cq_pop(&q, ring, &e));
	assert_int_equal(e.cid, 30);
}

/* ---- command identifiers ---- */

static void test_cid_reuse(void **state)
{
	(void)state;
	struct nvme_cids p;

	nvme_cids_init(&p, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(nvme_cid_alloc(&p), i);
	assert_int_equal(nvme_cid_alloc(&p), -1);

	assert_true(nvme_cid_free(&p, 2));
	assert_false(nvme_cid_free(&p, 2)); /* twice: a stale completion */
	assert_false(nvme_cid_free(&p, 9)); /* never a cid */
	assert_false(nvme_cid_busy(&p, 2));
	assert_int_equal(nvme_cid_alloc(&p), 2);
	assert_int_equal(nvme_cid_alloc(&p), -1);

	/* identifiers rotate: a freed one is not handed out again at once */
	assert_true(nvme_cid_free(&p, 0));
	assert_true(nvme_cid_free(&p, 3));
	assert_int_equal(nvme_cid_alloc(&p), 3); /* after 2, the last given */
	assert_int_equal(nvme_cid_alloc(&p), 0);
	assert_int_equal(p.used, 4);
}

static void test_cid_large_pool(void **state)
{
	(void)state;
	static struct nvme_cids p;

	nvme_cids_init(&p, 1023);
	for (int i = 0; i < 1023; i++)
		assert_int_equal(nvme_cid_alloc(&p), i);
	assert_int_equal(nvme_cid_alloc(&p), -1);
	assert_true(nvme_cid_free(&p, 700));
	assert_int_equal(nvme_cid_alloc(&p), 700);
	assert_true(nvme_cid_busy(&p, 1022));
	assert_false(nvme_cid_busy(&p, 1023));
}

/* ---- PRPs ---- */

/* Two list pages the builder may use, at fake bus addresses. */
static uint64_t list0[NVME_PRP_PER_PAGE], list1[NVME_PRP_PER_PAGE];
static uint64_t *const list_virt[2] = {list0, list1};
static const uint64_t list_phys[2] = {0xa0000000, 0xa0001000};

static struct nvme_prp_pages lists(unsigned count)
{
	memset(list0, 0xee, sizeof(list0));
	memset(list1, 0xee, sizeof(list1));
	return (struct nvme_prp_pages){list_virt, list_phys, count};
}

static void test_prp_one_page(void **state)
{
	(void)state;
	struct nvme_piece p[] = {{0x100000, PG}};
	struct nvme_prp_pages l = lists(1);
	struct nvme_prp out;

	assert_int_equal(nvme_prp_build(p, 1, PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100000);
	assert_int_equal(out.prp2, 0);
	assert_int_equal(out.entries, 1);
	assert_int_equal(out.list_pages, 0);

	/* a single sector inside a page */
	struct nvme_piece s[] = {{0x100e00, 512}};
	assert_int_equal(nvme_prp_build(s, 1, 512, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100e00);
	assert_int_equal(out.prp2, 0);
}

static void test_prp_two_pages(void **state)
{
	(void)state;
	struct nvme_prp_pages l = lists(1);
	struct nvme_prp out;

	/* contiguous */
	struct nvme_piece c[] = {{0x100000, 2 * PG}};
	assert_int_equal(nvme_prp_build(c, 1, 2 * PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100000);
	assert_int_equal(out.prp2, 0x101000);
	assert_int_equal(out.list_pages, 0);

	/* scattered: PRP2 is the second page itself, no list */
	struct nvme_piece s[] = {{0x100000, PG}, {0x300000, PG}};
	assert_int_equal(nvme_prp_build(s, 2, 2 * PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100000);
	assert_int_equal(out.prp2, 0x300000);
	assert_int_equal(list0[0], 0xeeeeeeeeeeeeeeeeull); /* untouched */

	/* no list pages at all is enough for two */
	assert_int_equal(nvme_prp_build(s, 2, 2 * PG, NULL, &out), 0);
	assert_int_equal(out.prp2, 0x300000);
}

static void test_prp_three_pages(void **state)
{
	(void)state;
	struct nvme_piece p[] = {{0x100000, PG}, {0x300000, PG}, {0x500000, PG}};
	struct nvme_prp_pages l = lists(1);
	struct nvme_prp out;

	assert_int_equal(nvme_prp_build(p, 3, 3 * PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100000);
	assert_int_equal(out.prp2, list_phys[0]);
	assert_int_equal(out.entries, 3);
	assert_int_equal(out.list_pages, 1);
	assert_int_equal(list0[0], 0x300000);
	assert_int_equal(list0[1], 0x500000);
	assert_int_equal(list0[2], 0xeeeeeeeeeeeeeeeeull);

	/* without a list page three pages do not fit: two do */
	assert_int_equal(nvme_prp_build(p, 3, 3 * PG, NULL, &out), -1);
	assert_int_equal(nvme_prp_fit(p, 3, 3 * PG, 0), 2 * PG);
}

static void test_prp_600_pages_chained(void **state)
{
	(void)state;
	static struct nvme_piece p[600];
	struct nvme_prp out;

	/* every other page, so no two join */
	for (unsigned i = 0; i < 600; i++)
		p[i] = (struct nvme_piece){0x10000000ull + 2ull * i * PG, PG};

	struct nvme_prp_pages one = lists(1);
	assert_int_equal(nvme_prp_build(p, 600, 600ull * PG, &one, &out), -1);
	/* PRP1 plus one full list page */
	assert_int_equal(nvme_prp_fit(p, 600, 600ull * PG, 1), 513ull * PG);

	struct nvme_prp_pages two = lists(2);
	assert_int_equal(nvme_prp_build(p, 600, 600ull * PG, &two, &out), 0);
	assert_int_equal(out.entries, 600);
	assert_int_equal(out.list_pages, 2);
	assert_int_equal(out.prp1, p[0].addr);
	assert_int_equal(out.prp2, list_phys[0]);
	/* 511 entries, then the pointer to the next list page */
	for (unsigned i = 0; i < 511; i++)
		assert_int_equal(list0[i], p[1 + i].addr);
	assert_int_equal(list0[511], list_phys[1]);
	/* the remaining 88 in the second page */
	for (unsigned i = 0; i < 88; i++)
		assert_int_equal(list1[i], p[512 + i].addr);
	assert_int_equal(list1[88], 0xeeeeeeeeeeeeeeeeull);
}

static void test_prp_full_list_page_needs_no_chain(void **state)
{
	(void)state;
	static struct nvme_piece p[513];
	struct nvme_prp out;

	for (unsigned i = 0; i < 513; i++)
		p[i] = (struct nvme_piece){0x10000000ull + 2ull * i * PG, PG};
	struct nvme_prp_pages one = lists(1);
	assert_int_equal(nvme_prp_build(p, 513, 513ull * PG, &one, &out), 0);
	assert_int_equal(out.list_pages, 1);
	assert_int_equal(list0[511], p[512].addr); /* data, not a chain pointer */
}

static void test_prp_unaligned_first_page(void **state)
{
	(void)state;
	struct nvme_prp_pages l = lists(1);
	struct nvme_prp out;

	/* 8 KiB from 0x200 into a page touches three pages */
	struct nvme_piece c[] = {{0x100200, 2 * PG}};
	assert_int_equal(nvme_prp_build(c, 1, 2 * PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100200);
	assert_int_equal(out.prp2, list_phys[0]);
	assert_int_equal(list0[0], 0x101000);
	assert_int_equal(list0[1], 0x102000);

	/* a first piece to its page's end, then whole pages, then a short last one */
	struct nvme_piece s[] = {{0x100200, PG - 0x200}, {0x300000, PG}, {0x500000, 0x200}};
	assert_int_equal(nvme_prp_fit(s, 3, 2 * PG, 1), 2 * PG);
	assert_int_equal(nvme_prp_build(s, 3, 2 * PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100200);
	assert_int_equal(list0[0], 0x300000);
	assert_int_equal(list0[1], 0x500000);

	/* 4 KiB unaligned: two entries, PRP2 the second page */
	struct nvme_piece u[] = {{0x100800, PG}};
	assert_int_equal(nvme_prp_build(u, 1, PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100800);
	assert_int_equal(out.prp2, 0x101000);

	/* not even dword aligned: nothing can be described, the driver bounces */
	struct nvme_piece odd[] = {{0x100001, PG}};
	assert_int_equal(nvme_prp_fit(odd, 1, PG, 1), 0);
	assert_int_equal(nvme_next_chunk(odd, 1, PG, 1u << 20, 512, 1), 0);
	assert_int_equal(nvme_prp_build(odd, 1, PG, &l, &out), -1);
}

static void test_prp_misaligned_middle_piece(void **state)
{
	(void)state;
	struct nvme_prp_pages l = lists(1);
	struct nvme_prp out;

	/* the second piece starts inside a page: not one command */
	struct nvme_piece p[] = {{0x100000, PG}, {0x200200, PG}};
	assert_int_equal(nvme_prp_build(p, 2, 2 * PG, &l, &out), -1);
	/* the first page can go alone, the rest is a new command's unaligned first entry */
	assert_int_equal(nvme_prp_fit(p, 2, 2 * PG, 1), PG);
	assert_int_equal(nvme_next_chunk(p, 2, 2 * PG, 1u << 20, 512, 1), PG);
	assert_int_equal(nvme_next_chunk(&p[1], 1, PG, 1u << 20, 512, 1), PG);

	/* a middle piece ending inside its page */
	struct nvme_piece q[] = {{0x100000, 0x800}, {0x300000, PG}};
	assert_int_equal(nvme_prp_build(q, 2, 0x800 + PG, &l, &out), -1);
	assert_int_equal(nvme_prp_fit(q, 2, 0x800 + PG, 1), 0x800);

	/* with 4 KiB blocks that prefix is less than one block: bounce */
	struct nvme_piece r[] = {{0x100000, 512}, {0x300000, PG - 512}};
	assert_int_equal(nvme_next_chunk(r, 2, PG, 1u << 20, 4096, 1), 0);
	/* with 512-byte blocks the first sector goes alone */
	assert_int_equal(nvme_next_chunk(r, 2, PG, 1u << 20, 512, 1), 512);
}

static void test_prp_contiguous_pieces_join(void **state)
{
	(void)state;
	struct nvme_prp_pages l = lists(1);
	struct nvme_prp out;

	/* sectors that are adjacent in host memory are one run, whatever the segments */
	struct nvme_piece p[] = {{0x100000, 512}, {0x100200, 3584}, {0x101000, 0x800}, {0x101800, 0x800}};
	assert_int_equal(nvme_prp_build(p, 4, 2 * PG, &l, &out), 0);
	assert_int_equal(out.prp1, 0x100000);
	assert_int_equal(out.prp2, 0x101000);
}

static void test_mdts(void **state)
{
	(void)state;
	assert_int_equal(nvme_max_transfer(0, 0, 1u << 20), 1u << 20); /* no limit */
	assert_int_equal(nvme_max_transfer(5, 0, 1u << 20), 128u << 10);
	assert_int_equal(nvme_max_transfer(7, 0, 1u << 20), 512u << 10); /* QEMU's */
	assert_int_equal(nvme_max_transfer(9, 0, 1u << 20), 1u << 20);
	assert_int_equal(nvme_max_transfer(5, 1, 1u << 20), 256u << 10);
	assert_int_equal(nvme_max_transfer(60, 0, 1u << 20), 1u << 20);
}

/* Drops the first `bytes` of p[0..*n) (test helper). */
static struct nvme_piece *drop_bytes(struct nvme_piece *p, unsigned *n, uint64_t bytes)
{
	while (bytes && *n) {
		if (bytes < p->len) {
			p->addr += bytes;
			p->len -= (uint32_t)bytes;
			return p;
		}
		bytes -= p->len;
		p++;
		(*n)--;
	}
	return p;
}

static void test_mdts_split(void **state)
{
	(void)state;
	static struct nvme_piece p[601];
	uint64_t max = nvme_max_transfer(7, 0, 1u << 20), left = 600ull * PG;
	uint64_t expect[] = {128 * PG, 128 * PG, 128 * PG, 128 * PG, 88 * PG};
	unsigned n = 601, cmds = 0;
	struct nvme_piece *cur = p;
	struct nvme_prp out;

	/* 600 pages starting 0x200 into a page: each 512 KiB command spans 129 pages */
	p[0] = (struct nvme_piece){0x10000200, PG - 0x200};
	for (unsigned i = 1; i < 600; i++)
		p[i] = (struct nvme_piece){0x10000000ull + 2ull * i * PG, PG};
	p[600] = (struct nvme_piece){0x10000000ull + 1200ull * PG, 0x200};

	while (left) {
		uint64_t chunk = nvme_next_chunk(cur, n, left, max, 512, 1);
		assert_true(cmds < 5);
		assert_int_equal(chunk, expect[cmds]);
		struct nvme_prp_pages l = lists(1);
		assert_int_equal(nvme_prp_build(cur, n, chunk, &l, &out), 0);
		assert_int_equal(out.entries, chunk / PG + 1);
		assert_int_equal(out.prp1 & (PG - 1), 0x200);
		cur = drop_bytes(cur, &n, chunk);
		left -= chunk;
		cmds++;
	}
	assert_int_equal(cmds, 5);
	assert_int_equal(n, 0);

	/* a limit that is not a block multiple is rounded down to blocks */
	struct nvme_piece c[] = {{0x100000, 16 * PG}};
	assert_int_equal(nvme_next_chunk(c, 1, 16 * PG, 5 * PG + 100, 4096, 1), 5 * PG);
}

/* ---- segments to pieces ---- */

/* Guest pages 0..63 at 0x10000..; host: pages 0..15 contiguous, the rest scattered, 40 not RAM. */
static uint64_t fake_dma(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	uint64_t page = (gpa - 0x10000) / PG, off = gpa % PG;
	assert_true(len > 0 && off + len <= PG); /* the driver asks page by page */
	if (gpa < 0x10000 || page >= 64 || page == 40)
		return 0;
	if (page < 16)
		return 0x800000 + page * PG + off;
	return 0x900000 + page * 2 * PG + off;
}

static const struct blk_guest_mem mem = {.dma_addr = fake_dma};

static void test_gather(void **state)
{
	(void)state;
	struct nvme_piece out[8];
	unsigned n;

	/* one segment over guest pages 1..4: contiguous in the host, one piece */
	struct blk_seg a[] = {{0x11000, 4 * PG}};
	struct nvme_cursor c = {0, 0};
	assert_int_equal(nvme_gather(a, 1, c, 4 * PG, &mem, out, 8, &n), 4 * PG);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].addr, 0x801000);
	assert_int_equal(out[0].len, 4 * PG);

	/* scattered host pages, from a cursor inside the first segment */
	struct blk_seg b[] = {{0x20000, 2 * PG}, {0x30000 + 0x200, 0x400}};
	c = (struct nvme_cursor){0, 0x800};
	assert_int_equal(nvme_gather(b, 2, c, 2 * PG, &mem, out, 8, &n), 2 * PG - 0x800 + 0x400);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].addr, 0x900000 + 16 * 2 * PG + 0x800);
	assert_int_equal(out[0].len, PG - 0x800);
	assert_int_equal(out[1].addr, 0x900000 + 17 * 2 * PG);
	assert_int_equal(out[2].addr, 0x900000 + 32 * 2 * PG + 0x200);
	assert_int_equal(out[2].len, 0x400);

	/* stops at a page that is not RAM */
	struct blk_seg d[] = {{0x10000 + 39 * PG, 3 * PG}};
	c = (struct nvme_cursor){0, 0};
	assert_int_equal(nvme_gather(d, 1, c, 3 * PG, &mem, out, 8, &n), PG);
	c.off = PG;
	assert_int_equal(nvme_gather(d, 1, c, 2 * PG, &mem, out, 8, &n), 0);
	assert_int_equal(n, 0);

	/* stops when the pieces are full; want limits too */
	struct blk_seg e[] = {{0x10000 + 16 * PG, 8 * PG}};
	c = (struct nvme_cursor){0, 0};
	assert_int_equal(nvme_gather(e, 1, c, 8 * PG, &mem, out, 3, &n), 3 * PG);
	assert_int_equal(nvme_gather(e, 1, c, PG + 512, &mem, out, 8, &n), PG + 512);
	assert_int_equal(out[1].len, 512);

	/* no dma_addr: everything bounces */
	static const struct blk_guest_mem none = {0};
	assert_int_equal(nvme_gather(a, 1, c, PG, &none, out, 8, &n), 0);
}

static void test_cursor_advance(void **state)
{
	(void)state;
	struct blk_seg s[] = {{0x1000, 512}, {0x3000, 1024}, {0x8000, 4096}};
	struct nvme_cursor c = {0, 0};

	nvme_cursor_advance(s, 3, &c, 256);
	assert_int_equal(c.seg, 0);
	assert_int_equal(c.off, 256);
	nvme_cursor_advance(s, 3, &c, 256);
	assert_int_equal(c.seg, 1);
	assert_int_equal(c.off, 0);
	nvme_cursor_advance(s, 3, &c, 1024 + 100);
	assert_int_equal(c.seg, 2);
	assert_int_equal(c.off, 100);
	nvme_cursor_advance(s, 3, &c, 1u << 20);
	assert_int_equal(c.seg, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sq_full_and_wrap),
		cmocka_unit_test(test_sq_head_only_what_was_handed_over),
		cmocka_unit_test(test_cq_phase_flips_on_wrap),
		cmocka_unit_test(test_cid_reuse),
		cmocka_unit_test(test_cid_large_pool),
		cmocka_unit_test(test_prp_one_page),
		cmocka_unit_test(test_prp_two_pages),
		cmocka_unit_test(test_prp_three_pages),
		cmocka_unit_test(test_prp_600_pages_chained),
		cmocka_unit_test(test_prp_full_list_page_needs_no_chain),
		cmocka_unit_test(test_prp_unaligned_first_page),
		cmocka_unit_test(test_prp_misaligned_middle_piece),
		cmocka_unit_test(test_prp_contiguous_pieces_join),
		cmocka_unit_test(test_mdts),
		cmocka_unit_test(test_mdts_split),
		cmocka_unit_test(test_gather),
		cmocka_unit_test(test_cursor_advance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

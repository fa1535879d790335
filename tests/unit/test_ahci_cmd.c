// SOURCES: drivers/ahci/ahci_cmd.c kernel/lib/format.c kernel/lib/string.c
/*
 * The AHCI driver's pure logic: the FISes it sends, the command headers and
 * PRDTs it builds from host pages, how a request is cut into commands (and
 * when it bounces), IDENTIFY parsing, and the lines it prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/ahci/ahci_cmd.h"

/* ---- FISes ---- */

static void test_fis_read_write(void **state)
{
	(void)state;
	uint8_t fis[20];
	memset(fis, 0xcc, sizeof(fis));
	assert_true(ahci_fis_rw_dma_ext(fis, false, 0x123456789abcull, 8));
	const uint8_t want[20] = {0x27, 0x80, 0x25, 0,	  0xbc, 0x9a, 0x78, 0x40, 0x56, 0x34,
				  0x12, 0,    8,    0,	  0,	0,    0,    0,	  0,	0};
	assert_memory_equal(fis, want, 20);

	assert_true(ahci_fis_rw_dma_ext(fis, true, 0, 65536));
	assert_int_equal(fis[2], 0x35);
	assert_int_equal(fis[12], 0); /* 65536 as 0 */
	assert_int_equal(fis[13], 0);
	assert_true(ahci_fis_rw_dma_ext(fis, true, 7, 0x1234));
	assert_int_equal(fis[12], 0x34);
	assert_int_equal(fis[13], 0x12);

	/* what 48 bits cannot say */
	assert_false(ahci_fis_rw_dma_ext(fis, false, 0, 0));
	assert_false(ahci_fis_rw_dma_ext(fis, false, 0, 65537));
	assert_false(ahci_fis_rw_dma_ext(fis, false, 1ull << 48, 1));
	assert_false(ahci_fis_rw_dma_ext(fis, false, (1ull << 48) - 1, 2));
	assert_true(ahci_fis_rw_dma_ext(fis, false, (1ull << 48) - 1, 1));
}

static void test_fis_other_commands(void **state)
{
	(void)state;
	uint8_t fis[20];
	ahci_fis_flush_ext(fis);
	assert_int_equal(fis[0], 0x27);
	assert_int_equal(fis[1], 0x80);
	assert_int_equal(fis[2], 0xea);
	for (int i = 3; i < 20; i++)
		assert_int_equal(fis[i], 0);
	ahci_fis_identify(fis);
	assert_int_equal(fis[2], 0xec);
	assert_int_equal(fis[7], 0);

	assert_true(ahci_fis_fpdma(fis, true, 0x10203, 0x0102, 5, true));
	assert_int_equal(fis[2], 0x61);
	assert_int_equal(fis[3], 0x02); /* count in the features */
	assert_int_equal(fis[11], 0x01);
	assert_int_equal(fis[12], 5 << 3); /* tag */
	assert_int_equal(fis[7], 0xc0);	   /* LBA | FUA */
	assert_int_equal(fis[4], 0x03);
	assert_int_equal(fis[5], 0x02);
	assert_int_equal(fis[6], 0x01);
	assert_true(ahci_fis_fpdma(fis, false, 0, 1, 31, false));
	assert_int_equal(fis[2], 0x60);
	assert_int_equal(fis[7], 0x40);
	assert_false(ahci_fis_fpdma(fis, false, 0, 1, 32, false));
}

static void test_cmd_header(void **state)
{
	(void)state;
	struct ahci_cmd_header h;
	memset(&h, 0xff, sizeof(h));
	ahci_cmd_header_set(&h, 0x123456780ull, true, 3);
	assert_int_equal(h.dw0, 5 | (1 << 6) | (3 << 16));
	assert_int_equal(h.prdbc, 0);
	assert_int_equal(h.ctba, 0x23456780);
	assert_int_equal(h.ctbau, 0x1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(h.reserved[i], 0);
	ahci_cmd_header_set(&h, 0x1000, false, 0);
	assert_int_equal(h.dw0, 5);
	assert_int_equal(AHCI_PRDT_ENTRIES, 248);
}

/* ---- PRDT ---- */

static void test_prdt_merge_and_split(void **state)
{
	(void)state;
	struct ahci_prd prd[8];
	struct ahci_prdt t;
	ahci_prdt_init(&t, prd, 8, true);

	assert_int_equal(ahci_prdt_add(&t, 0x10000, 0x1000), AHCI_PRDT_OK);
	assert_int_equal(ahci_prdt_add(&t, 0x11000, 0x1000), AHCI_PRDT_OK); /* continues */
	assert_int_equal(t.n, 1);
	assert_int_equal(prd[0].dba, 0x10000);
	assert_int_equal(prd[0].dbc, 0x1fff);
	assert_int_equal(ahci_prdt_add(&t, 0x20000, 0x200), AHCI_PRDT_OK); /* does not */
	assert_int_equal(t.n, 2);
	assert_int_equal(prd[1].dbc, 0x1ff);
	assert_int_equal(t.bytes, 0x2200);
	assert_int_equal(ahci_prdt_add(&t, 0, 0), AHCI_PRDT_OK);
	assert_int_equal(t.n, 2);

	/* 4 MiB per entry at most: 9 MiB continuing the last entry fill it, then split */
	ahci_prdt_init(&t, prd, 8, true);
	assert_int_equal(ahci_prdt_add(&t, 0x100000000ull, 0x1000), AHCI_PRDT_OK);
	assert_int_equal(ahci_prdt_add(&t, 0x100001000ull, 9u << 20), AHCI_PRDT_OK);
	assert_int_equal(t.n, 3);
	assert_int_equal(prd[0].dbc, (4u << 20) - 1);
	assert_int_equal(prd[0].dbau, 1);
	assert_int_equal(prd[1].dba, 0x00400000);
	assert_int_equal(prd[1].dbau, 1);
	assert_int_equal(prd[1].dbc, (4u << 20) - 1);
	assert_int_equal(prd[2].dba, 0x00800000);
	assert_int_equal(prd[2].dbc, (1u << 20) + 0x1000 - 1);
	assert_int_equal(t.bytes, (9u << 20) + 0x1000);
	for (unsigned i = 0; i < t.n; i++) {
		assert_int_equal(prd[i].dbc & 1, 1); /* even counts */
		assert_int_equal(prd[i].reserved, 0);
	}
}

static void test_prdt_limits(void **state)
{
	(void)state;
	struct ahci_prd prd[2];
	struct ahci_prdt t;
	ahci_prdt_init(&t, prd, 2, false);

	/* odd addresses and lengths cannot be expressed */
	assert_int_equal(ahci_prdt_add(&t, 0x1001, 0x200), AHCI_PRDT_BOUNCE);
	assert_int_equal(ahci_prdt_add(&t, 0x1000, 0x201), AHCI_PRDT_BOUNCE);
	/* above 4 GiB without S64A */
	assert_int_equal(ahci_prdt_add(&t, 0x100000000ull, 0x200), AHCI_PRDT_BOUNCE);
	assert_int_equal(ahci_prdt_add(&t, 0xfffff000ull, 0x2000), AHCI_PRDT_BOUNCE);
	assert_int_equal(ahci_prdt_add(&t, 0xfffff000ull, 0x1000), AHCI_PRDT_OK);
	assert_int_equal(t.n, 1);

	/* full: all or nothing */
	assert_int_equal(ahci_prdt_add(&t, 0x10000, 0x1000), AHCI_PRDT_OK);
	assert_int_equal(ahci_prdt_add(&t, 0x20000, 0x1000), AHCI_PRDT_FULL);
	assert_int_equal(ahci_prdt_add(&t, 0x11000, (8u << 20)), AHCI_PRDT_FULL);
	assert_int_equal(t.n, 2);
	assert_int_equal(prd[1].dbc, 0xfff);
	assert_int_equal(t.bytes, 0x2000);
	/* but a continuation of the last entry still fits */
	assert_int_equal(ahci_prdt_add(&t, 0x11000, 0x1000), AHCI_PRDT_OK);
	assert_int_equal(prd[1].dbc, 0x1fff);

	/* trimming shortens the last entry, then drops whole ones */
	ahci_prdt_trim(&t, 0x800);
	assert_int_equal(t.n, 2);
	assert_int_equal(prd[1].dbc, 0x17ff);
	assert_int_equal(t.bytes, 0x2800);
	ahci_prdt_trim(&t, 0x1800);
	assert_int_equal(t.n, 1);
	assert_int_equal(prd[0].dbc, 0xfff);
	assert_int_equal(t.bytes, 0x1000);
	ahci_prdt_trim(&t, 0x10000);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.bytes, 0);
}

/* ---- requests cut into commands ---- */

/*
 * Guest RAM: GPA 0x100000.. (1 MiB). Page k lives at host 0x40000000 + map[k]
 * * 4096; map[k] < 0 means the page cannot be DMA'd to (dma_addr says 0).
 */
#define G_BASE 0x100000ull
#define G_PAGES 256
static int map[G_PAGES];
static uint8_t gram[G_PAGES * 4096];
static int dma_calls;

static uint64_t fake_dma(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	dma_calls++;
	assert_true(len > 0 && len <= 4096);
	assert_true((gpa & ~4095ull) == ((gpa + len - 1) & ~4095ull)); /* within a page */
	if (gpa < G_BASE || gpa + len > G_BASE + G_PAGES * 4096ull)
		return 0;
	int k = (int)((gpa - G_BASE) / 4096);
	if (map[k] < 0)
		return 0;
	return 0x40000000ull + (uint64_t)map[k] * 4096 + (gpa & 4095);
}

static int fake_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (gpa < G_BASE || gpa + len > G_BASE + sizeof(gram))
		return -1;
	memcpy(dst, gram + (gpa - G_BASE), len);
	return 0;
}

static int fake_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	if (gpa < G_BASE || gpa + len > G_BASE + sizeof(gram))
		return -1;
	memcpy(gram + (gpa - G_BASE), src, len);
	return 0;
}

static struct blk_guest_mem gmem = {fake_read, fake_write, fake_dma, NULL};

static int setup_map(void **state)
{
	(void)state;
	for (int k = 0; k < G_PAGES; k++)
		map[k] = k; /* contiguous */
	dma_calls = 0;
	gmem.dma_addr = fake_dma;
	return 0;
}

static struct blk_request req(enum blk_op op, const struct blk_seg *segs, unsigned n)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += segs[i].len;
	return (struct blk_request){.op = op, .nsectors = total / 512, .segs = segs, .nseg = n,
				    .mem = &gmem};
}

static void test_chunk_contiguous_merges(void **state)
{
	(void)state;
	struct blk_seg segs[] = {{G_BASE, 64 * 1024}};
	struct blk_request r = req(BLK_OP_READ, segs, 1);
	struct ahci_prd prd[AHCI_PRDT_ENTRIES];
	struct ahci_prdt t;
	struct ahci_pos pos = {0};
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	struct ahci_chunk c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_false(c.bounce);
	assert_int_equal(c.bytes, 64 * 1024);
	assert_int_equal(t.n, 1); /* 16 host-contiguous pages: one entry */
	assert_int_equal(prd[0].dba, 0x40000000);
	assert_int_equal(prd[0].dbc, 64 * 1024 - 1);
	assert_int_equal(dma_calls, 16);
	ahci_pos_advance(&r, &pos, c.bytes);
	assert_int_equal(pos.done, 64 * 1024);
	assert_int_equal(pos.seg, 1);
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_int_equal(c.bytes, 0); /* nothing left */
}

static void test_chunk_scattered_pages_and_max(void **state)
{
	(void)state;
	for (int k = 0; k < G_PAGES; k++)
		map[k] = (k * 7) % G_PAGES; /* no two neighbours adjacent */
	/* a segment starting mid-page: pieces end at page boundaries */
	struct blk_seg segs[] = {{G_BASE + 0x800, 0x3000}, {G_BASE + 0x10000, 0x1000}};
	struct blk_request r = req(BLK_OP_WRITE, segs, 2);
	struct ahci_prd prd[AHCI_PRDT_ENTRIES];
	struct ahci_prdt t;
	struct ahci_pos pos = {0};
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	struct ahci_chunk c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_int_equal(c.bytes, 0x4000);
	assert_int_equal(t.n, 5); /* 0x800 + 0x1000 + 0x1000 + 0x800, then the second segment */
	assert_int_equal(prd[0].dba, 0x40000800);
	assert_int_equal(prd[0].dbc, 0x7ff);
	assert_int_equal(prd[1].dba, 0x40000000 + 7 * 4096);
	assert_int_equal(prd[3].dbc, 0x7ff);
	assert_int_equal(prd[4].dba, 0x40000000 + ((16 * 7) % G_PAGES) * 4096);

	/* max_bytes ends the command early, on a block boundary */
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 4096, 0x2000, 65536, &t);
	assert_int_equal(c.bytes, 0x2000);
	assert_int_equal(t.bytes, 0x2000);
	ahci_pos_advance(&r, &pos, c.bytes);
	assert_int_equal(pos.seg, 0);
	assert_int_equal(pos.off, 0x2000);
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 4096, 1 << 20, 65536, &t);
	assert_int_equal(c.bytes, 0x2000); /* the rest: 0x1000 of seg 0 and seg 1 */
	assert_int_equal(t.n, 3);
}

static void test_chunk_full_table_ends_on_block(void **state)
{
	(void)state;
	for (int k = 0; k < G_PAGES; k++)
		map[k] = (k * 7) % G_PAGES;
	/* 4096-byte blocks made of 1 KiB pieces in pages far apart: 3 PRDs fit, a block needs 4 */
	struct blk_seg segs[12];
	for (int i = 0; i < 12; i++)
		segs[i] = (struct blk_seg){G_BASE + (uint64_t)i * 4096, 1024};
	struct blk_request r = req(BLK_OP_READ, segs, 12);
	struct ahci_prd prd[6];
	struct ahci_prdt t;
	struct ahci_pos pos = {0};
	ahci_prdt_init(&t, prd, 6, true);
	struct ahci_chunk c = ahci_map_chunk(&r, &pos, 4096, 1 << 20, 65536, &t);
	/* 6 entries hold one whole block and half of the next: cut back to one block */
	assert_false(c.bounce);
	assert_int_equal(c.bytes, 4096);
	assert_int_equal(t.n, 4);
	assert_int_equal(t.bytes, 4096);

	/* a table too small for one block: bounce */
	ahci_prdt_init(&t, prd, 3, true);
	c = ahci_map_chunk(&r, &pos, 4096, 1 << 20, 8192, &t);
	assert_true(c.bounce);
	assert_int_equal(c.bytes, 8192);
	assert_int_equal(t.n, 0);
}

static void test_chunk_unmappable_bounces(void **state)
{
	(void)state;
	map[2] = -1; /* page 2 cannot be DMA'd */
	struct blk_seg segs[] = {{G_BASE, 0x4000}};
	struct blk_request r = req(BLK_OP_READ, segs, 1);
	struct ahci_prd prd[AHCI_PRDT_ENTRIES];
	struct ahci_prdt t;
	struct ahci_pos pos = {0};
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	struct ahci_chunk c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_false(c.bounce);
	assert_int_equal(c.bytes, 0x2000); /* in place up to the page that cannot be */
	assert_int_equal(t.n, 1);
	ahci_pos_advance(&r, &pos, c.bytes);
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_true(c.bounce); /* it bounces, with the rest of the request */
	assert_int_equal(c.bytes, 0x2000);

	/* odd guest segments bounce: the HBA moves words */
	setup_map(NULL);
	struct blk_seg odd[] = {{G_BASE + 1, 511}, {G_BASE + 0x1000, 1}};
	r = req(BLK_OP_WRITE, odd, 2);
	pos = (struct ahci_pos){0};
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_true(c.bounce);
	assert_int_equal(c.bytes, 512);

	/* no dma_addr at all: always bounce, at most the bounce buffer's size */
	gmem.dma_addr = NULL;
	struct blk_seg big[] = {{G_BASE, 0x30000}};
	r = req(BLK_OP_READ, big, 1);
	pos = (struct ahci_pos){0};
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_true(c.bounce);
	assert_int_equal(c.bytes, 65536);
	gmem.dma_addr = fake_dma;

	/* guest RAM above 4 GiB on an HBA without S64A bounces too */
	for (int k = 0; k < G_PAGES; k++)
		map[k] = k + (int)(0xc0000000ull / 4096); /* host 0x1_0000_0000 and up */
	pos = (struct ahci_pos){0};
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, false);
	c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_true(c.bounce);
	ahci_prdt_init(&t, prd, AHCI_PRDT_ENTRIES, true);
	c = ahci_map_chunk(&r, &pos, 512, 1 << 20, 65536, &t);
	assert_false(c.bounce);
	assert_int_equal(c.bytes, 0x30000);
}

static void test_bounce_copy(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(gram); i++)
		gram[i] = (uint8_t)(i * 13);
	struct blk_seg segs[] = {{G_BASE + 3, 500}, {G_BASE + 0x2001, 12}, {G_BASE + 0x5000, 512}};
	struct blk_request r = req(BLK_OP_WRITE, segs, 3);
	struct ahci_pos pos = {0};
	uint8_t buf[1024];
	assert_int_equal(ahci_bounce_copy(&r, &pos, buf, 1024, false), 0);
	assert_memory_equal(buf, gram + 3, 500);
	assert_memory_equal(buf + 500, gram + 0x2001, 12);
	assert_memory_equal(buf + 512, gram + 0x5000, 512);

	/* from the middle, back into guest memory */
	ahci_pos_advance(&r, &pos, 512);
	assert_int_equal(pos.seg, 2);
	assert_int_equal(pos.off, 0);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ahci_bounce_copy(&r, &pos, buf, 512, true), 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(gram[0x5000 + i], 0xee);
	/* past the segments, or not guest RAM: -1 */
	assert_int_equal(ahci_bounce_copy(&r, &pos, buf, 1024, true), -1);
	struct blk_seg bad[] = {{0x10, 512}};
	r = req(BLK_OP_READ, bad, 1);
	pos = (struct ahci_pos){0};
	assert_int_equal(ahci_bounce_copy(&r, &pos, buf, 512, true), -1);
}

/* ---- IDENTIFY ---- */

static void put_word(uint8_t *buf, unsigned w, uint16_t v)
{
	buf[2 * w] = (uint8_t)v;
	buf[2 * w + 1] = (uint8_t)(v >> 8);
}

static void put_string(uint8_t *buf, unsigned w, unsigned words, const char *s)
{
	char padded[80];
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, s, strlen(s));
	for (unsigned i = 0; i < words; i++)
		put_word(buf, w + i, (uint16_t)((uint8_t)padded[2 * i] << 8 | (uint8_t)padded[2 * i + 1]));
}

static void checksum(uint8_t *buf)
{
	put_word(buf, 255, 0xa5);
	uint8_t sum = 0;
	for (int i = 0; i < 511; i++)
		sum = (uint8_t)(sum + buf[i]);
	buf[511] = (uint8_t)-sum;
}

/* What QEMU's ide-hd answers for a 64 MiB image, in the fields parsed. */
static void qemu_identify(uint8_t *buf)
{
	memset(buf, 0, 512);
	put_word(buf, 0, 0x0040);
	put_string(buf, 10, 10, "QM00001");
	put_string(buf, 23, 4, "2.5+");
	put_string(buf, 27, 20, "QEMU HARDDISK");
	put_word(buf, 49, 1 << 8 | 1 << 9);
	put_word(buf, 60, (uint16_t)131072);
	put_word(buf, 61, (uint16_t)(131072 >> 16));
	put_word(buf, 75, 31);
	put_word(buf, 76, 1 << 8);
	put_word(buf, 82, 1 << 14 | 1 << 5);
	put_word(buf, 83, 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10);
	put_word(buf, 85, 1 << 14 | 1 << 5);
	put_word(buf, 86, 1 << 13 | 1 << 12 | 1 << 10);
	put_word(buf, 87, 1 << 14);
	put_word(buf, 100, (uint16_t)131072);
	put_word(buf, 101, (uint16_t)(131072 >> 16));
	put_word(buf, 106, 1 << 14);
	checksum(buf);
}

static void test_identify_qemu_disk(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct ata_identity id;
	char err[128] = "";
	qemu_identify(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_string_equal(id.model, "QEMU HARDDISK");
	assert_string_equal(id.serial, "QM00001");
	assert_string_equal(id.firmware, "2.5+");
	assert_true(id.ata);
	assert_true(id.dma);
	assert_true(id.lba48);
	assert_true(id.flush_ext);
	assert_int_equal(id.sectors, 131072);
	assert_int_equal(id.logical_size, 512);
	assert_int_equal(id.physical_size, 512);
	assert_true(id.write_cache);
	assert_true(id.write_cache_on);
	assert_true(id.ncq);
	assert_int_equal(id.queue_depth, 32);
	assert_true(id.checksum);
	assert_int_equal(ata_identity_usable(&id, err, sizeof(err)), 0);
	assert_int_equal(ata_identity_sectors512(&id), 131072);

	char line[200];
	ahci_disk_line(line, sizeof(line), "sda", &id, 2, "ahci0", "MSI");
	assert_string_equal(line, "sda: QEMU HARDDISK (serial QM00001), 64.0 MiB, 512-byte "
				  "sectors, write cache: yes, port 2 of ahci0 (MSI)");
}

static void test_identify_4k_and_strings(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct ata_identity id;
	char err[128] = "";
	qemu_identify(buf);
	/* leading blanks (as real serials have), odd bytes, 4 KiB logical on 4 KiB physical */
	put_string(buf, 10, 10, "    WD-123 ");
	buf[2 * 27 + 1] = 0x01; /* the model's first character: not printable */
	put_word(buf, 106, 1 << 14 | 1 << 12);
	put_word(buf, 117, 2048); /* words */
	put_word(buf, 118, 0);
	put_word(buf, 100, 1000);
	put_word(buf, 101, 0);
	/* write cache supported, off; no NCQ */
	put_word(buf, 85, 1 << 14);
	put_word(buf, 76, 0);
	checksum(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_string_equal(id.serial, "WD-123");
	assert_string_equal(id.model, "?EMU HARDDISK");
	assert_int_equal(id.logical_size, 4096);
	assert_int_equal(id.physical_size, 4096);
	assert_int_equal(id.sectors, 1000);
	assert_int_equal(ata_identity_sectors512(&id), 8000);
	assert_true(id.write_cache);
	assert_false(id.write_cache_on);
	assert_false(id.ncq);
	assert_int_equal(ata_identity_usable(&id, err, sizeof(err)), 0);
	char line[200];
	ahci_disk_line(line, sizeof(line), "sdb", &id, 0, "ahci1", "polling");
	assert_string_equal(line, "sdb: ?EMU HARDDISK (serial WD-123), 3.9 MiB, 4096-byte "
				  "sectors, write cache: off, port 0 of ahci1 (polling)");

	/* 512 logical on 4096 physical (512e) */
	put_word(buf, 106, 1 << 14 | 1 << 13 | 3);
	checksum(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_int_equal(id.logical_size, 512);
	assert_int_equal(id.physical_size, 4096);
	ahci_disk_line(line, sizeof(line), "sdb", &id, 0, "ahci1", "MSI");
	assert_non_null(strstr(line, "512-byte sectors (4096-byte physical)"));

	/* word 106 not valid: 512 */
	put_word(buf, 106, 0xffff);
	checksum(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_int_equal(id.logical_size, 512);
}

static void test_identify_refusals(void **state)
{
	(void)state;
	uint8_t buf[512];
	struct ata_identity id;
	char err[128] = "";

	qemu_identify(buf);
	buf[100] ^= 1; /* checksum no longer adds up */
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "checksum"));

	memset(buf, 0, sizeof(buf));
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), -1);
	assert_string_equal(err, "IDENTIFY data is all zeros");
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), -1);

	/* no checksum signature: not checked */
	qemu_identify(buf);
	put_word(buf, 255, 0);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_false(id.checksum);

	/* no LBA48: capacity from words 60-61, and the driver refuses it */
	put_word(buf, 83, 1 << 14);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_false(id.lba48);
	assert_false(id.flush_ext);
	assert_int_equal(id.sectors, 131072);
	assert_int_equal(ata_identity_usable(&id, err, sizeof(err)), -1);
	assert_string_equal(err, "no 48-bit addressing (LBA48)");

	/* words 82-84 not valid: nothing read from them */
	put_word(buf, 83, 0xffff);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_false(id.lba48);
	assert_false(id.write_cache);
	assert_false(id.write_cache_on);

	qemu_identify(buf);
	put_word(buf, 0, 0x8580); /* ATAPI */
	checksum(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_int_equal(ata_identity_usable(&id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an ATA device"));

	qemu_identify(buf);
	put_word(buf, 106, 1 << 14 | 1 << 12);
	put_word(buf, 117, 260); /* 520-byte sectors */
	checksum(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_int_equal(ata_identity_usable(&id, err, sizeof(err)), -1);
	assert_string_equal(err, "520-byte logical sectors (512 and 4096 are supported)");

	qemu_identify(buf);
	put_word(buf, 49, 0);
	checksum(buf);
	assert_int_equal(ata_identify_parse(buf, &id, err, sizeof(err)), 0);
	assert_int_equal(ata_identity_usable(&id, err, sizeof(err)), -1);
	assert_string_equal(err, "no DMA");
}

/* ---- errors and text ---- */

static void test_error_suspects(void **state)
{
	(void)state;
	/* a device error: every issued slot, cleared from PxCI or not */
	assert_int_equal(ahci_error_suspects(0x0f, 0x0c, false), 0x0f);
	assert_int_equal(ahci_error_suspects(0x10, 0, false), 0x10);
	/* a timeout: those still in PxCI */
	assert_int_equal(ahci_error_suspects(0x0f, 0x0c, true), 0x0c);
	assert_int_equal(ahci_error_suspects(0x0f, 0xf0, true), 0);
}

static void test_error_names_and_ratelimit(void **state)
{
	(void)state;
	char buf[64];
	ata_error_names(0x04, buf, sizeof(buf));
	assert_string_equal(buf, "ABRT");
	ata_error_names(0x51, buf, sizeof(buf));
	assert_string_equal(buf, "AMNF IDNF UNC");
	ata_error_names(0, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	ata_error_names(0xff, buf, 8);
	assert_string_equal(buf, "AMNF NM");

	struct ahci_ratelimit rl = {0};
	uint64_t sup;
	assert_true(ahci_ratelimit_ok(&rl, 100, 1000, &sup));
	assert_int_equal(sup, 0);
	assert_false(ahci_ratelimit_ok(&rl, 200, 1000, &sup));
	assert_false(ahci_ratelimit_ok(&rl, 300, 1000, &sup));
	assert_int_equal(ahci_ratelimit_flush(&rl, 900, 1000), 0); /* not yet a second */
	assert_true(ahci_ratelimit_ok(&rl, 1100, 1000, &sup));
	assert_int_equal(sup, 2);
	assert_false(ahci_ratelimit_ok(&rl, 1200, 1000, &sup));
	assert_int_equal(ahci_ratelimit_flush(&rl, 2100, 1000), 1);
	assert_int_equal(ahci_ratelimit_flush(&rl, 9000, 1000), 0);
	/* the first error at time 0 is printed too */
	struct ahci_ratelimit z = {0};
	assert_true(ahci_ratelimit_ok(&z, 0, 1000, &sup));
}

static void test_sizes(void **state)
{
	(void)state;
	char buf[32];
	ahci_size_str(buf, sizeof(buf), 512);
	assert_string_equal(buf, "512 B");
	ahci_size_str(buf, sizeof(buf), 64ull << 20);
	assert_string_equal(buf, "64.0 MiB");
	ahci_size_str(buf, sizeof(buf), 1536);
	assert_string_equal(buf, "1.5 KiB");
	ahci_size_str(buf, sizeof(buf), 2000398934016ull); /* a "2 TB" disk */
	assert_string_equal(buf, "1.8 TiB");
	ahci_size_str(buf, sizeof(buf), 0x1999999999999999ull);
	assert_string_equal(buf, "1.5 EiB");
	ahci_size_str(buf, sizeof(buf), UINT64_MAX);
	assert_string_equal(buf, "15.9 EiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fis_read_write),
		cmocka_unit_test(test_fis_other_commands),
		cmocka_unit_test(test_cmd_header),
		cmocka_unit_test(test_prdt_merge_and_split),
		cmocka_unit_test(test_prdt_limits),
		cmocka_unit_test_setup(test_chunk_contiguous_merges, setup_map),
		cmocka_unit_test_setup(test_chunk_scattered_pages_and_max, setup_map),
		cmocka_unit_test_setup(test_chunk_full_table_ends_on_block, setup_map),
		cmocka_unit_test_setup(test_chunk_unmappable_bounces, setup_map),
		cmocka_unit_test_setup(test_bounce_copy, setup_map),
		cmocka_unit_test(test_identify_qemu_disk),
		cmocka_unit_test(test_identify_4k_and_strings),
		cmocka_unit_test(test_identify_refusals),
		cmocka_unit_test(test_error_suspects),
		cmocka_unit_test(test_error_names_and_ratelimit),
		cmocka_unit_test(test_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Fuzz target for the GPT reader (kernel/blk/gpt.c): the input is a disk,
 * sparse: its block size and length, which block fails to read, and the
 * bytes of its first and last blocks (where both copies of a table live);
 * every other block reads as zeroes. Whatever the bytes, gpt_read answers
 * with one of its four results, reads only blocks of the disk, and an OK
 * table keeps its promises: partitions inside the usable range, first <=
 * last, none overlapping, names terminated.
 *
 * Input: [0] bit0: 4096-byte blocks, [1..2] blocks - 6 (u16), [3..4] the
 * block that fails (u16; 0xffff: none), [5..6] head length (u16), then the
 * head's bytes (the disk's start), then the tail's (the disk's end).
 */
#include "tests/fuzz/fuzz_guest.h"

#include "kernel/blk/gpt.h"

#define PREFIX 7

struct sparse_disk {
	uint64_t blocks;
	uint32_t bs;
	uint32_t fail;
	const uint8_t *head, *tail;
	size_t head_len, tail_len;
};

static int disk_read(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	const struct sparse_disk *d = ctx;
	uint64_t bytes = d->blocks * d->bs;

	CHECK(count >= 1 && lba < d->blocks && count <= d->blocks - lba); /* only the disk's */
	if (lba <= d->fail && d->fail < lba + count)
		return -1;
	for (uint64_t i = 0; i < (uint64_t)count * d->bs; i++) {
		uint64_t at = lba * d->bs + i;
		uint8_t v = 0;

		if (at < d->head_len)
			v = d->head[at];
		else if (at >= bytes - d->tail_len)
			v = d->tail[at - (bytes - d->tail_len)];
		((uint8_t *)buf)[i] = v;
	}
	return 0;
}

static struct gpt_table table;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sparse_disk d;
	char why[160];

	if (size < PREFIX)
		return 0;
	d.bs = data[0] & 1 ? 4096 : 512;
	d.blocks = 6 + (uint64_t)(data[1] | data[2] << 8);
	d.fail = data[3] | data[4] << 8;
	if (d.fail == 0xffff)
		d.fail = UINT32_MAX;
	d.head_len = (size_t)(data[5] | data[6] << 8);
	if (d.head_len > size - PREFIX)
		d.head_len = size - PREFIX;
	d.head = data + PREFIX;
	d.tail = d.head + d.head_len;
	d.tail_len = size - PREFIX - d.head_len;
	if (d.head_len + d.tail_len > d.blocks * d.bs)
		return 0;

	memset(why, 0x55, sizeof(why));
	enum gpt_result r = gpt_read(disk_read, &d, d.blocks, d.bs, &table, why, sizeof(why));
	CHECK(r == GPT_OK || r == GPT_NONE || r == GPT_BAD || r == GPT_IOERR);
	CHECK(memchr(why, 0, sizeof(why)) != NULL);
	if (r != GPT_OK) {
		CHECK(table.nparts == 0);
		return 0;
	}
	CHECK(!(table.used_backup && table.backup_damaged));
	CHECK(table.nparts <= GPT_MAX_PARTS);
	CHECK(table.first_usable <= table.last_usable && table.last_usable < d.blocks);
	for (unsigned i = 0; i < table.nparts; i++) {
		const struct gpt_part *p = &table.parts[i];

		CHECK(p->number >= 1 && p->number <= GPT_MAX_ENTRIES);
		CHECK(i == 0 || p->number > table.parts[i - 1].number);
		CHECK(p->first_lba <= p->last_lba);
		CHECK(p->first_lba >= table.first_usable && p->last_lba <= table.last_usable);
		CHECK(memchr(p->name, 0, sizeof(p->name)) != NULL);
		for (unsigned j = 0; j < i; j++)
			CHECK(p->last_lba < table.parts[j].first_lba ||
			      p->first_lba > table.parts[j].last_lba);
	}
	return 0;
}

/* A whole table of n entries on a 512-byte-block disk of `blocks` blocks, sparse. */
static size_t seed_table(uint8_t *buf, size_t cap, uint16_t blocks, unsigned nentries,
			 unsigned nparts)
{
	unsigned array_blocks = (nentries * 128 + 511) / 512;
	size_t head = (size_t)(2 + array_blocks) * 512, tail = (size_t)(1 + array_blocks) * 512;
	uint64_t last = blocks - 1;
	uint8_t array[128 * 128];

	if (PREFIX + head + tail > cap)
		return 0;
	memset(buf, 0, PREFIX + head + tail);
	buf[0] = 0;
	put_le(buf + 1, blocks - 6u, 2);
	put_le(buf + 3, 0xffff, 2);
	put_le(buf + 5, head, 2);
	memset(array, 0, sizeof(array));
	for (unsigned i = 0; i < nparts; i++) {
		uint8_t *e = array + i * 128;
		memset(e, 0x11, 16);
		memset(e + 16, (int)(0x20 + i), 16);
		put_le(e + 32, 2 + array_blocks + 10 * i, 8);
		put_le(e + 40, 2 + array_blocks + 10 * i + 9, 8);
		put_le(e + 56, 'a' + i, 2);
	}
	uint32_t crc = gpt_crc32(array, nentries * 128);
	uint8_t *h = buf + PREFIX, *t = h + head;
	for (int copy = 0; copy < 2; copy++) {
		uint64_t lba = copy ? last : 1, entries = copy ? last - array_blocks : 2;
		uint8_t *hd = copy ? t + array_blocks * 512 : h + 512;

		memcpy(copy ? t : h + 1024, array, nentries * 128);
		memcpy(hd, "EFI PART", 8);
		put_le(hd + 8, 0x10000, 4);
		put_le(hd + 12, 92, 4);
		put_le(hd + 24, lba, 8);
		put_le(hd + 32, copy ? 1 : last, 8);
		put_le(hd + 40, 2 + array_blocks, 8);
		put_le(hd + 48, last - array_blocks - 1, 8);
		put_le(hd + 72, entries, 8);
		put_le(hd + 80, nentries, 4);
		put_le(hd + 84, 128, 4);
		put_le(hd + 88, crc, 4);
		put_le(hd + 16, gpt_crc32(hd, 92), 4);
	}
	return PREFIX + head + tail;
}

static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	switch (i) {
	case 0:
		return seed_table(buf, cap, 256, 16, 3);
	case 1:
		return seed_table(buf, cap, 100, 4, 1);
	case 2:
		return seed_table(buf, cap, 2000, 32, 8);
	default:
		return 0;
	}
}

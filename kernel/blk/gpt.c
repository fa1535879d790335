/*
 * GPT reading (see gpt.h). The table is read one logical block at a time
 * through the caller's callback into one scratch block, so neither a 16 KiB
 * entry array nor a hostile header's sizes ever decide how much memory is
 * touched: every size is bounded before it is used, and every LBA sum is
 * checked against the disk with subtraction, never with an add that could
 * wrap.
 */
#include "kernel/blk/gpt.h"

#include <stdarg.h>

#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

#define HDR_SIZE_MIN 92u
#define ENTRY_SIZE_MIN 128u
#define ENTRY_SIZE_MAX 4096u /* 128 * 2^5: larger is legal but nobody writes it */
#define BLOCK_MAX 4096u
#define NAME_UNITS 36

/* Header fields (UEFI 2.10 Table 5.5). */
#define H_SIG 0
#define H_HDR_SIZE 12
#define H_HDR_CRC 16
#define H_MY_LBA 24
#define H_ALT_LBA 32
#define H_FIRST_USABLE 40
#define H_LAST_USABLE 48
#define H_DISK_GUID 56
#define H_ENTRIES_LBA 72
#define H_NENTRIES 80
#define H_ENTRY_SIZE 84
#define H_ARRAY_CRC 88

/* Entry fields (Table 5.6). */
#define E_TYPE 0
#define E_UUID 16
#define E_FIRST 32
#define E_LAST 40
#define E_ATTR 48
#define E_NAME 56

struct hdr {
	uint64_t lba; /* where it was read */
	uint64_t alt_lba, first_usable, last_usable, entries_lba;
	uint32_t nentries, entry_size, array_crc;
	uint8_t disk_guid[16];
};

struct reader {
	gpt_read_fn read;
	void *ctx;
	uint64_t blocks;
	uint32_t bs;
};

/* What a header or array check found. */
enum verdict { V_OK, V_NOSIG, V_BAD, V_IO };

/*
 * One block of scratch for every table being read: gpt_read runs at boot
 * from the drivers' probes, rarely two at once; the lock keeps them apart.
 */
static uint8_t scratch[BLOCK_MAX];
static spinlock_t scratch_lock = SPINLOCK_INIT;

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	/* bit by bit: tables are at most a few hundred KiB, read once at boot */
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	return crc;
}

uint32_t gpt_crc32(const void *buf, size_t len)
{
	return ~crc32_update(~0u, buf, len);
}

static enum verdict say(char *why, size_t whylen, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum verdict say(char *why, size_t whylen, enum verdict v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_v(why, whylen, fmt, ap);
	va_end(ap);
	return v;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* Whether [a, a + an) and [b, b + bn) share a block (an, bn > 0, no wrap). */
static bool ranges_meet(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a <= b + (bn - 1) && b <= a + (an - 1);
}

static enum verdict read_block(const struct reader *rd, uint64_t lba, char *why, size_t whylen)
{
	if (rd->read(rd->ctx, lba, 1, scratch) < 0)
		return say(why, whylen, V_IO, "read error at LBA %llu", (unsigned long long)lba);
	return V_OK;
}

/*
 * Reads and judges the header at lba: the signature, its size and CRC, and
 * whether what it says fits where it lies (MyLBA, AlternateLBA, the usable
 * range, the entry array inside the disk and outside the usable range).
 */
static enum verdict read_header(const struct reader *rd, uint64_t lba, bool primary,
				struct hdr *h, char *why, size_t whylen)
{
	uint8_t *b = scratch;
	uint64_t last = rd->blocks - 1, my, array_bytes, array_blocks;
	uint32_t hsize, crc;
	enum verdict v = read_block(rd, lba, why, whylen);

	if (v != V_OK)
		return v;
	if (memcmp(b + H_SIG, "EFI PART", 8) != 0)
		return say(why, whylen, V_NOSIG, "no GPT signature at LBA %llu",
			   (unsigned long long)lba);
	hsize = rd32(b + H_HDR_SIZE);
	if (hsize < HDR_SIZE_MIN || hsize > rd->bs)
		return say(why, whylen, V_BAD, "header size %u outside %u..%u", hsize, HDR_SIZE_MIN,
			   rd->bs);
	crc = rd32(b + H_HDR_CRC);
	wr32(b + H_HDR_CRC, 0);
	if (gpt_crc32(b, hsize) != crc)
		return say(why, whylen, V_BAD, "header CRC mismatch");

	memset(h, 0, sizeof(*h));
	h->lba = lba;
	my = rd64(b + H_MY_LBA);
	h->alt_lba = rd64(b + H_ALT_LBA);
	h->first_usable = rd64(b + H_FIRST_USABLE);
	h->last_usable = rd64(b + H_LAST_USABLE);
	memcpy(h->disk_guid, b + H_DISK_GUID, 16);
	h->entries_lba = rd64(b + H_ENTRIES_LBA);
	h->nentries = rd32(b + H_NENTRIES);
	h->entry_size = rd32(b + H_ENTRY_SIZE);
	h->array_crc = rd32(b + H_ARRAY_CRC);

	if (my != lba)
		return say(why, whylen, V_BAD, "the header says it lies at LBA %llu, not %llu",
			   (unsigned long long)my, (unsigned long long)lba);
	if (primary) {
		/* a grown disk leaves the backup short of the end: accepted, looked for there */
		if (h->alt_lba <= 1 || h->alt_lba > last)
			return say(why, whylen, V_BAD,
				   "backup header LBA %llu outside the disk (LBA 2..%llu)",
				   (unsigned long long)h->alt_lba, (unsigned long long)last);
	} else if (h->alt_lba != 1) {
		return say(why, whylen, V_BAD, "the backup header names LBA %llu as the primary's, not 1",
			   (unsigned long long)h->alt_lba);
	}
	if (h->first_usable > h->last_usable)
		return say(why, whylen, V_BAD, "first usable LBA %llu > last usable LBA %llu",
			   (unsigned long long)h->first_usable, (unsigned long long)h->last_usable);
	if (h->first_usable < 2 || h->last_usable >= last)
		return say(why, whylen, V_BAD, "usable LBAs %llu..%llu not inside LBA 2..%llu",
			   (unsigned long long)h->first_usable, (unsigned long long)h->last_usable,
			   (unsigned long long)(last - 1));
	if (ranges_meet(lba, 1, h->first_usable, h->last_usable - h->first_usable + 1) ||
	    (primary && ranges_meet(h->alt_lba, 1, h->first_usable,
				    h->last_usable - h->first_usable + 1)))
		return say(why, whylen, V_BAD, "the usable LBAs %llu..%llu cover a header",
			   (unsigned long long)h->first_usable, (unsigned long long)h->last_usable);
	if (h->entry_size < ENTRY_SIZE_MIN || h->entry_size % ENTRY_SIZE_MIN ||
	    !is_pow2(h->entry_size / ENTRY_SIZE_MIN))
		return say(why, whylen, V_BAD, "partition entry size %u is not 128 x 2^n",
			   h->entry_size);
	if (h->entry_size > ENTRY_SIZE_MAX)
		return say(why, whylen, V_BAD, "partition entry size %u is larger than %u",
			   h->entry_size, ENTRY_SIZE_MAX);
	if (h->nentries > GPT_MAX_ENTRIES)
		return say(why, whylen, V_BAD, "%u partition entries, more than %u",
			   h->nentries, GPT_MAX_ENTRIES);
	/* both bounded above: no overflow in 64 bits */
	array_bytes = (uint64_t)h->nentries * h->entry_size;
	array_blocks = (array_bytes + rd->bs - 1) / rd->bs;
	if (!array_blocks)
		return V_OK;
	if (h->entries_lba < 2 || h->entries_lba > last || array_blocks > last - h->entries_lba + 1)
		return say(why, whylen, V_BAD, "the entry array (%llu blocks at LBA %llu) is not "
			   "inside LBA 2..%llu",
			   (unsigned long long)array_blocks, (unsigned long long)h->entries_lba,
			   (unsigned long long)last);
	if (ranges_meet(h->entries_lba, array_blocks, h->first_usable,
			h->last_usable - h->first_usable + 1) ||
	    ranges_meet(h->entries_lba, array_blocks, lba, 1))
		return say(why, whylen, V_BAD, "the entry array (LBA %llu..%llu) overlaps the "
			   "usable LBAs or its header",
			   (unsigned long long)h->entries_lba,
			   (unsigned long long)(h->entries_lba + array_blocks - 1));
	return V_OK;
}

/* 36 UTF-16LE code units as ASCII: other characters become '?', one per character. */
static void name_to_utf8(const uint8_t *p, char *out)
{
	size_t n = 0;

	for (unsigned i = 0; i < NAME_UNITS; i++) {
		uint16_t u = rd16(p + 2 * i);

		if (!u)
			break;
		if (u >= 0xdc00 && u <= 0xdfff)
			continue; /* a pair's second half: its '?' is written */
		out[n++] = (u >= 0x20 && u < 0x7f) ? (char)u : '?';
	}
	out[n] = 0;
}

static bool guid_zero(const uint8_t *g)
{
	for (int i = 0; i < 16; i++)
		if (g[i])
			return false;
	return true;
}

/*
 * Reads the entry array h describes, checks its CRC and, when t is not
 * NULL, fills t with the non-empty entries and judges them: first <= last,
 * inside the usable range, no two overlapping.
 */
static enum verdict read_entries(const struct reader *rd, const struct hdr *h,
				 struct gpt_table *t, char *why, size_t whylen)
{
	uint64_t bytes = (uint64_t)h->nentries * h->entry_size, off = 0, lba = h->entries_lba;
	uint32_t crc = ~0u;
	unsigned slot = 0;

	if (t) {
		memset(t, 0, sizeof(*t));
		memcpy(t->disk_guid, h->disk_guid, 16);
		t->first_usable = h->first_usable;
		t->last_usable = h->last_usable;
	}
	while (off < bytes) {
		uint64_t chunk = bytes - off < rd->bs ? bytes - off : rd->bs;
		enum verdict v = read_block(rd, lba, why, whylen);

		if (v != V_OK)
			return v;
		crc = crc32_update(crc, scratch, (size_t)chunk);
		/*
		 * Entry sizes and block sizes are powers of two times 128, so an
		 * entry's first 128 bytes never straddle two blocks.
		 */
		for (; t && slot < h->nentries && (uint64_t)slot * h->entry_size < off + chunk;
		     slot++) {
			const uint8_t *e = scratch + ((uint64_t)slot * h->entry_size - off);
			struct gpt_part *pt;

			if (guid_zero(e + E_TYPE))
				continue;
			pt = &t->parts[t->nparts++];
			pt->number = slot + 1;
			memcpy(pt->type_guid, e + E_TYPE, 16);
			memcpy(pt->uuid, e + E_UUID, 16);
			pt->first_lba = rd64(e + E_FIRST);
			pt->last_lba = rd64(e + E_LAST);
			pt->attributes = rd64(e + E_ATTR);
			name_to_utf8(e + E_NAME, pt->name);
		}
		off += chunk;
		lba++;
	}
	if (~crc != h->array_crc)
		return say(why, whylen, V_BAD, "entry array CRC mismatch");
	if (!t)
		return V_OK;
	for (unsigned i = 0; i < t->nparts; i++) {
		const struct gpt_part *a = &t->parts[i];

		if (a->first_lba > a->last_lba)
			return say(why, whylen, V_BAD, "partition %u: first LBA %llu > last LBA %llu",
				   a->number, (unsigned long long)a->first_lba,
				   (unsigned long long)a->last_lba);
		if (a->first_lba < h->first_usable || a->last_lba > h->last_usable)
			return say(why, whylen, V_BAD,
				   "partition %u (LBA %llu..%llu) outside the usable LBAs %llu..%llu",
				   a->number, (unsigned long long)a->first_lba,
				   (unsigned long long)a->last_lba,
				   (unsigned long long)h->first_usable,
				   (unsigned long long)h->last_usable);
		for (unsigned j = 0; j < i; j++) {
			const struct gpt_part *b = &t->parts[j];

			if (ranges_meet(a->first_lba, a->last_lba - a->first_lba + 1, b->first_lba,
					b->last_lba - b->first_lba + 1))
				return say(why, whylen, V_BAD,
					   "partitions %u (LBA %llu..%llu) and %u (LBA %llu..%llu) "
					   "overlap",
					   b->number, (unsigned long long)b->first_lba,
					   (unsigned long long)b->last_lba, a->number,
					   (unsigned long long)a->first_lba,
					   (unsigned long long)a->last_lba);
		}
	}
	return V_OK;
}

/* One copy whole: its header, then its array (into t when t is not NULL). */
static enum verdict read_copy(const struct reader *rd, uint64_t lba, bool primary, struct hdr *h,
			      struct gpt_table *t, char *why, size_t whylen)
{
	enum verdict v = read_header(rd, lba, primary, h, why, whylen);

	if (v != V_OK)
		return v;
	return read_entries(rd, h, t, why, whylen);
}

static const char *damage_word(enum verdict v)
{
	return v == V_NOSIG ? "missing" : v == V_IO ? "unreadable" : "damaged";
}

enum gpt_result gpt_read(gpt_read_fn read, void *ctx, uint64_t blocks, uint32_t block_size,
			 struct gpt_table *t, char *why, size_t whylen)
{
	struct reader rd = {.read = read, .ctx = ctx, .blocks = blocks, .bs = block_size};
	struct hdr ph, bh;
	char pwhy[160], bwhy[160];
	enum verdict pv, bv;
	enum gpt_result res;
	uint64_t last;

	memset(t, 0, sizeof(*t));
	if (whylen)
		why[0] = 0;
	if (block_size < 512 || block_size > BLOCK_MAX || !is_pow2(block_size)) {
		format(why, whylen, "block size %u is not 512..4096", block_size);
		return GPT_BAD;
	}
	/* a protective MBR, two headers, one array block and one usable block */
	if (blocks < 6) {
		format(why, whylen, "the disk (%llu blocks) is too small for a GPT",
		       (unsigned long long)blocks);
		return GPT_NONE;
	}
	last = blocks - 1;

	spin_lock(&scratch_lock);
	pv = read_copy(&rd, 1, true, &ph, t, pwhy, sizeof(pwhy));
	if (pv == V_OK) {
		/* the primary is whole: the backup (where it says) only needs to be whole too */
		bv = read_copy(&rd, ph.alt_lba, false, &bh, NULL, bwhy, sizeof(bwhy));
		res = GPT_OK;
		if (bv != V_OK) {
			t->backup_damaged = true;
			format(why, whylen, "backup GPT %s (%s): using the primary", damage_word(bv),
			       bwhy);
		} else if (bh.array_crc != ph.array_crc || bh.nentries != ph.nentries ||
			   bh.first_usable != ph.first_usable ||
			   bh.last_usable != ph.last_usable) {
			t->backup_damaged = true;
			format(why, whylen, "the backup GPT differs from the primary: using the primary");
		} else if (ph.alt_lba != last) {
			format(why, whylen, "the backup GPT is at LBA %llu, not at the disk's end "
			       "(LBA %llu): the disk grew?",
			       (unsigned long long)ph.alt_lba, (unsigned long long)last);
		}
		goto out;
	}
	bv = read_copy(&rd, last, false, &bh, t, bwhy, sizeof(bwhy));
	if (bv == V_OK) {
		t->used_backup = true;
		format(why, whylen, "primary GPT %s (%s): using the backup", damage_word(pv), pwhy);
		res = GPT_OK;
		goto out;
	}
	memset(t, 0, sizeof(*t));
	if (pv == V_IO || bv == V_IO) {
		format(why, whylen, "%s", pv == V_IO ? pwhy : bwhy);
		res = GPT_IOERR;
	} else if (pv == V_NOSIG && bv == V_NOSIG) {
		format(why, whylen, "no GPT");
		res = GPT_NONE;
	} else {
		format(why, whylen, "primary GPT: %s; backup GPT: %s", pwhy, bwhy);
		res = GPT_BAD;
	}
out:
	spin_unlock(&scratch_lock);
	return res;
}

void gpt_guid_format(const uint8_t g[16], char *buf, size_t len)
{
	/* the first three fields little-endian, the last two as stored */
	format(buf, len, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", rd32(g),
	       rd16(g + 4), rd16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

bool gpt_guid_parse(const char *s, uint8_t guid[16])
{
	/* text position of each byte's first digit, in the text's order */
	static const uint8_t pos[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
	/* where each text byte goes in memory: the first three fields are reversed */
	static const uint8_t dest[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	uint8_t out[16];

	if (strnlen(s, 37) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
		return false;
	for (int i = 0; i < 16; i++) {
		int hi = hex_digit_value(s[pos[i]]), lo = hex_digit_value(s[pos[i] + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[dest[i]] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(guid, out, 16);
	return true;
}

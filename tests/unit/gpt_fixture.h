/*
 * Writes a whole GPT (protective MBR left out, both headers and both entry arrays, 128
 * entries of 128 bytes) into a disk image in memory, for tests of what reads it.
 * Partition k's unique GUID is its uuid_seed repeated, so a test can name it.
 */
#ifndef TESTS_UNIT_GPT_FIXTURE_H
#define TESTS_UNIT_GPT_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "kernel/blk/gpt.h"

struct gptfx_part {
	unsigned slot; /* 1-based */
	uint64_t first, last;
	const char *name;
	uint8_t uuid_seed;
};

static inline void gptfx_put(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void gptfx_header(uint8_t *img, uint32_t bs, uint64_t lba, uint64_t alt,
				uint64_t entries, uint64_t first_usable, uint64_t last_usable,
				uint32_t array_crc)
{
	uint8_t *h = img + lba * bs;

	memset(h, 0, bs);
	memcpy(h, "EFI PART", 8);
	gptfx_put(h + 8, 0x00010000, 4);
	gptfx_put(h + 12, 92, 4);
	gptfx_put(h + 24, lba, 8);
	gptfx_put(h + 32, alt, 8);
	gptfx_put(h + 40, first_usable, 8);
	gptfx_put(h + 48, last_usable, 8);
	memset(h + 56, 0x77, 16);
	gptfx_put(h + 72, entries, 8);
	gptfx_put(h + 80, 128, 4);
	gptfx_put(h + 84, 128, 4);
	gptfx_put(h + 88, array_crc, 4);
	gptfx_put(h + 16, gpt_crc32(h, 92), 4);
}

static inline void gptfx_write(uint8_t *img, uint64_t blocks, uint32_t bs,
			       const struct gptfx_part *parts, unsigned n)
{
	uint64_t array_blocks = 128 * 128 / bs, last = blocks - 1;
	uint8_t array[128 * 128];

	memset(array, 0, sizeof(array));
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = array + (parts[i].slot - 1) * 128;

		memset(e, 0x11, 16); /* a type GUID: anything non-zero */
		memset(e + 16, parts[i].uuid_seed, 16);
		gptfx_put(e + 32, parts[i].first, 8);
		gptfx_put(e + 40, parts[i].last, 8);
		for (size_t k = 0; parts[i].name[k] && k < 36; k++)
			gptfx_put(e + 56 + 2 * k, (uint8_t)parts[i].name[k], 2);
	}
	uint32_t crc = gpt_crc32(array, sizeof(array));
	memcpy(img + 2 * bs, array, sizeof(array));
	memcpy(img + (last - array_blocks) * bs, array, sizeof(array));
	gptfx_header(img, bs, 1, last, 2, 2 + array_blocks, last - array_blocks - 1, crc);
	gptfx_header(img, bs, last, 1, last - array_blocks, 2 + array_blocks,
		     last - array_blocks - 1, crc);
}

#endif

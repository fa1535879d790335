/*
 * What the virtio fuzz targets share: a guest's RAM (64 KiB at RAM_BASE, a
 * heap array; the accessors refuse everything else and trap on a write
 * outside it, which no device may attempt: every address it writes was
 * checked when the chain was popped), a CHECK that traps, and the two
 * mains a target gets besides libFuzzer's:
 *   -DFUZZ_STANDALONE  `fuzz_x [runs]`: a mutation loop over the target's seeds;
 *   -DFUZZ_SEEDS       `fuzz_x DIR`: writes the target's seeds into DIR.
 * A target defines fuzz_seed(i, buf, cap) -> length (0: no seed i).
 */
#ifndef TESTS_FUZZ_FUZZ_GUEST_H
#define TESTS_FUZZ_FUZZ_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/virtio/virtqueue.h"

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s: broken promise: %s (line %d)\n", __FILE__, #cond, \
				__LINE__);                                                \
			__builtin_trap();                                                 \
		}                                                                         \
	} while (0)

#define RAM_BASE 0x1000ull
#define RAM_SIZE 0x10000ull
#define RAM_END (RAM_BASE + RAM_SIZE)

static uint8_t *ram;
static unsigned long mem_calls; /* accessor calls in this run: bounds the work */

static bool in_ram(uint64_t gpa, uint64_t len)
{
	return gpa >= RAM_BASE && gpa <= RAM_END && len <= RAM_END - gpa;
}

static int ram_read(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	mem_calls++;
	if (!in_ram(gpa, len))
		return -1;
	memcpy(dst, ram + (gpa - RAM_BASE), len);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	(void)ctx;
	mem_calls++;
	CHECK(in_ram(gpa, len)); /* a device never writes where it did not check */
	memcpy(ram + (gpa - RAM_BASE), src, len);
	return 0;
}

static bool ram_is_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	return in_ram(gpa, len);
}

static const struct vq_mem guest_mem = {
	.read = ram_read, .write = ram_write, .ctx = NULL, .is_ram = ram_is_ram
};

/* Fresh RAM holding `image` at its start. */
static void ram_load(const uint8_t *image, size_t n)
{
	if (!ram)
		ram = malloc(RAM_SIZE);
	CHECK(ram);
	if (n > RAM_SIZE)
		n = RAM_SIZE;
	memset(ram, 0, RAM_SIZE);
	memcpy(ram, image, n);
	mem_calls = 0;
}

/* A popped element's promises: head, counts and totals right, every buffer in RAM. */
static __attribute__((unused)) void check_elem(const struct virtqueue *q, const struct vq_elem *e)
{
	uint64_t out = 0, in = 0;

	CHECK(e->head < q->size);
	CHECK((unsigned)e->nout + e->nin <= VQ_MAX_SEGS);
	for (unsigned i = 0; i < (unsigned)e->nout + e->nin; i++) {
		CHECK(e->seg[i].len == 0 || in_ram(e->seg[i].gpa, e->seg[i].len));
		if (i < e->nout)
			out += e->seg[i].len;
		else
			in += e->seg[i].len;
	}
	CHECK(out == e->out_len && in == e->in_len);
	CHECK(out + in <= UINT32_MAX);
}

/* Little helpers for writing seeds into an image. */
static void put_le(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void seed_desc(uint8_t *img, uint64_t table_off, unsigned i, uint64_t addr, uint32_t len,
		      uint16_t flags, uint16_t next)
{
	uint8_t *d = img + table_off + 16 * i;

	put_le(d, addr, 8);
	put_le(d + 8, len, 4);
	put_le(d + 12, flags, 2);
	put_le(d + 14, next, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap) __attribute__((unused));

#define FUZZ_MAX_INPUT 16384

#ifdef FUZZ_STANDALONE
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int main(int argc, char **argv)
{
	static uint8_t buf[FUZZ_MAX_INPUT];
	long runs = argc > 1 ? atol(argv[1]) : 100000;
	unsigned nseeds = 0;

	while (fuzz_seed(nseeds, buf, sizeof(buf)))
		nseeds++;
	CHECK(nseeds > 0);
	for (long run = 0; run < runs; run++) {
		size_t len = fuzz_seed((unsigned)(rng() % nseeds), buf, sizeof(buf));
		unsigned edits = 1 + (unsigned)(rng() % 16);

		for (unsigned e = 0; e < edits && len; e++) {
			size_t at = (size_t)(rng() % len);

			switch (rng() % 4) {
			case 0:
				buf[at] = (uint8_t)rng();
				break;
			case 1:
				buf[at] ^= (uint8_t)(1u << (rng() % 8));
				break;
			case 2:
				buf[at] = (uint8_t)(buf[at] + 1 - (int)(rng() % 3));
				break;
			default:
				if (len > 1)
					len = at + 1 + (size_t)(rng() % (len - at));
				break;
			}
		}
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("%s: %ld runs, no failure\n", argv[0], runs);
	return 0;
}
#endif

#ifdef FUZZ_SEEDS
int main(int argc, char **argv)
{
	static uint8_t buf[FUZZ_MAX_INPUT];
	char path[4096];

	CHECK(argc == 2);
	for (unsigned i = 0;; i++) {
		size_t len = fuzz_seed(i, buf, sizeof(buf));
		FILE *f;

		if (!len)
			break;
		snprintf(path, sizeof(path), "%s/seed%u", argv[1], i);
		f = fopen(path, "wb");
		CHECK(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
		/* every seed must pass on its own */
		LLVMFuzzerTestOneInput(buf, len);
	}
	return 0;
}
#endif

#endif

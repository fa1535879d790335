/*
 * Physical frame allocator: one bit per 4 KiB frame over all usable RAM the
 * boot memory map reports, minus whatever must be kept (the image, the
 * loader's structures, modules). Pure logic; the caller says how to reach
 * physical memory.
 */
#ifndef HV_MM_FRAME_H
#define HV_MM_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/boot/bootinfo.h"
#include "kernel/lib/spinlock.h"

#define FRAME_SIZE 4096ull
#define FRAME_SHIFT 12

struct phys_range {
	uint64_t start; /* [start, end) */
	uint64_t end;
};

struct frame_allocator {
	spinlock_t lock;
	uint64_t *bitmap; /* bit set: frame not available */
	uint64_t nframes; /* frames 0 .. nframes-1 are described */
	uint64_t free_frames;
	uint64_t managed_frames; /* usable frames handed to the allocator */
	uint64_t next_hint;
	struct phys_range bitmap_range;
};

/*
 * Finds `size` bytes (aligned to `align`) inside a usable region, within
 * [lo, hi), overlapping none of the reserved ranges. Returns the address, or
 * UINT64_MAX if nothing fits. Lowest fit wins.
 */
uint64_t phys_find_free(const struct mem_region *map, size_t n, const struct phys_range *reserved,
			size_t nres, uint64_t lo, uint64_t hi, uint64_t size, uint64_t align);

/*
 * Sets up the allocator for usable RAM at or above min_addr. The bitmap is
 * placed in usable RAM itself (and kept). Returns 0, or -1 if no usable RAM.
 */
int frame_init(struct frame_allocator *fa, const struct mem_region *map, size_t n,
	       const struct phys_range *reserved, size_t nres, uint64_t min_addr,
	       void *(*phys_to_virt)(uint64_t));

/* One frame, or 0 when memory is exhausted. */
uint64_t frame_alloc(struct frame_allocator *fa);
/* n contiguous frames aligned to align bytes (a power of two >= 4 KiB), or 0. */
uint64_t frame_alloc_contig(struct frame_allocator *fa, uint64_t n, uint64_t align);
void frame_free(struct frame_allocator *fa, uint64_t addr);
void frame_free_contig(struct frame_allocator *fa, uint64_t addr, uint64_t n);
bool frame_is_free(const struct frame_allocator *fa, uint64_t addr);

#endif

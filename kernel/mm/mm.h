/* The host's memory: frames, page tables and heap, set up once at boot. */
#ifndef HV_MM_MM_H
#define HV_MM_MM_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/boot/bootinfo.h"
#include "kernel/mm/frame.h"

extern struct frame_allocator host_frames;

/*
 * Frame allocator, host page tables (W^X image, guard pages) and heap. bi
 * must stay: its memory map is consulted later (mm_map_mmio).
 */
int mm_init(const struct boot_info *bi, char *err, size_t errlen);
/* Switches this CPU to the host page tables (APs call it on arrival). */
void mm_load_host_tables(void);
/* A page below 1 MiB for the AP trampoline, or 0 if none is free. */
uint64_t mm_trampoline_page(void);

/* n contiguous zeroed frames (physical address), or 0 when memory is short. */
uint64_t frame_alloc_zeroed(unsigned n);
/* `pages` of stack with an unmapped guard page below; returns 0 or -1. */
int mm_alloc_stack(unsigned pages, uint64_t *bottom, uint64_t *top);
/* Makes an already-mapped page inaccessible (guards); returns 0 or -1. */
int mm_unmap_page(uint64_t va);
/*
 * Maps device memory [pa, pa+size) uncached (PCD|PWT: UC whatever the MTRRs
 * say), writable, never executable, with 4 KiB pages, and returns its
 * address (the identity map's: phys_to_virt(pa)). Inside the RAM-sized
 * identity map it replaces the cached mapping there; above it, it adds new
 * tables. Every CPU's TLB is flushed of the old mapping before it returns.
 * NULL when the range overlaps RAM, lies beyond the CPU's physical address
 * width, or page tables run out. Call with interrupts enabled (the other
 * CPUs are asked to flush by IPI).
 */
void *mm_map_mmio(uint64_t pa, uint64_t size);

/*
 * Calls fn(ctx, start, end) for each page-aligned range [start, end) of
 * usable RAM above 1 MiB that the frame allocator may hand out: the image,
 * the loader's structures and the boot modules cut out. (The IOMMU's
 * hypervisor domain maps exactly these: the host drivers' buffers and VMs'
 * RAM come from there.)
 */
void mm_for_each_frame_range(void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

static inline void *phys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)phys; /* the host identity-maps all memory */
}

struct mm_stats {
	uint64_t usable_bytes;  /* what the firmware reports as usable RAM */
	uint64_t managed_bytes; /* handed to the frame allocator */
	uint64_t free_bytes;
	uint64_t image_bytes;
	unsigned page_tables;
	uint64_t heap_bytes; /* kmalloc's: bytes handed out, and the pages holding them */
	uint64_t heap_pages;
	bool nx;
	bool gbpages;
};
void mm_get_stats(struct mm_stats *s);

#endif

/*
 * A VM's guest-physical map: which guest-physical addresses are RAM (and
 * which host frames back them). Everything else traps: MMIO devices, or
 * nothing at all (reads as all ones). The same map is written out as NPT
 * (npt.c) or EPT tables. Pure logic: the caller provides the memory.
 */
#ifndef HV_EPT_GPA_MAP_H
#define HV_EPT_GPA_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/lib/spinlock.h"

#define GPA_CHUNK_SHIFT 21
#define GPA_CHUNK_SIZE (1ull << GPA_CHUNK_SHIFT) /* 2 MiB: the unit of guest RAM */
/*
 * The guest-physical layout of RAM, as on a PC: up to 3 GiB from 0, below
 * the 32-bit MMIO hole (PCI ECAM and BARs, IOAPIC, HPET, LAPIC), and the
 * rest from 4 GiB up, below the 64-bit PCI window (guest/pci/vpci.h's
 * VPCI_MEM64_BASE, 64 GiB). The chunk table lists the low part's chunks,
 * then the high part's.
 */
#define GPA_LOW_RAM_MAX (3ull << 30)
#define GPA_HIGH_RAM_BASE (4ull << 30)
#define GPA_HIGH_RAM_END (64ull << 30)
#define GPA_RAM_MAX (GPA_LOW_RAM_MAX + GPA_HIGH_RAM_END - GPA_HIGH_RAM_BASE) /* 63 GiB */

/*
 * Lazy zeroing (gpa_map_set_lazy): a VM's RAM comes from the host unzeroed,
 * and each 2 MiB chunk is zeroed at its first use, by the guest or by the
 * hypervisor (gpa_to_hpa and the copies below zero it first), never later.
 * The nested tables leave a chunk out until the guest first touches it, so
 * that touch faults (gpa_map_fault): creating a big VM no longer writes all
 * of its RAM, and a guest pays only for the RAM it uses. One bit a chunk.
 */
struct gpa_lazy {
	spinlock_t lock;   /* zeroing a chunk, mapping one */
	size_t emit_only;  /* gpa_map_for_each_run emits only chunk emit_only - 1 (0: all mapped) */
	uint64_t zeroed;   /* chunks zeroed at first use */
	uint64_t *unzeroed; /* chunks not yet zeroed */
	uint64_t *unmapped; /* chunks not yet in the nested tables */
};

struct gpa_map {
	uint64_t ram_bytes;  /* all of it */
	uint64_t low_bytes;  /* from 0: min(ram_bytes, GPA_LOW_RAM_MAX) */
	uint64_t high_bytes; /* from GPA_HIGH_RAM_BASE: the rest */
	size_t nchunks;
	uint64_t *chunk_hpa; /* host-physical base of each 2 MiB chunk of RAM */
	void *(*phys_to_virt)(uint64_t hpa);
	struct gpa_lazy *lazy; /* NULL: every chunk was zeroed when taken, and is mapped */
};

/* Splits ram_bytes of RAM into the part below the hole and the part from 4 GiB. */
static inline void gpa_ram_split(uint64_t ram_bytes, uint64_t *low, uint64_t *high)
{
	*low = ram_bytes < GPA_LOW_RAM_MAX ? ram_bytes : GPA_LOW_RAM_MAX;
	*high = ram_bytes - *low;
}

/*
 * Gives the VM ram_bytes (a multiple of 2 MiB, at most GPA_RAM_MAX) from
 * alloc_chunk (a zeroed, 2 MiB aligned host chunk, or 0). chunk_table must
 * hold ram_bytes / 2 MiB entries. On failure, chunks already taken are
 * handed to free_chunk and -1 is returned.
 */
int gpa_map_init(struct gpa_map *m, uint64_t ram_bytes, uint64_t *chunk_table,
		 uint64_t (*alloc_chunk)(void *ctx), void (*free_chunk)(void *ctx, uint64_t hpa),
		 void *ctx, void *(*phys_to_virt)(uint64_t));
void gpa_map_release(struct gpa_map *m, void (*free_chunk)(void *ctx, uint64_t hpa), void *ctx);

/*
 * Lazy zeroing for a map whose chunks came unzeroed (gpa_map_init's
 * alloc_chunk may then skip the zeroing): before any access to the RAM and
 * before the nested tables are built. l and its bitmaps (gpa_lazy_words(m)
 * words each) are the caller's and outlive the map's use.
 */
size_t gpa_lazy_words(const struct gpa_map *m);
void gpa_map_set_lazy(struct gpa_map *m, struct gpa_lazy *l, uint64_t *unzeroed, uint64_t *unmapped);
/*
 * Zeroes every chunk still waiting and lets the tables built from now on
 * map all of them (for a VM whose devices DMA through an IOMMU: device
 * accesses never fault into gpa_map_fault). Before the tables are built.
 */
void gpa_map_zero_now(const struct gpa_map *m);
/*
 * A nested page fault at gpa: if gpa is RAM left out of the nested tables,
 * zeroes its chunk if need be and calls map(ctx) with the map's
 * gpa_map_for_each_run limited to that chunk (the nested tables' builder),
 * serialised with every other mapping and zeroing. 1: mapped now; 0: RAM
 * already mapped (another vCPU's fault came first: the guest retries);
 * -1: not lazily mapped RAM, or map failed.
 */
int gpa_map_fault(const struct gpa_map *m, uint64_t gpa, int (*map)(void *ctx), void *ctx);
/*
 * Maps, as gpa_map_fault would, every chunk already zeroed but left out of
 * the nested tables (what the loader wrote): the guest's first touch of its
 * kernel and ramdisk then needs no exit. -1 if map failed.
 */
int gpa_map_expose_zeroed(const struct gpa_map *m, int (*map)(void *ctx), void *ctx);
/* Bytes of RAM zeroed at first use so far (0 for a map without lazy zeroing). */
uint64_t gpa_map_zeroed_bytes(const struct gpa_map *m);

/* The host-physical address of guest RAM at gpa; false if gpa is not RAM. */
bool gpa_to_hpa(const struct gpa_map *m, uint64_t gpa, uint64_t *hpa);
/* Whether [gpa, gpa+len) is all RAM (len 0: false). */
bool gpa_is_ram(const struct gpa_map *m, uint64_t gpa, uint64_t len);
/* Zeroes all of the VM's RAM, low and high (a chunk still waiting to be zeroed is left so). */
void gpa_zero_all(const struct gpa_map *m);
/* Copies to/from guest RAM; -1 if any byte of the range is not RAM. */
int gpa_write(const struct gpa_map *m, uint64_t gpa, const void *src, size_t len);
int gpa_read(const struct gpa_map *m, uint64_t gpa, void *dst, size_t len);
int gpa_zero(const struct gpa_map *m, uint64_t gpa, size_t len);

/*
 * Calls emit(ctx, gpa, hpa, size) for each run of RAM that is contiguous in
 * both spaces, so a table writer can use the largest pages that fit. With
 * lazy zeroing, only the chunks the guest has touched (gpa_map_fault).
 */
int gpa_map_for_each_run(const struct gpa_map *m,
			 int (*emit)(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size), void *ctx);

#endif

/*
 * VT-d second-level page tables (VT-d 4.1 §9.8): the third format of the
 * guest-physical map, beside EPT (ept.c) and NPT (npt.c). The walk is the
 * same x86-64 radix tree, and the bits line up with the host builder's:
 * bit 0 (Read) is the builder's present bit, bit 1 Write, bit 7 a
 * superpage; table entries carry Read and Write, the leaf decides. So the
 * page-table builder (kernel/mm/pagetable.c) writes them.
 *
 * Why separate tables, not the VM's EPT shared with the IOMMU: on AMD/SVM
 * (this project's test path: QEMU's intel-iommu under an AMD CPU) the NPT
 * format carries U on every level and PAT bits the IOMMU reads as
 * reserved or ignored differently, so there is nothing to share; on Intel
 * EPT would do only when the unit's superpage and address-width
 * capabilities match EPT's, and our EPT keeps MMIO traps as not-present
 * entries that would turn peer-to-peer DMA into faults anyway. Separate
 * tables cost a few pages per VM and work on every combination; each unit
 * walks them at its own depth (4 levels, or 3 from the first PML4 entry).
 *
 * Pure logic, hosted-testable.
 */
#ifndef HV_EPT_VTD_SLPT_H
#define HV_EPT_VTD_SLPT_H

#include "ept/gpa_map.h"
#include "kernel/mm/pagetable.h"

#define VTD_SLPT_3LEVEL_LIMIT (1ull << 39) /* what 3-level tables reach */

/* Builds read/write mappings of every RAM run of m into pt (initialised, empty). 0 or -1. */
int vtd_slpt_build(const struct gpa_map *m, struct pagetable *pt, enum page_level largest);

/* Maps [iova, iova+size) to [hpa, ...) readable, and writable if `write`. 0 or -1. */
int vtd_slpt_map(struct pagetable *pt, uint64_t iova, uint64_t hpa, uint64_t size, bool write,
		 enum page_level largest);

/* Removes [iova, iova+size) (large pages split as needed). 0 or -1 (no table for a split). */
int vtd_slpt_unmap(struct pagetable *pt, uint64_t iova, uint64_t size);

/*
 * Page-selective invalidation of [addr, addr+size) in aligned power-of-two
 * blocks of at most 2^max_am pages: calls fn(ctx, block, am) per block and
 * returns how many, or -1 (nothing called) when more than max_blocks would
 * be needed (then a domain-wide invalidation is cheaper).
 */
int vtd_psi_blocks(uint64_t addr, uint64_t size, unsigned max_am, unsigned max_blocks,
		   void (*fn)(void *ctx, uint64_t block, unsigned am), void *ctx);

/*
 * The table a unit walking `levels` (3 or 4) levels starts from: the PML4
 * itself, or for 3 levels the table under its first entry (made if
 * missing, so addresses below 512 GiB resolve the same). 0 when levels is
 * neither or no table could be allocated.
 */
uint64_t vtd_slpt_root(struct pagetable *pt, unsigned levels);

/* Calls fn(ctx, phys) for every table of pt, the root last (for cache flushes and freeing). */
void vtd_slpt_for_each_table(const struct pagetable *pt, void (*fn)(void *ctx, uint64_t phys),
			     void *ctx);

#endif

/*
 * x86-64 4-level page tables (SDM Vol. 3A §4.5): build, split and look up.
 * Pure logic: the caller supplies frames and says how to reach them, so the
 * same code builds the host's tables here and in hosted unit tests.
 */
#ifndef HV_MM_PAGETABLE_H
#define HV_MM_PAGETABLE_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

enum page_level { PAGE_4K = 0, PAGE_2M = 1, PAGE_1G = 2 };

struct pagetable {
	uint64_t root; /* physical address of the PML4 */
	uint64_t (*alloc_table)(void *arg); /* a zeroed 4 KiB frame, or 0 */
	void *(*phys_to_virt)(uint64_t phys);
	void *arg;
	/* extra bits for non-leaf entries (NPT needs U on every level); P|W always */
	uint64_t table_flags;
	unsigned tables; /* tables allocated, the root included */
};

static inline uint64_t page_size(enum page_level l)
{
	return 1ull << (12 + 9 * l);
}

int pt_init(struct pagetable *pt);

/*
 * Maps [va, va+size) to [pa, pa+size) with the leaf flags given (PTE_P is
 * implied), using pages up to `largest` where both addresses align. Existing
 * mappings are replaced; large pages are split where only part changes.
 * Returns 0, or -1 if a table could not be allocated.
 */
int pt_map(struct pagetable *pt, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
	   enum page_level largest);

/* Removes the mapping of [va, va+size), splitting large pages as needed. */
int pt_unmap(struct pagetable *pt, uint64_t va, uint64_t size);

/* Finds the leaf mapping va: its physical address, leaf flags and level. */
bool pt_lookup(const struct pagetable *pt, uint64_t va, uint64_t *pa, uint64_t *flags,
	       enum page_level *level);

#endif

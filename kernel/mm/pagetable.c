#include "kernel/mm/pagetable.h"

#include "kernel/lib/string.h"

/* Upper levels grant everything; the leaf decides (permissions intersect). */
#define PTE_TABLE (PTE_P | PTE_W)
#define PTE_LEAF_FLAGS (~PTE_ADDR_MASK & ~PTE_PS)

static uint64_t *table_at(const struct pagetable *pt, uint64_t phys)
{
	return pt->phys_to_virt(phys & PTE_ADDR_MASK);
}

static unsigned index_at(uint64_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

int pt_init(struct pagetable *pt)
{
	pt->tables = 0;
	pt->root = pt->alloc_table(pt->arg);
	if (!pt->root)
		return -1;
	pt->tables = 1;
	return 0;
}

static uint64_t new_table(struct pagetable *pt)
{
	uint64_t t = pt->alloc_table(pt->arg);
	if (t)
		pt->tables++;
	return t;
}

/* Replaces a large leaf by a table of the next level down that maps the same. */
static int split_large(struct pagetable *pt, uint64_t *entry, int level)
{
	uint64_t t = new_table(pt);
	if (!t)
		return -1;
	uint64_t *sub = table_at(pt, t);
	uint64_t base = *entry & PTE_ADDR_MASK & ~(page_size((enum page_level)level) - 1);
	uint64_t flags = *entry & PTE_LEAF_FLAGS;
	uint64_t step = page_size((enum page_level)(level - 1));
	for (unsigned i = 0; i < 512; i++)
		sub[i] = (base + i * step) | flags | (level - 1 > 0 ? PTE_PS : 0);
	*entry = t | PTE_TABLE | pt->table_flags;
	return 0;
}

/*
 * Walks one level: level 3 is the PML4, level 0 the page table of 4 KiB
 * leaves. `unmap` clears instead of mapping.
 */
static int map_level(struct pagetable *pt, uint64_t table, int level, uint64_t va, uint64_t pa,
		     uint64_t size, uint64_t flags, enum page_level largest, bool unmap)
{
	uint64_t *tab = table_at(pt, table);
	uint64_t span = page_size((enum page_level)level);

	while (size) {
		uint64_t *e = &tab[index_at(va, level)];
		uint64_t chunk = span - (va & (span - 1));
		if (chunk > size)
			chunk = size;

		bool whole = chunk == span;
		bool leaf_ok = level == 0 || (level <= (int)largest && level <= 2 && whole &&
					      (unmap || (pa & (span - 1)) == 0));
		if (whole && leaf_ok && (level == 0 || !(*e & PTE_P) || (*e & PTE_PS) || unmap)) {
			/* whole entry becomes a leaf (or is cleared); a table under it is dropped */
			if (unmap)
				*e = 0;
			else
				*e = pa | (flags & PTE_LEAF_FLAGS) | PTE_P | (level ? PTE_PS : 0);
		} else if (level == 0) {
			return -1; /* not reachable: 4 KiB chunks are always whole */
		} else {
			if (!(*e & PTE_P)) {
				if (unmap)
					goto next;
				uint64_t t = new_table(pt);
				if (!t)
					return -1;
				*e = t | PTE_TABLE | pt->table_flags;
			} else if (*e & PTE_PS) {
				if (split_large(pt, e, level) < 0)
					return -1;
			}
			if (map_level(pt, *e & PTE_ADDR_MASK, level - 1, va, pa, chunk, flags, largest,
				      unmap) < 0)
				return -1;
		}
	next:
		va += chunk;
		pa += chunk;
		size -= chunk;
	}
	return 0;
}

int pt_map(struct pagetable *pt, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
	   enum page_level largest)
{
	if ((va | pa | size) & 0xfff)
		return -1;
	return map_level(pt, pt->root, 3, va, pa, size, flags, largest, false);
}

int pt_unmap(struct pagetable *pt, uint64_t va, uint64_t size)
{
	if ((va | size) & 0xfff)
		return -1;
	return map_level(pt, pt->root, 3, va, 0, size, 0, PAGE_1G, true);
}

bool pt_lookup(const struct pagetable *pt, uint64_t va, uint64_t *pa, uint64_t *flags,
	       enum page_level *level)
{
	uint64_t table = pt->root;

	for (int l = 3; l >= 0; l--) {
		uint64_t e = table_at(pt, table)[index_at(va, l)];
		if (!(e & PTE_P))
			return false;
		if (l == 0 || (e & PTE_PS)) {
			uint64_t span = page_size((enum page_level)l);
			if (pa)
				*pa = (e & PTE_ADDR_MASK & ~(span - 1)) | (va & (span - 1));
			if (flags)
				*flags = e & PTE_LEAF_FLAGS;
			if (level)
				*level = (enum page_level)l;
			return true;
		}
		table = e & PTE_ADDR_MASK;
	}
	return false;
}

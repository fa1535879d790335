#include "ept/vtd_slpt.h"

#define SL_R (1ull << 0)
#define SL_W (1ull << 1)
#define SL_PS (1ull << 7)

struct slpt_ctx {
	struct pagetable *pt;
	enum page_level largest;
};

static int slpt_emit(void *arg, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct slpt_ctx *c = arg;
	return vtd_slpt_map(c->pt, gpa, hpa, size, true, c->largest);
}

int vtd_slpt_build(const struct gpa_map *m, struct pagetable *pt, enum page_level largest)
{
	struct slpt_ctx c = {pt, largest};
	/* table entries: Read and Write from the builder (P|W), nothing else */
	pt->table_flags = 0;
	return gpa_map_for_each_run(m, slpt_emit, &c);
}

int vtd_slpt_map(struct pagetable *pt, uint64_t iova, uint64_t hpa, uint64_t size, bool write,
		 enum page_level largest)
{
	/* Read is the builder's present bit; no snoop, TM or memory-type bits */
	return pt_map(pt, iova, hpa, size, write ? SL_W : 0, largest);
}

int vtd_slpt_unmap(struct pagetable *pt, uint64_t iova, uint64_t size)
{
	return pt_unmap(pt, iova, size);
}

/* The largest block at addr: aligned, not past end, at most 2^max_am pages. */
static unsigned block_order(uint64_t addr, uint64_t end, unsigned max_am)
{
	unsigned am = 0;
	while (am < max_am && am < 51) {
		uint64_t next = 4096ull << (am + 1);
		if ((addr & (next - 1)) || addr + next > end)
			break;
		am++;
	}
	return am;
}

int vtd_psi_blocks(uint64_t addr, uint64_t size, unsigned max_am, unsigned max_blocks,
		   void (*fn)(void *ctx, uint64_t block, unsigned am), void *ctx)
{
	uint64_t start = addr & ~0xfffull, end = (addr + size + 0xfff) & ~0xfffull;
	if (!size || end <= start)
		return 0;
	unsigned n = 0;
	for (uint64_t a = start; a < end; a += 4096ull << block_order(a, end, max_am))
		if (++n > max_blocks)
			return -1;
	for (uint64_t a = start; a < end;) {
		unsigned am = block_order(a, end, max_am);
		fn(ctx, a, am);
		a += 4096ull << am;
	}
	return (int)n;
}

uint64_t vtd_slpt_root(struct pagetable *pt, unsigned levels)
{
	if (levels == 4)
		return pt->root;
	if (levels != 3)
		return 0;
	uint64_t *pml4 = pt->phys_to_virt(pt->root);
	if (!(pml4[0] & SL_R)) {
		uint64_t t = pt->alloc_table(pt->arg);
		if (!t)
			return 0;
		pt->tables++;
		pml4[0] = t | SL_R | SL_W | pt->table_flags;
	}
	return pml4[0] & PTE_ADDR_MASK;
}

static void walk(const struct pagetable *pt, uint64_t table, int level,
		 void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
	if (level > 0) {
		const uint64_t *t = pt->phys_to_virt(table);
		for (unsigned i = 0; i < 512; i++)
			if ((t[i] & SL_R) && !(t[i] & SL_PS))
				walk(pt, t[i] & PTE_ADDR_MASK, level - 1, fn, ctx);
	}
	fn(ctx, table);
}

void vtd_slpt_for_each_table(const struct pagetable *pt, void (*fn)(void *ctx, uint64_t phys),
			     void *ctx)
{
	if (pt->root)
		walk(pt, pt->root, 3, fn, ctx);
}

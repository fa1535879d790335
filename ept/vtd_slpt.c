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

#include "ept/npt.h"

struct npt_ctx {
	struct pagetable *pt;
	enum page_level largest;
};

static int npt_emit(void *arg, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct npt_ctx *c = arg;
	/* write-back memory (PAT entry 0), executable, writable, user */
	return pt_map(c->pt, gpa, hpa, size, PTE_W | PTE_U, c->largest);
}

int npt_map_mmio(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	return pt_map(pt, gpa, hpa, size, PTE_W | PTE_U | PTE_PCD | PTE_PWT, PAGE_2M);
}

int npt_build(const struct gpa_map *m, struct pagetable *pt, bool gbpages)
{
	struct npt_ctx c = {pt, gbpages ? PAGE_1G : PAGE_2M};
	/* every level is checked as a user access (APM Vol. 2 §15.25.5) */
	pt->table_flags = PTE_U;
	return gpa_map_for_each_run(m, npt_emit, &c);
}

#include "ept/ept.h"

#include "vmx/vmx_caps.h"

struct ept_ctx {
	struct pagetable *pt;
	enum page_level largest;
};

static int ept_emit(void *arg, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	struct ept_ctx *c = arg;
	/* bit 0 (read) doubles as the builder's present bit */
	return pt_map(c->pt, gpa, hpa, size, EPT_READ | EPT_WRITE | EPT_EXEC | EPT_MEMTYPE_WB,
		      c->largest);
}

int ept_map_mmio(struct pagetable *pt, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	/* memory type 0 = UC (Vol. 3C §29.3.7); IPAT clear, UC wins over the guest's PAT anyway */
	return pt_map(pt, gpa, hpa, size, EPT_READ | EPT_WRITE, PAGE_2M);
}

int ept_build(const struct gpa_map *m, struct pagetable *pt, bool gbpages)
{
	struct ept_ctx c = {pt, gbpages ? PAGE_1G : PAGE_2M};
	/* table entries: read and write come from the builder, execute from here */
	pt->table_flags = EPT_EXEC;
	return gpa_map_for_each_run(m, ept_emit, &c);
}

/*
 * seg:offset -> linear -> guest-physical -> RAM or device, with the checks a
 * CPU makes on the way: segment limit and type (Intel SDM Vol. 3A §5.3,
 * §5.4; AMD APM Vol. 2 §4.12), canonical form in 64-bit mode (SDM Vol. 3A
 * §3.3.7.1), then paging (guest_paging.c).
 */
#include "guest/guest_vmem.h"

#define PAGE_SIZE 4096ull
#define PAGE_MASK (~(PAGE_SIZE - 1))

/* Segment descriptor bits in the attrib layout (SDM Vol. 3A §3.4.5). */
#define SEG_TYPE_ACCESS_RW (1u << 1)	/* data: writable; code: readable */
#define SEG_TYPE_EXPAND_DOWN (1u << 2)	/* data only */
#define SEG_TYPE_CODE (1u << 3)
#define SEG_PRESENT (1u << 7)
#define SEG_DB (1u << 10)		/* descriptor bit 54: D/B */

static int record_fault(struct guest_vmem *m, uint8_t vector, uint32_t error, uint64_t cr2)
{
	m->fault = (struct guest_fault){ .valid = true, .vector = vector, .error_code = error,
					 .cr2 = cr2 };
	return GUEST_VMEM_FAULT;
}

/* A segment check fails with #SS(0) for SS and #GP(0) for the others (SDM Vol. 3A §6.15). */
static int segment_fault(struct guest_vmem *m, enum x86_seg seg)
{
	return record_fault(m, seg == X86_SEG_SS ? GUEST_VEC_SS : GUEST_VEC_GP, 0, 0);
}

static bool canonical(const struct guest_vmem *m, uint64_t addr)
{
	unsigned int bits = m->paging.cr4 & GUEST_CR4_LA57 ? 57 : 48;
	int64_t sx = (int64_t)(addr << (64 - bits)) >> (64 - bits);

	return (uint64_t)sx == addr;
}

/* The linear address of seg:offset for an access of size bytes, or a fault. */
static int segment_linear(struct guest_vmem *m, enum x86_seg seg, uint64_t offset,
			  unsigned int size, bool write, uint64_t *linear)
{
	const struct guest_segment *s = &m->seg[seg];
	uint64_t last = offset + size - 1;
	bool expand_down = false;

	if (m->long64) {
		/* Only FS and GS keep a base in 64-bit mode; no limit or type checks. */
		uint64_t lin = (seg == X86_SEG_FS || seg == X86_SEG_GS ? s->base : 0) + offset;

		if (!canonical(m, lin) || !canonical(m, lin + size - 1))
			return segment_fault(m, seg);
		*linear = lin;
		return GUEST_VMEM_OK;
	}
	if (m->protected_mode) {
		unsigned int type = s->attrib & 0xf;

		/* A null or not-present segment cannot be used (SDM Vol. 3A §5.4.1). */
		if (!(s->attrib & SEG_PRESENT))
			return segment_fault(m, seg);
		if (type & SEG_TYPE_CODE) {
			/* Code segments are never writable, and readable only with R. */
			if (write || !(type & SEG_TYPE_ACCESS_RW))
				return segment_fault(m, seg);
		} else {
			if (write && !(type & SEG_TYPE_ACCESS_RW))
				return segment_fault(m, seg);
			expand_down = type & SEG_TYPE_EXPAND_DOWN;
		}
	}
	/* Real mode checks the hidden limit too (normally 0xffff). */
	if (expand_down) {
		/* Valid offsets are limit+1 .. 0xffff or 0xffffffff (SDM Vol. 3A §5.3). */
		uint64_t upper = s->attrib & SEG_DB ? 0xffffffffull : 0xffffull;

		if (offset <= s->limit || last > upper)
			return segment_fault(m, seg);
	} else if (last > s->limit) {
		return segment_fault(m, seg);
	}
	*linear = (s->base + offset) & 0xffffffffull;
	return GUEST_VMEM_OK;
}

/* The guest-physical address of one piece (within a page) at linear, or a fault. */
static int translate(struct guest_vmem *m, uint64_t linear, bool write, uint64_t *gpa)
{
	uint64_t page = linear & PAGE_MASK, gpa_page;
	uint32_t pf_error = 0;
	int rc;

	if (m->tlb[write].valid && m->tlb[write].page == page) {
		*gpa = m->tlb[write].gpa_page | (linear & ~PAGE_MASK);
		return GUEST_VMEM_OK;
	}
	rc = guest_walk(&m->paging, page, write ? GUEST_ACCESS_WRITE : GUEST_ACCESS_READ,
			&gpa_page, &pf_error, &m->walk_mem, m->ctx);
	switch (rc) {
	case GUEST_WALK_OK:
		break;
	case GUEST_WALK_PAGE_FAULT:
		/* CR2 is the address the access used, not the page (SDM Vol. 3A §4.7). */
		return record_fault(m, GUEST_VEC_PF, pf_error, linear);
	case GUEST_WALK_NONCANONICAL:
		return record_fault(m, GUEST_VEC_GP, 0, 0);
	default:
		return GUEST_VMEM_ERROR;
	}
	m->tlb[write].valid = true;
	m->tlb[write].page = page;
	m->tlb[write].gpa_page = gpa_page;
	*gpa = gpa_page | (linear & ~PAGE_MASK);
	return GUEST_VMEM_OK;
}

/* An access split at the page boundary: at most two pieces (size <= 8). */
struct pieces {
	unsigned int n;
	uint64_t gpa[2];
	unsigned int size[2];
};

/* Every check of the access, first piece first, before any of it is made. */
static int resolve(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		   bool write, struct pieces *p)
{
	uint64_t linear, wrap = m->long64 ? ~0ull : 0xffffffffull;
	unsigned int first;
	int rc;

	if (size == 0 || size > 8)
		return GUEST_VMEM_ERROR;
	rc = segment_linear(m, seg, offset, size, write, &linear);
	if (rc)
		return rc;
	first = (unsigned int)(PAGE_SIZE - (linear & ~PAGE_MASK));
	if (first > size)
		first = size;
	p->n = first == size ? 1 : 2;
	p->size[0] = first;
	p->size[1] = size - first;
	rc = translate(m, linear, write, &p->gpa[0]);
	if (rc == GUEST_VMEM_OK && p->n == 2)
		rc = translate(m, (linear + first) & wrap, write, &p->gpa[1]);
	return rc;
}

int guest_vmem_probe(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		     bool write)
{
	struct pieces p;

	return resolve(m, seg, offset, size, write, &p);
}

int guest_vmem_read(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		    uint64_t *val)
{
	struct pieces p;
	uint64_t v = 0, part;
	unsigned int i, shift = 0;
	int rc = resolve(m, seg, offset, size, false, &p);

	if (rc)
		return rc;
	for (i = 0; i < p.n; i++) {
		if (m->phys_read(m->ctx, p.gpa[i], p.size[i], &part))
			return GUEST_VMEM_ERROR;
		if (p.size[i] < 8)
			part &= (1ull << (8 * p.size[i])) - 1;
		v |= part << shift;
		shift += 8 * p.size[i];
	}
	*val = v;
	return GUEST_VMEM_OK;
}

int guest_vmem_write(struct guest_vmem *m, enum x86_seg seg, uint64_t offset, unsigned int size,
		     uint64_t val)
{
	struct pieces p;
	unsigned int i;
	int rc = resolve(m, seg, offset, size, true, &p);

	if (rc)
		return rc;
	for (i = 0; i < p.n; i++) {
		uint64_t part = p.size[i] < 8 ? val & ((1ull << (8 * p.size[i])) - 1) : val;

		if (m->phys_write(m->ctx, p.gpa[i], p.size[i], part))
			return GUEST_VMEM_ERROR;
		val = p.size[i] < 8 ? val >> (8 * p.size[i]) : 0;
	}
	return GUEST_VMEM_OK;
}

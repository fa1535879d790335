/*
 * Guest page-table walker (Intel SDM Vol. 3A ch. 4, AMD APM Vol. 2 ch. 5).
 *
 * One walk for the three 8-byte-entry formats (PAE, 4-level, 5-level) and one
 * for 32-bit paging. Faults are reported in the order the CPU finds them: a
 * not-present or reserved-bit entry on the way down, then the access rights
 * of the whole translation.
 */
#include "guest/guest_paging.h"

#include "kernel/lib/string.h"

/* Paging-entry bits common to all formats (SDM Vol. 3A §4.3-§4.5). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_XD (1ull << 63)

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)

/* Bits hi..lo set. */
static uint64_t bits(unsigned int hi, unsigned int lo)
{
	if (hi < lo)
		return 0;
	return (hi >= 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
}

static unsigned int maxphyaddr(const struct guest_paging_state *st)
{
	return st->maxphyaddr && st->maxphyaddr < 52 ? st->maxphyaddr : 52;
}

enum guest_paging_mode guest_paging_mode(const struct guest_paging_state *st)
{
	if (!(st->cr0 & GUEST_CR0_PG))
		return GUEST_PAGING_NONE;
	if (st->efer & GUEST_EFER_LMA)
		return st->cr4 & GUEST_CR4_LA57 ? GUEST_PAGING_5LEVEL : GUEST_PAGING_4LEVEL;
	if (st->cr4 & GUEST_CR4_PAE)
		return GUEST_PAGING_PAE;
	return GUEST_PAGING_32;
}

/* The rights the walk gathered: U/S and R/W are ANDed over the levels, XD ORed (§4.6). */
struct walk {
	const struct guest_paging_state *st;
	enum guest_paging_mode mode;
	enum guest_access access;
	const struct guest_mem_ops *mem;
	void *ctx;
	bool user_ok;
	bool write_ok;
	bool exec_disabled;
	/* Entries used, for the Accessed/Dirty update. */
	uint64_t entry_addr[5];
	uint64_t entry[5];
	bool entry_has_a[5];
	unsigned int nr_entries;
	unsigned int entry_size;
	uint32_t pf_error;
};

static bool user_access(const struct walk *w)
{
	return w->st->cpl == 3;
}

/* The error code bits that describe the access itself (SDM Vol. 3A §4.7). */
static uint32_t access_error_bits(const struct walk *w)
{
	const struct guest_paging_state *st = w->st;
	uint32_t err = 0;

	if (w->access == GUEST_ACCESS_WRITE)
		err |= GUEST_PF_W;
	if (user_access(w))
		err |= GUEST_PF_U;
	/* I/D is reported only when SMEP is on, or with PAE-format entries and NXE. */
	if (w->access == GUEST_ACCESS_EXEC &&
	    ((st->cr4 & GUEST_CR4_SMEP) ||
	     ((st->cr4 & GUEST_CR4_PAE) && (st->efer & GUEST_EFER_NXE))))
		err |= GUEST_PF_ID;
	return err;
}

static int page_fault(struct walk *w, uint32_t extra)
{
	w->pf_error = access_error_bits(w) | extra;
	return GUEST_WALK_PAGE_FAULT;
}

static int read_entry(struct walk *w, uint64_t addr, uint64_t *entry)
{
	uint8_t buf[8];
	uint64_t v = 0;
	unsigned int i;

	if (w->mem->read_phys(w->ctx, addr, buf, w->entry_size))
		return GUEST_WALK_MEM_ERROR;
	for (i = 0; i < w->entry_size; i++)
		v |= (uint64_t)buf[i] << (8 * i);
	*entry = v;
	return 0;
}

static int write_entry(struct walk *w, uint64_t addr, uint64_t entry)
{
	uint8_t buf[8];
	unsigned int i;

	for (i = 0; i < w->entry_size; i++)
		buf[i] = (uint8_t)(entry >> (8 * i));
	return w->mem->write_phys(w->ctx, addr, buf, w->entry_size) ? GUEST_WALK_MEM_ERROR : 0;
}

static void note_entry(struct walk *w, uint64_t addr, uint64_t entry, bool has_rights)
{
	unsigned int n = w->nr_entries++;

	w->entry_addr[n] = addr;
	w->entry[n] = entry;
	/* PAE PDPTEs carry no rights and no Accessed bit (SDM Vol. 3A Table 4-8). */
	w->entry_has_a[n] = has_rights;
	if (!has_rights)
		return;
	w->user_ok = w->user_ok && (entry & PTE_US);
	w->write_ok = w->write_ok && (entry & PTE_RW);
	if ((w->st->efer & GUEST_EFER_NXE) && (entry & PTE_XD))
		w->exec_disabled = true;
}

/* Access rights of the finished translation (SDM Vol. 3A §4.6.1). */
static int check_rights(struct walk *w)
{
	const struct guest_paging_state *st = w->st;
	bool user = user_access(w);

	if (user && !w->user_ok)
		return page_fault(w, GUEST_PF_P);
	switch (w->access) {
	case GUEST_ACCESS_EXEC:
		if (w->exec_disabled)
			return page_fault(w, GUEST_PF_P);
		/* SMEP: no supervisor fetch from a user page. */
		if (!user && w->user_ok && (st->cr4 & GUEST_CR4_SMEP))
			return page_fault(w, GUEST_PF_P);
		return 0;
	case GUEST_ACCESS_WRITE:
		/* A supervisor write ignores R/W when CR0.WP is clear. */
		if (!w->write_ok && (user || (st->cr0 & GUEST_CR0_WP)))
			return page_fault(w, GUEST_PF_P);
		/* fall through */
	default:
		/* SMAP: no supervisor data access to a user page unless RFLAGS.AC. */
		if (!user && w->user_ok && (st->cr4 & GUEST_CR4_SMAP) &&
		    !(st->rflags & GUEST_RFLAGS_AC))
			return page_fault(w, GUEST_PF_P);
		return 0;
	}
}

/* Sets Accessed on every entry used and Dirty on the leaf for a write (§4.8). */
static int update_accessed_dirty(struct walk *w)
{
	unsigned int i, leaf = w->nr_entries - 1;
	int rc;

	if (!w->mem->write_phys)
		return 0;
	for (i = 0; i < w->nr_entries; i++) {
		uint64_t e = w->entry[i];

		if (!w->entry_has_a[i])
			continue;
		e |= PTE_A;
		if (i == leaf && w->access == GUEST_ACCESS_WRITE)
			e |= PTE_D;
		if (e == w->entry[i])
			continue;
		rc = write_entry(w, w->entry_addr[i], e);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Reserved bits of an 8-byte entry at a level (1 = PTE ... 5 = PML5E), which
 * fault with RSVD set (SDM Vol. 3A Tables 4-8 to 4-11, 4-14 to 4-20).
 */
static uint64_t reserved_bits(const struct walk *w, unsigned int level, uint64_t entry)
{
	unsigned int m = maxphyaddr(w->st);
	uint64_t xd = (w->st->efer & GUEST_EFER_NXE) ? 0 : PTE_XD;
	bool large = (entry & PTE_PS) != 0;

	if (w->mode == GUEST_PAGING_PAE) {
		/* PAE: bits 62:M are reserved, not ignored as in 4-level entries. */
		if (level == 3)
			return bits(63, m) | bits(8, 5) | bits(2, 1);
		if (level == 2 && large)
			return bits(62, m) | bits(20, 13) | xd;
		return bits(62, m) | xd;
	}
	if (level >= 4)
		return bits(51, m) | PTE_PS | xd;
	if (level == 3 && large)
		return bits(51, m) | bits(29, 13) | xd;
	if (level == 2 && large)
		return bits(51, m) | bits(20, 13) | xd;
	return bits(51, m) | xd;
}

static int walk_pae_long(struct walk *w, uint64_t gva, uint64_t *gpa)
{
	unsigned int level, top;
	uint64_t table;
	int rc;

	w->entry_size = 8;
	if (w->mode == GUEST_PAGING_PAE) {
		/* CR3 holds a 32-byte aligned PDPT of four entries (SDM Vol. 3A §4.4.1). */
		top = 3;
		table = w->st->cr3 & bits(31, 5);
	} else {
		top = w->mode == GUEST_PAGING_5LEVEL ? 5 : 4;
		table = w->st->cr3 & bits(51, 12);
	}

	for (level = top;; level--) {
		unsigned int shift = PAGE_SHIFT + 9 * (level - 1);
		bool pae_pdpte = w->mode == GUEST_PAGING_PAE && level == 3;
		uint64_t index = (gva >> shift) & (pae_pdpte ? 3 : 511);
		uint64_t addr = table + index * 8, entry;

		rc = read_entry(w, addr, &entry);
		if (rc)
			return rc;
		if (!(entry & PTE_P))
			return page_fault(w, 0);
		if (entry & reserved_bits(w, level, entry))
			return page_fault(w, GUEST_PF_P | GUEST_PF_RSVD);
		note_entry(w, addr, entry, !pae_pdpte);

		/* PS maps a 1 GiB page at level 3 (not in PAE) or 2 MiB at level 2. */
		if (level == 1 || (level <= 3 && !pae_pdpte && (entry & PTE_PS))) {
			*gpa = (entry & bits(51, shift)) | (gva & bits(shift - 1, 0));
			return 0;
		}
		table = entry & bits(51, PAGE_SHIFT);
	}
}

/* 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE (SDM Vol. 3A §4.3). */
static int walk_32(struct walk *w, uint64_t gva, uint64_t *gpa)
{
	uint64_t pde_addr = (w->st->cr3 & bits(31, 12)) | ((gva >> 22) << 2);
	uint64_t pde, pte_addr, pte;
	int rc;

	w->entry_size = 4;
	rc = read_entry(w, pde_addr, &pde);
	if (rc)
		return rc;
	if (!(pde & PTE_P))
		return page_fault(w, 0);
	if ((w->st->cr4 & GUEST_CR4_PSE) && (pde & PTE_PS)) {
		/*
		 * PSE-36: PDE bits (M-20):13 give physical bits (M-1):32, M capped
		 * at 40; bits 21:(M-19) are reserved (SDM Vol. 3A Table 4-4).
		 */
		unsigned int m = maxphyaddr(w->st), high = m > 40 ? 8 : (m > 32 ? m - 32 : 0);

		if (pde & bits(21, 13 + high))
			return page_fault(w, GUEST_PF_P | GUEST_PF_RSVD);
		note_entry(w, pde_addr, pde, true);
		*gpa = (pde & bits(31, 22)) | (((pde >> 13) & ((1ull << high) - 1)) << 32) |
		       (gva & bits(21, 0));
		return 0;
	}
	note_entry(w, pde_addr, pde, true);

	pte_addr = (pde & bits(31, 12)) | (((gva >> PAGE_SHIFT) & 0x3ff) << 2);
	rc = read_entry(w, pte_addr, &pte);
	if (rc)
		return rc;
	if (!(pte & PTE_P))
		return page_fault(w, 0);
	note_entry(w, pte_addr, pte, true);
	*gpa = (pte & bits(31, 12)) | (gva & bits(11, 0));
	return 0;
}

static bool canonical(uint64_t addr, unsigned int va_bits)
{
	int64_t shifted = (int64_t)(addr << (64 - va_bits)) >> (64 - va_bits);

	return (uint64_t)shifted == addr;
}

int guest_walk(const struct guest_paging_state *st, uint64_t gva, enum guest_access access,
	       uint64_t *gpa, uint32_t *pf_error, const struct guest_mem_ops *mem, void *ctx)
{
	struct walk w = {
		.st = st,
		.mode = guest_paging_mode(st),
		.access = access,
		.mem = mem,
		.ctx = ctx,
		.user_ok = true,
		.write_ok = true,
	};
	uint64_t addr;
	int rc;

	*pf_error = 0;
	switch (w.mode) {
	case GUEST_PAGING_NONE:
		/* Without paging there is no long mode: linear addresses are 32 bits. */
		*gpa = gva & 0xffffffffull;
		return GUEST_WALK_OK;
	case GUEST_PAGING_32:
		rc = walk_32(&w, gva & 0xffffffffull, &addr);
		break;
	case GUEST_PAGING_PAE:
		rc = walk_pae_long(&w, gva & 0xffffffffull, &addr);
		break;
	default:
		/* A non-canonical address is #GP, not #PF (SDM Vol. 3A §4.5). */
		if (!canonical(gva, w.mode == GUEST_PAGING_5LEVEL ? 57 : 48))
			return GUEST_WALK_NONCANONICAL;
		rc = walk_pae_long(&w, gva, &addr);
		break;
	}
	if (rc == 0)
		rc = check_rights(&w);
	if (rc == 0)
		rc = update_accessed_dirty(&w);
	if (rc == GUEST_WALK_PAGE_FAULT)
		*pf_error = w.pf_error;
	if (rc == 0)
		*gpa = addr;
	return rc;
}

int guest_fetch_insn(const struct guest_paging_state *st, uint64_t rip,
		     struct guest_insn_fetch *f, const struct guest_mem_ops *mem, void *ctx)
{
	uint64_t addr_mask = guest_paging_mode(st) >= GUEST_PAGING_4LEVEL ? ~0ull : 0xffffffffull;

	memset(f, 0, sizeof(*f));
	while (f->len < GUEST_INSN_MAX) {
		/* Outside long mode the linear address wraps at 4 GiB. */
		uint64_t addr = (rip + f->len) & addr_mask, gpa;
		size_t chunk = GUEST_INSN_MAX - f->len;
		size_t to_page_end = PAGE_SIZE - (addr & (PAGE_SIZE - 1));
		int rc;

		if (chunk > to_page_end)
			chunk = to_page_end;
		rc = guest_walk(st, addr, GUEST_ACCESS_EXEC, &gpa, &f->pf_error, mem, ctx);
		if (rc == 0 && mem->read_phys(ctx, gpa, f->bytes + f->len, chunk))
			rc = GUEST_WALK_MEM_ERROR;
		if (rc) {
			f->stop = rc;
			f->fault_addr = addr;
			break;
		}
		f->len += chunk;
	}
	return f->len ? GUEST_WALK_OK : f->stop;
}

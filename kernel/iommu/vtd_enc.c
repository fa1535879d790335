/* The VT-d in-memory formats (vtd_hw.h), encoded bit by bit. Pure logic. */
#include "kernel/iommu/vtd_hw.h"

#include "kernel/lib/format.h"

#define ADDR_4K 0xfffffffffffff000ull

struct vtd_entry vtd_root_entry(uint64_t context_table)
{
	return (struct vtd_entry){(context_table & ADDR_4K) | 1, 0};
}

struct vtd_entry vtd_context_entry(uint64_t slpt, unsigned levels, uint16_t did)
{
	/* lo: P, FPD 0 (faults recorded), TT 00 (untranslated requests through the SL tables) */
	/* hi: AW 1 = 39-bit (3 levels), 2 = 48-bit (4 levels); DID in 23:8 */
	uint64_t aw = levels == 4 ? 2 : 1;
	return (struct vtd_entry){(slpt & ADDR_4K) | 1, aw | (uint64_t)did << 8};
}

/* Descriptor types (§6.5.2) */
#define QI_CC 1
#define QI_IOTLB 2
#define QI_IEC 4
#define QI_WAIT 5

struct vtd_entry vtd_qi_context_global(void)
{
	return (struct vtd_entry){QI_CC | 1u << 4, 0};
}

struct vtd_entry vtd_qi_context_domain(uint16_t did)
{
	return (struct vtd_entry){QI_CC | 2u << 4 | (uint64_t)did << 16, 0};
}

struct vtd_entry vtd_qi_context_device(uint16_t did, uint16_t sid)
{
	/* FM (49:48) 0: the whole 16-bit source-id is compared */
	return (struct vtd_entry){QI_CC | 3u << 4 | (uint64_t)did << 16 | (uint64_t)sid << 32, 0};
}

/* drain reads and writes (DR 7, DW 6): harmless where the unit does not drain */
#define QI_IOTLB_DRAIN (1u << 7 | 1u << 6)

struct vtd_entry vtd_qi_iotlb_global(void)
{
	return (struct vtd_entry){QI_IOTLB | 1u << 4 | QI_IOTLB_DRAIN, 0};
}

struct vtd_entry vtd_qi_iotlb_domain(uint16_t did)
{
	return (struct vtd_entry){QI_IOTLB | 2u << 4 | QI_IOTLB_DRAIN | (uint64_t)did << 16, 0};
}

struct vtd_entry vtd_qi_iotlb_page(uint16_t did, uint64_t addr, unsigned am)
{
	/* hi: ADDR 63:12, IH 6 (0: paging-structure caches flushed too), AM 5:0 */
	return (struct vtd_entry){QI_IOTLB | 3u << 4 | QI_IOTLB_DRAIN | (uint64_t)did << 16,
				  (addr & ADDR_4K) | (am & 0x3f)};
}

struct vtd_entry vtd_qi_iec_global(void)
{
	return (struct vtd_entry){QI_IEC, 0};
}

struct vtd_entry vtd_qi_iec_index(uint16_t index, unsigned im)
{
	/* G (bit 4) 1: index-selective; IM 31:27; IIDX 47:32 */
	return (struct vtd_entry){QI_IEC | 1u << 4 | (uint64_t)(im & 0x1f) << 27 |
				      (uint64_t)index << 32,
				  0};
}

struct vtd_entry vtd_qi_wait(uint32_t status, uint64_t status_addr)
{
	/* SW (bit 5): write the status; FN (bit 6): later descriptors wait for this one */
	return (struct vtd_entry){QI_WAIT | 1u << 5 | 1u << 6 | (uint64_t)status << 32,
				  status_addr & ~3ull};
}

struct vtd_entry vtd_irte(uint8_t vector, uint32_t apic_id, bool x2apic, uint16_t sid)
{
	/*
	 * lo: P 0, FPD 1 = 0, DM 2 = 0 (physical), RH 3 = 0, TM 4 = 0 (edge),
	 * DLM 7:5 = 000 (fixed), IM 15 = 0 (remapped), V 23:16, DST 63:32.
	 */
	uint64_t dst = x2apic ? apic_id : (apic_id & 0xff) << 8;
	uint64_t lo = 1 | (uint64_t)vector << 16 | dst << 32;
	/* hi: SID 15:0, SQ 17:16 = 0 (all bits), SVT 19:18 = 1 (verify SID) */
	uint64_t hi = sid | 1ull << 18;
	return (struct vtd_entry){lo, hi};
}

struct vtd_entry vtd_irte_level(uint8_t vector, uint32_t apic_id, bool x2apic, uint16_t sid)
{
	struct vtd_entry e = vtd_irte(vector, apic_id, x2apic, sid);
	e.lo |= 1u << 4; /* TM */
	return e;
}

void vtd_msi_remappable(uint16_t handle, uint64_t *addr, uint32_t *data)
{
	/* 0xFEE 31:20, handle[14:0] 19:5, IF 4 = 1, SHV 3 = 0, handle[15] 2 */
	*addr = 0xfee00000u | (uint32_t)(handle & 0x7fff) << 5 | 1u << 4 |
		(uint32_t)(handle >> 15) << 2;
	*data = 0;
}

uint64_t vtd_ioapic_rte_remappable(uint16_t handle, uint8_t vector, bool level, bool masked)
{
	/* vector 7:0 (kept for the EOI broadcast), index[15] bit 11, TM 15, mask 16, IF 48, index[14:0] 63:49 */
	return vector | (uint64_t)(handle >> 15) << 11 | (level ? 1ull << 15 : 0) |
	       (masked ? 1ull << 16 : 0) | 1ull << 48 | (uint64_t)(handle & 0x7fff) << 49;
}

const char *vtd_fault_reason(unsigned fr)
{
	switch (fr) {
	case 0x1:
		return "root entry not present";
	case 0x2:
		return "context entry not present (device blocked)";
	case 0x3:
		return "context entry invalid";
	case 0x4:
		return "address beyond the domain's width";
	case 0x5:
		return "write to a page not mapped, or mapped read-only";
	case 0x6:
		return "read of a page not mapped";
	case 0x7:
		return "page-table entry unreadable";
	case 0x8:
		return "root table unreadable";
	case 0x9:
		return "context table unreadable";
	case 0xa:
		return "root entry reserved bits set";
	case 0xb:
		return "context entry reserved bits set";
	case 0xc:
		return "page-table entry reserved bits set";
	case 0xd:
		return "request type blocked by the context entry";
	case 0x20:
		return "interrupt request with reserved bits";
	case 0x21:
		return "interrupt index beyond the table";
	case 0x22:
		return "interrupt entry not present";
	case 0x23:
		return "interrupt table unreadable";
	case 0x24:
		return "interrupt entry reserved bits set";
	case 0x25:
		return "compatibility-format interrupt blocked";
	case 0x26:
		return "interrupt from the wrong source-id";
	default:
		return "unknown reason";
	}
}

unsigned vtd_domains(uint64_t cap)
{
	unsigned nd = VTD_CAP_ND(cap);
	if (nd > 6)
		nd = 6;
	return 1u << (4 + 2 * nd);
}

unsigned vtd_levels(uint64_t cap)
{
	unsigned s = VTD_CAP_SAGAW(cap);
	if (s & VTD_SAGAW_48)
		return 4;
	if (s & VTD_SAGAW_39)
		return 3;
	return 0;
}

void vtd_describe(uint64_t cap, uint64_t ecap, char *buf, size_t len)
{
	size_t n = 0;
	unsigned lv = vtd_levels(cap);
	buf[0] = 0;
	if (lv)
		format_append(buf, len, &n, "%u-bit tables (%u levels)", lv == 4 ? 48 : 39, lv);
	else
		format_append(buf, len, &n, "no usable table depth (SAGAW %#x)", VTD_CAP_SAGAW(cap));
	unsigned sp = VTD_CAP_SLLPS(cap);
	format_append(buf, len, &n, ", %s pages",
		      (sp & VTD_SLLPS_1G) && (sp & VTD_SLLPS_2M) ? "4K+2M+1G"
		      : (sp & VTD_SLLPS_2M)			   ? "4K+2M"
								   : "4K only");
	format_append(buf, len, &n, ", %u domains", vtd_domains(cap));
	format_append(buf, len, &n, ecap & VTD_ECAP_QI ? ", queued invalidation"
						       : ", no queued invalidation (registers used)");
	if (!(ecap & VTD_ECAP_IR))
		format_append(buf, len, &n, ", no interrupt remapping");
	else if (ecap & VTD_ECAP_EIM)
		format_append(buf, len, &n, ", interrupt remapping (x2APIC)");
	else
		format_append(buf, len, &n, ", interrupt remapping (xAPIC only: no EIM)");
	if (!(ecap & VTD_ECAP_C))
		format_append(buf, len, &n, ", page walks not coherent (tables flushed)");
	if (cap & VTD_CAP_CM)
		format_append(buf, len, &n, ", caching mode");
	if (cap & VTD_CAP_RWBF)
		format_append(buf, len, &n, ", needs write-buffer flush");
}

/*
 * The guest's CPUID: the allow list of cpuid_table.c intersected with the
 * host's answer, and the fields that are the VM's own (topology, OSXSAVE,
 * XSAVE sizes, the hypervisor leaves). See cpuid_policy.h.
 */
#include "kernel/vm/cpuid_policy.h"
#include "kernel/vm/pvclock.h"

#include "kernel/lib/string.h"

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_YMM (1ull << 2)
#define XCR0_AVX512 (7ull << 5) /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XSAVE_LEGACY_AND_HEADER 576u /* 512-byte legacy area + 64-byte header (SDM Vol. 1 §13.4) */
#define XSAVE_COMPONENTS 63u

/* Leaf 1 (SDM Vol. 2A Table 3-10, 3-11) */
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_APIC (1u << 9)
#define L1_EDX_HTT (1u << 28)
#define L6_EAX_ARAT (1u << 2)
#define L7_EBX_AVX512F (1u << 16)
#define L7_ECX_PKU (1u << 3)
#define L7_ECX_OSPKE (1u << 4)
#define LD1_EAX_XSAVEC (1u << 1)
#define X1_ECX_CMP_LEGACY (1u << 1)
/* 0x80000001 EDX bits that repeat leaf 1 EDX on AMD (APM Vol. 3 E.4.2): 0-9, 12-17, 23, 24 */
#define X1_EDX_LEAF1_MIRROR 0x0183f3ffu

/* Topology levels of leaves 0xB and 0x1F (SDM Vol. 2A, CPUID leaf 0BH) */
#define TOPO_TYPE_SMT 1u
#define TOPO_TYPE_CORE 2u

static void host_cpuid(const struct cpuid_host *h, uint32_t leaf, uint32_t sub,
		       struct cpuid_result *r)
{
	*r = (struct cpuid_result){0, 0, 0, 0};
	h->query(h->opaque, leaf, sub, r);
}

static unsigned vm_cpus(const struct cpuid_ctx *c)
{
	return c->nvcpus ? c->nvcpus : 1;
}

/* Bits of an x2APIC ID that number the cores: ceil(log2(nvcpus)). */
static unsigned core_shift(unsigned n)
{
	unsigned s = 0;
	while (s < 31 && (1u << s) < n)
		s++;
	return s;
}

/* The highest leaf the table lists in the range starting at base, for this vendor. */
static uint32_t table_max_scan(uint32_t base, enum cpuid_vendor vendor)
{
	uint32_t max = base;
	for (unsigned i = 0; i < cpuid_leaf_rule_count; i++) {
		const struct cpuid_leaf_rule *r = &cpuid_leaf_rules[i];
		if (r->leaf >= base && r->leaf - base < 0x10000 && r->leaf > max &&
		    (r->vendors & (1u << vendor)))
			max = r->leaf;
	}
	return max;
}

/* The same, remembered per range and vendor (the table is constant; 0 = not yet). */
static uint32_t table_max(uint32_t base, enum cpuid_vendor vendor)
{
	static uint32_t known[2][2];
	uint32_t *slot = &known[base != 0][vendor == CPUID_VENDOR_AMD];
	uint32_t max = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (!max) {
		max = table_max_scan(base, vendor);
		__atomic_store_n(slot, max, __ATOMIC_RELAXED);
	}
	return max;
}

static uint64_t compute_xcr0_allowed(const struct cpuid_host *h, uint32_t max_basic)
{
	struct cpuid_result r;
	if (max_basic < 0xd)
		return 0;
	host_cpuid(h, 1, 0, &r);
	if (!(r.ecx & L1_ECX_XSAVE))
		return 0; /* no XSAVE: XCR0 does not exist */
	host_cpuid(h, 0xd, 0, &r);
	uint64_t supported = r.eax | ((uint64_t)r.edx << 32);
	uint64_t allowed = supported & (XCR0_X87 | XCR0_SSE | XCR0_YMM);
	if (!(allowed & XCR0_SSE))
		allowed &= ~XCR0_YMM; /* AVX state needs SSE state (§13.3) */
	host_cpuid(h, 7, 0, &r);
	if ((allowed & XCR0_YMM) && (r.ebx & L7_EBX_AVX512F) &&
	    (supported & XCR0_AVX512) == XCR0_AVX512)
		allowed |= XCR0_AVX512;
	return allowed;
}

/*
 * What the host never changes, asked once. Several cores may fill it at
 * once: they write the same values, and `valid` is set last.
 */
static const struct cpuid_host_summary *summary(struct cpuid_host *h)
{
	struct cpuid_host_summary *s = &h->summary;
	if (__atomic_load_n(&s->valid, __ATOMIC_ACQUIRE))
		return s;
	struct cpuid_result r;
	host_cpuid(h, 0, 0, &r);
	s->max_basic = r.eax;
	host_cpuid(h, 0x80000000u, 0, &r);
	s->max_ext = r.eax;
	s->xcr0_allowed = compute_xcr0_allowed(h, s->max_basic);
	__atomic_store_n(&s->valid, true, __ATOMIC_RELEASE);
	return s;
}

uint64_t cpuid_policy_xcr0_allowed(struct cpuid_host *h)
{
	return summary(h)->xcr0_allowed;
}

/*
 * Leaf 0 / 0x80000000 EAX for the guest: the host's maximum, capped at the
 * table's. A host maximum outside the range (no extended leaves) gives the
 * range's first leaf only.
 */
static uint32_t guest_max(const struct cpuid_host_summary *s, const struct cpuid_ctx *c,
			  uint32_t base)
{
	uint32_t hmax = base ? s->max_ext : s->max_basic;
	uint32_t tmax = table_max(base, c->vendor);
	if (hmax < base || hmax - base >= 0x10000)
		return base;
	return hmax < tmax ? hmax : tmax;
}

bool cpuid_policy_xcr0_valid(uint32_t index, uint64_t value, uint64_t allowed)
{
	if (index != 0 || !(value & XCR0_X87) || (value & ~allowed))
		return false;
	if ((value & XCR0_YMM) && !(value & XCR0_SSE))
		return false;
	if ((value & XCR0_AVX512) &&
	    ((value & XCR0_AVX512) != XCR0_AVX512 || !(value & XCR0_YMM)))
		return false;
	return true;
}

/* The conditions of cpuid_table.c's NEEDS rows that hold for this guest. */
static unsigned guest_have(const struct cpuid_ctx *c, uint64_t xcr0_allowed)
{
	unsigned have = 0;
	if (c->caps.rdtscp)
		have |= CPUID_NEED_RDTSCP;
	if (c->caps.invpcid)
		have |= CPUID_NEED_INVPCID;
	if (c->caps.xsaves)
		have |= CPUID_NEED_XSAVES;
	/* CPUID_NEED_XSS: msr_policy.c does not emulate IA32_XSS, so never */
	if (xcr0_allowed & XCR0_YMM)
		have |= CPUID_NEED_YMM;
	if (xcr0_allowed & XCR0_AVX512)
		have |= CPUID_NEED_ZMM;
	return have;
}

static uint32_t allowed(const struct cpuid_ctx *c, unsigned have, uint32_t leaf, uint32_t sub,
			enum cpuid_reg reg)
{
	return cpuid_table_allowed(leaf, sub, reg, c->vendor, have);
}

/* The host's answer r with only the table's bits left, in every register. */
static void apply_mask(const struct cpuid_ctx *c, unsigned have, uint32_t leaf, uint32_t sub,
		       const struct cpuid_result *r, struct cpuid_result *out)
{
	out->eax = r->eax & allowed(c, have, leaf, sub, CPUID_EAX);
	out->ebx = r->ebx & allowed(c, have, leaf, sub, CPUID_EBX);
	out->ecx = r->ecx & allowed(c, have, leaf, sub, CPUID_ECX);
	out->edx = r->edx & allowed(c, have, leaf, sub, CPUID_EDX);
}

static void masked(const struct cpuid_host *h, const struct cpuid_ctx *c, unsigned have,
		   uint32_t leaf, uint32_t sub, struct cpuid_result *out)
{
	struct cpuid_result r;
	host_cpuid(h, leaf, sub, &r);
	apply_mask(c, have, leaf, sub, &r, out);
}

/* ---- leaves with fields of the VM's own ---- */

static void leaf_hypervisor(uint32_t leaf, struct cpuid_result *out)
{
	if (leaf == HV_CPUID_BASE) {
		out->eax = HV_CPUID_BASE + 1; /* highest hypervisor leaf */
		memcpy(&out->ebx, HV_CPUID_SIGNATURE, 4);
		memcpy(&out->ecx, HV_CPUID_SIGNATURE + 4, 4);
		memcpy(&out->edx, HV_CPUID_SIGNATURE + 8, 4);
	} else if (leaf == HV_CPUID_BASE + 1) {
		out->eax = HV_ABI_VERSION;
	}
}

/*
 * Leaf 1: the host's signature and CLFLUSH line size; the APIC ID and the
 * logical processor count are the VM's. The vlapic gives every guest an
 * xAPIC, x2APIC and the TSC-deadline timer whatever the host has; OSXSAVE
 * mirrors the guest's CR4 as it would on hardware; ECX[31] says a
 * hypervisor is present. HTT says EBX[23:16] is meaningful: with one vCPU
 * there is nothing to count.
 */
static void leaf1(const struct cpuid_host *h, const struct cpuid_ctx *c, unsigned have,
		  struct cpuid_result *out)
{
	struct cpuid_result r;
	host_cpuid(h, 1, 0, &r);
	apply_mask(c, have, 1, 0, &r, out);
	unsigned n = vm_cpus(c);
	out->eax = r.eax;
	out->ebx = (r.ebx & 0xffff) | ((n > 255 ? 255 : n) << 16) | ((c->vcpu_id & 0xff) << 24);
	out->ecx |= L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE | L1_ECX_HYPERVISOR;
	if (c->cr4_osxsave)
		out->ecx |= L1_ECX_OSXSAVE;
	out->edx |= L1_EDX_APIC;
	if (n > 1)
		out->edx |= L1_EDX_HTT;
}

/*
 * Leaf 4 (Intel deterministic cache parameters): the host's caches, with
 * the sharing fields of the VM's topology. Every vCPU is a core of its own
 * (one thread per core), so L1 and L2 are private and the last level is
 * shared by the whole package.
 */
static void leaf4(const struct cpuid_host *h, const struct cpuid_ctx *c, uint32_t sub,
		  struct cpuid_result *out)
{
	struct cpuid_result r;
	host_cpuid(h, 4, sub, &r);
	if ((r.eax & 0x1f) == 0)
		return; /* no more caches: all zero */
	unsigned n = vm_cpus(c);
	unsigned level = (r.eax >> 5) & 7;
	uint32_t cores = (n > 64 ? 64 : n) - 1;
	uint32_t sharing = level <= 2 ? 0 : (1u << core_shift(n)) - 1;
	if (sharing > 0xfff)
		sharing = 0xfff;
	*out = r;
	out->eax = (r.eax & 0x3fff) | (sharing << 14) | (cores << 26);
}

/*
 * Leaf 7: sub-leaves 0 and 1 as the table allows; EAX of sub-leaf 0 is the
 * highest sub-leaf, capped at 1 (sub-leaf 2's bits are SPEC_CTRL controls
 * msr_policy.c does not promise).
 */
static void leaf7(const struct cpuid_host *h, const struct cpuid_ctx *c, unsigned have,
		  uint32_t sub, struct cpuid_result *out)
{
	struct cpuid_result r;
	host_cpuid(h, 7, 0, &r);
	uint32_t max_sub = r.eax < 1 ? r.eax : 1;
	if (sub > max_sub)
		return;
	masked(h, c, have, 7, sub, out);
	if (sub == 0) {
		out->eax = max_sub;
		/* OSPKE mirrors CR4.PKE where PKU is offered (it is not, today) */
		if ((out->ecx & L7_ECX_PKU) && c->cr4_pke)
			out->ecx |= L7_ECX_OSPKE;
	}
}

/*
 * Leaves 0xB and 0x1F, the (V2) extended topology: the VM's, not the host's.
 * Level 0 is SMT with one thread per core (shift 0), level 1 the cores: all
 * nvcpus of them in one package, the core number taking ceil(log2 nvcpus)
 * bits of the x2APIC ID. EDX is the x2APIC ID, the vCPU's number, as in the
 * guest's MADT. Past the last level the type is 0 (invalid) and ECX[7:0]
 * echoes the sub-leaf (SDM Vol. 2A, CPUID leaf 0BH).
 */
static void leaf_topology(const struct cpuid_ctx *c, uint32_t sub, struct cpuid_result *out)
{
	unsigned n = vm_cpus(c);
	out->edx = c->vcpu_id;
	if (sub == 0) {
		out->eax = 0;
		out->ebx = 1;
		out->ecx = (TOPO_TYPE_SMT << 8) | 0;
	} else if (sub == 1) {
		out->eax = core_shift(n);
		out->ebx = n > 0xffff ? 0xffff : n;
		out->ecx = (TOPO_TYPE_CORE << 8) | 1;
	} else {
		out->ecx = sub & 0xff;
	}
}

/*
 * The size of an XSAVE area holding the components in mask, from the host's
 * leaf 0xd sub-leaves (SDM Vol. 1 §13.2, §13.4.3). Standard format: each
 * component at its fixed offset (EBX, size EAX), so the area ends at the
 * furthest one. Compacted (XSAVEC): components packed in order, those with
 * ECX[1] set aligned to 64 bytes.
 */
static uint32_t xsave_size(const struct cpuid_host *h, uint64_t mask, bool compacted)
{
	uint32_t size = XSAVE_LEGACY_AND_HEADER;
	for (unsigned i = 2; i < XSAVE_COMPONENTS; i++) {
		if (!(mask & (1ull << i)))
			continue;
		struct cpuid_result r;
		host_cpuid(h, 0xd, i, &r);
		if (!compacted) {
			if (r.ebx + r.eax > size)
				size = r.ebx + r.eax;
			continue;
		}
		if (r.ecx & 2)
			size = (size + 63) & ~63u;
		size += r.eax;
	}
	return size;
}

/*
 * Leaf 0xD: only the components XSETBV lets the guest enable. Sub-leaf 0's
 * ECX is the area for all of them; EBX (and sub-leaf 1's EBX, for XSAVEC)
 * the area for the guest's XCR0 now. IA32_XSS is not offered, so no
 * supervisor components and no XSAVES.
 */
static void leafd(const struct cpuid_host *h, const struct cpuid_ctx *c, unsigned have,
		  uint64_t xcr0_allowed, uint32_t sub, struct cpuid_result *out)
{
	if (!xcr0_allowed)
		return;
	uint64_t xcr0 = (c->xcr0 & xcr0_allowed) | XCR0_X87;
	if (sub == 0) {
		out->eax = (uint32_t)xcr0_allowed;
		out->edx = (uint32_t)(xcr0_allowed >> 32);
		out->ebx = xsave_size(h, xcr0, false);
		out->ecx = xsave_size(h, xcr0_allowed, false);
	} else if (sub == 1) {
		masked(h, c, have, 0xd, 1, out);
		out->ebx = (out->eax & LD1_EAX_XSAVEC) ? xsave_size(h, xcr0, true) : 0;
	} else if (sub < XSAVE_COMPONENTS && (xcr0_allowed & (1ull << sub))) {
		struct cpuid_result r;
		host_cpuid(h, 0xd, sub, &r);
		out->eax = r.eax;	/* size */
		out->ebx = r.ebx;	/* offset in the standard format */
		out->ecx = r.ecx & 2; /* 64-byte alignment; never a supervisor component */
	}
}

/*
 * 0x80000001: AMD's family signature and brand ID pass; the features as the
 * table allows, with AMD's copies of leaf 1's EDX bits allowed as leaf 1
 * allows them (APIC set as there). CmpLegacy says the logical processors
 * leaf 1 counts are cores, not threads: true of a VM of several vCPUs.
 */
static void ext_leaf1(const struct cpuid_host *h, const struct cpuid_ctx *c, unsigned have,
		      struct cpuid_result *out)
{
	struct cpuid_result r;
	host_cpuid(h, 0x80000001, 0, &r);
	apply_mask(c, have, 0x80000001, 0, &r, out);
	out->eax = r.eax;
	out->ebx = r.ebx;
	if (c->vendor == CPUID_VENDOR_AMD) {
		out->edx |= r.edx & X1_EDX_LEAF1_MIRROR & allowed(c, have, 1, 0, CPUID_EDX);
		out->edx |= L1_EDX_APIC;
		if (vm_cpus(c) > 1)
			out->ecx |= X1_ECX_CMP_LEGACY;
	}
}

/*
 * 0x80000008: physical and linear address sizes pass (EAX[15:0]); the
 * guest-physical size for nested paging (EAX[23:16]) is zero, as no SVM is
 * offered. On AMD, ECX counts the VM's cores: NC = nvcpus - 1 and
 * ApicIdCoreIdSize = the core bits of the APIC ID, as in leaf 0xB.
 */
static void ext_leaf8(const struct cpuid_host *h, const struct cpuid_ctx *c, unsigned have,
		      struct cpuid_result *out)
{
	struct cpuid_result r;
	host_cpuid(h, 0x80000008, 0, &r);
	apply_mask(c, have, 0x80000008, 0, &r, out);
	out->eax = r.eax & 0xffff;
	if (c->vendor == CPUID_VENDOR_AMD) {
		unsigned n = vm_cpus(c);
		out->ecx = ((n > 256 ? 256 : n) - 1) | (core_shift(n) << 12);
	}
}

void cpuid_policy_guest(struct cpuid_host *h, const struct cpuid_ctx *c, uint32_t leaf,
			uint32_t sub, struct cpuid_result *out)
{
	*out = (struct cpuid_result){0, 0, 0, 0};
	if (leaf >= HV_CPUID_BASE && leaf < HV_CPUID_BASE + 0x100) {
		leaf_hypervisor(leaf, out);
		return;
	}
	uint32_t base = leaf >= 0x80000000u ? 0x80000000u : 0;
	uint32_t kvm[4];
	if (pvclock_cpuid(leaf, kvm)) { /* the KVM clock's leaves (pvclock.h) */
		*out = (struct cpuid_result){kvm[0], kvm[1], kvm[2], kvm[3]};
		return;
	}
	if (leaf >= HV_CPUID_BASE && base == 0)
		return; /* 0x40000200..0x7fffffff: nothing there */
	const struct cpuid_host_summary *s = summary(h);
	uint32_t max = guest_max(s, c, base);
	if (leaf > max)
		return; /* beyond the maximum: zero (as AMD does; not Intel's "last leaf again") */
	const struct cpuid_leaf_rule *rule = cpuid_table_leaf(leaf);
	if (!rule || !(rule->vendors & (1u << c->vendor)))
		return;

	uint64_t xcr0_allowed = s->xcr0_allowed;
	unsigned have = guest_have(c, xcr0_allowed);
	switch (rule->kind) {
	case CPUID_LEAF_ZERO:
		return;
	case CPUID_LEAF_PASS:
		host_cpuid(h, leaf, sub, out);
		return;
	case CPUID_LEAF_FEATURES:
	case CPUID_LEAF_SYNTH:
		break;
	}
	switch (leaf) {
	case 0x0:
	case 0x80000000:
		host_cpuid(h, leaf, 0, out); /* the vendor string (Intel: zeros at 0x80000000) */
		out->eax = max;
		break;
	case 0x1:
		leaf1(h, c, have, out);
		break;
	case 0x4:
		leaf4(h, c, sub, out);
		break;
	case 0x6:
		masked(h, c, have, 6, 0, out);
		out->eax |= L6_EAX_ARAT; /* the vlapic timer runs on in any C-state */
		break;
	case 0x7:
		leaf7(h, c, have, sub, out);
		break;
	case 0xb:
		leaf_topology(c, sub, out);
		break;
	case 0x1f: {
		/* only where the host has it: a valid level 0 (EBX[15:0] != 0) */
		struct cpuid_result r;
		host_cpuid(h, 0x1f, 0, &r);
		if (r.ebx & 0xffff)
			leaf_topology(c, sub, out);
		break;
	}
	case 0xd:
		leafd(h, c, have, xcr0_allowed, sub, out);
		break;
	case 0x80000001:
		ext_leaf1(h, c, have, out);
		break;
	case 0x80000008:
		ext_leaf8(h, c, have, out);
		break;
	default:
		/* a FEATURES leaf of a fixed sub-leaf 0 (0x80000007, 0x80000021) */
		masked(h, c, have, leaf, 0, out);
		break;
	}
}

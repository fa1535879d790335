/*
 * What CPUID tells a guest: an allow list. Every leaf, sub-leaf and feature
 * bit a guest may see is listed in kernel/vm/cpuid_table.c with the reason
 * the hypervisor can stand behind it (hardware executes it with its state
 * switched by XSAVE, an MSR msr_policy.c emulates, the vLAPIC models it...);
 * what the guest sees is that list intersected with the host's CPUID.
 * Anything not listed reads as zero. Some fields are the VM's, not the
 * host's: the topology (APIC IDs 0..nvcpus-1, one thread per core, as the
 * guest MADT says), OSXSAVE, the XSAVE sizes, the hypervisor leaves at
 * 0x40000000 ("BareMetalHV ").
 *
 * The policy never executes CPUID itself: it asks the host through a
 * callback, so the unit test can run it against stored dumps of other CPUs.
 * The model is KVM's "supported CPUID", ACRN's vcpuid.c and Xen's
 * cpu-policy; the code is ours.
 */
#ifndef HV_VM_CPUID_POLICY_H
#define HV_VM_CPUID_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/vm/hvm.h"

#define HV_CPUID_SIGNATURE "BareMetalHV "
#define HV_CPUID_BASE 0x40000000u
#define HV_ABI_VERSION 1

struct cpuid_result {
	uint32_t eax, ebx, ecx, edx;
};

/*
 * The host's answer for (leaf, sub-leaf): CPUID itself in the hypervisor, a
 * dump in tests. `summary` caches what every guest CPUID needs and the host
 * never changes (maxima, the XCR0 the guest may use): one host CPUID per
 * guest CPUID matters when the hypervisor itself runs nested, where each is
 * an exit. Zero-initialize it; the policy fills it on first use.
 */
struct cpuid_host_summary {
	bool valid;
	uint32_t max_basic, max_ext;
	uint64_t xcr0_allowed;
};

struct cpuid_host {
	void (*query)(void *opaque, uint32_t leaf, uint32_t sub, struct cpuid_result *out);
	void *opaque;
	struct cpuid_host_summary summary;
};

enum cpuid_vendor { CPUID_VENDOR_INTEL, CPUID_VENDOR_AMD };

/* Who asks: the vCPU and the VM it belongs to. */
struct cpuid_ctx {
	enum cpuid_vendor vendor; /* the host's: the guest is told the same */
	unsigned vcpu_id;	  /* = its initial (x2)APIC ID, as in the guest MADT */
	unsigned nvcpus;
	bool cr4_osxsave; /* guest CR4.OSXSAVE (bit 18): CPUID.1:ECX[27] follows it */
	bool cr4_pke;	  /* guest CR4.PKE (bit 22): CPUID.7:ECX[4] would follow it */
	uint64_t xcr0;	  /* the guest's XCR0 now: leaf 0xD's "size for XCR0" fields */
	struct hvm_guest_caps caps; /* instructions the backend lets the guest execute */
};

/* The guest's answer to CPUID with EAX = leaf, ECX = sub. */
void cpuid_policy_guest(struct cpuid_host *host, const struct cpuid_ctx *ctx, uint32_t leaf,
			uint32_t sub, struct cpuid_result *out);

/*
 * The XCR0 bits a guest may set: what the host supports of x87, SSE, AVX
 * and (with AVX-512F shown) opmask, ZMM_Hi256 and Hi16_ZMM. CPUID.0xD.0
 * EDX:EAX says the same; XSETBV refuses anything else.
 */
uint64_t cpuid_policy_xcr0_allowed(struct cpuid_host *host);

/*
 * XSETBV's checks beyond CPL (SDM Vol. 2B XSETBV, Vol. 1 §13.3): XCR0 only,
 * x87 always on, nothing outside `allowed`, AVX only with SSE, the three
 * AVX-512 components all or none and only with AVX. True when the write is
 * architecturally valid.
 */
bool cpuid_policy_xcr0_valid(uint32_t index, uint64_t value, uint64_t allowed);

/* ---- the table (kernel/vm/cpuid_table.c) ---- */

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/* Which vendor's guests a table row is for. */
#define CPUID_INTEL (1u << CPUID_VENDOR_INTEL)
#define CPUID_AMD (1u << CPUID_VENDOR_AMD)
#define CPUID_BOTH (CPUID_INTEL | CPUID_AMD)

/*
 * When a bit may be shown (besides the host having it): a set of
 * conditions, all needed. 0 is "whenever the host has it"; CPUID_NEVER
 * marks a hidden bit.
 */
#define CPUID_NEED_RDTSCP (1u << 0)  /* the backend lets the guest run RDTSCP/RDPID */
#define CPUID_NEED_INVPCID (1u << 1) /* ... INVPCID */
#define CPUID_NEED_XSAVES (1u << 2)  /* ... XSAVES/XRSTORS */
#define CPUID_NEED_XSS (1u << 3)     /* IA32_XSS is emulated (msr_policy.c: not yet) */
#define CPUID_NEED_YMM (1u << 4)     /* XCR0 may enable AVX state (bit 2) */
#define CPUID_NEED_ZMM (1u << 5)     /* XCR0 may enable AVX-512 state (bits 5-7) */
#define CPUID_NEVER (1u << 7)

struct cpuid_bit {
	uint8_t bit;
	uint8_t needs; /* CPUID_NEED_* or CPUID_NEVER */
	const char *name;
	const char *why;
};

/* One register of one leaf/sub-leaf whose bits are features. */
struct cpuid_feature_word {
	uint32_t leaf, sub;
	uint8_t reg;	 /* enum cpuid_reg */
	uint8_t vendors; /* CPUID_INTEL / CPUID_AMD */
	const struct cpuid_bit *bits;
	unsigned count;
};

/* How a leaf is answered. */
enum cpuid_leaf_kind {
	CPUID_LEAF_ZERO,     /* all zero; `why` says why */
	CPUID_LEAF_PASS,     /* the host's answer as is: pure information (cache sizes, brand) */
	CPUID_LEAF_FEATURES, /* the host's answer & the feature words' allowed bits, then fixups */
	CPUID_LEAF_SYNTH,    /* computed by cpuid_policy.c (topology, XSAVE, vendor/max) */
};

struct cpuid_leaf_rule {
	uint32_t leaf;
	uint8_t vendors;
	uint8_t kind; /* enum cpuid_leaf_kind */
	const char *why;
};

extern const struct cpuid_feature_word cpuid_feature_words[];
extern const unsigned cpuid_feature_word_count;
extern const struct cpuid_leaf_rule cpuid_leaf_rules[];
extern const unsigned cpuid_leaf_rule_count;

/* The table's rule for a leaf, or NULL (the leaf reads as zero). */
const struct cpuid_leaf_rule *cpuid_table_leaf(uint32_t leaf);
/*
 * The bits of (leaf, sub, reg) a guest of this vendor may see when the
 * conditions in `have` (CPUID_NEED_*) hold, before intersecting with the
 * host; 0 when no feature word covers the register.
 */
uint32_t cpuid_table_allowed(uint32_t leaf, uint32_t sub, enum cpuid_reg reg,
			     enum cpuid_vendor vendor, unsigned have);

#endif

#include "kernel/vm/msr_policy.h"
#include "kernel/vm/pvclock.h"
#include "kernel/vm/pveoi.h"
#include "kernel/vm/pvsched.h"

#include "include/x86.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/log.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vplatform.h"

/* MSR numbers: SDM Vol. 4, APM Vol. 2 appendix A */
#define MSR_TSC 0x10
#define MSR_PLATFORM_ID 0x17
#define MSR_APIC_BASE 0x1b
#define MSR_FEATURE_CONTROL 0x3a
#define MSR_TSC_ADJUST 0x3b
#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_BIOS_SIGN_ID 0x8b
#define MSR_MTRRCAP 0xfe
#define MSR_MTRR_PHYS_BASE0 0x200
#define MSR_MTRR_FIX64K 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MISC_ENABLE 0x1a0
#define MSR_EFER_NUM 0xc0000080
#define MSR_AMD_PERF_FIRST 0xc0010000
#define MSR_AMD_PERF_LAST 0xc0010007
#define MSR_TSC_AUX 0xc0000103
#define MSR_AMD_HWCR 0xc0010015
#define MSR_AMD_SYSCFG 0xc0010010
#define MSR_AMD_DE_CFG 0xc0011029
#define MSR_AMD_INT_PENDING 0xc0010055 /* K8 interrupt pending message: C1E state */
#define AMD_DE_CFG_LFENCE_SERIALIZING (1ull << 1) /* what Linux checks, and sets */

#define AMD_HWCR_MCSTATUSWREN (1ull << 18) /* MCi_STATUS writable (APM Vol. 2 §9.3.1.4) */

/* EFER (SDM Vol. 3A §2.2.1, APM Vol. 2 §3.1.7) */
#define EFER_FFXSR (1ull << 14)

#define APIC_BASE_DEFAULT 0xfee00000ull
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define MTRRCAP_VALUE (8 | (1u << 8) | (1u << 10)) /* 8 variable ranges, fixed, WC */

const uint32_t msr_guest_owned[] = {
    0xc0000100, /* FS_BASE */
    0xc0000101, /* GS_BASE */
    0xc0000102, /* KERNEL_GS_BASE */
    0xc0000081, /* STAR */
    0xc0000082, /* LSTAR */
    0xc0000083, /* CSTAR */
    0xc0000084, /* SFMASK */
    0x174,	    /* SYSENTER_CS */
    0x175,	    /* SYSENTER_ESP */
    0x176,	    /* SYSENTER_EIP */
};
const unsigned msr_guest_owned_count = sizeof(msr_guest_owned) / sizeof(msr_guest_owned[0]);

/*
 * What the host CPU has of the MSR-backed features the CPUID policy may show
 * the guest, read once. The speculation controls are the host's own MSRs,
 * switched per vCPU (SPEC_CTRL) or forwarded (PRED_CMD): a guest sees them
 * exactly when the host has them.
 */
static struct {
	bool probed;
	bool ffxsr;
	uint64_t spec_ctrl_bits; /* the IA32_SPEC_CTRL bits the host implements */
	bool ibpb, arch_caps;
	bool rdtscp; /* the host has TSC_AUX (RDTSCP) */
	unsigned phys_bits;
} host;

/*
 * What each core's TSC_AUX and SPEC_CTRL hold (struct cpu's msrs, one per
 * core present), written only here: a switch between vCPUs with the same
 * values (the common case: TSC_AUX is the vCPU number Linux gives each CPU,
 * so vCPUs of different VMs often share it) writes neither MSR again.
 */

#define SPEC_CTRL_IBRS (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD (1ull << 2)

/*
 * ARCH_CAPABILITIES bits a guest may see: facts about the silicon that stay
 * true inside a VM (RDCL_NO, IBRS_ALL, RSBA, SSB_NO, MDS_NO,
 * IF_PSCHANGE_MC_NO, TAA_NO, SBDR_SSDP_NO, FBSDP_NO, PSDP_NO, FB_CLEAR,
 * RRSBA, BHI_NO, PBRSB_NO, GDS_NO, RFDS_NO, RFDS_CLEAR), plus
 * SKIP_L1DFL_VMENTRY: the guest is not a hypervisor we would have to flush
 * L1D for. Every control MSR it could announce (TSX_CTRL, MCU_CONTROL,
 * MISC_PACKAGE_CTLS, ENERGY_FILTERING_CTL, DOITM, FB_CLEAR_CTRL,
 * XAPIC_DISABLE, OVERCLOCKING_STATUS, GDS_CTRL) is hidden: no such MSR is
 * emulated.
 */
#define ARCH_CAP_PASS                                                                     \
	((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 4) | (1ull << 5) | (1ull << 6) | \
	 (1ull << 8) | (1ull << 13) | (1ull << 14) | (1ull << 15) | (1ull << 17) |           \
	 (1ull << 19) | (1ull << 20) | (1ull << 24) | (1ull << 26) | (1ull << 27) |          \
	 (1ull << 28))
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ull << 3)

static void probe_host(void)
{
	if (host.probed)
		return;
	struct cpuid_regs r;
	cpuid(0, &r);
	uint32_t max_basic = r.eax;
	cpuid(0x80000000, &r);
	uint32_t max_ext = r.eax;
	host.phys_bits = 36;
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, &r);
		host.ffxsr = host_cpu.amd && (r.edx & (1u << 25));
		host.rdtscp = r.edx & (1u << 27);
	}
	if (max_ext >= 0x80000008) {
		cpuid(0x80000008, &r);
		host.phys_bits = r.eax & 0xff;
		if (host_cpu.amd) {
			/* APM Vol. 3 Fn8000_0008 EBX: 12 IBPB, 14 IBRS, 15 STIBP, 24 SSBD */
			host.ibpb = r.ebx & (1u << 12);
			if (r.ebx & (1u << 14))
				host.spec_ctrl_bits |= SPEC_CTRL_IBRS;
			if (r.ebx & (1u << 15))
				host.spec_ctrl_bits |= SPEC_CTRL_STIBP;
			if (r.ebx & (1u << 24))
				host.spec_ctrl_bits |= SPEC_CTRL_SSBD;
		}
	}
	if (max_basic >= 7 && host_cpu.intel) {
		/* SDM Vol. 2A CPUID.(EAX=7,ECX=0):EDX 26 IBRS/IBPB, 27 STIBP, 29 ARCH_CAP, 31 SSBD */
		cpuid_count(7, 0, &r);
		if (r.edx & (1u << 26)) {
			host.ibpb = true;
			host.spec_ctrl_bits |= SPEC_CTRL_IBRS;
		}
		if (r.edx & (1u << 27))
			host.spec_ctrl_bits |= SPEC_CTRL_STIBP;
		if (r.edx & (1u << 31))
			host.spec_ctrl_bits |= SPEC_CTRL_SSBD;
		host.arch_caps = r.edx & (1u << 29);
	}
	if (host.phys_bits < 32 || host.phys_bits > 52)
		host.phys_bits = 36;
	host.probed = true;
}

/* The physical-address bits above the guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]). */
static uint64_t phys_reserved(void)
{
	probe_host();
	return ~((1ull << host.phys_bits) - 1);
}

/* The guest's TSC is the host's plus an offset the backend adds to RDTSC. */
static void set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	v->msrs.tsc_offset = offset;
	hvm->set_tsc_offset(v, offset);
	vplatform_set_tsc_offset(v, offset);
	pvclock_tsc_moved(v); /* its clock page counts from the guest's TSC */
}

bool msr_write_checked(uint32_t msr)
{
	switch (msr) {
	case 0xc0000100: /* FS_BASE */
	case 0xc0000101: /* GS_BASE */
	case 0xc0000102: /* KERNEL_GS_BASE */
	case 0xc0000082: /* LSTAR */
	case 0xc0000083: /* CSTAR */
		return true;
	case 0x175: /* SYSENTER_ESP */
	case 0x176: /* SYSENTER_EIP: 64-bit addresses on Intel, 32-bit registers on AMD */
		return host_cpu.intel;
	default:
		return false;
	}
}

/* Bits 63:47 all equal, or 63:56 with 5-level paging on (CR4.LA57, bit 12). */
static bool canonical(struct vcpu *v, uint64_t a)
{
	struct vcpu_control_state cs;
	hvm->vcpu_get_control(v, &cs);
	unsigned shift = (cs.cr4 & (1ull << 12)) ? 7 : 16;
	return (uint64_t)((int64_t)(a << shift) >> shift) == a;
}

bool msr_tsc_aux_supported(void)
{
	probe_host();
	return host.rdtscp;
}

/* This core's MSR values; ~0 (no value either MSR takes) before its first write. */
static struct cpu_msrs *this_core_msrs(void)
{
	struct cpu_msrs *m = &this_cpu()->msrs;
	if (!m->known) {
		m->tsc_aux = m->spec_ctrl = ~0ull;
		m->known = true;
	}
	return m;
}

/* SPEC_CTRL on this core, unless it holds that value already */
static void load_spec_ctrl(uint64_t value)
{
	struct cpu_msrs *m = this_core_msrs();
	if (m->spec_ctrl == value)
		return;
	wrmsr(MSR_SPEC_CTRL, value);
	m->spec_ctrl = value;
}

/*
 * TSC_AUX and SPEC_CTRL are in neither the VMCB nor the VMCS: the guest's
 * value is put in the real MSR while its vCPU owns the core (the host never
 * uses RDTSCP and runs with whatever speculation controls the guest chose;
 * that costs the host speed, never correctness).
 */
void msr_load_guest_state(struct vcpu *v)
{
	probe_host();
	struct cpu_msrs *m = this_core_msrs(); /* looked up once for both */
	uint64_t aux = v->msrs.tsc_aux, spec = v->msrs.spec_ctrl;
	if (host.rdtscp && m->tsc_aux != aux) {
		wrmsr(MSR_TSC_AUX, aux);
		m->tsc_aux = aux;
	}
	if (host.spec_ctrl_bits && m->spec_ctrl != spec) {
		wrmsr(MSR_SPEC_CTRL, spec);
		m->spec_ctrl = spec;
	}
}

void msr_policy_reset(struct vcpu *v)
{
	struct vcpu_msrs *m = &v->msrs;
	*m = (struct vcpu_msrs){0};
	m->apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (v->id == 0 ? APIC_BASE_BSP : 0);
	vmca_reset(&m->mca);
	/*
	 * The memory types firmware would set (there is no firmware: we are
	 * it), as SeaBIOS does: write-back by default, the legacy VGA window
	 * A0000-BFFFF uncached, and the 32-bit MMIO window 3-4 GiB (above all
	 * guest RAM, E820_RAM_MAX) uncached through variable range 0. With
	 * nested paging the hardware takes memory types from the NPT/EPT
	 * entries; these are what the guest reads, identical on every vCPU.
	 */
	for (unsigned i = 0; i < 11; i++)
		m->mtrr_fixed[i] = i == 2 ? 0 : 0x0606060606060606ull;
	m->mtrr_var[0] = 0xc0000000ull;			       /* PHYSBASE0: UC */
	m->mtrr_var[1] = (~0x3fffffffull & ~phys_reserved()) | (1ull << 11); /* PHYSMASK0: 1 GiB, valid */
	m->mtrr_def_type = (1ull << 11) | (1ull << 10) | 6;    /* E, FE, WB */
}

static uint64_t *mtrr_slot(struct vcpu *v, uint32_t msr)
{
	struct vcpu_msrs *m = &v->msrs;
	if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 2 * (MTRRCAP_VALUE & 0xff))
		return &m->mtrr_var[msr - MSR_MTRR_PHYS_BASE0];
	if (msr == MSR_MTRR_FIX64K)
		return &m->mtrr_fixed[0];
	if (msr == MSR_MTRR_FIX16K_80000)
		return &m->mtrr_fixed[1];
	if (msr == MSR_MTRR_FIX16K_A0000)
		return &m->mtrr_fixed[2];
	if (msr >= MSR_MTRR_FIX4K_C0000 && msr < MSR_MTRR_FIX4K_C0000 + 8)
		return &m->mtrr_fixed[3 + msr - MSR_MTRR_FIX4K_C0000];
	if (msr == MSR_MTRR_DEF_TYPE)
		return &m->mtrr_def_type;
	if (host_cpu.amd && msr >= MSR_AMD_PERF_FIRST && msr <= MSR_AMD_PERF_LAST)
		return &m->amd_perf[msr - MSR_AMD_PERF_FIRST];
	return NULL;
}

static bool valid_type(unsigned t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6; /* UC WC WT WP WB */
}

/* SDM Vol. 3A §12.11.2: reserved bits and undefined memory types are #GP. */
static bool valid_mtrr_write(uint32_t msr, uint64_t value)
{
	if (msr == MSR_MTRR_DEF_TYPE)
		return !(value & ~0xcffull) && valid_type(value & 0xff);
	if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 16) {
		if ((msr - MSR_MTRR_PHYS_BASE0) % 2 == 0) /* PHYSBASEn */
			return !(value & (0xf00ull | phys_reserved())) && valid_type(value & 0xff);
		return !(value & (0x7ffull | phys_reserved())); /* PHYSMASKn: bit 11 valid */
	}
	if (msr >= MSR_AMD_PERF_FIRST && msr <= MSR_AMD_PERF_LAST)
		return true;
	for (int i = 0; i < 8; i++) /* fixed ranges: one type per byte */
		if (!valid_type((value >> (8 * i)) & 0xff))
			return false;
	return true;
}

static void log_unknown(struct vcpu *v, const char *what, uint32_t msr)
{
	/* rate-limited: a guest probing MSRs must not flood the console */
	if (v->vm->unknown_msr_logs++ < 8)
		printk("vm %s: %s of unknown MSR %#x: #GP\n", v->vm->name, what, msr);
}

int msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	/* the local APIC's: base, x2APIC registers, TSC deadline */
	int owned = vplatform_msr_read(v, msr, value);
	if (owned)
		return owned > 0 ? 0 : -1;
	uint64_t *slot = mtrr_slot(v, msr);
	if (slot) {
		*value = *slot;
		return 0;
	}
	if (vmca_owns(msr))
		return vmca_read(&v->msrs.mca, msr, value);
	if (pvclock_msr_read(v, msr, value))
		return 0;
	if (pveoi_msr_read(v, msr, value))
		return 0;
	if (pvsched_msr_read(v, msr, value))
		return 0;
	probe_host();
	switch (msr) {
	case MSR_TSC:
		*value = rdtsc() + v->msrs.tsc_offset;
		return 0;
	case MSR_TSC_ADJUST:
		*value = v->msrs.tsc_offset; /* the sum of the guest's TSC moves (vm.h) */
		return 0;
	case MSR_SPEC_CTRL:
		if (!host.spec_ctrl_bits)
			break;
		*value = v->msrs.spec_ctrl;
		return 0;
	case MSR_ARCH_CAPABILITIES:
		if (!host.arch_caps)
			break;
		*value = (rdmsr(MSR_ARCH_CAPABILITIES) & ARCH_CAP_PASS) | ARCH_CAP_SKIP_L1DFL_VMENTRY;
		return 0;
	case MSR_TSC_AUX:
		if (!msr_tsc_aux_supported())
			break;
		*value = v->msrs.tsc_aux;
		return 0;
	case MSR_APIC_BASE:
		*value = v->msrs.apic_base;
		return 0;
	case MSR_MTRRCAP:
		*value = MTRRCAP_VALUE;
		return 0;
	case MSR_PAT:
		*value = hvm->get_pat(v);
		return 0;
	case MSR_EFER_NUM:
		*value = hvm->get_efer(v);
		return 0;
	case MSR_BIOS_SIGN_ID: /* Intel's microcode signature, AMD's patch level: none */
		*value = 0;
		return 0;
	case MSR_PLATFORM_ID:
		if (!host_cpu.intel)
			break;
		*value = 0;
		return 0;
	case MSR_AMD_DE_CFG:
		if (!host_cpu.amd)
			break;
		*value = v->msrs.amd_de_cfg | AMD_DE_CFG_LFENCE_SERIALIZING;
		return 0;
	case MSR_FEATURE_CONTROL:
		if (!host_cpu.intel)
			break;
		*value = 1; /* locked, VMX off: the guest gets no VMX */
		return 0;
	case MSR_MISC_ENABLE:
		if (!host_cpu.intel)
			break;
		*value = 1; /* fast strings */
		return 0;
	case MSR_AMD_HWCR:
		if (!host_cpu.amd)
			break;
		*value = v->msrs.amd_hwcr;
		return 0;
	case MSR_AMD_SYSCFG: /* no SME, no MTRR fixed-range DRAM bits */
	case MSR_AMD_INT_PENDING: /* C1E never active (Linux reads it on family 0xf/0x10, erratum 400) */
		if (!host_cpu.amd)
			break;
		*value = 0;
		return 0;
	default:
		break;
	}
	log_unknown(v, "read", msr);
	return -1;
}

static bool valid_pat(uint64_t pat)
{
	/* each byte one of UC, WC, WT, WP, WB, UC- (SDM Vol. 3A §12.12.2) */
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/*
 * SDM Vol. 4 Table 2-2 (IA32_EFER), APM Vol. 2 §3.1.7: bits the guest's CPU
 * does not have are reserved (#GP): no SVME (the guest sees no SVM), no
 * LMSLE, TCE or AutoIBRS (hidden by the CPUID policy). LMA is the CPU's
 * (writes to it are ignored by set_efer). Changing LME with paging on is #GP.
 */
static bool valid_efer(struct vcpu *v, uint64_t value)
{
	uint64_t allowed = (uint64_t)EFER_SCE | EFER_LME | EFER_LMA;
	if (host_cpu.nx)
		allowed |= EFER_NXE;
	if (host.ffxsr)
		allowed |= EFER_FFXSR;
	if (value & ~allowed)
		return false;
	struct vcpu_control_state cs;
	hvm->vcpu_get_control(v, &cs);
	return !((cs.cr0 & CR0_PG) && ((value ^ cs.efer) & EFER_LME));
}

int msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	int owned = vplatform_msr_write(v, msr, value);
	if (owned)
		return owned > 0 ? 0 : -1;
	uint64_t *slot = mtrr_slot(v, msr);
	if (slot) {
		if (!valid_mtrr_write(msr, value))
			return -1;
		*slot = value;
		return 0;
	}
	if (vmca_owns(msr))
		return vmca_write(&v->msrs.mca, msr, value,
				  host_cpu.amd && (v->msrs.amd_hwcr & AMD_HWCR_MCSTATUSWREN));
	if (pvclock_msr_write(v, msr, value))
		return 0;
	int pveoi = pveoi_msr_write(v, msr, value);
	if (pveoi)
		return pveoi > 0 ? 0 : -1;
	int pvsched = pvsched_msr_write(v, msr, value);
	if (pvsched)
		return pvsched > 0 ? 0 : -1;
	if (msr_write_checked(msr)) {
		if (!canonical(v, value))
			return -1;
		hvm->set_owned_msr(v, msr, value);
		return 0;
	}
	probe_host();
	switch (msr) {
	case MSR_TSC: {
		/*
		 * SDM Vol. 3B §18.17.3: what a WRMSR adds to the TSC it adds to
		 * IA32_TSC_ADJUST too; the guest's RDTSC moves through the offset.
		 */
		set_tsc_offset(v, value - rdtsc());
		return 0;
	}
	case MSR_TSC_ADJUST:
		set_tsc_offset(v, value);
		return 0;
	case MSR_SPEC_CTRL:
		if (!host.spec_ctrl_bits || (value & ~host.spec_ctrl_bits))
			break;
		v->msrs.spec_ctrl = value;
		load_spec_ctrl(value);
		return 0;
	case MSR_PRED_CMD: /* write-only: bit 0 is an indirect branch barrier, now */
		if (!host.ibpb || (value & ~1ull))
			break;
		if (value)
			wrmsr(MSR_PRED_CMD, 1);
		return 0;
	case MSR_TSC_AUX:
		if (!msr_tsc_aux_supported() || (value >> 32))
			break;
		v->msrs.tsc_aux = value;
		msr_load_guest_state(v);
		return 0;
	case MSR_APIC_BASE:
		/* kept, so the guest reads back what it wrote; no APIC moves yet */
		v->msrs.apic_base = value;
		return 0;
	case MSR_PAT:
		if (!valid_pat(value))
			return -1;
		hvm->set_pat(v, value);
		return 0;
	case MSR_EFER_NUM:
		if (!valid_efer(v, value))
			return -1;
		hvm->set_efer(v, value);
		return 0;
	case 0xc0000081: /* STAR: passed through on SVM; VT-x keeps the guest's value (vmx.c) */
		hvm->set_owned_msr(v, msr, value);
		return 0;
	case 0xc0000084: /* SFMASK: the same; bits 63:32 are reserved (SDM Vol. 4 Table 2-2) */
		if (value >> 32)
			break;
		hvm->set_owned_msr(v, msr, value);
		return 0;
	case MSR_BIOS_SIGN_ID: /* writing it asks for the signature to be loaded: nothing to do */
		return 0;
	case MSR_MISC_ENABLE: /* kept as it reads: fast strings only */
		if (!host_cpu.intel)
			break;
		return 0;
	case MSR_AMD_DE_CFG:
		if (!host_cpu.amd)
			break;
		v->msrs.amd_de_cfg = value;
		return 0;
	case MSR_AMD_HWCR: /* only McStatusWrEn means anything here; the rest is ignored */
		if (!host_cpu.amd)
			break;
		v->msrs.amd_hwcr = value & AMD_HWCR_MCSTATUSWREN;
		return 0;
	case MSR_AMD_SYSCFG:
	case MSR_AMD_INT_PENDING:
		if (!host_cpu.amd)
			break;
		return 0;
	default:
		break;
	}
	log_unknown(v, "write", msr);
	return -1;
}

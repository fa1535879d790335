#include "kernel/vm/msr_policy.h"

#include "include/x86.h"
#include "kernel/cpu/features.h"
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
#define AMD_DE_CFG_LFENCE_SERIALIZING (1ull << 1) /* what Linux checks, and sets */

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

bool msr_tsc_aux_supported(void)
{
	struct cpuid_regs r;
	cpuid(0x80000001, &r);
	return r.edx & (1u << 27); /* RDTSCP */
}

/*
 * TSC_AUX is in neither the VMCB nor the VMCS: the guest's value is put in
 * the real MSR while its vCPU owns the core (the host never uses RDTSCP).
 */
void msr_load_guest_state(struct vcpu *v)
{
	if (msr_tsc_aux_supported())
		wrmsr(MSR_TSC_AUX, v->msrs.tsc_aux);
}

void msr_policy_reset(struct vcpu *v)
{
	struct vcpu_msrs *m = &v->msrs;
	*m = (struct vcpu_msrs){0};
	m->apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE | (v->id == 0 ? APIC_BASE_BSP : 0);
}

static uint64_t *mtrr_slot(struct vcpu *v, uint32_t msr)
{
	struct vcpu_msrs *m = &v->msrs;
	if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 16)
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
	switch (msr) {
	case MSR_TSC:
		*value = rdtsc() + v->msrs.tsc_adjust;
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
	case MSR_AMD_SYSCFG: /* no SME, no MTRR fixed-range DRAM bits */
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

int msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	int owned = vplatform_msr_write(v, msr, value);
	if (owned)
		return owned > 0 ? 0 : -1;
	uint64_t *slot = mtrr_slot(v, msr);
	if (slot) {
		*slot = value;
		return 0;
	}
	switch (msr) {
	case MSR_TSC:
		v->msrs.tsc_adjust = value - rdtsc();
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
		hvm->set_efer(v, value);
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
	case MSR_AMD_HWCR:
	case MSR_AMD_SYSCFG:
		if (!host_cpu.amd)
			break;
		return 0;
	default:
		break;
	}
	log_unknown(v, "write", msr);
	return -1;
}

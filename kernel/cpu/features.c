#include "kernel/cpu/features.h"

#include "include/x86.h"
#include "kernel/lib/string.h"

struct cpu_features host_cpu;

static void read_brand(char *brand)
{
	struct cpuid_regs r;
	cpuid(0x80000000, &r);
	if (r.eax < 0x80000004) {
		strlcpy_hv(brand, "unknown", 49);
		return;
	}
	for (uint32_t i = 0; i < 3; i++) {
		cpuid(0x80000002 + i, &r);
		memcpy(brand + 16 * i, &r, 16);
	}
	brand[48] = 0;
	/* firmware pads the brand string with leading spaces */
	char *p = brand;
	while (*p == ' ')
		p++;
	memmove(brand, p, strlen(p) + 1);
}

static void detect_vmx(struct cpu_features *f)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	/* bit 0 lock, bit 2 VMXON outside SMX (SDM Vol. 3C §23.7) */
	f->vmx_firmware_disabled = (fc & 1) && !(fc & 4);

	uint64_t basic = rdmsr(MSR_IA32_VMX_BASIC);
	uint32_t procbased = (basic >> 55) & 1 ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					       : MSR_IA32_VMX_PROCBASED_CTLS;
	/* allowed-1 settings live in the high dword; bit 31: secondary controls */
	f->vmx_secondary = (rdmsr(procbased) >> 32) & (1u << 31);
	if (!f->vmx_secondary)
		return;
	uint32_t sec = (uint32_t)(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32);
	f->ept = sec & (1u << 1);
	f->vpid = sec & (1u << 5);
	f->unrestricted_guest = sec & (1u << 7);
	if (f->ept || f->vpid) {
		uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
		f->ept_2m = cap & (1u << 16);
		f->ept_1g = cap & (1u << 17);
	}
}

static void detect_svm(struct cpu_features *f)
{
	struct cpuid_regs r;

	f->svm_firmware_disabled = rdmsr(MSR_AMD_VM_CR) & (1u << 4);
	cpuid(0x8000000a, &r);
	f->asids = r.ebx;
	f->npt = r.edx & (1u << 0);
	f->nrip_save = r.edx & (1u << 3);
	f->vmcb_clean = r.edx & (1u << 5);
	f->flush_by_asid = r.edx & (1u << 6);
	f->decode_assists = r.edx & (1u << 7);
}

void cpu_features_detect(struct cpu_features *f)
{
	struct cpuid_regs r;

	memset(f, 0, sizeof(*f));
	cpuid(0, &r);
	memcpy(f->vendor, &r.ebx, 4);
	memcpy(f->vendor + 4, &r.edx, 4);
	memcpy(f->vendor + 8, &r.ecx, 4);
	uint32_t max_basic = r.eax;
	f->intel = strcmp(f->vendor, "GenuineIntel") == 0;
	f->amd = strcmp(f->vendor, "AuthenticAMD") == 0 || strcmp(f->vendor, "HygonGenuine") == 0;
	read_brand(f->brand);

	cpuid(1, &r);
	unsigned family = (r.eax >> 8) & 0xf, model = (r.eax >> 4) & 0xf;
	if (family == 0xf)
		family += (r.eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((r.eax >> 16) & 0xf) << 4;
	f->family = family;
	f->model = model;
	f->stepping = r.eax & 0xf;
	f->x2apic = r.ecx & (1u << 21);
	f->tsc_deadline = r.ecx & (1u << 24);
	f->running_nested = r.ecx & (1u << 31);
	f->vmx = r.ecx & (1u << 5);
	f->rdrand = r.ecx & (1u << 30);

	if (max_basic >= 7) {
		cpuid_count(7, 0, &r);
		f->rdseed = r.ebx & (1u << 18);
	}

	cpuid(0x80000000, &r);
	uint32_t max_ext = r.eax;
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, &r);
		f->svm = r.ecx & (1u << 2);
		f->nx = r.edx & (1u << 20);
		f->gbpages = r.edx & (1u << 26);
	}
	if (max_ext >= 0x80000007) {
		cpuid(0x80000007, &r);
		f->invariant_tsc = r.edx & (1u << 8);
	}
	if (f->vmx)
		detect_vmx(f);
	if (f->svm && max_ext >= 0x8000000a)
		detect_svm(f);
}

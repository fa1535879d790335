/* What this CPU can do, read once from CPUID and the capability MSRs. */
#ifndef HV_CPU_FEATURES_H
#define HV_CPU_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_features {
	char vendor[13];
	char brand[49];
	unsigned family, model, stepping;
	bool intel, amd;
	bool running_nested; /* CPUID.1:ECX.31, a hypervisor is below us */

	bool x2apic, tsc_deadline, nx, gbpages, invariant_tsc;
	bool rdrand, rdseed; /* CPUID.1:ECX.30, CPUID.(7,0):EBX.18: entropy for virtio-rng */

	/* Intel VT-x (SDM Vol. 3C ch. 24, appendix A) */
	bool vmx;
	bool vmx_firmware_disabled; /* IA32_FEATURE_CONTROL locked without VMX */
	bool vmx_secondary;
	bool ept, vpid, unrestricted_guest, ept_2m, ept_1g;

	/* AMD-V (APM Vol. 2 §15.4, CPUID Fn8000_000A) */
	bool svm;
	bool svm_firmware_disabled; /* VM_CR.SVMDIS */
	bool npt, nrip_save, flush_by_asid, decode_assists, vmcb_clean;
	uint32_t asids;
};

extern struct cpu_features host_cpu;

void cpu_features_detect(struct cpu_features *f);

#endif

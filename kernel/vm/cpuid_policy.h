/*
 * What CPUID tells a guest: the host's answer, with the hypervisor-present
 * bit set, a vendor leaf at 0x40000000 ("BareMetalHV "), the local APIC the
 * VM's platform models (xAPIC, x2APIC, TSC-deadline timer) offered, and
 * features the hypervisor cannot give the guest (VMX/SVM, MONITOR,
 * performance counters) hidden.
 */
#ifndef HV_VM_CPUID_POLICY_H
#define HV_VM_CPUID_POLICY_H

#include <stdint.h>

#define HV_CPUID_SIGNATURE "BareMetalHV "
#define HV_CPUID_BASE 0x40000000u
#define HV_ABI_VERSION 1

struct cpuid_result {
	uint32_t eax, ebx, ecx, edx;
};

/* `host` is the host CPU's answer for (leaf, subleaf); it is edited in place. */
void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, unsigned vcpu_id, unsigned nvcpus,
			struct cpuid_result *r);

#endif

#include "kernel/vm/cpuid_policy.h"

#include "kernel/lib/string.h"

void cpuid_policy_apply(uint32_t leaf, uint32_t subleaf, unsigned vcpu_id, unsigned nvcpus,
			struct cpuid_result *r)
{
	if (leaf >= HV_CPUID_BASE && leaf < HV_CPUID_BASE + 0x100) {
		*r = (struct cpuid_result){0, 0, 0, 0};
		if (leaf == HV_CPUID_BASE) {
			r->eax = HV_CPUID_BASE + 1; /* highest hypervisor leaf */
			memcpy(&r->ebx, HV_CPUID_SIGNATURE, 4);
			memcpy(&r->ecx, HV_CPUID_SIGNATURE + 4, 4);
			memcpy(&r->edx, HV_CPUID_SIGNATURE + 8, 4);
		} else if (leaf == HV_CPUID_BASE + 1) {
			r->eax = HV_ABI_VERSION;
		}
		return;
	}
	switch (leaf) {
	case 1:
		/* SDM Vol. 2A Table 3-10: ECX 3 MONITOR, 5 VMX, 31 hypervisor */
		r->ecx &= ~((1u << 3) | (1u << 5));
		r->ecx |= 1u << 31;
		/* the VM's local APIC model: xAPIC and x2APIC, with the TSC-deadline timer */
		r->ecx |= (1u << 21) | (1u << 24);
		r->edx |= 1u << 9;
		/* EBX: initial APIC ID in 31:24, logical processors in 23:16 */
		r->ebx = (r->ebx & 0xffff) | ((nvcpus & 0xff) << 16) | ((vcpu_id & 0xff) << 24);
		break;
	case 5: /* MONITOR/MWAIT: hidden */
	case 6: /* thermal and power management: not the guest's */
	case 0xa: /* architectural performance monitoring: no counters */
		*r = (struct cpuid_result){0, 0, 0, 0};
		break;
	case 7:
		if (subleaf == 0)
			r->ebx &= ~(1u << 1); /* IA32_TSC_ADJUST: not modelled */
		break;
	case 0x80000001:
		/* APM: ECX 2 SVM, 23 PerfCtrExtCore, 24 PerfCtrExtNB */
		r->ecx &= ~((1u << 2) | (1u << 23) | (1u << 24));
		break;
	case 0x8000000a: /* SVM features: none for the guest */
		*r = (struct cpuid_result){0, 0, 0, 0};
		break;
	default:
		break;
	}
}

/*
 * cpuid: what a guest learns about its hypervisor from CPUID and the
 * hypercall instruction (the guest ABI in tests/guests/lib/guest.h).
 *
 * Options: "bare" reports instead of checking what only our hypervisor
 * provides (the vendor leaf, hidden SVM, hypercalls), for runs on bare QEMU.
 */
#include "guest.h"

const char guest_name[] = "cpuid";

#define HV_LEAF_BASE 0x40000000u
#define HV_SIGNATURE "BareMetalHV "
#define HC_VERSION 0
#define HC_UNKNOWN 0x7fff1234u	/* a call number nobody defines */
#define HC_ENOSYS ((uint32_t)-1000)	/* as KVM's -KVM_ENOSYS */

static bool sig_equal(const char *a, const char *b)
{
	for (int i = 0; i < 12; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

void guest_main(void)
{
	bool bare = opt_present("bare");
	char vendor[13];
	enum cpu_vendor v = cpu_vendor();

	cpu_vendor_string(vendor);
	struct cpuid_regs l1 = cpuid(1, 0);
	struct cpuid_regs ext = cpuid(0x80000000u, 0);
	struct cpuid_regs e1 = { 0 };
	if (ext.eax >= 0x80000001u)
		e1 = cpuid(0x80000001u, 0);
	/* SDM Vol. 2A Table 3-10 calls bit 31 "not used"; hypervisors set it. */
	bool hv_bit = l1.ecx & (1u << 31);
	bool vmx = l1.ecx & (1u << 5);
	bool svm = e1.ecx & (1u << 2);	/* APM Vol. 3 CPUID Fn8000_0001 ECX[2] */

	printf("cpuid: vendor %s, leaf1 ecx 0x%08x, hypervisor bit %d, vmx %d, svm %d\n", vendor,
	       l1.ecx, hv_bit, vmx, svm);

	struct cpuid_regs hv = cpuid(HV_LEAF_BASE, 0);
	char sig[13];
	memcpy(sig, &hv.ebx, 4);
	memcpy(sig + 4, &hv.ecx, 4);
	memcpy(sig + 8, &hv.edx, 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] < 0x20 || sig[i] > 0x7e)
			sig[i] = '.';
	printf("cpuid: leaf 0x40000000: eax 0x%08x signature \"%s\"\n", hv.eax, sig);

	/* Hypercalls: VMMCALL on AMD, VMCALL elsewhere (APM Vol. 3; SDM Vol. 2B). */
	bool amd = v == VENDOR_AMD;
	uint32_t ret = 0, err = 0, ret2 = 0, err2 = 0;
	int fault = hypercall_safe(amd, HC_VERSION, 0, 0, 0, &ret, &err);
	int fault2 = hypercall_safe(amd, HC_UNKNOWN, 0, 0, 0, &ret2, &err2);
	const char *insn = amd ? "vmmcall" : "vmcall";
	printf("cpuid: %s 0 -> %s eax 0x%08x; %s 0x%x -> %s eax 0x%08x\n", insn,
	       fault ? "fault" : "ok", ret, insn, HC_UNKNOWN, fault2 ? "fault" : "ok", ret2);
	if (fault)
		printf("cpuid: hypercall raised vector %d\n", fault - 1);

	check(!vmx, "VMX (CPUID.1:ECX[5]) visible to the guest");
	if (bare) {
		printf("cpuid: bare: hypervisor leaf, hidden SVM and hypercalls not checked\n");
		return;
	}
	check(hv_bit, "hypervisor bit CPUID.1:ECX[31] clear");
	check(hv.eax >= HV_LEAF_BASE + 1 && hv.eax < HV_LEAF_BASE + 0x100,
	      "leaf 0x40000000 max leaf 0x%08x", hv.eax);
	check(sig_equal(sig, HV_SIGNATURE), "signature \"%s\", want \"%s\"", sig, HV_SIGNATURE);
	check(!svm, "SVM (CPUID.80000001h:ECX[2]) visible to the guest");
	if (check(!fault, "hypercall 0 raised vector %d", fault - 1))
		check(ret >= 1 && ret < 0x80000000u,
		      "hypercall 0 returned 0x%08x, want a version >= 1", ret);
	if (check(!fault2, "unknown hypercall raised vector %d (want -1000 in eax)", fault2 - 1))
		check(ret2 == HC_ENOSYS, "unknown hypercall returned %d, want -1000",
		      (int32_t)ret2);
}

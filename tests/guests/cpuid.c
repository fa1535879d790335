/*
 * cpuid: what a guest learns about its hypervisor from CPUID and the
 * hypercall instruction (the guest ABI in tests/guests/lib/guest.h).
 *
 * Then a few promises of the CPUID policy (kernel/vm/cpuid_policy.c) seen
 * from inside: MONITOR, VMX, SVM and PDCM hidden, the hypervisor bit set,
 * the topology of a 1-vCPU VM, OSXSAVE following CR4.OSXSAVE once the guest
 * sets it, and XSETBV refusing XCR0 components CPUID does not offer.
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

#define CR4_OSXSAVE (1u << 18)

static uint32_t read_cr4(void)
{
	uint32_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void write_cr4(uint32_t v)
{
	__asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}

/*
 * QEMU's TCG does not implement SVM's XSETBV intercept (its XSETBV helper
 * checks no intercept), so under it a guest's XSETBV never reaches the
 * hypervisor. Its brand string names it; the brand passes through the policy.
 */
static bool below_is_qemu_tcg_svm(void)
{
	char brand[49];
	if (cpu_vendor() != VENDOR_AMD || cpuid(0x80000000u, 0).eax < 0x80000004u)
		return false;
	for (uint32_t i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002u + i, 0);
		memcpy(brand + 16 * i, &r, 16);
	}
	brand[48] = '\0';
	static const char tcg[] = "QEMU TCG";
	for (int i = 0; brand[i]; i++) {
		int j = 0;
		while (tcg[j] && brand[i + j] == tcg[j])
			j++;
		if (!tcg[j])
			return true;
	}
	return false;
}

/* The policy's promises on leaf 1, 0xB and 0xD, and XSETBV's checks. */
static void check_policy(void)
{
	struct cpuid_regs l0 = cpuid(0, 0), l1 = cpuid(1, 0);
	check(!(l1.ecx & (1u << 3)), "MONITOR (CPUID.1:ECX[3]) visible");
	check(!(l1.ecx & (1u << 15)), "PDCM (CPUID.1:ECX[15]) visible");
	check((l1.ebx >> 24) == 0 && ((l1.ebx >> 16) & 0xff) == 1,
	      "leaf 1 EBX 0x%08x: want APIC ID 0 of 1", l1.ebx);
	check(!(l1.edx & (1u << 28)), "HTT set in a 1-vCPU VM");
	check(l1.ecx & (1u << 21), "x2APIC (CPUID.1:ECX[21]) hidden");
	if (l0.eax >= 0xb) {
		struct cpuid_regs t1 = cpuid(0xb, 1);
		check((t1.ebx & 0xffff) == 1 && ((t1.ecx >> 8) & 0xff) == 2 && t1.edx == 0,
		      "leaf 0xB.1 %08x %08x %08x: want 1 core, x2APIC ID 0", t1.ebx, t1.ecx, t1.edx);
	}
	check(!(l1.ecx & (1u << 27)), "OSXSAVE set before the guest set CR4.OSXSAVE");
	if (!(l1.ecx & (1u << 26)) || l0.eax < 0xd) {
		printf("cpuid: no XSAVE: OSXSAVE and XSETBV not checked\n");
		return;
	}
	write_cr4(read_cr4() | CR4_OSXSAVE);
	l1 = cpuid(1, 0);
	check(l1.ecx & (1u << 27), "OSXSAVE clear after the guest set CR4.OSXSAVE");

	struct cpuid_regs d0 = cpuid(0xd, 0);
	uint64_t offered = d0.eax | ((uint64_t)d0.edx << 32);
	printf("cpuid: XCR0 offered 0x%llx, XCR0 now 0x%llx\n", (unsigned long long)offered,
	       (unsigned long long)xgetbv0());
	check((offered & ~0xe7ull) == 0, "XCR0 offered 0x%llx beyond x87/SSE/AVX/AVX-512",
	      (unsigned long long)offered);
	uint32_t err;
	int f = xsetbv_safe(0, offered, &err);
	check(!f, "XSETBV of the offered XCR0 0x%llx raised vector %d",
	      (unsigned long long)offered, f - 1);
	check(xgetbv0() == offered, "XCR0 reads 0x%llx after XSETBV 0x%llx",
	      (unsigned long long)xgetbv0(), (unsigned long long)offered);
	d0 = cpuid(0xd, 0);
	check(d0.ebx == d0.ecx, "0xD.0 EBX %u (size for XCR0) != ECX %u with every component on",
	      d0.ebx, d0.ecx);
	if (below_is_qemu_tcg_svm()) {
		printf("cpuid: QEMU TCG runs XSETBV without SVM's intercept: refusals not checked\n");
		return;
	}
	/* components never offered: MPX (3-4), PKRU (9), AMX (17-18); x87 off; another XCR */
	static const uint64_t bad[] = {0x18, 0x200, 0x60000, 0};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = bad[i] ? offered | bad[i] : 2;
		f = xsetbv_safe(0, v, &err);
		check(f == VEC_GP + 1 && err == 0, "XSETBV 0x%llx: vector %d, want #GP(0)",
		      (unsigned long long)v, f - 1);
	}
	f = xsetbv_safe(1, 1, &err);
	check(f == VEC_GP + 1, "XSETBV of XCR1: vector %d, want #GP", f - 1);
	check(xgetbv0() == offered, "XCR0 changed by a refused XSETBV");
	f = xsetbv_safe(0, 3, &err);
	check(!f && cpuid(0xd, 0).ebx == 576, "XCR0=3: 0xD.0 EBX %u, want 576",
	      cpuid(0xd, 0).ebx);
}

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
	check_policy();
}

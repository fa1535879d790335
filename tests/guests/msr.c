/*
 * msr: the MSRs a guest kernel touches at boot behave as the guest ABI says
 * (tests/guests/lib/guest.h), and an MSR nobody emulates raises #GP(0) on
 * RDMSR and WRMSR instead of reading zero or killing the VM.
 *
 * Options: "bare" reports instead of checking what bare QEMU (TCG) does not
 * do: it reads the TSC MSR and unknown MSRs as zero and ignores writes to
 * them and to the AMD performance counters.
 */
#include "guest.h"

const char guest_name[] = "msr";

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_MTRRCAP 0xfe
#define MSR_MTRR_PHYSBASE0 0x200	/* pairs: base 0x200 + 2n, mask 0x201 + 2n */
#define MSR_PAT 0x277
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_EFER 0xc0000080u
#define MSR_K7_PERF_BASE 0xc0010000u	/* PERF_CTL0-3, then PERF_CTR0-3 (APM Vol. 2 §13.2.1) */
#define EFER_SVME (1ull << 12)
#define MSR_TSC_ADJUST 0x3b
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MC0_CTL 0x400
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define NONCANONICAL 0x0000800000000000ull

#define APIC_BASE_BSP_ENABLED 0xfee00900ull	/* 0xfee00000 | EN (bit 11) | BSP (bit 8) */

static bool bare;

/* Reads an MSR that must exist; a fault is a failed check. */
static bool read_ok(uint32_t msr, uint64_t *v)
{
	uint32_t err;
	int f = rdmsr_safe(msr, v, &err);
	return check(!f, "rdmsr 0x%x raised vector %d (error 0x%x)", msr, f - 1, err);
}

/* Writes v, reads it back, restores the old value. */
static void write_read_back(uint32_t msr, uint64_t v, bool strict)
{
	uint64_t old, got;
	uint32_t err;

	if (!read_ok(msr, &old))
		return;
	int f = wrmsr_safe(msr, v, &err);
	if (!check(!f, "wrmsr 0x%x <- 0x%llx raised vector %d (error 0x%x)", msr, v, f - 1, err))
		return;
	if (read_ok(msr, &got)) {
		if (strict)
			check(got == v, "msr 0x%x wrote 0x%llx read 0x%llx", msr, v, got);
		else if (got != v)
			printf("msr: bare: msr 0x%x wrote 0x%llx read 0x%llx (not checked)\n",
			       msr, v, got);
	}
	wrmsr_safe(msr, old, &err);
}

static void check_tsc(void)
{
	uint64_t before = rdtsc(), msr = 0, after;
	bool ok = read_ok(MSR_TSC, &msr);
	after = rdtsc();
	if (!ok)
		return;
	if (bare && !(before <= msr && msr <= after))
		printf("msr: bare: TSC MSR 0x%llx outside [0x%llx, 0x%llx] (not checked)\n", msr,
		       before, after);
	else
		check(before <= msr && msr <= after, "TSC MSR 0x%llx outside [0x%llx, 0x%llx]", msr,
		      before, after);
}

static void check_mtrr_pat(void)
{
	struct cpuid_regs l1 = cpuid(1, 0);
	struct cpuid_regs ext = cpuid(0x80000000u, 0);
	uint32_t phys_bits = 36;
	uint64_t cap = 0;

	if (ext.eax >= 0x80000008u)
		phys_bits = cpuid(0x80000008u, 0).eax & 0xff;
	bool mtrr = check(l1.edx & (1u << 12), "no MTRRs (CPUID.1:EDX[12])");
	if (mtrr && read_ok(MSR_MTRRCAP, &cap)) {
		uint32_t vcnt = cap & 0xff;
		printf("msr: MTRRcap 0x%llx (%u variable ranges), %u physical address bits\n", cap,
		       vcnt, phys_bits);
		/* Default type WB, MTRRs enabled, fixed ranges off (SDM Vol. 3A §11.11.2.1). */
		write_read_back(MSR_MTRR_DEF_TYPE, 0x806, true);
		uint64_t addr_mask = phys_bits >= 64 ? ~0ull : (1ull << phys_bits) - 1;
		addr_mask &= ~0xfffull;
		for (uint32_t i = 0; i < vcnt && i < 8; i++) {
			/* A 16 MiB WB range; the mask's V bit (11) stays clear so no memory
			 * type changes while the test runs. */
			uint64_t base = ((0x10000000ull + i * 0x1000000ull) & addr_mask) | 6;
			uint64_t mask = addr_mask & ~0xffffffull;
			write_read_back(MSR_MTRR_PHYSBASE0 + 2 * i, base, true);
			write_read_back(MSR_MTRR_PHYSBASE0 + 2 * i + 1, mask, true);
		}
	}
	/* PAT: every entry a valid type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-). */
	if (check(l1.edx & (1u << 16), "no PAT (CPUID.1:EDX[16])"))
		write_read_back(MSR_PAT, 0x0007010600050406ull, true);
}

static void check_amd_perf(void)
{
	for (uint32_t i = 0; i < 8; i++) {
		/* CTLn: event 0x76 (cycles), USR|OS, enable (bit 22) left clear; CTRn: a count. */
		uint64_t v = i < 4 ? 0x30076ull + (i << 8) : 0x123456789ull + i;
		write_read_back(MSR_K7_PERF_BASE + i, v, !bare);
	}
}

static void check_unknown(uint32_t msr)
{
	uint64_t v = 0;
	uint32_t err = 0;
	int f = rdmsr_safe(msr, &v, &err);
	printf("msr: rdmsr 0x%08x -> %s (vector %d, error 0x%x)\n", msr, f ? "fault" : "no fault",
	       f - 1, err);
	if (!bare)
		check(f == VEC_GP + 1 && err == 0,
		      "rdmsr 0x%08x: want #GP(0), got %s %d error 0x%x", msr,
		      f ? "vector" : "no fault, value", f ? f - 1 : (int)v, err);
	f = wrmsr_safe(msr, 0x5a5a5a5aull, &err);
	printf("msr: wrmsr 0x%08x -> %s (vector %d, error 0x%x)\n", msr, f ? "fault" : "no fault",
	       f - 1, err);
	if (!bare)
		check(f == VEC_GP + 1 && err == 0,
		      "wrmsr 0x%08x: want #GP(0), got %s %d error 0x%x", msr,
		      f ? "vector" : "no fault", f - 1, err);
}

/* A write the architecture refuses: #GP(0), and the MSR keeps its value. */
static void write_faults(uint32_t msr, uint64_t v, const char *why)
{
	uint64_t before = 0, after = 0;
	uint32_t err = 0;
	rdmsr_safe(msr, &before, &err);
	int f = wrmsr_safe(msr, v, &err);
	rdmsr_safe(msr, &after, &err);
	if (bare) {
		printf("msr: bare: wrmsr 0x%x <- 0x%llx (%s): %s\n", msr, v, why,
		       f ? "fault" : "no fault");
		if (!f)
			wrmsr_safe(msr, before, &err);
		return;
	}
	check(f == VEC_GP + 1 && err == 0, "wrmsr 0x%x <- 0x%llx (%s): want #GP(0), got %s %d",
	      msr, v, why, f ? "vector" : "no fault", f - 1);
	check(after == before, "msr 0x%x changed by a refused write: 0x%llx -> 0x%llx", msr,
	      before, after);
}

/*
 * SDM Vol. 3B §18.17.3: WRMSR to IA32_TIME_STAMP_COUNTER moves what RDTSC
 * returns, and IA32_TSC_ADJUST moves by the same amount; writing
 * TSC_ADJUST moves the TSC back.
 */
static void check_tsc_write(void)
{
	const uint64_t jump = 1ull << 40, slack = 1ull << 34;
	uint32_t err;
	uint64_t start = rdtsc_ordered(), adj0 = 0, adj = 0;
	bool has_adjust = cpuid(0, 0).eax >= 7 && (cpuid(7, 0).ebx & (1u << 1));

	if (has_adjust)
		read_ok(MSR_TSC_ADJUST, &adj0);
	if (!check(!wrmsr_safe(MSR_TSC, start + jump, &err), "wrmsr IA32_TSC faulted"))
		return;
	uint64_t t = rdtsc_ordered();
	check(t >= start + jump && t - (start + jump) < slack,
	      "RDTSC 0x%llx after writing 0x%llx to IA32_TSC", t, start + jump);
	if (!has_adjust) {
		printf("msr: no TSC_ADJUST in CPUID\n");
		return;
	}
	if (read_ok(MSR_TSC_ADJUST, &adj))
		check(adj - adj0 >= jump - slack && adj - adj0 <= jump + slack,
		      "TSC_ADJUST moved by 0x%llx, the TSC by 0x%llx", adj - adj0, jump);
	check(!wrmsr_safe(MSR_TSC_ADJUST, adj0, &err), "wrmsr TSC_ADJUST faulted");
	t = rdtsc_ordered();
	check(t >= start && t < start + slack, "RDTSC 0x%llx after TSC_ADJUST back (start 0x%llx)",
	      t, start);
}

/* SDM Vol. 3B §16.3, APM Vol. 2 §9.3: the banks CPUID's MCE/MCA promise. */
static void check_mca(void)
{
	uint32_t edx = cpuid(1, 0).edx, err;
	uint64_t cap = 0, v = 0;
	if (!(edx & (1u << 7)) || !(edx & (1u << 14))) {
		printf("msr: no MCE/MCA in CPUID\n");
		return;
	}
	if (!read_ok(MSR_MCG_CAP, &cap))
		return;
	unsigned banks = cap & 0xff;
	printf("msr: MCG_CAP 0x%llx (%u banks)\n", cap, banks);
	check(banks > 0, "MCG_CAP reports no banks");
	write_faults(MSR_MCG_CAP, cap, "MCG_CAP is read-only");
	if (read_ok(MSR_MCG_STATUS, &v))
		check(v == 0, "MCG_STATUS 0x%llx: a machine check in progress", v);
	if (cap & (1u << 8)) { /* MCG_CTL_P */
		write_read_back(MSR_MCG_CTL, ~0ull, !bare);
		write_faults(MSR_MCG_CTL, 0x1, "MCG_CTL is all 0s or all 1s");
	}
	for (unsigned i = 0; i < banks; i++) {
		uint32_t ctl = MSR_MC0_CTL + 4 * i;
		check(!wrmsr_safe(ctl, ~0ull, &err), "wrmsr MC%u_CTL <- ~0 faulted", i);
		check(!wrmsr_safe(ctl + 1, 0, &err), "wrmsr MC%u_STATUS <- 0 faulted", i);
		if (read_ok(ctl + 1, &v))
			check(!(v >> 63), "MC%u_STATUS 0x%llx holds an error", i, v);
	}
	write_faults(MSR_MC0_CTL + 1, 1ull << 63, "MCi_STATUS takes only zeros");
	check_unknown(MSR_MC0_CTL + 4 * banks);
}

/* Reserved bits and non-canonical addresses (SDM Vol. 4 Table 2-2, Vol. 3A §3.3.7.1). */
static void check_reserved_and_canonical(void)
{
	uint64_t efer = 0;
	if (read_ok(MSR_EFER, &efer)) {
		write_faults(MSR_EFER, efer | EFER_SVME, "no SVM in the guest");
		write_faults(MSR_EFER, efer | (1ull << 15), "TCE is hidden");
		write_faults(MSR_EFER, efer | (1ull << 63), "reserved EFER bit");
	}
	write_faults(MSR_MTRR_DEF_TYPE, 0xc06 | (1ull << 9), "reserved MTRRdefType bit");
	write_faults(MSR_MTRR_DEF_TYPE, 0xc02, "memory type 2 is reserved");
	write_faults(MSR_PAT, 0x0007040600070306ull, "PAT type 3 is reserved");
	if (cpuid(0x80000001u, 0).edx & (1u << 29)) { /* long mode: the 64-bit MSRs exist */
		write_faults(MSR_FS_BASE, NONCANONICAL, "non-canonical FS base");
		write_faults(MSR_GS_BASE, NONCANONICAL, "non-canonical GS base");
		write_faults(MSR_KERNEL_GS_BASE, NONCANONICAL, "non-canonical KernelGSbase");
		write_faults(MSR_LSTAR, NONCANONICAL, "non-canonical LSTAR");
		/* the SYSCALL MSRs read back (VT-x keeps them per vCPU, vmx/vmx.c) */
		write_read_back(MSR_STAR, 0x0023001000000000ull, true);
		write_read_back(MSR_LSTAR, 0xffffffff81000000ull, true);
		write_read_back(MSR_SFMASK, 0x47700, true);
		write_read_back(MSR_KERNEL_GS_BASE, 0xffff888000001000ull, true);
	}
}

void guest_main(void)
{
	enum cpu_vendor vendor = cpu_vendor();
	uint64_t v;

	bare = opt_present("bare");
	printf("msr: vendor %s\n",
	       vendor == VENDOR_AMD ? "AMD" : vendor == VENDOR_INTEL ? "Intel" : "other");

	check_tsc();
	if (read_ok(MSR_APIC_BASE, &v))
		check(v == APIC_BASE_BSP_ENABLED, "IA32_APIC_BASE 0x%llx, want 0x%llx", v,
		      APIC_BASE_BSP_ENABLED);
	check_mtrr_pat();
	if (read_ok(MSR_EFER, &v)) {
		printf("msr: EFER 0x%llx\n", v);
		check(!(v & EFER_SVME), "EFER.SVME (bit 12) visible: 0x%llx", v);
	}
	if (vendor == VENDOR_AMD)
		check_amd_perf();
	check_unknown(0x4b564dffu);
	check_unknown(0xdead0000u);
	check_mca();
	check_reserved_and_canonical();
	check_tsc_write();
	if (bare)
		printf("msr: bare: TSC MSR, unknown-MSR faults and perf read-back not checked\n");
}

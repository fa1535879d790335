/*
 * The CPUID allow list: every leaf a guest may see, every feature bit, and
 * why the hypervisor can stand behind each. A bit is shown when it is
 * ALLOWed here and the host has it; HIDE rows say why not. Bits not listed
 * are hidden too (reserved or unknown to us). Leaves not listed read zero.
 *
 * Reasons use a few phrases:
 *   "hardware"  the guest executes it natively and it keeps no state outside
 *               the general registers, or its state is switched by XSAVE/
 *               FXSAVE when a core changes vCPUs (kernel/cpu/fpu.c), or it
 *               lives in the VMCS/VMCB guest area;
 *   "msr_policy.c"  the MSRs it implies are emulated there;
 *   "vlapic"    guest/vlapic.c models it;
 *   "fact"      it describes how the hardware behaves (an erratum fixed, a
 *               speed), true of the guest as of the host.
 *
 * Sources: SDM Vol. 2A CPUID (Tables 3-8, 3-10, 3-11), AMD APM Vol. 3
 * Appendix E and AMD's "CPUID Specification" #25481; names as in Linux's
 * cpufeatures.h where a bit has one.
 */
#include "kernel/vm/cpuid_policy.h"

#define ALLOW(b, n, w) {b, 0, n, w}
#define HIDE(b, n, w) {b, CPUID_NEVER, n, w}
#define NEEDS(b, r, n, w) {b, r, n, w}
/* VEX-encoded: needs the YMM state in XCR0 */
#define AVX(b, n) {b, CPUID_NEED_YMM, n, "hardware; YMM state switched by XSAVE (XCR0 bit 2)"}
/* EVEX-encoded: needs the opmask and ZMM state in XCR0 */
#define AVX512(b, n) {b, CPUID_NEED_ZMM, n, "hardware; ZMM state switched by XSAVE (XCR0 5-7)"}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define HW "hardware"
#define HW_XSAVE "hardware; vector state switched by XSAVE/FXSAVE"
#define NO_PMU "no performance monitoring: leaf 0xA and the counters' MSRs say none"

/* ---- leaf 1 ---- */

static const struct cpuid_bit leaf1_ecx[] = {
    ALLOW(0, "SSE3", HW_XSAVE),
    ALLOW(1, "PCLMULQDQ", HW_XSAVE),
    HIDE(2, "DTES64", "no debug store: IA32_DS_AREA is not emulated"),
    HIDE(3, "MONITOR", "MONITOR/MWAIT would idle the host core; guests use HLT"),
    HIDE(4, "DS-CPL", "no debug store"),
    HIDE(5, "VMX", "no nested virtualization"),
    HIDE(6, "SMX", "no GETSEC/TXT for guests"),
    HIDE(7, "EIST", "P-states are the host's: IA32_PERF_CTL is not emulated"),
    HIDE(8, "TM2", "thermal control is the host's"),
    ALLOW(9, "SSSE3", HW_XSAVE),
    HIDE(10, "CNXT-ID", "L1 context ID: IA32_MISC_ENABLE bit not emulated"),
    HIDE(11, "SDBG", "IA32_DEBUG_INTERFACE is not emulated"),
    AVX(12, "FMA"),
    ALLOW(13, "CX16", HW),
    HIDE(14, "xTPR", "xTPR update control is the host's"),
    HIDE(15, "PDCM", "IA32_PERF_CAPABILITIES (0x345) is not emulated"),
    ALLOW(17, "PCID", "hardware: CR4.PCIDE is the guest's under EPT/NPT"),
    HIDE(18, "DCA", "no direct cache access: IA32_PLATFORM_DCA_CAP not emulated"),
    ALLOW(19, "SSE4.1", HW_XSAVE),
    ALLOW(20, "SSE4.2", HW_XSAVE),
    /* x2APIC (21) and TSC-deadline (24) are set by the policy: the vlapic, not the host */
    HIDE(21, "x2APIC", "set by cpuid_policy.c: the vlapic models it on any host"),
    ALLOW(22, "MOVBE", HW),
    ALLOW(23, "POPCNT", HW),
    HIDE(24, "TSC-deadline", "set by cpuid_policy.c: the vlapic models it on any host"),
    ALLOW(25, "AES", HW_XSAVE),
    ALLOW(26, "XSAVE", "hardware; XCR0 emulated by handle_xsetbv, switched by fpu.c"),
    HIDE(27, "OSXSAVE", "set by cpuid_policy.c from the guest's CR4.OSXSAVE"),
    AVX(28, "AVX"),
    AVX(29, "F16C"),
    ALLOW(30, "RDRAND", HW),
    HIDE(31, "hypervisor", "set by cpuid_policy.c: the guest runs on a hypervisor"),
};

static const struct cpuid_bit leaf1_edx[] = {
    ALLOW(0, "FPU", HW_XSAVE),
    ALLOW(1, "VME", "hardware: CR4.VME is the guest's"),
    ALLOW(2, "DE", "hardware: CR4.DE is the guest's"),
    ALLOW(3, "PSE", "hardware paging under EPT/NPT; walker: guest_paging.c"),
    ALLOW(4, "TSC", "hardware: host TSC plus the VM's offset"),
    ALLOW(5, "MSR", "RDMSR/WRMSR: msr_policy.c"),
    ALLOW(6, "PAE", "hardware paging under EPT/NPT; walker: guest_paging.c"),
    ALLOW(7, "MCE", "#MC delivery; the virtual MCA bank model is in msr_policy.c"),
    ALLOW(8, "CX8", HW),
    /* APIC (9) is set by the policy: the vlapic, on any host */
    HIDE(9, "APIC", "set by cpuid_policy.c: the vlapic models it on any host"),
    ALLOW(11, "SEP", "hardware; SYSENTER MSRs in the VMCS/VMCB guest area"),
    ALLOW(12, "MTRR", "msr_policy.c keeps the guest's MTRRs"),
    ALLOW(13, "PGE", "hardware: CR4.PGE is the guest's"),
    ALLOW(14, "MCA", "the virtual MCA bank model (MCG_CAP...) is in msr_policy.c"),
    ALLOW(15, "CMOV", HW),
    ALLOW(16, "PAT", "IA32_PAT in the VMCS/VMCB guest area"),
    ALLOW(17, "PSE-36", "hardware paging under EPT/NPT"),
    HIDE(18, "PSN", "no processor serial number"),
    ALLOW(19, "CLFSH", HW),
    HIDE(21, "DS", "no debug store: IA32_DS_AREA is not emulated"),
    HIDE(22, "ACPI", "thermal monitor MSRs are the host's"),
    ALLOW(23, "MMX", HW_XSAVE),
    ALLOW(24, "FXSR", HW_XSAVE),
    ALLOW(25, "SSE", HW_XSAVE),
    ALLOW(26, "SSE2", HW_XSAVE),
    ALLOW(27, "SS", "fact: self-snoop"),
    HIDE(28, "HTT", "set by cpuid_policy.c when the VM has more than one vCPU"),
    HIDE(29, "TM", "thermal monitor is the host's"),
    HIDE(31, "PBE", "pending break enable is the host's"),
};

/* ---- leaf 6 (thermal and power) ---- */

static const struct cpuid_bit leaf6_eax[] = {
    HIDE(0, "DTS", "thermal sensors are the host's"),
    HIDE(1, "turbo", "P-states are the host's"),
    HIDE(2, "ARAT", "set by cpuid_policy.c: the vlapic timer never stops in C-states"),
    HIDE(4, "PLN", "power limits are the host's"),
    HIDE(6, "PTM", "package thermal management is the host's"),
    HIDE(7, "HWP", "HWP MSRs are not emulated"),
};

/* ---- leaf 7 sub-leaf 0 ---- */

static const struct cpuid_bit leaf7_0_ebx[] = {
    ALLOW(0, "FSGSBASE", "hardware; FS/GS bases in the VMCS/VMCB guest area"),
    ALLOW(1, "TSC_ADJUST", "IA32_TSC_ADJUST (0x3b): msr_policy.c"),
    HIDE(2, "SGX", "no enclaves for guests"),
    ALLOW(3, "BMI1", HW),
    ALLOW(4, "HLE", "hardware (TSX); IA32_TSX_CTRL is not offered"),
    AVX(5, "AVX2"),
    ALLOW(6, "FDP_EXCPTN_ONLY", "fact"),
    ALLOW(7, "SMEP", "hardware: CR4.SMEP is the guest's; guest_paging.c checks it"),
    ALLOW(8, "BMI2", HW),
    ALLOW(9, "ERMS", "fact"),
    NEEDS(10, CPUID_NEED_INVPCID, "INVPCID", "hardware when the backend enables it"),
    ALLOW(11, "RTM", "hardware (TSX); IA32_TSX_CTRL is not offered"),
    HIDE(12, "PQM", "RDT monitoring MSRs are not emulated"),
    ALLOW(13, "ZERO_FCS_FDS", "fact"),
    HIDE(14, "MPX", "bounds registers not switched (XCR0 bits 3-4 refused)"),
    HIDE(15, "PQE", "RDT allocation MSRs are not emulated"),
    AVX512(16, "AVX512F"),
    AVX512(17, "AVX512DQ"),
    ALLOW(18, "RDSEED", HW),
    ALLOW(19, "ADX", HW),
    ALLOW(20, "SMAP", "hardware: CR4.SMAP is the guest's; guest_paging.c checks it"),
    AVX512(21, "AVX512IFMA"),
    ALLOW(23, "CLFLUSHOPT", HW),
    ALLOW(24, "CLWB", HW),
    HIDE(25, "PT", "processor trace MSRs are not emulated"),
    AVX512(26, "AVX512PF"),
    AVX512(27, "AVX512ER"),
    AVX512(28, "AVX512CD"),
    ALLOW(29, "SHA", HW_XSAVE),
    AVX512(30, "AVX512BW"),
    AVX512(31, "AVX512VL"),
};

static const struct cpuid_bit leaf7_0_ecx[] = {
    ALLOW(0, "PREFETCHWT1", HW),
    AVX512(1, "AVX512VBMI"),
    ALLOW(2, "UMIP", "hardware: CR4.UMIP is the guest's"),
    HIDE(3, "PKU", "PKRU (XCR0 bit 9) is not offered: CR4.PKE is not policed on AMD-V"),
    HIDE(4, "OSPKE", "follows PKU"),
    HIDE(5, "WAITPKG", "UMWAIT/TPAUSE: IA32_UMWAIT_CONTROL not emulated, may idle the core"),
    AVX512(6, "AVX512_VBMI2"),
    HIDE(7, "CET_SS", "CET state is in IA32_XSS, which is not emulated"),
    ALLOW(8, "GFNI", HW_XSAVE),
    AVX(9, "VAES"),
    AVX(10, "VPCLMULQDQ"),
    AVX512(11, "AVX512_VNNI"),
    AVX512(12, "AVX512_BITALG"),
    HIDE(13, "TME", "memory encryption MSRs are the host's"),
    AVX512(14, "AVX512_VPOPCNTDQ"),
    ALLOW(16, "LA57", "hardware: CR4.LA57 is the guest's; guest_paging.c walks 5 levels"),
    HIDE(17, "MAWAU", "MPX (bits 17-21)"),
    NEEDS(22, CPUID_NEED_RDTSCP, "RDPID", "reads TSC_AUX (msr_policy.c); needs enable RDTSCP"),
    HIDE(23, "KL", "Key Locker state is not switched"),
    HIDE(24, "BUS_LOCK_DETECT", "IA32_DEBUGCTL bus-lock bit not emulated"),
    ALLOW(25, "CLDEMOTE", "hardware: a hint"),
    ALLOW(27, "MOVDIRI", HW),
    ALLOW(28, "MOVDIR64B", HW),
    HIDE(29, "ENQCMD", "IA32_PASID is not emulated; no devices with PASID"),
    HIDE(30, "SGX_LC", "no enclaves for guests"),
    HIDE(31, "PKS", "IA32_PKRS is not emulated"),
};

static const struct cpuid_bit leaf7_0_edx[] = {
    HIDE(1, "SGX_KEYS", "no enclaves for guests"),
    AVX512(2, "AVX512_4VNNIW"),
    AVX512(3, "AVX512_4FMAPS"),
    ALLOW(4, "FSRM", "fact"),
    HIDE(5, "UINTR", "user interrupts need posted-interrupt support we lack"),
    AVX512(8, "AVX512_VP2INTERSECT"),
    HIDE(9, "SRBDS_CTRL", "IA32_MCU_OPT_CTRL is not emulated"),
    ALLOW(10, "MD_CLEAR", "fact: VERW clears CPU buffers"),
    ALLOW(11, "RTM_ALWAYS_ABORT", "fact"),
    HIDE(13, "TSX_FORCE_ABORT", "MSR 0x10f is not emulated"),
    ALLOW(14, "SERIALIZE", HW),
    HIDE(15, "HYBRID", "every vCPU looks the same; leaf 0x1A is zero"),
    ALLOW(16, "TSXLDTRK", HW),
    HIDE(18, "PCONFIG", "memory encryption keys are the host's"),
    HIDE(19, "ARCH_LBR", "LBR state is in IA32_XSS, which is not emulated"),
    HIDE(20, "CET_IBT", "CET state is in IA32_XSS, which is not emulated"),
    HIDE(22, "AMX_BF16", "AMX tile state (XCR0 bits 17-18) is not offered"),
    AVX512(23, "AVX512_FP16"),
    HIDE(24, "AMX_TILE", "AMX tile state (XCR0 bits 17-18) is not offered"),
    HIDE(25, "AMX_INT8", "AMX tile state (XCR0 bits 17-18) is not offered"),
    ALLOW(26, "IBRS_IBPB", "IA32_SPEC_CTRL (0x48), IA32_PRED_CMD (0x49): msr_policy.c"),
    ALLOW(27, "STIBP", "IA32_SPEC_CTRL bit 1: msr_policy.c"),
    HIDE(28, "L1D_FLUSH", "IA32_FLUSH_CMD (0x10b) is not emulated"),
    ALLOW(29, "ARCH_CAPABILITIES", "IA32_ARCH_CAPABILITIES (0x10a): msr_policy.c"),
    HIDE(30, "CORE_CAPABILITIES", "IA32_CORE_CAPABILITIES is not emulated"),
    ALLOW(31, "SSBD", "IA32_SPEC_CTRL bit 2: msr_policy.c"),
};

/* ---- leaf 7 sub-leaf 1 ---- */

static const struct cpuid_bit leaf7_1_eax[] = {
    AVX(0, "SHA512"),
    AVX(1, "SM3"),
    AVX(2, "SM4"),
    ALLOW(3, "RAO_INT", HW),
    AVX(4, "AVX_VNNI"),
    AVX512(5, "AVX512_BF16"),
    HIDE(6, "LASS", "CR4.LASS is not handled by the emulator's checks"),
    ALLOW(7, "CMPCCXADD", HW),
    HIDE(8, "ARCH_PERFMON_EXT", NO_PMU),
    ALLOW(10, "FZRM", "fact"),
    ALLOW(11, "FSRS", "fact"),
    ALLOW(12, "FSRC", "fact"),
    HIDE(17, "FRED", "FRED MSRs and event delivery are not virtualized"),
    HIDE(18, "LKGS", "comes with FRED"),
    HIDE(19, "WRMSRNS", "its exits are not decoded by the backends"),
    HIDE(21, "AMX_FP16", "AMX tile state is not offered"),
    HIDE(22, "HRESET", "IA32_HRESET_ENABLE is not emulated"),
    AVX(23, "AVX_IFMA"),
    HIDE(26, "LAM", "CR3/CR4 LAM bits are not handled by guest_paging.c"),
    HIDE(27, "MSRLIST", "RDMSRLIST/WRMSRLIST exits are not decoded"),
};

static const struct cpuid_bit leaf7_1_edx[] = {
    AVX(4, "AVX_VNNI_INT8"),
    AVX(5, "AVX_NE_CONVERT"),
    HIDE(8, "AMX_COMPLEX", "AMX tile state is not offered"),
    AVX(10, "AVX_VNNI_INT16"),
    ALLOW(14, "PREFETCHI", HW),
    HIDE(17, "UIRET_UIF", "no user interrupts"),
    HIDE(18, "CET_SSS", "no CET"),
    HIDE(19, "AVX10", "leaf 0x24 is not offered"),
};

/* ---- leaf 0xD sub-leaf 1 (XSAVE extensions) ---- */

static const struct cpuid_bit leafd_1_eax[] = {
    ALLOW(0, "XSAVEOPT", HW),
    ALLOW(1, "XSAVEC", HW),
    ALLOW(2, "XGETBV1", "hardware: XGETBV ECX=1 reads XINUSE"),
    NEEDS(3, CPUID_NEED_XSAVES | CPUID_NEED_XSS, "XSAVES",
	  "needs the backend and IA32_XSS, which msr_policy.c does not emulate: hidden"),
    HIDE(4, "XFD", "extended feature disable is for AMX, which is not offered"),
};

/* ---- extended leaf 0x80000001 ---- */

/*
 * AMD's EDX repeats leaf 1's EDX in bits 0-9, 12-17, 23 and 24 (APM Vol. 3
 * E.4.2): those are allowed as leaf 1 allows them (cpuid_policy.c masks them
 * with leaf 1's list); the rows here are AMD's own bits.
 */
static const struct cpuid_bit amd_ext1_ecx[] = {
    ALLOW(0, "LahfSahf", HW),
    HIDE(1, "CmpLegacy", "set by cpuid_policy.c with HTT: every vCPU is a core"),
    HIDE(2, "SVM", "no nested virtualization"),
    HIDE(3, "ExtApicSpace", "the vlapic has no extended APIC registers"),
    ALLOW(4, "AltMovCr8", "hardware: LOCK MOV CR0 is MOV CR8, the guest's TPR"),
    ALLOW(5, "ABM", HW),
    ALLOW(6, "SSE4A", HW_XSAVE),
    ALLOW(7, "MisAlignSse", "hardware: MXCSR.MM is the guest's"),
    ALLOW(8, "3DNowPrefetch", HW),
    HIDE(9, "OSVW", "OS-visible workaround MSRs are not emulated"),
    HIDE(10, "IBS", "instruction-based sampling: no PMU"),
    AVX(11, "XOP"),
    HIDE(12, "SKINIT", "no nested virtualization"),
    HIDE(13, "WDT", "watchdog timer is the host's"),
    HIDE(15, "LWP", "lightweight profiling state is not switched"),
    AVX(16, "FMA4"),
    HIDE(17, "TCE", "EFER.TCE is not offered"),
    HIDE(19, "NodeId", "MSR C001_100C is not emulated"),
    ALLOW(21, "TBM", HW),
    HIDE(22, "TopoExt", "leaves 0x8000001D/1E would describe the host: zeroed instead"),
    HIDE(23, "PerfCtrExtCore", NO_PMU),
    HIDE(24, "PerfCtrExtNB", NO_PMU),
    HIDE(26, "DataBkptExt", "DR address mask MSRs are not emulated"),
    HIDE(27, "PerfTsc", "MSR C001_0280 is not emulated"),
    HIDE(28, "PerfCtrExtLLC", NO_PMU),
    HIDE(29, "MONITORX", "MONITORX/MWAITX would idle the host core"),
    HIDE(30, "AddrMaskExt", "DR address mask MSRs are not emulated"),
};

static const struct cpuid_bit amd_ext1_edx[] = {
    ALLOW(11, "SYSCALL", "hardware; STAR/LSTAR/CSTAR/SFMASK owned by the guest"),
    ALLOW(20, "NX", "hardware: EFER.NXE is the guest's; guest_paging.c checks XD"),
    ALLOW(22, "MmxExt", HW_XSAVE),
    ALLOW(25, "FFXSR", "hardware: EFER.FFXSR is the guest's"),
    ALLOW(26, "Page1GB", "hardware paging under NPT; guest_paging.c walks 1 GiB pages"),
    NEEDS(27, CPUID_NEED_RDTSCP, "RDTSCP", "TSC_AUX kept by msr_policy.c; needs the backend"),
    ALLOW(29, "LM", "hardware: EFER.LME/LMA handled by the backends"),
    ALLOW(30, "3DNowExt", HW_XSAVE),
    ALLOW(31, "3DNow", HW_XSAVE),
};

static const struct cpuid_bit intel_ext1_ecx[] = {
    ALLOW(0, "LAHF", HW),
    ALLOW(5, "LZCNT", HW),
    ALLOW(8, "PREFETCHW", HW),
};

static const struct cpuid_bit intel_ext1_edx[] = {
    ALLOW(11, "SYSCALL", "hardware; the SYSCALL MSRs are switched by vmx.c"),
    ALLOW(20, "NX", "hardware: EFER.NXE is the guest's; guest_paging.c checks XD"),
    ALLOW(26, "Page1GB", "hardware paging under EPT; guest_paging.c walks 1 GiB pages"),
    NEEDS(27, CPUID_NEED_RDTSCP, "RDTSCP", "TSC_AUX kept by msr_policy.c; needs enable RDTSCP"),
    ALLOW(29, "LM", "hardware: EFER.LME/LMA handled by the backends"),
};

/* ---- 0x80000007 (power management) ---- */

static const struct cpuid_bit ext7_edx[] = {
    HIDE(0, "TS", "temperature sensor is the host's"),
    HIDE(7, "HwPstate", "P-state MSRs are not emulated"),
    ALLOW(8, "TscInvariant", "fact: the guest TSC is the host's plus an offset"),
    HIDE(9, "CPB", "boost control is the host's"),
    HIDE(11, "ProcPowerReporting", "power reporting MSRs are not emulated"),
};

/* ---- 0x80000008 EBX (AMD extended features) ---- */

static const struct cpuid_bit amd_ext8_ebx[] = {
    ALLOW(0, "CLZERO", HW),
    HIDE(1, "InstRetCntMsr", "IRPerfCount MSR is not emulated"),
    ALLOW(2, "RstrFpErrPtrs", "fact: FXSAVE/XSAVE always save the error pointers"),
    HIDE(3, "INVLPGB", "broadcast TLB invalidation would reach other VMs' cores"),
    HIDE(4, "RDPRU", "reads MPERF/APERF, which are the host's"),
    HIDE(6, "BE", "bandwidth enforcement MSRs are not emulated"),
    HIDE(8, "MCOMMIT", "EFER.MCOMMIT is not offered"),
    ALLOW(9, "WBNOINVD", HW),
    ALLOW(12, "IBPB", "IA32_PRED_CMD (0x49): msr_policy.c"),
    HIDE(13, "INT_WBINVD", "fact about the host's WBINVD, not promised to guests"),
    ALLOW(14, "IBRS", "IA32_SPEC_CTRL (0x48): msr_policy.c"),
    ALLOW(15, "STIBP", "IA32_SPEC_CTRL bit 1: msr_policy.c"),
    ALLOW(16, "IbrsAlwaysOn", "fact"),
    ALLOW(17, "StibpAlwaysOn", "fact"),
    ALLOW(18, "IbrsPreferred", "fact"),
    ALLOW(19, "IbrsSameMode", "fact"),
    HIDE(20, "EferLmsleUnsupported", "EFER.LMSLE is never offered anyway"),
    HIDE(21, "INVLPGBnestedPages", "no INVLPGB"),
    HIDE(23, "PPIN", "protected processor inventory number is the host's"),
    ALLOW(24, "SSBD", "IA32_SPEC_CTRL bit 2: msr_policy.c"),
    HIDE(25, "VirtSsbd", "VIRT_SPEC_CTRL (C001_011F) is not emulated"),
    ALLOW(26, "SsbNo", "fact"),
    HIDE(27, "CPPC", "collaborative processor performance control is the host's"),
    HIDE(28, "PSFD", "IA32_SPEC_CTRL bit 7 is not promised by msr_policy.c"),
    ALLOW(29, "BTC_NO", "fact"),
    ALLOW(30, "IBPB_RET", "fact"),
};

static const struct cpuid_bit intel_ext8_ebx[] = {
    ALLOW(9, "WBNOINVD", HW),
};

/* ---- 0x80000021 EAX (AMD extended features 2) ---- */

static const struct cpuid_bit amd_ext21_eax[] = {
    ALLOW(0, "NoNestedDataBp", "fact"),
    ALLOW(1, "FsGsKernelGsBaseNonSerializing", "fact"),
    ALLOW(2, "LFenceAlwaysSerializing", "fact (DE_CFG bit 1 reads set: msr_policy.c)"),
    HIDE(3, "SmmPgCfgLock", "SMM is the host's"),
    ALLOW(5, "VERW_CLEAR", "fact: VERW clears CPU buffers"),
    ALLOW(6, "NullSelectClearsBase", "fact"),
    HIDE(7, "UpperAddressIgnore", "needs EFER.UAIE, which is not offered"),
    HIDE(8, "AutomaticIBRS", "needs EFER.AIBRSE, which is not offered"),
    HIDE(9, "NoSmmCtlMSR", "SMM is the host's"),
    HIDE(13, "PrefetchCtlMsr", "MSR C000_0108 is not emulated"),
    HIDE(17, "CpuidUserDis", "HWCR.CpuidUserDis is not emulated"),
    HIDE(18, "EPSF", "enhanced predictive store forwarding control is not emulated"),
    HIDE(27, "SBPB", "IA32_PRED_CMD bit 7 is not promised by msr_policy.c"),
    ALLOW(28, "IBPB_BRTYPE", "fact"),
    ALLOW(29, "SRSO_NO", "fact"),
    ALLOW(30, "SRSO_USER_KERNEL_NO", "fact"),
    HIDE(31, "SRSO_MSR_FIX", "BP_CFG MSR is not emulated"),
};

#define WORD(l, s, r, v, a) {l, s, r, v, a, COUNT(a)}

const struct cpuid_feature_word cpuid_feature_words[] = {
    WORD(0x1, 0, CPUID_ECX, CPUID_BOTH, leaf1_ecx),
    WORD(0x1, 0, CPUID_EDX, CPUID_BOTH, leaf1_edx),
    WORD(0x6, 0, CPUID_EAX, CPUID_BOTH, leaf6_eax),
    WORD(0x7, 0, CPUID_EBX, CPUID_BOTH, leaf7_0_ebx),
    WORD(0x7, 0, CPUID_ECX, CPUID_BOTH, leaf7_0_ecx),
    WORD(0x7, 0, CPUID_EDX, CPUID_BOTH, leaf7_0_edx),
    WORD(0x7, 1, CPUID_EAX, CPUID_BOTH, leaf7_1_eax),
    WORD(0x7, 1, CPUID_EDX, CPUID_BOTH, leaf7_1_edx),
    WORD(0xd, 1, CPUID_EAX, CPUID_BOTH, leafd_1_eax),
    WORD(0x80000001, 0, CPUID_ECX, CPUID_AMD, amd_ext1_ecx),
    WORD(0x80000001, 0, CPUID_EDX, CPUID_AMD, amd_ext1_edx),
    WORD(0x80000001, 0, CPUID_ECX, CPUID_INTEL, intel_ext1_ecx),
    WORD(0x80000001, 0, CPUID_EDX, CPUID_INTEL, intel_ext1_edx),
    WORD(0x80000007, 0, CPUID_EDX, CPUID_BOTH, ext7_edx),
    WORD(0x80000008, 0, CPUID_EBX, CPUID_AMD, amd_ext8_ebx),
    WORD(0x80000008, 0, CPUID_EBX, CPUID_INTEL, intel_ext8_ebx),
    WORD(0x80000021, 0, CPUID_EAX, CPUID_AMD, amd_ext21_eax),
};
const unsigned cpuid_feature_word_count = COUNT(cpuid_feature_words);

/*
 * Every leaf, in order. The highest basic and extended leaves listed here
 * cap what leaf 0 and 0x80000000 report.
 */
const struct cpuid_leaf_rule cpuid_leaf_rules[] = {
    {0x0, CPUID_BOTH, CPUID_LEAF_SYNTH, "max leaf clamped to this table; vendor passed"},
    {0x1, CPUID_BOTH, CPUID_LEAF_FEATURES, "signature passed; APIC ID and counts are the VM's"},
    {0x2, CPUID_INTEL, CPUID_LEAF_PASS, "cache descriptors: information"},
    {0x3, CPUID_BOTH, CPUID_LEAF_ZERO, "no processor serial number"},
    {0x4, CPUID_INTEL, CPUID_LEAF_SYNTH, "host caches, sharing counts from the VM's topology"},
    {0x5, CPUID_BOTH, CPUID_LEAF_ZERO, "MONITOR/MWAIT hidden"},
    {0x6, CPUID_BOTH, CPUID_LEAF_FEATURES, "only ARAT: power management is the host's"},
    {0x7, CPUID_BOTH, CPUID_LEAF_SYNTH, "sub-leaves 0 and 1 as the feature lists allow"},
    {0x8, CPUID_BOTH, CPUID_LEAF_ZERO, "reserved"},
    {0x9, CPUID_BOTH, CPUID_LEAF_ZERO, "no direct cache access"},
    {0xa, CPUID_BOTH, CPUID_LEAF_ZERO, NO_PMU},
    {0xb, CPUID_BOTH, CPUID_LEAF_SYNTH, "the VM's topology: one thread per core"},
    {0xc, CPUID_BOTH, CPUID_LEAF_ZERO, "reserved"},
    {0xd, CPUID_BOTH, CPUID_LEAF_SYNTH, "XSAVE: the offered components and their sizes"},
    {0xe, CPUID_BOTH, CPUID_LEAF_ZERO, "reserved"},
    {0xf, CPUID_BOTH, CPUID_LEAF_ZERO, "RDT monitoring MSRs are not emulated"},
    {0x10, CPUID_BOTH, CPUID_LEAF_ZERO, "RDT allocation MSRs are not emulated"},
    {0x11, CPUID_BOTH, CPUID_LEAF_ZERO, "reserved"},
    {0x12, CPUID_BOTH, CPUID_LEAF_ZERO, "no enclaves for guests"},
    {0x13, CPUID_BOTH, CPUID_LEAF_ZERO, "reserved"},
    {0x14, CPUID_BOTH, CPUID_LEAF_ZERO, "processor trace MSRs are not emulated"},
    {0x15, CPUID_INTEL, CPUID_LEAF_PASS, "TSC/crystal ratio: the guest TSC runs at the host's rate"},
    {0x16, CPUID_INTEL, CPUID_LEAF_PASS, "nominal frequencies: information"},
    {0x17, CPUID_BOTH, CPUID_LEAF_ZERO, "SoC vendor attributes are the host's"},
    {0x18, CPUID_BOTH, CPUID_LEAF_ZERO, "TLB geometry of the host; guests need not tune to it"},
    {0x19, CPUID_BOTH, CPUID_LEAF_ZERO, "Key Locker state is not switched"},
    {0x1a, CPUID_BOTH, CPUID_LEAF_ZERO, "no hybrid core types: every vCPU looks the same"},
    {0x1b, CPUID_BOTH, CPUID_LEAF_ZERO, "PCONFIG hidden"},
    {0x1c, CPUID_BOTH, CPUID_LEAF_ZERO, "architectural LBRs hidden"},
    {0x1d, CPUID_BOTH, CPUID_LEAF_ZERO, "AMX tile state is not offered"},
    {0x1e, CPUID_BOTH, CPUID_LEAF_ZERO, "AMX tile state is not offered"},
    {0x1f, CPUID_BOTH, CPUID_LEAF_SYNTH, "as 0xB, where the host has the leaf"},

    {0x80000000, CPUID_BOTH, CPUID_LEAF_SYNTH, "max extended leaf clamped to this table"},
    {0x80000001, CPUID_BOTH, CPUID_LEAF_FEATURES, "signature passed; features as listed"},
    {0x80000002, CPUID_BOTH, CPUID_LEAF_PASS, "brand string"},
    {0x80000003, CPUID_BOTH, CPUID_LEAF_PASS, "brand string"},
    {0x80000004, CPUID_BOTH, CPUID_LEAF_PASS, "brand string"},
    {0x80000005, CPUID_AMD, CPUID_LEAF_PASS, "L1 cache and TLB information"},
    {0x80000006, CPUID_BOTH, CPUID_LEAF_PASS, "L2/L3 cache information"},
    {0x80000007, CPUID_BOTH, CPUID_LEAF_FEATURES, "only invariant TSC; RAS (SMCA) hidden"},
    {0x80000008, CPUID_BOTH, CPUID_LEAF_SYNTH, "address sizes passed; AMD core count is the VM's"},
    {0x80000009, CPUID_AMD, CPUID_LEAF_ZERO, "reserved"},
    {0x8000000a, CPUID_AMD, CPUID_LEAF_ZERO, "no nested virtualization (SVM)"},
    {0x80000019, CPUID_AMD, CPUID_LEAF_PASS, "1 GiB page TLB information"},
    {0x8000001a, CPUID_AMD, CPUID_LEAF_PASS, "fact: preferred FP/SSE operation widths"},
    {0x8000001b, CPUID_AMD, CPUID_LEAF_ZERO, "instruction-based sampling: no PMU"},
    {0x8000001c, CPUID_AMD, CPUID_LEAF_ZERO, "lightweight profiling hidden"},
    {0x8000001d, CPUID_AMD, CPUID_LEAF_ZERO, "TopoExt hidden: host cache topology not shown"},
    {0x8000001e, CPUID_AMD, CPUID_LEAF_ZERO, "TopoExt hidden: the VM's topology is in 0xB"},
    {0x8000001f, CPUID_AMD, CPUID_LEAF_ZERO, "no memory encryption (SME/SEV) for guests"},
    {0x80000020, CPUID_AMD, CPUID_LEAF_ZERO, "platform QoS MSRs are not emulated"},
    {0x80000021, CPUID_AMD, CPUID_LEAF_FEATURES, "hardware facts only"},
};
const unsigned cpuid_leaf_rule_count = COUNT(cpuid_leaf_rules);

const struct cpuid_leaf_rule *cpuid_table_leaf(uint32_t leaf)
{
	for (unsigned i = 0; i < cpuid_leaf_rule_count; i++)
		if (cpuid_leaf_rules[i].leaf == leaf)
			return &cpuid_leaf_rules[i];
	return NULL;
}

/*
 * One feature word's mask for a vendor and set of conditions, remembered:
 * they are the same for every exit on a host, and walking the bit rows
 * each time made a CPUID exit cost a thousand instructions more. Key and
 * mask share one 64-bit word, written and read whole, so cores racing on
 * it see either a complete entry or none. Bit 63 marks it valid.
 */
static uint64_t word_cache[COUNT(cpuid_feature_words)];

static uint32_t word_mask(unsigned i, enum cpuid_vendor vendor, unsigned have)
{
	uint64_t key = (1ull << 63) | ((uint64_t)vendor << 48) | ((uint64_t)(have & 0xffff) << 32);
	uint64_t e = __atomic_load_n(&word_cache[i], __ATOMIC_RELAXED);
	if ((e & ~0xffffffffull) == key && have <= 0xffff)
		return (uint32_t)e;
	const struct cpuid_feature_word *w = &cpuid_feature_words[i];
	uint32_t mask = 0;
	for (unsigned b = 0; b < w->count; b++)
		if (!(w->bits[b].needs & ~have))
			mask |= 1u << w->bits[b].bit;
	__atomic_store_n(&word_cache[i], key | mask, __ATOMIC_RELAXED);
	return mask;
}

uint32_t cpuid_table_allowed(uint32_t leaf, uint32_t sub, enum cpuid_reg reg,
			     enum cpuid_vendor vendor, unsigned have)
{
	uint32_t mask = 0;
	for (unsigned i = 0; i < cpuid_feature_word_count; i++) {
		const struct cpuid_feature_word *w = &cpuid_feature_words[i];
		if (w->leaf != leaf || w->sub != sub || w->reg != reg ||
		    !(w->vendors & (1u << vendor)))
			continue;
		mask |= word_mask(i, vendor, have);
	}
	return mask;
}

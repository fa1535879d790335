/*
 * The VMCB, AMD APM Vol. 2 appendix B: a control area at offset 0 and the
 * guest state save area at 0x400, in one 4 KiB page. Offsets, not a struct,
 * because the layout is sparse and the accessors read like the manual.
 */
#ifndef HV_SVM_VMCB_H
#define HV_SVM_VMCB_H

#include <stdint.h>

/* control area (Table B-1) */
#define VMCB_INTERCEPT_CR 0x000
#define VMCB_INTERCEPT_DR 0x004
#define VMCB_INTERCEPT_EXC 0x008
#define VMCB_INTERCEPT_MISC1 0x00c
#define VMCB_INTERCEPT_MISC2 0x010
/* 15:0 the pause filter threshold, 31:16 the pause filter count (APM Vol. 2 §15.14.4) */
#define VMCB_PAUSE_FILTER 0x03c
#define VMCB_IOPM_BASE 0x040
#define VMCB_MSRPM_BASE 0x048
#define VMCB_TSC_OFFSET 0x050
#define VMCB_ASID 0x058
#define VMCB_TLB_CONTROL 0x05c
#define VMCB_VINTR 0x060
#define VMCB_INT_SHADOW 0x068
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_CONTROL 0x090
#define VMCB_EVENTINJ 0x0a8
#define VMCB_N_CR3 0x0b0
#define VMCB_CLEAN_BITS 0x0c0
#define VMCB_CLEAN_ALL 0xfffu /* bits 0-11: every cached field unchanged (APM Vol. 2 Table 15-9) */
#define VMCB_NEXT_RIP 0x0c8

/* save area (Table B-2) */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_FS 0x440
#define VMCB_GS 0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR 0x490
#define VMCB_CPL 0x4cb
#define VMCB_EFER 0x4d0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5d8
#define VMCB_RAX 0x5f8
#define VMCB_CR2 0x640
#define VMCB_G_PAT 0x668

/* segment register layout inside the save area */
#define VMCB_SEG_SELECTOR 0
#define VMCB_SEG_ATTRIB 2
#define VMCB_SEG_LIMIT 4
#define VMCB_SEG_BASE 8

/* MISC1 intercept bits */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_SMI (1u << 2)
#define INTERCEPT_VINTR (1u << 4)
#define INTERCEPT_RDPMC (1u << 15)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_IRET (1u << 20)
#define INTERCEPT_PAUSE (1u << 23)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
/* MISC2 intercept bits */
#define INTERCEPT_VMRUN (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)
#define INTERCEPT_XSETBV (1u << 13)

/* exit codes (appendix C) */
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_DB (SVM_EXIT_EXCP_BASE + 1)
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_IRET 0x074
#define SVM_EXIT_PAUSE 0x077
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffffffffffull

/* EVENTINJ (APM Vol. 2 §15.20) */
#define EVENTINJ_VALID (1u << 31)
#define EVENTINJ_ERROR_VALID (1u << 11)
#define EVENTINJ_TYPE_INTR (0u << 8)
#define EVENTINJ_TYPE_NMI (2u << 8)
#define EVENTINJ_TYPE_EXCEPTION (3u << 8)
#define EVENTINJ_TYPE_MASK (7u << 8)

#define MSR_VM_HSAVE_PA 0xc0010117

static inline uint64_t vmcb_read64(const uint8_t *vmcb, unsigned off)
{
	return *(const volatile uint64_t *)(vmcb + off);
}

static inline void vmcb_write64(uint8_t *vmcb, unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(vmcb + off) = v;
}

static inline uint32_t vmcb_read32(const uint8_t *vmcb, unsigned off)
{
	return *(const volatile uint32_t *)(vmcb + off);
}

static inline void vmcb_write32(uint8_t *vmcb, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(vmcb + off) = v;
}

#endif

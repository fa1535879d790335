/*
 * A virtual machine-check architecture: the MSRs a guest may touch once
 * CPUID says MCE and MCA (leaf 1 EDX bits 7 and 14), answering like a CPU
 * whose banks never saw an error.
 *
 * The layout is the one Intel and AMD share ("legacy" MCA: SDM Vol. 3B
 * §16.3, APM Vol. 2 §9.3): IA32_MCG_CAP with VMCA_BANKS banks and MCG_CTL
 * present, IA32_MCG_STATUS, IA32_MCG_CTL, and four MSRs per bank from 0x400
 * (MCi_CTL, MCi_STATUS, MCi_ADDR, MCi_MISC). No CMCI, no LMCE, no extended
 * state registers, no software error recovery, and on AMD no scalable MCA
 * (the CPUID policy hides SMCA and SUCCOR), so neither MCi_CTL2 nor
 * MCA_CONFIG exist and they raise #GP like any unknown MSR.
 *
 * Write rules (SDM Vol. 3B §16.3.1-16.3.2, APM Vol. 2 §9.3.1):
 *  - MCG_CAP is read-only: a write is #GP.
 *  - MCG_STATUS: RIPV, EIPV and MCIP are writable; reserved bits are #GP.
 *  - MCG_CTL: all 0s or all 1s.
 *  - MCi_STATUS: software may only write zeros; anything else is #GP,
 *    unless on AMD HWCR.McStatusWrEn (bit 18) is set (APM §9.3.1.4), which
 *    lets error-injection software plant a value.
 *  - MCi_CTL, MCi_ADDR and MCi_MISC take any value and read it back.
 * Pure logic: it compiles and is tested on the host.
 */
#ifndef HV_VM_VMCA_H
#define HV_VM_VMCA_H

#include <stdbool.h>
#include <stdint.h>

#define VMCA_BANKS 10 /* as many as QEMU's default model, enough for Linux */

#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MC0_CTL 0x400

#define MCG_CTL_P (1ull << 8)
#define MCG_STATUS_WRITABLE 0x7ull /* RIPV, EIPV, MCIP */

struct vmca {
	uint64_t mcg_status;
	uint64_t mcg_ctl;
	uint64_t bank[VMCA_BANKS][4]; /* CTL, STATUS, ADDR, MISC */
};

/* Power-on state: every register zero (SDM Vol. 3B §16.3: reset clears them). */
void vmca_reset(struct vmca *m);
/* Whether `msr` is one of the model's registers. */
bool vmca_owns(uint32_t msr);
/* 0, or -1 for #GP. `status_writable`: AMD HWCR.McStatusWrEn is set. */
int vmca_read(const struct vmca *m, uint32_t msr, uint64_t *value);
int vmca_write(struct vmca *m, uint32_t msr, uint64_t value, bool status_writable);

#endif

/*
 * The MSRs a guest may use, and how each behaves: those every CPU of the
 * advertised vendor has read and write like a real CPU's (or a consistent
 * virtual one's); anything else is #GP, as on a CPU without that MSR.
 */
#ifndef HV_VM_MSR_POLICY_H
#define HV_VM_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/*
 * MSRs the guest owns outright, never intercepted: state the backends switch
 * on entry and exit (FS/GS bases, the SYSENTER MSRs: VMCB/VMCS guest areas,
 * VMLOAD/VMSAVE) or that the host never uses (KernelGSBase, the SYSCALL MSRs).
 */
extern const uint32_t msr_guest_owned[];
extern const unsigned msr_guest_owned_count;

/*
 * Of those, the ones holding a linear address: a non-canonical value is #GP
 * (SDM Vol. 4 Table 2-2; APM Vol. 2 §4.5.3). Hardware checks this itself,
 * but an emulated CPU under the hypervisor may not (QEMU TCG takes any
 * value), so reads pass through and writes exit to msr_write, which checks
 * and then hands the value to the backend (hvm->set_owned_msr).
 */
bool msr_write_checked(uint32_t msr);

void msr_policy_reset(struct vcpu *v);
/* Puts the vCPU's MSR state that no VMCB/VMCS switches into the core (TSC_AUX). */
void msr_load_guest_state(struct vcpu *v);
bool msr_tsc_aux_supported(void);
/* 0, or -1 when the guest must get #GP(0). */
int msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int msr_write(struct vcpu *v, uint32_t msr, uint64_t value);

#endif

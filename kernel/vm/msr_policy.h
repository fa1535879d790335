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

void msr_policy_reset(struct vcpu *v);
/* Puts the vCPU's MSR state that no VMCB/VMCS switches into the core (TSC_AUX). */
void msr_load_guest_state(struct vcpu *v);
bool msr_tsc_aux_supported(void);
/* 0, or -1 when the guest must get #GP(0). */
int msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int msr_write(struct vcpu *v, uint32_t msr, uint64_t value);

#endif

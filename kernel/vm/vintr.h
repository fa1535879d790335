/*
 * Delivering virtual interrupts to a vCPU: NMIs first (kernel/vm/vnmi.h),
 * one pending external vector, a one-shot virtual timer, injection when the
 * guest can take it (otherwise an interrupt-window exit is requested), and
 * HLT blocking until something is pending. The interrupt controllers (vPIC, vIOAPIC, vLAPIC) will feed it.
 */
#ifndef HV_VM_VINTR_H
#define HV_VM_VINTR_H

#include <stdint.h>

#include "kernel/vm/vm.h"

void vintr_reset(struct vcpu *v);
/* Queues vector (32..255) for v; a second raise before delivery merges. */
void vintr_raise(struct vcpu *v, uint8_t vector);
/* Raises vector after us microseconds (one shot; re-arming replaces it). */
void vintr_arm_timer(struct vcpu *v, uint8_t vector, uint64_t us);
/*
 * Before each entry: inject what is pending, or ask for an interrupt window.
 * Returns the host TSC at which the vCPU's next virtual timer is due
 * (UINT64_MAX: none), for the core's timer.
 */
uint64_t vintr_before_entry(struct vcpu *v);
/* After each exit, on the vCPU's core: the backend's NMI blocking into the latch. */
void vintr_after_exit(struct vcpu *v);
/* Would an NMI be taken now (one pending, NMIs not blocked)? Wakes a HLT, even with IF=0. */
bool vintr_nmi_wakes(struct vcpu *v);
/*
 * A vCPU out in HLT with IF=0 (hlt_nmi_only) runs again if an NMI is
 * deliverable (true; waiting_sipi cleared). Runs the chips' timers; else
 * *wake_at is the host TSC at which to look again (UINT64_MAX: a kick will).
 */
bool vintr_nmi_wake_hlt(struct vcpu *v, uint64_t *wake_at);
/*
 * For a vCPU in HLT: true if an interrupt or a deliverable NMI is pending
 * for it (runs the
 * chips' timers first); else *wake_at is the host TSC of its next timer.
 */
bool vintr_wake_check(struct vcpu *v, uint64_t *wake_at);

#endif

/*
 * KVM's paravirtual EOI (Linux's Documentation/virt/kvm/x86/msr.rst,
 * MSR_KVM_PV_EOI_EN; KVM_FEATURE_PV_EOI in CPUID 0x40000101): the guest
 * names a 4-byte word of its RAM; when the hypervisor sets bit 0 there, the
 * guest may signal its next EOI by clearing the bit (one test-and-clear
 * instruction) instead of writing the local APIC's EOI register, an exit.
 * Linux uses it for every interrupt it acknowledges while the bit is set:
 * about one exit less per timer tick.
 *
 * Why it is exact: an EOI retires the highest in-service vector, whoever
 * issues it, so doing it at the vCPU's next exit instead of at the guest's
 * write changes nothing the guest or the platform can see as long as
 *  - the vector is edge-triggered (a level one's EOI goes to the IOAPIC),
 *  - nothing waits in IRR (the EOI could let it through: it must exit now),
 *  - and every exit looks at the word before anything reads ISR or PPR.
 * The bit is set (armed) at an entry that injected an interrupt, when those
 * hold (vlapic_pv_eoi_ok). An interrupt that arrives for the vCPU while the
 * guest runs makes it exit (the delivery kicks its core); every exit that
 * reaches the vCPU loop disarms (pveoi_after_exit: the EOI done if the guest
 * cleared the bit, else the bit cleared so the guest writes its EOI). The
 * exit fast path, which enters again without the loop, leaves the flag
 * alone: its CPUID and port I/O read no ISR, it enters again only while
 * nothing was delivered (the platform's generation word), and its x2APIC
 * EOI is refused while armed. INIT and reset turn it off, as on KVM.
 */
#ifndef HV_VM_PVEOI_H
#define HV_VM_PVEOI_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_KVM_PV_EOI_EN 0x4b564d04u
#define PVEOI_ENABLED 1ull
#define PVEOI_BIT 1u /* bit 0 of the guest's word */

struct vcpu;

/* A vCPU's PV EOI state (in struct vcpu_msrs: a reset clears it with the MSRs). */
struct pveoi {
	uint64_t msr;		      /* MSR_KVM_PV_EOI_EN as the guest wrote it */
	volatile uint32_t *word;      /* the guest's word, mapped; NULL while off */
	bool armed;		      /* its bit was set by us and the EOI not yet done */
};

/* MSR_KVM_PV_EOI_EN: 1 handled, -1 #GP (bit 1 set, or the word not in RAM), 0 not this MSR. */
int pveoi_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int pveoi_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);

/* Off, as after INIT: the word's bit cleared if we had set it. */
void pveoi_reset(struct vcpu *v);

/* Every exit back in the vCPU loop, before anything reads the local APIC: disarm. */
void pveoi_after_exit(struct vcpu *v);

/* An entry that injected an interrupt: arm when the guest's next EOI may be left to the word. */
void pveoi_before_entry(struct vcpu *v);

#endif

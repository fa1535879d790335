/*
 * KVM's paravirtual scheduling features, the ones Linux uses when its vCPUs
 * share cores with others (overcommit): Linux's
 * Documentation/virt/kvm/x86/cpuid.rst, msr.rst and hypercalls.rst.
 *
 *  - Steal time (KVM_FEATURE_STEAL_TIME, MSR_KVM_STEAL_TIME): a 64-byte
 *    record per vCPU in guest RAM with the time the vCPU wanted to run but
 *    waited for a core (the scheduler's steal_ticks, in ns), and a
 *    `preempted` byte set while it is off its core runnable. Linux's
 *    vcpu_is_preempted() reads it: a lock waiter stops spinning on a
 *    preempted holder, and the scheduler's and RCU's choices avoid such
 *    CPUs.
 *  - PV TLB flush (KVM_FEATURE_PV_TLB_FLUSH): instead of an IPI to a
 *    preempted vCPU (which would wait for it to run), the guest sets
 *    KVM_VCPU_FLUSH_TLB in that vCPU's `preempted` byte; the hypervisor
 *    flushes the vCPU's guest TLB before it runs again.
 *  - PV sched yield (KVM_FEATURE_PV_SCHED_YIELD, KVM_HC_SCHED_YIELD): a
 *    vCPU that sent a call-function IPI to a preempted vCPU names it; that
 *    vCPU gets its core next (a directed yield), so the sender's wait ends
 *    sooner.
 *  - PV unhalt (KVM_FEATURE_PV_UNHALT, KVM_HC_KICK_CPU): Linux's
 *    paravirtual queued spinlocks; a waiter halts (interrupts possibly off)
 *    instead of spinning, and the unlocker kicks it awake by APIC ID.
 *
 * Each is offered in CPUID 0x40000101 (pvclock.h's leaf) only because it is
 * implemented here in full. Hypercalls are VMCALL/VMMCALL from CPL 0 (from
 * anywhere else: -KVM_EPERM, as KVM): number in RAX, arguments in RBX, RCX,
 * RDX, RSI, result in RAX. A target APIC ID that names no vCPU of the VM
 * is refused with -KVM_EINVAL and changes nothing.
 *
 * The record's layout and the arithmetic are pure (pvsched_calc.c,
 * unit-tested); pvsched.c ties them to vCPUs and the scheduler.
 */
#ifndef HV_VM_PVSCHED_H
#define HV_VM_PVSCHED_H

#include <stdbool.h>
#include <stdint.h>

#define KVM_FEATURE_STEAL_TIME (1u << 5)
#define KVM_FEATURE_PV_UNHALT (1u << 7)
#define KVM_FEATURE_PV_TLB_FLUSH (1u << 9)
#define KVM_FEATURE_PV_SCHED_YIELD (1u << 13)
#define PVSCHED_FEATURES                                                                          \
	(KVM_FEATURE_STEAL_TIME | KVM_FEATURE_PV_UNHALT | KVM_FEATURE_PV_TLB_FLUSH |               \
	 KVM_FEATURE_PV_SCHED_YIELD)

#define MSR_KVM_STEAL_TIME 0x4b564d03u
#define PV_STEAL_ENABLE 1ull
#define PV_STEAL_RESERVED 0x3eull /* bits 5:1; the record is 64-byte aligned */

/* struct kvm_steal_time: 64 bytes */
struct pv_steal_time {
	uint64_t steal;	  /* ns the vCPU was runnable but not running */
	uint32_t version; /* odd while the hypervisor writes */
	uint32_t flags;
	uint8_t preempted; /* PV_VCPU_* */
	uint8_t pad8[3];
	uint32_t pad[11];
};
#define PV_VCPU_PREEMPTED (1u << 0)
#define PV_VCPU_FLUSH_TLB (1u << 1)

#define KVM_HC_KICK_CPU 5     /* RBX flags (0), RCX APIC ID: wake that vCPU from a PV halt */
#define KVM_HC_SCHED_YIELD 11 /* RBX APIC ID: let that (preempted) vCPU run */
#define KVM_EPERM 1
#define KVM_EINVAL 22

/* ---- pure (pvsched_calc.c) ---- */

/* A value for MSR_KVM_STEAL_TIME: false when reserved bits are set (#GP). */
bool pvsched_steal_msr_ok(uint64_t value);
/* TSC ticks to ns at tsc_khz (> 0), exact and without overflow for any ticks < 2^64. */
uint64_t pvsched_ticks_to_ns(uint64_t ticks, uint64_t tsc_khz);
/* Writes steal ns into the record under its version protocol (odd, value, even). */
void pvsched_steal_publish(volatile struct pv_steal_time *st, uint64_t steal_ns);
/* The vCPU runs again: `preempted` cleared; true when the guest asked for a TLB flush. */
bool pvsched_take_preempted(volatile struct pv_steal_time *st);
/* A hypercall's target APIC ID to a vCPU index of a VM with nvcpus, or -1 (no such vCPU). */
int pvsched_apic_target(uint64_t apic_id, unsigned nvcpus);

/* ---- a vCPU's state (in struct vcpu_msrs: a reset clears it) ---- */

struct pvsched {
	uint64_t steal_msr;			/* as the guest wrote it */
	volatile struct pv_steal_time *st;	/* the record, mapped; NULL while off */
	/* what the guest made of it, for the VM's report (pvsched_report) */
	uint64_t kicks, yields, flushes;	/* hypercalls it made; TLB flushes it asked for */
};

struct vcpu;

/*
 * Off unless the hypervisor option pvsched=1 is given: then offered in
 * CPUID; otherwise the MSR is unknown (#GP) and the hypercalls answer
 * -KVM_ENOSYS, as on a host without them. Opt-in because under QEMU TCG on
 * a loaded 2-core machine a 4-vCPU boot measured no faster with them (and
 * the generic kernel's perhaps slower: README, issue 18).
 */
extern bool pvsched_offered;
void pvsched_init(const char *cmdline);

/* MSR_KVM_STEAL_TIME: 1 handled, -1 #GP (reserved bits, or the record not in RAM), 0 not it. */
int pvsched_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int pvsched_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* INIT or reset: steal time off (the guest registers it again when it brings the CPU up). */
void pvsched_reset(struct vcpu *v);

/*
 * The scheduler's two moments (kernel/sched/sched.c, on the vCPU's core):
 * it goes onto the core (its steal time published, `preempted` cleared, a
 * TLB flush the guest asked for done at the next entry), and it leaves
 * (`preempted` set when it leaves runnable, not when it blocks in HLT).
 */
void pvsched_vcpu_in(struct vcpu *v);
void pvsched_vcpu_out(struct vcpu *v, bool runnable);

/*
 * The KVM hypercalls above. True when nr is one of them: *ret is the
 * guest's RAX. `pv_kicked` in struct vcpu is the PV unhalt latch.
 */
bool pvsched_hypercall(struct vcpu *v, uint64_t nr, uint64_t *ret);

struct vm;
/*
 * The VM's report line, at its stop: "vm NAME pv: steal time on N of M
 * vCPUs, kicks K, directed yields Y, TLB flushes on entry F".
 */
void pvsched_report(const struct vm *vm);

#endif

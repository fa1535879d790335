/*
 * KVM's paravirtual clock, the ABI Linux reads as "kvm-clock" (Linux's
 * Documentation/virt/kvm/x86/msr.rst and cpuid.rst; Xen's vcpu_time_info has
 * the same layout): a per-vCPU page the guest names by MSR, holding a
 * (TSC, nanoseconds) pair and the TSC-to-nanoseconds scale, and a wall
 * clock at guest time 0. With it Linux takes its TSC frequency from the
 * scale (kvm_get_tsc_khz) instead of calibrating it against PIT channel 2,
 * some 16,000 exits of a boot.
 *
 * What this hypervisor offers behind the KVM signature (CPUID 0x40000100,
 * beside its own at 0x40000000, as KVM under Hyper-V does) is only what it
 * backs fully: CLOCKSOURCE2 (these MSRs), CLOCKSOURCE_STABLE_BIT,
 * NOP_IO_DELAY, PV_EOI (kernel/vm/pveoi.h) and the overcommit features of
 * kernel/vm/pvsched.h (steal time, PV TLB flush, PV sched yield, PV
 * unhalt). Stable: every vCPU's guest TSC is the host's TSC plus its
 * offset, and the host's TSC is constant-rate and the same on every core
 * (the platform's clocks, vplatform_now, rest on that too); each page is
 * written so that its system time is the VM's time since power-on whatever
 * the vCPU's offset, so all vCPUs read one clock. No I/O delay needed: no
 * device model here has timing a delay could satisfy. The TSC frequency the
 * guest computes from the scale is exactly the hypervisor's tsc_khz
 * (pvclock_scale picks one for which Linux's division comes out exact).
 *
 * The layout and arithmetic are pure (unit-tested); pvclock_* with a vCPU
 * write guest memory.
 */
#ifndef HV_VM_PVCLOCK_H
#define HV_VM_PVCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/vm/pvsched.h"

#define KVM_CPUID_BASE 0x40000100u
#define KVM_CPUID_SIGNATURE "KVMKVMKVM\0\0\0"
#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_PV_EOI (1u << 6) /* kernel/vm/pveoi.h */
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)
#define KVM_FEATURES_OFFERED                                                                      \
	(KVM_FEATURE_NOP_IO_DELAY | KVM_FEATURE_CLOCKSOURCE2 | KVM_FEATURE_PV_EOI |                \
	 KVM_FEATURE_CLOCKSOURCE_STABLE_BIT | PVSCHED_FEATURES)

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

#define PVCLOCK_TSC_STABLE_BIT (1u << 0)

/* struct pvclock_vcpu_time_info, 32 bytes */
struct pvclock_time_info {
	uint32_t version; /* odd while being written */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time; /* ns at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
};

/* struct pvclock_wall_clock, 12 bytes: the wall-clock time at system time 0 */
struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
};

/*
 * ns = ((tsc delta << shift, or >> -shift) * mul) >> 32. Picks mul and a
 * shift >= 0 for tsc_khz (> 0) such that pvclock_khz gives tsc_khz back.
 */
void pvclock_scale(uint32_t tsc_khz, uint32_t *mul, int8_t *shift);
/* The guest's reading of the scale: Linux's pvclock_tsc_khz. */
uint64_t pvclock_khz(uint32_t mul, int8_t shift);
/* The guest's reading of the clock: ns at guest TSC `tsc` (Linux's pvclock_clocksource_read). */
uint64_t pvclock_read_ns(const struct pvclock_time_info *t, uint64_t tsc);

struct vcpu;

/* CPUID leaves KVM_CPUID_BASE..+0xff; false for any other leaf. */
bool pvclock_cpuid(uint32_t leaf, uint32_t out[4]);
/* The KVM MSRs: 1 handled, 0 not one of them (never #GP for these two). */
int pvclock_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value);
int pvclock_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* The vCPU's TSC offset changed: its page again, if it has one. */
void pvclock_tsc_moved(struct vcpu *v);

#endif

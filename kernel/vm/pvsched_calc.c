/* The pure part of KVM's paravirtual scheduling features (pvsched.h). */
#include "kernel/vm/pvsched.h"

_Static_assert(sizeof(struct pv_steal_time) == 64, "struct kvm_steal_time is 64 bytes");
_Static_assert(__builtin_offsetof(struct pv_steal_time, preempted) == 16, "preempted at 16");

bool pvsched_steal_msr_ok(uint64_t value)
{
	return !(value & PV_STEAL_RESERVED);
}

uint64_t pvsched_ticks_to_ns(uint64_t ticks, uint64_t tsc_khz)
{
	/* in two parts: ticks * 1e6 passes 2^64 after about 2.5 hours at 2 GHz */
	return ticks / tsc_khz * 1000000 + ticks % tsc_khz * 1000000 / tsc_khz;
}

void pvsched_steal_publish(volatile struct pv_steal_time *st, uint64_t steal_ns)
{
	/* odd while writing: a reader on another vCPU retries instead of taking a torn value */
	uint32_t version = (st->version + 1) | 1;
	st->version = version;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st->steal = steal_ns;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	st->version = version + 1;
}

bool pvsched_take_preempted(volatile struct pv_steal_time *st)
{
	/* one exchange: a guest's cmpxchg that adds FLUSH_TLB lands either before (seen) or fails */
	uint8_t old = __atomic_exchange_n(&st->preempted, 0, __ATOMIC_SEQ_CST);
	return (old & PV_VCPU_FLUSH_TLB) != 0;
}

int pvsched_apic_target(uint64_t apic_id, unsigned nvcpus)
{
	/* a vCPU's APIC ID is its index (kernel/vm/vplatform.c) */
	return apic_id < nvcpus ? (int)apic_id : -1;
}

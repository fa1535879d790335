/*
 * The exit fast path's per-exit steps (kernel/vm/fastpath.h), inline in the
 * backends: they run on every fast round trip.
 */
#ifndef HV_VM_FASTPATH_INLINE_H
#define HV_VM_FASTPATH_INLINE_H

#include "include/x86.h"
#include "kernel/cpu/deferred.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vplatform.h"

static inline unsigned fastpath_cpuid_slot(uint32_t leaf, uint32_t sub)
{
	/* basic, hypervisor and extended leaves apart, sub-leaves of one leaf apart */
	return (leaf + (leaf >> 28) * 5 + sub * 3) % FASTPATH_CPUID_SLOTS;
}

static inline bool fastpath_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t leaf = (uint32_t)v->regs.gpr[X86_RAX], sub = (uint32_t)v->regs.gpr[X86_RCX];
	const struct fastpath_cpuid *c = &v->fast.cpuid[fastpath_cpuid_slot(leaf, sub)];
	if (!c->valid || c->leaf != leaf || c->sub != sub)
		return false;
	v->regs.gpr[X86_RAX] = c->r[0];
	v->regs.gpr[X86_RBX] = c->r[1];
	v->regs.gpr[X86_RCX] = c->r[2];
	v->regs.gpr[X86_RDX] = c->r[3];
	v->regs.rip += e->insn_len;
	return true;
}

/*
 * WRMSR (e->msr.index) of EDX:EAX to state the platform lets it finish
 * lock-free. Not with KVM's PV EOI flag armed (kernel/vm/pveoi.h): the
 * x2APIC EOI reads ISR, so the loop looks at the flag first.
 */
static inline bool fastpath_msr_write(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val = (uint32_t)v->regs.gpr[X86_RAX] | v->regs.gpr[X86_RDX] << 32;
	if (v->msrs.pv_eoi.armed || !vplatform_fast_msr_write(v, e->msr.index, val))
		return false;
	v->regs.rip += e->insn_len;
	return true;
}

/*
 * Right after an exit, with v->regs current (the backend read RAX, RSP,
 * RIP and RFLAGS) and e's reason, instruction length and the reason's own
 * fields filled. True: handled (counted, RIP moved past the instruction);
 * the backend then clears the interrupt shadow as skipping an instruction
 * does, and enters again if fastpath_may_reenter, else returns EXIT_NONE
 * for the loop to go round without a dispatch.
 */
static inline bool fastpath_handle(struct vcpu *v, struct vm_exit *e)
{
	bool done = e->reason == EXIT_CPUID	 ? fastpath_cpuid(v, e)
		    : e->reason == EXIT_MSR_WRITE ? fastpath_msr_write(v, e)
						  : fastpath_io(v, e);
	if (done) {
		v->exits[e->reason]++;
		v->exits_total++;
	}
	return done;
}

static inline bool fastpath_may_reenter(struct vcpu *v)
{
	const struct vcpu_fast *f = &v->fast;
	if (!f->quiet || *f->look || (f->gen && *f->gen != f->gen_seen))
		return false;
	if (__atomic_load_n(&v->vm->state, __ATOMIC_ACQUIRE) != VM_RUNNING || v->move_to >= 0)
		return false;
	/* a passed-through BAR moved: the backend's entry path flushes the TLB first */
	if (__atomic_load_n(&v->vm->nested_gen, __ATOMIC_ACQUIRE) != v->nested_seen)
		return false;
	/*
	 * (Not pending_irq: only this vCPU's own hypercall and virtual timer
	 * raise it, both in the loop.) A kick's IPI may have been taken in
	 * the host while the handler ran, so what a kick announces is looked
	 * at here: the VM's state, a move, the core's look flag above.
	 */
	if (__atomic_load_n(&v->vm->io_poll_due, __ATOMIC_RELAXED) || deferred_raised())
		return false;
	return rdtsc() < f->until; /* the host timer is armed for then */
}


#endif

/* KVM's paravirtual scheduling features (pvsched.h): the MSR, the scheduler's hooks, hypercalls. */
#include "kernel/vm/pvsched.h"

#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/log.h"
#include "kernel/sched/sched.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vm.h"

bool pvsched_offered;

void pvsched_init(const char *cmdline)
{
	uint64_t on;
	if (cmdline_get_u64(cmdline, "pvsched", &on) && on) {
		pvsched_offered = true;
		printk("hv: pvsched=1: steal time, PV TLB flush, PV sched yield and PV unhalt offered\n");
	}
	/* the other overcommit knob: PAUSE exits on a shared core without a pause filter (svm.c) */
	if (cmdline_get_u64(cmdline, "spinexit", &on) && on)
		hvm_spin_exits_wanted = true;
}

int pvsched_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	if (msr != MSR_KVM_STEAL_TIME || !pvsched_offered)
		return 0;
	*value = v->msrs.pvsched.steal_msr;
	return 1;
}

int pvsched_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (msr != MSR_KVM_STEAL_TIME || !pvsched_offered)
		return 0;
	if (!pvsched_steal_msr_ok(value))
		return -1;
	volatile struct pv_steal_time *st = NULL;
	if (value & PV_STEAL_ENABLE) {
		uint64_t hpa;
		/* 64-byte aligned: the record lies within one page, so within one chunk of RAM */
		if (!gpa_to_hpa(&v->vm->map, value & ~63ull, &hpa))
			return -1; /* not RAM (KVM: #GP) */
		st = v->vm->map.phys_to_virt(hpa);
	}
	v->msrs.pvsched.steal_msr = value;
	v->msrs.pvsched.st = st;
	if (st) {
		/* what the guest sees at once: the time stolen so far, not preempted (it runs) */
		st->preempted = 0;
		pvsched_steal_publish(st, pvsched_ticks_to_ns(v->se.steal_ticks, tsc_khz()));
	}
	return 1;
}

void pvsched_reset(struct vcpu *v)
{
	v->msrs.pvsched = (struct pvsched){0};
	__atomic_store_n(&v->pv_kicked, false, __ATOMIC_RELEASE);
}

void pvsched_vcpu_in(struct vcpu *v)
{
	volatile struct pv_steal_time *st = v->msrs.pvsched.st;
	if (!st)
		return;
	if (pvsched_take_preempted(st)) {
		/*
		 * The guest skipped a TLB-flush IPI to this vCPU while it was off
		 * its core: its next entry starts with a clean TLB (both backends
		 * flush the guest's translations when nested_seen differs from
		 * the VM's generation).
		 */
		v->nested_seen = __atomic_load_n(&v->vm->nested_gen, __ATOMIC_ACQUIRE) - 1;
		v->msrs.pvsched.flushes++;
	}
	pvsched_steal_publish(st, pvsched_ticks_to_ns(v->se.steal_ticks, tsc_khz()));
}

void pvsched_vcpu_out(struct vcpu *v, bool runnable)
{
	volatile struct pv_steal_time *st = v->msrs.pvsched.st;
	if (st && runnable)
		__atomic_fetch_or(&st->preempted, PV_VCPU_PREEMPTED, __ATOMIC_SEQ_CST);
}

/* The target of a hypercall, by APIC ID, or NULL: hostile IDs name nothing. */
static struct vcpu *target_of(struct vcpu *v, uint64_t apic_id)
{
	int i = pvsched_apic_target(apic_id, v->vm->nvcpus);
	return i < 0 ? NULL : v->vm->vcpus[i];
}

bool pvsched_hypercall(struct vcpu *v, uint64_t nr, uint64_t *ret)
{
	if ((nr != KVM_HC_KICK_CPU && nr != KVM_HC_SCHED_YIELD) || !pvsched_offered)
		return false;
	struct vcpu_control_state cs;
	hvm->vcpu_get_control(v, &cs);
	if (cs.cpl != 0) {
		*ret = (uint64_t)-KVM_EPERM; /* the guest's kernel only, as KVM */
		return true;
	}
	bool wide = (cs.efer & (1ull << 10)) && cs.cs_long; /* 64-bit mode: else 32-bit arguments */
	uint64_t a0 = v->regs.gpr[X86_RBX], a1 = v->regs.gpr[X86_RCX];
	if (!wide)
		a0 = (uint32_t)a0, a1 = (uint32_t)a1;
	struct vcpu *t = target_of(v, nr == KVM_HC_KICK_CPU ? a1 : a0);
	if (!t) {
		*ret = (uint64_t)-KVM_EINVAL;
		return true;
	}
	if (nr == KVM_HC_KICK_CPU) {
		/* a latch: a kick that comes before the HLT it is meant for is not lost */
		__atomic_store_n(&t->pv_kicked, true, __ATOMIC_RELEASE);
		sched_kick(t);
		v->msrs.pvsched.kicks++;
	} else if (t != v) {
		sched_vcpu_yield_to(v, t);
		v->msrs.pvsched.yields++;
	}
	*ret = 0;
	return true;
}

void pvsched_report(const struct vm *vm)
{
	if (!pvsched_offered)
		return;
	unsigned on = 0;
	uint64_t kicks = 0, yields = 0, flushes = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct pvsched *p = &vm->vcpus[i]->msrs.pvsched;
		on += p->st != NULL;
		kicks += p->kicks;
		yields += p->yields;
		flushes += p->flushes;
	}
	printk("vm %s pv: steal time on %u of %u vCPUs, kicks %llu, directed yields %llu, "
	       "TLB flushes on entry %llu\n", vm->name, on, vm->nvcpus, (unsigned long long)kicks,
	       (unsigned long long)yields, (unsigned long long)flushes);
}

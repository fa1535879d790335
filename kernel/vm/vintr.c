#include "kernel/vm/vintr.h"

#include "include/x86.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vplatform.h"

void vintr_reset(struct vcpu *v)
{
	v->pending_irq = -1;
	v->timer_deadline = 0;
}

void vintr_raise(struct vcpu *v, uint8_t vector)
{
	__atomic_store_n(&v->pending_irq, vector, __ATOMIC_RELEASE);
}

void vintr_arm_timer(struct vcpu *v, uint8_t vector, uint64_t us)
{
	v->timer_vector = vector;
	v->timer_deadline = rdtsc() + us * tsc_khz() / 1000 + 1;
}

static void check_timer(struct vcpu *v)
{
	if (v->timer_deadline && (int64_t)(rdtsc() - v->timer_deadline) >= 0) {
		v->timer_deadline = 0;
		vintr_raise(v, v->timer_vector);
	}
}

uint64_t vintr_before_entry(struct vcpu *v)
{
	vplatform_vcpu_entering(v);
	check_timer(v);
	bool ready = hvm->interrupt_ready(v);
	bool pending;
	int vector = -1;
	uint64_t due = UINT64_MAX;
	int raised = __atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE);

	if (raised >= 0) {
		/* raised by hypercall or the virtual timer: first in line */
		pending = true;
		if (ready) {
			vector = raised;
			__atomic_store_n(&v->pending_irq, -1, __ATOMIC_RELEASE);
		}
	} else {
		/* the interrupt controllers: local APIC, or the 8259 through LINT0 */
		uint64_t deadline;
		vector = vplatform_next_interrupt(v, ready, &pending, &deadline);
		/*
		 * A guest spinning on a timer (Linux's check_timer, calibration loops)
		 * makes no exits of its own: the host timer brings it out when the
		 * next virtual timer is due.
		 */
		if (deadline != UINT64_MAX)
			due = vplatform_ns_to_tsc(v->vm, deadline);
	}
	if (v->timer_deadline && v->timer_deadline < due)
		due = v->timer_deadline;
	if (vector >= 0) {
		hvm->set_interrupt_window(v, false);
		hvm->inject_event(v, EVENT_EXTERNAL_INTR, (uint8_t)vector, false, 0);
		return due;
	}
	hvm->set_interrupt_window(v, pending);
	return due;
}

bool vintr_wake_check(struct vcpu *v, uint64_t *wake_at)
{
	check_timer(v);
	bool chips;
	uint64_t ignored;
	vplatform_next_interrupt(v, false, &chips, &ignored); /* runs the chips' timers */
	if (chips || __atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE) >= 0)
		return true;
	uint64_t at = UINT64_MAX;
	uint64_t chip_deadline = vplatform_next_deadline(v);
	if (chip_deadline != UINT64_MAX)
		at = vplatform_ns_to_tsc(v->vm, chip_deadline);
	if (v->timer_deadline && v->timer_deadline < at)
		at = v->timer_deadline;
	*wake_at = at;
	return false;
}

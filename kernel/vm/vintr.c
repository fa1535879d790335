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

void vintr_before_entry(struct vcpu *v)
{
	check_timer(v);
	bool ready = hvm->interrupt_ready(v);
	bool pending;
	int vector = -1;
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
			timer_oneshot_at(vplatform_ns_to_tsc(v->vm, deadline));
	}
	if (vector >= 0) {
		hvm->set_interrupt_window(v, false);
		hvm->inject_event(v, EVENT_EXTERNAL_INTR, (uint8_t)vector, false, 0);
		return;
	}
	hvm->set_interrupt_window(v, pending);
}

void vintr_wait(struct vcpu *v)
{
	/* a pause, reboot, stop or move to another core ends the wait too */
	while (v->vm->state == VM_RUNNING && v->move_to < 0) {
		/*
		 * Checked with interrupts off, then STI;HLT as one: a kick or timer
		 * tick that lands in between still wakes the HLT.
		 */
		irq_disable();
		check_timer(v);
		bool chips;
		uint64_t ignored;
		vplatform_next_interrupt(v, false, &chips, &ignored); /* runs the chips' timers */
		if (chips || __atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE) >= 0) {
			irq_enable();
			return;
		}
		/* sleep on this core until a timer is due, or a kick */
		uint64_t wait_us = 10000;
		uint64_t chip_deadline = vplatform_next_deadline(v);
		if (chip_deadline != UINT64_MAX) {
			uint64_t now = vplatform_now(v->vm);
			uint64_t us = chip_deadline > now ? (chip_deadline - now) / 1000 + 1 : 1;
			if (us < wait_us)
				wait_us = us;
		}
		if (v->timer_deadline) {
			uint64_t left = v->timer_deadline - rdtsc();
			if ((int64_t)left <= 0) {
				irq_enable();
				continue;
			}
			uint64_t us = left * 1000 / tsc_khz() + 1;
			if (us < wait_us)
				wait_us = us;
		}
		timer_oneshot_us(wait_us);
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

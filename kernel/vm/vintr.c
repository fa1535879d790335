#include "kernel/vm/vintr.h"

#include "include/x86.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"

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
	int vector = __atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE);
	if (vector < 0) {
		hvm->set_interrupt_window(v, false);
		return;
	}
	if (hvm->interrupt_ready(v)) {
		hvm->set_interrupt_window(v, false);
		hvm->inject_event(v, EVENT_EXTERNAL_INTR, (uint8_t)vector, false, 0);
		__atomic_store_n(&v->pending_irq, -1, __ATOMIC_RELEASE);
	} else {
		hvm->set_interrupt_window(v, true);
	}
}

void vintr_wait(struct vcpu *v)
{
	/* a pause, reboot, stop or move to another core ends the wait too */
	while (v->vm->state == VM_RUNNING && v->move_to < 0) {
		check_timer(v);
		if (__atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE) >= 0)
			return;
		/* sleep on this core until the virtual timer is due, or a kick */
		uint64_t wait_us = 10000;
		if (v->timer_deadline) {
			uint64_t left = v->timer_deadline - rdtsc();
			if ((int64_t)left <= 0)
				continue;
			uint64_t us = left * 1000 / tsc_khz() + 1;
			if (us < wait_us)
				wait_us = us;
		}
		timer_oneshot_us(wait_us);
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

#include "kernel/vm/vintr.h"

#include "include/x86.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/pveoi.h"
#include "kernel/vm/vplatform.h"

#define NMI_POLL_US 100 /* a backend without an NMI window: look again this soon */

void vintr_reset(struct vcpu *v)
{
	v->pending_irq = -1;
	v->timer_deadline = 0;
	vnmi_reset(&v->nmi);
	v->nmi_window = false;
	v->hlt_nmi_only = false;
}

/* NMIs that reached the vCPU's local APIC go into its latch. */
static void take_nmis(struct vcpu *v)
{
	unsigned n = vplatform_take_nmis(v);
	if (n)
		vnmi_arrive(&v->nmi, n);
}

void vintr_after_exit(struct vcpu *v)
{
	vnmi_set_blocked(&v->nmi, hvm->nmi_blocked(v));
	pveoi_after_exit(v); /* before the exit's handler or the injection reads ISR */
}

bool vintr_nmi_wakes(struct vcpu *v)
{
	take_nmis(v);
	return vnmi_deliverable(&v->nmi);
}

bool vintr_nmi_wake_hlt(struct vcpu *v, uint64_t *wake_at)
{
	*wake_at = UINT64_MAX;
	if (!v->waiting_sipi || !v->hlt_nmi_only)
		return false;
	/* the chips' timers run on: a PIT line routed as NMI must still fire */
	bool chips;
	uint64_t chips_due;
	vplatform_next_interrupt(v, false, &chips, &chips_due);
	*wake_at = chips_due;
	/* an NMI, or a paravirtual spinlock's kick (pvsched.h) */
	if (!__atomic_exchange_n(&v->pv_kicked, false, __ATOMIC_ACQ_REL) && !vintr_nmi_wakes(v))
		return false;
	v->hlt_nmi_only = false;
	v->waiting_sipi = false;
	return true;
}

/*
 * NMIs go first (SDM Vol. 3A §6.9: above maskable interrupts) and ignore
 * RFLAGS.IF. Returns the host TSC by which to look again (UINT64_MAX: no need).
 */
static uint64_t nmi_before_entry(struct vcpu *v)
{
	take_nmis(v);
	if (!v->nmi.pending && !v->nmi_window)
		return UINT64_MAX; /* the common entry: nothing to inject, no window to close */
	bool ready = v->nmi.pending && hvm->nmi_ready(v);
	enum vnmi_action a = vnmi_before_entry(&v->nmi, ready);
	if (a == VNMI_INJECT)
		hvm->inject_event(v, EVENT_NMI, 2, false, 0);
	/* one more behind the injected one waits for its IRET */
	bool window = v->nmi.pending != 0;
	bool armed = hvm->set_nmi_window(v, window);
	v->nmi_window = window && armed;
	if (window && !armed)
		return rdtsc() + NMI_POLL_US * tsc_khz() / 1000;
	return UINT64_MAX;
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

/* The earlier of the chips' next deadline and the vCPU's own virtual timer. */
static uint64_t earliest(const struct vcpu *v, uint64_t chips_due)
{
	return v->timer_deadline && v->timer_deadline < chips_due ? v->timer_deadline : chips_due;
}

uint64_t vintr_before_entry(struct vcpu *v)
{
	vplatform_vcpu_entering(v);
	check_timer(v);
	uint64_t nmi_due = nmi_before_entry(v);
	bool ready = hvm->interrupt_ready(v);
	bool pending;
	int vector = -1;
	uint64_t chips_due = UINT64_MAX;
	int raised = __atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE);

	if (raised >= 0) {
		/* raised by hypercall or the virtual timer: first in line */
		pending = true;
		if (ready) {
			vector = raised;
			__atomic_store_n(&v->pending_irq, -1, __ATOMIC_RELEASE);
		}
	} else {
		/*
		 * The interrupt controllers: local APIC, or the 8259 through LINT0.
		 * Their next deadline goes back to the caller's timer: a guest
		 * spinning on a timer (Linux's check_timer, calibration loops) makes
		 * no exits of its own, and the host timer brings it out when due.
		 */
		vector = vplatform_next_interrupt(v, ready, &pending, &chips_due);
	}
	if (vector >= 0) {
		hvm->set_interrupt_window(v, false);
		hvm->inject_event(v, EVENT_EXTERNAL_INTR, (uint8_t)vector, false, 0);
		pveoi_before_entry(v);
	} else {
		hvm->set_interrupt_window(v, pending);
	}
	/* nothing injected, pending or asked for: the exit fast path may enter again (fastpath.h) */
	v->fast.quiet = !pending && vector < 0 && nmi_due == UINT64_MAX && !v->nmi.pending &&
			!v->nmi_window;
	if (v->fast.quiet && fastpath_on)
		vplatform_fast_watch(v);
	uint64_t due = earliest(v, chips_due);
	/* disks being polled: come out by then to look (vm_virtio_poll) */
	uint64_t io_due = __atomic_load_n(&v->vm->io_poll_due, __ATOMIC_RELAXED);
	if (io_due && io_due < due)
		due = io_due;
	return nmi_due < due ? nmi_due : due;
}

bool vintr_wake_check(struct vcpu *v, uint64_t *wake_at)
{
	check_timer(v);
	/* raised (its own timer, a hypercall): it wakes; the entry looks at the rest */
	if (__atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE) >= 0)
		return true;
	if (vintr_nmi_wakes(v) || __atomic_exchange_n(&v->pv_kicked, false, __ATOMIC_ACQ_REL))
		return true; /* an NMI, or a paravirtual spinlock's kick (pvsched.h) */
	bool chips;
	uint64_t chips_due;
	vplatform_next_interrupt(v, false, &chips, &chips_due); /* runs the chips' timers */
	if (chips || __atomic_load_n(&v->pending_irq, __ATOMIC_ACQUIRE) >= 0)
		return true;
	*wake_at = earliest(v, chips_due);
	return false;
}

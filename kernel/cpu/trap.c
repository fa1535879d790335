/* Where every interrupt and exception lands. */
#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/cpu/percpu.h"
#include "kernel/log.h"
#include "kernel/panic.h"

extern irq_handler_t irq_handlers[256];

static void nmi(void)
{
	if (panic_in_progress()) {
		/* another CPU is reporting a fatal error: stop here for good */
		for (;;) {
			irq_disable();
			halt();
		}
	}
	if (rdmsr(MSR_GS_BASE))
		this_cpu()->nmi_count++;
	printk("hv: NMI received (no source known), continuing\n");
}

void trap_dispatch(struct trap_frame *f);
void trap_dispatch(struct trap_frame *f)
{
	unsigned v = (unsigned)f->vector;

	if (v == 2) {
		nmi();
		return;
	}
	if (v < 32)
		panic_exception(f);
	if (v == VECTOR_SPURIOUS)
		return; /* no EOI for spurious interrupts (SDM Vol. 3A §11.9) */
	if (v >= IRQVEC_FIRST && v <= IRQVEC_LAST)
		irqvec_dispatch(v);
	else if (irq_handlers[v])
		irq_handlers[v](f);
	else
		printk("hv: unexpected interrupt vector %u on CPU %u\n", v, this_cpu()->index);
	lapic_eoi();
}

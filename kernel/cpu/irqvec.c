/*
 * The pool of device interrupt vectors (see irqvec.h). trap_dispatch hands
 * every vector of the pool to irqvec_dispatch, which counts it and calls
 * its handler; trap_dispatch sends the LAPIC EOI afterwards, as for the
 * fixed vectors.
 */
#include "kernel/cpu/irqvec.h"

#include "kernel/cpu/percpu.h"
#include "kernel/lib/spinlock.h"
#include "kernel/log.h"

#define NVEC (IRQVEC_LAST - IRQVEC_FIRST + 1)

struct irqvec {
	irqvec_handler_t handler; /* NULL: free */
	void *arg;
	unsigned cpu;
	uint64_t count;
	uint64_t stray; /* arrived while free */
};

static struct irqvec vecs[NVEC];
static spinlock_t pool_lock = SPINLOCK_INIT;
static unsigned last_cpu; /* the one irqvec_pick_cpu gave last */

int irqvec_alloc(unsigned cpu_index, irqvec_handler_t handler, void *arg, uint32_t *apic_id)
{
	if (!handler || cpu_index >= cpu_count || !cpus[cpu_index]->online)
		return -1;
	int vector = -1;
	uint64_t flags = spin_lock_irqsave(&pool_lock);
	for (unsigned i = 0; i < NVEC; i++) {
		struct irqvec *v = &vecs[i];
		if (v->handler)
			continue;
		v->arg = arg;
		v->cpu = cpu_index;
		v->count = 0;
		/* the handler last: a dispatch that sees it sees its argument */
		__atomic_store_n(&v->handler, handler, __ATOMIC_RELEASE);
		vector = IRQVEC_FIRST + (int)i;
		break;
	}
	spin_unlock_irqrestore(&pool_lock, flags);
	if (vector >= 0 && apic_id)
		*apic_id = cpus[cpu_index]->apic_id;
	return vector;
}

void irqvec_free(int vector)
{
	if (vector < IRQVEC_FIRST || vector > IRQVEC_LAST)
		return;
	/* the device must no longer send it: an interrupt in flight is then counted as stray */
	uint64_t flags = spin_lock_irqsave(&pool_lock);
	__atomic_store_n(&vecs[vector - IRQVEC_FIRST].handler, NULL, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&pool_lock, flags);
}

uint64_t irqvec_count(int vector)
{
	if (vector < IRQVEC_FIRST || vector > IRQVEC_LAST)
		return 0;
	return __atomic_load_n(&vecs[vector - IRQVEC_FIRST].count, __ATOMIC_RELAXED);
}

unsigned irqvec_pick_cpu(void)
{
	/*
	 * CPU 0 runs the console: it takes device interrupts only when it is
	 * alone. Only CPUs with an APIC ID below 256: an MSI without interrupt
	 * remapping names its target in 8 bits, and those CPUs are enough.
	 */
	unsigned pick = 0;
	uint64_t flags = spin_lock_irqsave(&pool_lock);
	unsigned start = last_cpu + 1;
	for (unsigned pass = 0; pass < 2 && !pick; pass++) {
		for (unsigned i = cpuset_next(&cpus_online_set, pass ? 1 : start);
		     i < (pass ? start : cpu_count); i = cpuset_next(&cpus_online_set, i + 1)) {
			if (i != 0 && cpus[i]->apic_id <= 0xff) {
				pick = last_cpu = i;
				break;
			}
		}
	}
	spin_unlock_irqrestore(&pool_lock, flags);
	return pick;
}

void irqvec_dispatch(unsigned vector)
{
	struct irqvec *v = &vecs[vector - IRQVEC_FIRST];
	irqvec_handler_t h = __atomic_load_n(&v->handler, __ATOMIC_ACQUIRE);
	if (!h) {
		/* rare and harmless (a device masked late); say it once per vector */
		if (__atomic_fetch_add(&v->stray, 1, __ATOMIC_RELAXED) == 0)
			printk("hv: interrupt on free vector %#x (CPU %u)\n", vector,
			       this_cpu()->index);
		return;
	}
	__atomic_fetch_add(&v->count, 1, __ATOMIC_RELAXED);
	h(v->arg);
}

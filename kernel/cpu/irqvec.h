/*
 * Host interrupt vectors for the hypervisor's own devices (MSI/MSI-X of
 * NVMe, AHCI, NICs): a vector is allocated on a chosen CPU, with a handler
 * and its argument. Vectors IRQVEC_FIRST..IRQVEC_LAST are the pool; the
 * fixed ones (timer, IPIs, spurious) in idt.h lie above it.
 *
 * Handlers run in interrupt context, with interrupts off: they record what
 * happened and raise deferred work (kernel/cpu/deferred.h), nothing more.
 * The end-of-interrupt is sent by the common entry after the handler.
 */
#ifndef HV_CPU_IRQVEC_H
#define HV_CPU_IRQVEC_H

#include <stdbool.h>
#include <stdint.h>

#define IRQVEC_FIRST 0x40
#define IRQVEC_LAST 0xdf

typedef void (*irqvec_handler_t)(void *arg);

/*
 * A free vector for handler(arg) to be delivered to the CPU with index
 * cpu_index. The vector number is the same on every CPU's IDT, so the pool
 * is global. Returns the vector, or -1 when the pool is exhausted.
 * *apic_id receives that CPU's APIC ID (what the MSI message targets).
 */
int irqvec_alloc(unsigned cpu_index, irqvec_handler_t handler, void *arg, uint32_t *apic_id);
void irqvec_free(int vector);
/* How many interrupts a vector has taken (for the report). */
uint64_t irqvec_count(int vector);
/*
 * A CPU to send device interrupts to: round-robin over the online CPUs other
 * than 0 with an APIC ID below 256 (what an MSI can address), when there are any.
 */
unsigned irqvec_pick_cpu(void);
/* trap_dispatch's hand-off for a vector of the pool (interrupts off; it sends the EOI after). */
void irqvec_dispatch(unsigned vector);

#endif

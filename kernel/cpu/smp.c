#include "kernel/cpu/smp.h"

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"

extern const char trampoline_start[], trampoline_end[], trampoline_gdt[];
extern const char trampoline_gdt_desc[], trampoline_cr3[], trampoline_jump[];
extern char boot_pml4[];
extern void ap_entry64(void);
extern volatile uint64_t ap_boot_stack;

static struct cpu *volatile ap_booting;
static void (*volatile pending_call[MAX_CPUS])(void);
static void (*volatile pending_work[MAX_CPUS])(void *);
static void *volatile pending_arg[MAX_CPUS];
static unsigned listed;
static volatile unsigned timer_ok;

unsigned smp_cpus_listed(void)
{
	return listed;
}

unsigned smp_timer_ok_count(void)
{
	return timer_ok;
}

bool smp_timer_selftest(void)
{
	struct cpu *c = this_cpu();
	uint64_t before = c->timer_ticks;
	uint64_t deadline = rdtsc() + tsc_khz() * 200; /* 200 ms */

	timer_oneshot_us(1000);
	while (c->timer_ticks == before && (int64_t)(rdtsc() - deadline) < 0)
		cpu_relax();
	bool ok = c->timer_ticks != before;
	if (ok)
		__atomic_fetch_add(&timer_ok, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->timer_state, ok ? 1 : 2, __ATOMIC_RELEASE);
	return ok;
}

/*
 * TLB shootdown: a generation number; each CPU records the generation it
 * has flushed up to. Requests ride on the call IPI.
 */
static volatile uint64_t tlb_gen;
static volatile uint64_t tlb_done[MAX_CPUS];

static void tlb_catch_up(unsigned i)
{
	uint64_t gen = __atomic_load_n(&tlb_gen, __ATOMIC_ACQUIRE);
	if (tlb_done[i] != gen) {
		write_cr3(read_cr3());
		__atomic_store_n(&tlb_done[i], gen, __ATOMIC_RELEASE);
	}
}

void smp_flush_tlb_others(void)
{
	unsigned me = this_cpu()->index;
	uint64_t gen = __atomic_add_fetch(&tlb_gen, 1, __ATOMIC_SEQ_CST);

	for (unsigned i = 0; i < cpu_count; i++)
		if (i != me && cpus[i].online)
			lapic_send_ipi(cpus[i].apic_id, ICR_FIXED | VECTOR_IPI_CALL);
	for (unsigned i = 0; i < cpu_count; i++) {
		if (i == me || !cpus[i].online)
			continue;
		uint64_t deadline = rdtsc() + tsc_khz() * 100;
		/* a CPU waiting on us meanwhile (its own shootdown) is answered here */
		while ((int64_t)(__atomic_load_n(&tlb_done[i], __ATOMIC_ACQUIRE) - gen) < 0 &&
		       (int64_t)(rdtsc() - deadline) < 0) {
			tlb_catch_up(me);
			cpu_relax();
		}
		if ((int64_t)(tlb_done[i] - gen) < 0)
			printk("hv: CPU %u did not flush its TLB within 100 ms\n", i);
	}
	tlb_catch_up(me);
}

static void call_interrupt(struct trap_frame *f)
{
	(void)f;
	unsigned i = this_cpu()->index;
	tlb_catch_up(i);
	void (*fn)(void) = pending_call[i];
	pending_call[i] = NULL;
	if (fn)
		fn();
}

bool smp_call(unsigned cpu_index, void (*fn)(void))
{
	if (cpu_index >= cpu_count || !cpus[cpu_index].online)
		return false;
	pending_call[cpu_index] = fn;
	return lapic_send_ipi(cpus[cpu_index].apic_id, ICR_FIXED | VECTOR_IPI_CALL);
}

static void work_claimed(void *arg)
{
	(void)arg; /* a marker: the slot is being filled */
}

bool smp_run_on(unsigned cpu_index, void (*fn)(void *), void *arg)
{
	if (cpu_index == 0 || cpu_index >= cpu_count || !cpus[cpu_index].online)
		return false;
	/* claim the slot first, then fill it: the argument is in place before fn */
	void (*expected)(void *) = NULL;
	if (!__atomic_compare_exchange_n(&pending_work[cpu_index], &expected, work_claimed, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false;
	pending_arg[cpu_index] = arg;
	__atomic_store_n(&pending_work[cpu_index], fn, __ATOMIC_SEQ_CST);
	/* wakes the CPU from HLT; the call handler has nothing to run */
	return lapic_send_ipi(cpus[cpu_index].apic_id, ICR_FIXED | VECTOR_IPI_CALL);
}

static __attribute__((noreturn)) void idle_loop(void)
{
	unsigned me = this_cpu()->index;
	for (;;) {
		irq_disable();
		void (*fn)(void *) = pending_work[me];
		if (fn && fn != work_claimed) {
			void *arg = pending_arg[me];
			irq_enable();
			fn(arg);
			__atomic_store_n(&pending_work[me], NULL, __ATOMIC_SEQ_CST);
			continue;
		}
		/* STI; HLT: an interrupt between the check and HLT still wakes us */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

void ap_main(void);
void ap_main(void)
{
	struct cpu *c = ap_booting;

	mm_load_host_tables();
	cpu_local_init(c);
	lapic_enable_this_cpu();
	timer_enable_this_cpu();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	irq_enable();
	if (!smp_timer_selftest())
		printk("hv: CPU %u: the local APIC timer did not fire\n", c->index);
	idle_loop();
}

static void install_trampoline(uint64_t page)
{
	uint8_t *dst = phys_to_virt(page);
	size_t size = (size_t)(trampoline_end - trampoline_start);

	memcpy(dst, trampoline_start, size);
	uint32_t gdt = (uint32_t)(page + (uint64_t)(trampoline_gdt - trampoline_start));
	uint32_t entry = (uint32_t)(uint64_t)ap_entry64;
	uint32_t cr3 = (uint32_t)(uint64_t)boot_pml4;
	memcpy(dst + (trampoline_gdt_desc - trampoline_start) + 2, &gdt, 4);
	memcpy(dst + (trampoline_jump - trampoline_start), &entry, 4);
	memcpy(dst + (trampoline_cr3 - trampoline_start), &cr3, 4);
}

static bool wait_online(struct cpu *c, uint64_t us)
{
	uint64_t deadline = rdtsc() + us * tsc_khz() / 1000;
	while ((int64_t)(rdtsc() - deadline) < 0) {
		if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
			return true;
		cpu_relax();
	}
	return false;
}

/* INIT-SIPI-SIPI, SDM Vol. 3A §8.4.4.1 */
static bool start_ap(struct cpu *c, uint64_t trampoline)
{
	uint32_t vector = (uint32_t)(trampoline >> 12);

	ap_booting = c;
	ap_boot_stack = c->stack.top;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	for (int attempt = 0; attempt < 2; attempt++) {
		lapic_send_ipi(c->apic_id, ICR_STARTUP | vector);
		if (wait_online(c, attempt ? 200000 : 1000))
			return true;
	}
	return false;
}

void smp_boot(const struct acpi_info *acpi)
{
	uint32_t bsp = cpus[0].apic_id;
	uint64_t trampoline = mm_trampoline_page();

	irq_register(VECTOR_IPI_CALL, call_interrupt);
	listed = 0;
	for (size_t i = 0; i < acpi->ncpus; i++)
		listed += acpi->cpus[i].enabled;
	if (listed == 0)
		listed = 1;
	if (!trampoline) {
		printk("hv: no free page below 1 MiB for the AP trampoline: running on the boot CPU only\n");
		return;
	}
	install_trampoline(trampoline);

	for (size_t i = 0; i < acpi->ncpus; i++) {
		const struct acpi_cpu *ac = &acpi->cpus[i];
		if (!ac->enabled || ac->apic_id == bsp)
			continue;
		if (cpu_count == MAX_CPUS) {
			printk("hv: CPU with APIC ID %u skipped: this build supports %u CPUs\n",
			       ac->apic_id, MAX_CPUS);
			continue;
		}
		if (ac->apic_id > 0xfe && !lapic_x2apic_mode()) {
			printk("hv: CPU with APIC ID %u skipped: it needs x2APIC mode\n", ac->apic_id);
			continue;
		}
		struct cpu *c = &cpus[cpu_count];
		memset(c, 0, sizeof(*c));
		c->index = cpu_count;
		c->apic_id = ac->apic_id;
		if (cpu_alloc_stacks(c) < 0) {
			printk("hv: CPU with APIC ID %u skipped: out of memory for its stacks\n",
			       ac->apic_id);
			continue;
		}
		cpu_count++;
		if (start_ap(c, trampoline)) {
			printk("hv: CPU %u (APIC ID %u) online\n", c->index, c->apic_id);
		} else {
			printk("hv: CPU %u (APIC ID %u) did not start within 200 ms; skipped\n",
			       c->index, c->apic_id);
		}
	}
}

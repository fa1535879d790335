#include "kernel/cpu/smp.h"

#include "drivers/lapic.h"
#include "drivers/lapic_mode.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"

extern const char trampoline_start[], trampoline_end[], trampoline_gdt[];
extern const char trampoline_gdt_desc[], trampoline_cr3[], trampoline_jump[];
extern char boot_pml4[];
extern void ap_entry64(void);

/*
 * What ap_entry64 (boot/entry.S) reads to find, by its own APIC ID, the
 * struct cpu and the stack of an arriving AP. Written before the first
 * INIT, read-only while APs arrive.
 */
struct ap_slot {
	uint32_t apic_id;
	uint32_t reserved;
	uint64_t stack_top;
	struct cpu *cpu;
};
_Static_assert(sizeof(struct ap_slot) == 24, "ap_entry64 steps through ap_slots by 24 bytes");
struct ap_slot *ap_slots;
uint32_t ap_nslots;
uint64_t ap_host_cr3;
uint32_t ap_efer_nxe; /* set EFER.NXE before loading ap_host_cr3 */
uint32_t ap_id_leaf_b; /* read the x2APIC ID from CPUID leaf 0BH */
volatile uint32_t ap_arrived; /* APs that reached ap_entry64 (slot or not) */

static volatile uint32_t ap_online;
static unsigned listed;
static volatile unsigned timer_ok;
static struct smp_bringup bringup;

static uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * tsc_khz();
}

unsigned smp_cpus_listed(void)
{
	return listed;
}

const struct smp_bringup *smp_bringup_stats(void)
{
	return &bringup;
}

unsigned smp_timer_ok_count(void)
{
	return timer_ok;
}

static void timer_result(struct cpu *c, bool ok)
{
	if (ok)
		__atomic_fetch_add(&timer_ok, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->timer_state, ok ? 1 : 2, __ATOMIC_RELEASE);
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
	timer_result(c, ok);
	return ok;
}

/*
 * An AP's timer check: it halts until the timer fires, or until the boot
 * CPU gives up on it (smp_wait_timer_checks). Halting, not spinning: on an
 * emulator that runs hundreds of cores on a few threads, a spinning core
 * takes the time the others need to deliver their timers, and a 200 ms
 * wall-clock limit fails cores that are merely slow.
 */
static bool ap_timer_selftest(struct cpu *c)
{
	uint64_t before = c->timer_ticks;

	timer_oneshot_us(1000);
	for (;;) {
		irq_disable();
		if (c->timer_ticks != before || __atomic_load_n(&c->timer_giveup, __ATOMIC_ACQUIRE))
			break;
		__asm__ volatile("sti; hlt" ::: "memory"); /* a pending interrupt still wakes it */
	}
	irq_enable();
	bool ok = c->timer_ticks != before;
	timer_result(c, ok);
	return ok;
}

void smp_wait_timer_checks(void)
{
	/* as long as cores keep reporting, up to 10 s; 500 ms without news ends it */
	uint64_t start = rdtsc(), quiet = start + ms_to_tsc(500), hard = start + ms_to_tsc(10000);
	unsigned seen = 0;
	for (;;) {
		unsigned done = 0, online = 0;
		for (unsigned i = 1; i < cpu_count; i++) {
			if (!cpus[i]->online)
				continue;
			online++;
			done += __atomic_load_n(&cpus[i]->timer_state, __ATOMIC_ACQUIRE) != 0;
		}
		uint64_t now = rdtsc();
		if (done == online)
			return;
		if (done != seen) {
			seen = done;
			quiet = now + ms_to_tsc(500);
		}
		if ((int64_t)(now - quiet) >= 0 || (int64_t)(now - hard) >= 0)
			break;
		udelay(1000);
	}
	/* the rest: told to stop waiting, and woken */
	struct cpuset late;
	cpuset_clear(&late);
	for (unsigned i = 1; i < cpu_count; i++) {
		if (cpus[i]->online && !cpus[i]->timer_state) {
			__atomic_store_n(&cpus[i]->timer_giveup, true, __ATOMIC_RELEASE);
			cpuset_add(&late, i);
		}
	}
	smp_kick_set(&late);
	uint64_t until = rdtsc() + ms_to_tsc(200);
	for (CPUSET_FOR_EACH(i, &late))
		while (!__atomic_load_n(&cpus[i]->timer_state, __ATOMIC_ACQUIRE) &&
		       (int64_t)(rdtsc() - until) < 0)
			cpu_relax();
}

void smp_format_apic_ids(char *buf, size_t len)
{
	size_t n = 0;
	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < cpu_count;) {
		if (!cpus[i]->online) {
			i++;
			continue;
		}
		/* a run of consecutive IDs on consecutive online cores */
		unsigned j = i;
		while (j + 1 < cpu_count && cpus[j + 1]->online &&
		       cpus[j + 1]->apic_id == cpus[j]->apic_id + 1)
			j++;
		char item[32];
		size_t k = (size_t)(i == j ? format(item, sizeof(item), "%s%u", n ? "," : "",
						     cpus[i]->apic_id)
					   : format(item, sizeof(item), "%s%u-%u", n ? "," : "",
						     cpus[i]->apic_id, cpus[j]->apic_id));
		if (n + k + 4 > len) { /* no room: say the list goes on */
			format_append(buf, len, &n, "...");
			return;
		}
		format_append(buf, len, &n, "%s", item);
		i = j + 1;
	}
}

/*
 * TLB shootdown: a generation number; each CPU records the generation it
 * has flushed up to. Requests ride on the call IPI.
 */
static volatile uint64_t tlb_gen;

static void tlb_catch_up(struct cpu *c)
{
	uint64_t gen = __atomic_load_n(&tlb_gen, __ATOMIC_ACQUIRE);
	if (c->tlb_done != gen) {
		write_cr3(read_cr3());
		__atomic_store_n(&c->tlb_done, gen, __ATOMIC_RELEASE);
	}
}

void smp_kick_set(const struct cpuset *set)
{
	for (CPUSET_FOR_EACH(i, set))
		if (i < cpu_count)
			lapic_send_ipi(cpus[i]->apic_id, ICR_FIXED | VECTOR_IPI_CALL);
}

void smp_flush_tlb_others(void)
{
	struct cpu *me = this_cpu();
	uint64_t gen = __atomic_add_fetch(&tlb_gen, 1, __ATOMIC_SEQ_CST);
	struct cpuset waiting = cpus_online_set;

	cpuset_del(&waiting, me->index);
	smp_kick_set(&waiting);
	/*
	 * The cores flush in parallel: wait for all while they keep answering,
	 * 100 ms without an answer at most (a real core answers in
	 * microseconds; an emulator running hundreds of cores on a few
	 * threads takes longer for all of them, but keeps answering), 2 s in all.
	 */
	uint64_t start = rdtsc(), quiet = start + ms_to_tsc(100), hard = start + ms_to_tsc(2000);
	unsigned left = cpuset_count(&waiting);
	while (left) {
		for (CPUSET_FOR_EACH(i, &waiting))
			if ((int64_t)(__atomic_load_n(&cpus[i]->tlb_done, __ATOMIC_ACQUIRE) - gen) >= 0)
				cpuset_del(&waiting, i);
		unsigned now_left = cpuset_count(&waiting);
		uint64_t now = rdtsc();
		if (now_left != left) {
			left = now_left;
			quiet = now + ms_to_tsc(100);
		}
		if (!left || (int64_t)(now - quiet) >= 0 || (int64_t)(now - hard) >= 0)
			break;
		/* a CPU waiting on us meanwhile (its own shootdown) is answered here */
		tlb_catch_up(me);
		cpu_relax();
	}
	for (CPUSET_FOR_EACH(i, &waiting))
		printk("hv: CPU %u did not flush its TLB in time\n", i);
	tlb_catch_up(me);
}

static void (*answer_hook)(void);

void smp_set_answer_hook(void (*fn)(void))
{
	answer_hook = fn;
}

void smp_answer_calls(void)
{
	tlb_catch_up(this_cpu());
	if (answer_hook)
		answer_hook();
}

static void call_interrupt(struct trap_frame *f)
{
	(void)f;
	struct cpu *c = this_cpu();
	tlb_catch_up(c);
	void (*fn)(void) = c->pending_call;
	c->pending_call = NULL;
	if (fn)
		fn();
}

bool smp_call(unsigned cpu_index, void (*fn)(void))
{
	if (cpu_index >= cpu_count || !cpus[cpu_index]->online)
		return false;
	cpus[cpu_index]->pending_call = fn;
	return lapic_send_ipi(cpus[cpu_index]->apic_id, ICR_FIXED | VECTOR_IPI_CALL);
}

static void work_claimed(void *arg)
{
	(void)arg; /* a marker: the slot is being filled */
}

bool smp_run_on(unsigned cpu_index, void (*fn)(void *), void *arg)
{
	if (cpu_index == 0 || cpu_index >= cpu_count || !cpus[cpu_index]->online)
		return false;
	struct cpu *c = cpus[cpu_index];
	/* claim the slot first, then fill it: the argument is in place before fn */
	void (*expected)(void *) = NULL;
	if (!__atomic_compare_exchange_n(&c->pending_work, &expected, work_claimed, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return false;
	c->pending_arg = arg;
	__atomic_store_n(&c->pending_work, fn, __ATOMIC_SEQ_CST);
	/* wakes the CPU from HLT; the call handler has nothing to run */
	return lapic_send_ipi(c->apic_id, ICR_FIXED | VECTOR_IPI_CALL);
}

static __attribute__((noreturn)) void idle_loop(void)
{
	struct cpu *c = this_cpu();
	for (;;) {
		irq_disable();
		void (*fn)(void *) = c->pending_work;
		if (fn && fn != work_claimed) {
			void *arg = c->pending_arg;
			irq_enable();
			fn(arg);
			__atomic_store_n(&c->pending_work, NULL, __ATOMIC_SEQ_CST);
			continue;
		}
		/* STI; HLT: an interrupt between the check and HLT still wakes us */
		__asm__ volatile("sti; hlt" ::: "memory");
	}
}

static __attribute__((noreturn)) void park(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

/* Called by ap_entry64 on the AP's own stack. */
void ap_main(struct cpu *c);
void ap_main(struct cpu *c)
{
	/* the boot CPU may have given up on us: then stay out of the way */
	uint8_t starting = 0;
	if (!__atomic_compare_exchange_n(&c->boot_state, &starting, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		park();
	mm_load_host_tables();
	cpu_local_init(c);
	lapic_enable_this_cpu();
	timer_enable_this_cpu();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&ap_online, 1, __ATOMIC_RELEASE);
	irq_enable();
	if (!ap_timer_selftest(c))
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

/*
 * INIT-SIPI-SIPI (SDM Vol. 3A §8.4.4.1) to every AP at once: the delays
 * are paid once, not once per core.
 */
static void start_all(unsigned first, unsigned n, uint64_t trampoline)
{
	uint32_t vector = (uint32_t)(trampoline >> 12);
	uint64_t t0 = rdtsc();

	for (unsigned i = first; i < first + n; i++)
		lapic_send_ipi(cpus[i]->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
	udelay(10000);
	for (unsigned i = first; i < first + n; i++)
		lapic_send_ipi(cpus[i]->apic_id, ICR_STARTUP | vector);
	/* the second STARTUP, to those not there yet (one that has left wait-for-SIPI ignores it) */
	udelay(200);
	for (unsigned i = first; i < first + n; i++)
		if (!__atomic_load_n(&cpus[i]->boot_state, __ATOMIC_ACQUIRE))
			lapic_send_ipi(cpus[i]->apic_id, ICR_STARTUP | vector);

	/*
	 * Wait for all: 200 ms with no new arrival ends the wait (a real CPU
	 * arrives in microseconds; an emulator running hundreds of vCPUs on a
	 * few host threads in milliseconds each, so progress extends it), and
	 * 10 s in all.
	 */
	uint64_t hard = t0 + ms_to_tsc(10000);
	uint64_t quiet = rdtsc() + ms_to_tsc(200);
	uint32_t seen = 0;
	for (;;) {
		uint32_t now_online = __atomic_load_n(&ap_online, __ATOMIC_ACQUIRE);
		uint32_t arrived = __atomic_load_n(&ap_arrived, __ATOMIC_ACQUIRE);
		uint64_t now = rdtsc();
		if (now_online >= n)
			break;
		if (now_online + arrived != seen) {
			seen = now_online + arrived;
			quiet = now + ms_to_tsc(200);
		}
		if ((int64_t)(now - quiet) >= 0 || (int64_t)(now - hard) >= 0)
			break;
		cpu_relax();
	}
	/* give up on the missing: one that arrives later parks itself (ap_main) */
	for (unsigned i = first; i < first + n; i++) {
		struct cpu *c = cpus[i];
		uint8_t starting = 0;
		if (__atomic_compare_exchange_n(&c->boot_state, &starting, 2, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			/*
			 * Back to wait-for-SIPI: one that started but parked (say its
			 * CPUID named another APIC ID) has no IDT, and the NMI a panic
			 * sends to all would make it shut down.
			 */
			lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
			printk("hv: CPU %u (APIC ID %u) did not start; skipped\n", i, c->apic_id);
			continue;
		}
		/* it claimed its slot just now: it is on its way online */
		uint64_t until = rdtsc() + ms_to_tsc(200);
		while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) &&
		       (int64_t)(rdtsc() - until) < 0)
			cpu_relax();
		if (!c->online)
			printk("hv: CPU %u (APIC ID %u) started but did not come online\n", i,
			       c->apic_id);
	}
	bringup.ticks = rdtsc() - t0;
}

static bool usable_entry(const struct acpi_cpu *ac, uint32_t bsp)
{
	return ac->enabled && ac->apic_id != bsp;
}

void smp_boot(const struct acpi_info *acpi)
{
	uint32_t bsp = cpus[0]->apic_id;
	uint64_t trampoline = mm_trampoline_page();

	irq_register(VECTOR_IPI_CALL, call_interrupt);
	listed = 0;
	unsigned want = 0;
	for (size_t i = 0; i < acpi->ncpus; i++) {
		listed += acpi->cpus[i].enabled;
		want += usable_entry(&acpi->cpus[i], bsp);
	}
	if (listed == 0)
		listed = 1;
	if (acpi->cpus_truncated)
		printk("hv: the MADT lists more than %u CPUs; the rest are not used\n",
		       ACPI_MAX_CPUS);
	if (!want)
		return;
	if (!trampoline) {
		printk("hv: no free page below 1 MiB for the AP trampoline: running on the boot CPU only\n");
		return;
	}
	if (want > MAX_CPUS - 1)
		want = MAX_CPUS - 1;
	struct cpu **table = kzalloc((want + 1) * sizeof(*table));
	struct ap_slot *slots = kzalloc(want * sizeof(*slots));
	if (!table || !slots) {
		printk("hv: out of memory for %u CPUs' data: running on the boot CPU only\n", want);
		kfree(table);
		kfree(slots);
		return;
	}
	install_trampoline(trampoline);
	table[0] = cpus[0];

	unsigned n = 0, skipped_limit = 0;
	for (size_t i = 0; i < acpi->ncpus; i++) {
		const struct acpi_cpu *ac = &acpi->cpus[i];
		if (!usable_entry(ac, bsp))
			continue;
		if (n == want) {
			skipped_limit++;
			continue;
		}
		if (!lapic_id_reachable(lapic_x2apic_mode(), ac->apic_id)) {
			printk("hv: CPU with APIC ID %u skipped: it needs x2APIC mode, which this CPU lacks\n",
			       ac->apic_id);
			bringup.skipped++;
			continue;
		}
		struct cpu *c = kzalloc(sizeof(*c));
		if (!c || cpu_alloc_stacks(c) < 0) {
			printk("hv: CPU with APIC ID %u skipped: out of memory for its data and stacks\n",
			       ac->apic_id);
			kfree(c); /* a stack already taken stays taken: this is boot, and rare */
			bringup.skipped++;
			continue;
		}
		c->index = n + 1;
		c->apic_id = ac->apic_id;
		table[n + 1] = c;
		slots[n] = (struct ap_slot){ac->apic_id, 0, c->stack.top, c};
		if (ac->apic_id > bringup.max_apic_id)
			bringup.max_apic_id = ac->apic_id;
		n++;
	}
	if (skipped_limit) {
		printk("hv: %u CPUs skipped: this build supports %u CPUs\n", skipped_limit, MAX_CPUS);
		bringup.skipped += skipped_limit;
	}
	if (bsp > bringup.max_apic_id)
		bringup.max_apic_id = bsp;

	/* what ap_entry64 needs, in place before the first INIT */
	struct cpuid_regs r;
	cpuid(0, &r);
	ap_id_leaf_b = lapic_ap_id_from_leaf_0b(lapic_x2apic_mode(), r.eax);
	ap_efer_nxe = (rdmsr(MSR_EFER) & EFER_NXE) != 0;
	ap_host_cr3 = read_cr3();
	ap_slots = slots;
	ap_nslots = n;
	__atomic_store_n(&cpus, table, __ATOMIC_RELEASE);
	cpu_count = n + 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	bringup.tried = n;
	if (n)
		start_all(1, n, trampoline);
	for (unsigned i = 1; i <= n; i++)
		if (cpus[i]->online)
			cpuset_add(&cpus_online_set, i);
	bringup.online = cpuset_count(&cpus_online_set) - 1;
	uint64_t us = tsc_khz() ? bringup.ticks * 1000 / tsc_khz() : 0;
	printk("hv: %u of %u other CPUs online, started in parallel in %llu.%03llu ms\n",
	       bringup.online, n, (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
}

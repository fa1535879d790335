/* Bringing up the application processors, and running work on them. */
#ifndef HV_CPU_SMP_H
#define HV_CPU_SMP_H

#include "kernel/acpi/acpi.h"
#include "kernel/lib/cpuset.h"

/*
 * Starts every CPU the MADT lists as enabled, all at once: INIT to each,
 * one 10 ms wait, STARTUP to each, a second STARTUP to those not yet
 * arrived, then one wait for them all. A CPU that does not answer is
 * reported and skipped.
 */
void smp_boot(const struct acpi_info *acpi);

/* How the bring-up went, for the boot report and the benchmark. */
struct smp_bringup {
	unsigned tried;	   /* APs sent INIT/STARTUP */
	unsigned online;   /* of those, online */
	unsigned skipped;  /* listed but not tried (the build's limit, x2APIC, memory) */
	uint64_t ticks;	   /* TSC ticks from the first INIT to the last AP online (or given up) */
	uint32_t max_apic_id;
};
const struct smp_bringup *smp_bringup_stats(void);
/* The APIC IDs of the cores online, as ranges ("0-3,8,0x100-0x10f" style, decimal); for the report. */
void smp_format_apic_ids(char *buf, size_t len);

/*
 * Hands fn(arg) to another CPU's idle loop, where it runs as that CPU's
 * thread of work (not in interrupt context); false if the CPU is not
 * online or already busy.
 */
bool smp_run_on(unsigned cpu_index, void (*fn)(void *), void *arg);
/* Runs fn on another CPU (through an IPI); false if it is not online. */
bool smp_call(unsigned cpu_index, void (*fn)(void));
/*
 * What a core waiting on another with interrupts off answers meanwhile, so
 * that two cores waiting on each other both go on: TLB shootdowns, and
 * the hook a backend set (VT-x: VMCLEARs other cores asked for, vmx/vmx.c).
 */
void smp_answer_calls(void);
void smp_set_answer_hook(void (*fn)(void));
/* Sends the call IPI (VECTOR_IPI_CALL: it wakes the core and runs any pending call) to each core of a set. */
void smp_kick_set(const struct cpuset *set);
/*
 * Makes every other online CPU drop its host TLB entries (an IPI to the set
 * of them; each reloads CR3) and waits until they have, all together, for
 * as long as they keep answering (a CPU that does not answer is reported).
 * For changes to the host page tables.
 */
void smp_flush_tlb_others(void);
/* How many CPUs the firmware listed as usable. */
unsigned smp_cpus_listed(void);
/* Arms a 1 ms timer on this CPU and waits for it (200 ms at most); true if it fired. */
bool smp_timer_selftest(void);
/*
 * Waits for the APs' own timer checks (each AP runs one on arrival) while
 * they keep coming in; an AP still waiting after that is counted as silent.
 */
void smp_wait_timer_checks(void);
unsigned smp_timer_ok_count(void);

#endif

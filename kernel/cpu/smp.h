/* Bringing up the application processors, and running work on them. */
#ifndef HV_CPU_SMP_H
#define HV_CPU_SMP_H

#include "kernel/acpi/acpi.h"

/* Starts every CPU the MADT lists; a CPU that does not answer is reported and skipped. */
void smp_boot(const struct acpi_info *acpi);
/*
 * Hands fn(arg) to another CPU's idle loop, where it runs as that CPU's
 * thread of work (not in interrupt context); false if the CPU is not
 * online or already busy.
 */
bool smp_run_on(unsigned cpu_index, void (*fn)(void *), void *arg);
/* Runs fn on another CPU (through an IPI); false if it is not online. */
bool smp_call(unsigned cpu_index, void (*fn)(void));
/*
 * Makes every other online CPU drop its host TLB entries (an IPI; each
 * reloads CR3) and waits until they have, up to 100 ms each (a CPU that
 * does not answer is reported). For changes to the host page tables.
 */
void smp_flush_tlb_others(void);
/* How many CPUs the firmware listed as usable. */
unsigned smp_cpus_listed(void);
/* Arms a 1 ms timer on this CPU and waits for it; true if it fired. */
bool smp_timer_selftest(void);
unsigned smp_timer_ok_count(void);

#endif

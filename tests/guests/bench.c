/*
 * bench: the cost of the two commonest exits, CPUID and port I/O, in TSC
 * ticks per exit as the guest sees them.
 *
 * Options: n=N iterations of each (default 100000).
 * Output:  "bench cpuid: N exits, T tsc, T/N per exit" and the same for pio
 * (OUT to port 0x80, the POST-code port: harmless on every PC), and "uart"
 * (IN from COM1's line status register, as a console driver polls it), and
 * "eoi" (the x2APIC EOI, WRMSR 0x80b) where x2APIC mode is there.
 */
#include "guest.h"

const char guest_name[] = "bench";

#define POST_PORT 0x80
#define COM1_LSR 0x3fd

static void report(const char *what, uint32_t n, uint64_t ticks)
{
	uint64_t per = n ? udiv64(ticks, n, NULL) : 0;
	printf("bench %s: %u exits, %llu tsc, %llu per exit\n", what, n, ticks, per);
}

void guest_main(void)
{
	uint32_t n = (uint32_t)opt_u64("n", 100000);

	if (!check(n > 0, "n must be at least 1"))
		return;
	struct cpuid_regs l1 = cpuid(1, 0);
	check(l1.edx & (1u << 4), "no TSC (CPUID.1:EDX[4])");
	check(l1.edx & (1u << 26), "no SSE2 for LFENCE (CPUID.1:EDX[26])");

	/* CPUID serializes by itself; the fenced RDTSC keeps the reads in place. */
	uint64_t t0 = rdtsc_ordered();
	for (uint32_t i = 0; i < n; i++)
		(void)cpuid(0, 0);
	uint64_t t1 = rdtsc_ordered();
	report("cpuid", n, t1 - t0);

	/* OUT is not serializing, but each one must complete (or exit) before the next. */
	t0 = rdtsc_ordered();
	for (uint32_t i = 0; i < n; i++)
		outb(POST_PORT, (uint8_t)i);
	t1 = rdtsc_ordered();
	report("pio", n, t1 - t0);

	/* the UART model: reading COM1's line status, as a console driver polls it */
	t0 = rdtsc_ordered();
	for (uint32_t i = 0; i < n; i++)
		(void)inb(COM1_LSR);
	t1 = rdtsc_ordered();
	report("uart", n, t1 - t0);

	/*
	 * The x2APIC EOI, a WRMSR, with nothing in service (an interrupt
	 * handler's EOI takes the same path): where x2APIC mode can be entered.
	 */
	uint64_t base;
	uint32_t err;
	if (!(l1.ecx & (1u << 21)) || rdmsr_safe(0x1b, &base, &err) ||
	    wrmsr_safe(0x1b, base | (1u << 10), &err) || wrmsr_safe(0x80f, 0x1ff, &err))
		return;
	t0 = rdtsc_ordered();
	for (uint32_t i = 0; i < n; i++)
		__asm__ volatile("wrmsr" : : "c"(0x80b), "a"(0), "d"(0));
	t1 = rdtsc_ordered();
	report("eoi", n, t1 - t0);
}

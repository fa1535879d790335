/*
 * wstress: (svmcrash debug) world-switch stress: COM1 output, port I/O and
 * CPUID exits in a loop, n rounds (default 200000).
 */
#include "guest.h"

const char guest_name[] = "wstress";

void guest_main(void)
{
	uint32_t n = (uint32_t)opt_u64("n", 200000);
	uint32_t k = (uint32_t)opt_u64("fldenv", 0);
	static uint8_t env[28] __attribute__((aligned(16)));
	__asm__ volatile("fninit; fnstenv %0" : "=m"(env));
	for (uint32_t i = 0; i < n; i++) {
		/* each FLDENV makes QEMU TCG clear IGNNE in CPU 0's hflags2 (cpu_set_fpus) */
		for (uint32_t j = 0; j < k; j++)
			__asm__ volatile("fldenv %0" : : "m"(env));
		outb(0x80, (uint8_t)i);
		(void)cpuid(0, 0);
		(void)inb(0x3fd);
		if ((i & 1023) == 0)
			printf("wstress %u\n", i);
	}
	printf("wstress done\n");
}

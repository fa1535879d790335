/*
 * wstress: world-switch stress. Each round: an OUT to port 0x80, a CPUID, an
 * IN from COM1's line status register (three exits), and `fldenv` x87
 * environment loads, with a progress line every 1024 rounds.
 *
 * Options: n=N rounds (default 200000), fldenv=K loads per round (default 0).
 *
 * It reproduces a QEMU 7.2 TCG race (tests/integration/hvrun.py, spare_cpu0):
 * every FLDENV (like FRSTOR, FXRSTOR and XRSTOR) makes QEMU clear IGNNE in
 * CPU 0's hflags2 with a plain read-modify-write, from the thread of the CPU
 * that ran it. With this guest pinned to CPU 1 with fldenv=300, and others
 * with fldenv=0 on CPU 0, the host or a guest on CPU 0 dies within seconds.
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

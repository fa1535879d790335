/*
 * spin: a CPU-bound guest for the scheduler tests. It computes, makes no
 * exits of its own, and keeps a pattern in its SSE registers (xmm0-xmm7)
 * that it checks all along: when cores are shared, another VM's vCPU runs
 * between its turns, and the pattern must survive every switch.
 *
 * Options: rounds=N  rounds of work then exit (default 0: for ever)
 *          seed=N    the register pattern (default 1)
 *          report=N  a progress line every N rounds (default 0: none)
 * Output:  "spin: round N" lines; a failed check names the register.
 */
#include "guest.h"

const char guest_name[] = "spin";

#define CR0_EM (1u << 2)
#define CR0_MP (1u << 1)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

static uint32_t pattern[8][4] __attribute__((aligned(16)));
static uint32_t readback[8][4] __attribute__((aligned(16)));

static void sse_on(void)
{
	uint32_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" ::"r"((cr0 & ~CR0_EM) | CR0_MP));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT));
}

static void load_pattern(void)
{
	__asm__ volatile("movdqa 0(%0), %%xmm0\n\tmovdqa 16(%0), %%xmm1\n\t"
			 "movdqa 32(%0), %%xmm2\n\tmovdqa 48(%0), %%xmm3\n\t"
			 "movdqa 64(%0), %%xmm4\n\tmovdqa 80(%0), %%xmm5\n\t"
			 "movdqa 96(%0), %%xmm6\n\tmovdqa 112(%0), %%xmm7" ::"r"(pattern)
			 : "memory");
}

static void store_registers(void)
{
	__asm__ volatile("movdqa %%xmm0, 0(%0)\n\tmovdqa %%xmm1, 16(%0)\n\t"
			 "movdqa %%xmm2, 32(%0)\n\tmovdqa %%xmm3, 48(%0)\n\t"
			 "movdqa %%xmm4, 64(%0)\n\tmovdqa %%xmm5, 80(%0)\n\t"
			 "movdqa %%xmm6, 96(%0)\n\tmovdqa %%xmm7, 112(%0)" ::"r"(readback)
			 : "memory");
}

/* Some arithmetic the compiler cannot drop. */
static uint32_t work(uint32_t x)
{
	for (unsigned i = 0; i < 200000; i++)
		x = x * 1103515245u + 12345u;
	return x;
}

void guest_main(void)
{
	uint64_t rounds = opt_u64("rounds", 0);
	uint32_t seed = (uint32_t)opt_u64("seed", 1);
	uint64_t every = opt_u64("report", 0);

	if (!check(cpuid(1, 0).edx & (1u << 25), "no SSE (CPUID.1:EDX[25])"))
		return;
	sse_on();
	for (unsigned r = 0; r < 8; r++)
		for (unsigned k = 0; k < 4; k++)
			pattern[r][k] = seed * 0x9e3779b9u ^ (r << 8 | k) * 0x85ebca6bu;
	load_pattern();
	printf("spin: seed %u, SSE pattern loaded\n", seed);

	volatile uint32_t sink = seed;
	for (uint64_t n = 1; rounds == 0 || n <= rounds; n++) {
		sink = work(sink);
		store_registers();
		for (unsigned r = 0; r < 8; r++)
			for (unsigned k = 0; k < 4; k++)
				if (!check(readback[r][k] == pattern[r][k],
					   "round %llu: xmm%u word %u is 0x%x, not 0x%x", n, r, k,
					   readback[r][k], pattern[r][k]))
					return;
		if (every && n % every == 0)
			printf("spin: round %llu\n", n);
	}
}

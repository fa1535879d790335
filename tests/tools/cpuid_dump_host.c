/*
 * Dumps this machine's CPUID in the text format of tests/data/cpuid/:
 * one line per leaf and sub-leaf, "leaf subleaf eax ebx ecx edx" in hex.
 * Lines starting with '#' are comments. scripts/cpuid-dump.sh runs it.
 */
#include <stdio.h>

#include "tests/tools/cpuid_walk.h"

static void query(uint32_t leaf, uint32_t sub, struct cpuid_walk_regs *r)
{
	__asm__ volatile("cpuid"
			 : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
			 : "a"(leaf), "c"(sub));
}

static void emit(uint32_t leaf, uint32_t sub, const struct cpuid_walk_regs *r)
{
	printf("%08x %x %08x %08x %08x %08x\n", leaf, sub, r->eax, r->ebx, r->ecx, r->edx);
}

int main(void)
{
	cpuid_walk(query, emit);
	return 0;
}

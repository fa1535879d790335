/*
 * cpuid_dump: prints the CPU's raw CPUID on COM1, one line per leaf and
 * sub-leaf ("cpuid-dump: leaf subleaf eax ebx ecx edx", hex), for the stored
 * dumps in tests/data/cpuid/. Booted directly by QEMU (-kernel) or by GRUB
 * under Bochs, never under the hypervisor: scripts/cpuid-dump.sh runs it.
 */
#include "guest.h"

#include "../tools/cpuid_walk.h"

const char guest_name[] = "cpuid_dump";

static void query(uint32_t leaf, uint32_t sub, struct cpuid_walk_regs *r)
{
	struct cpuid_regs c = cpuid(leaf, sub);
	r->eax = c.eax;
	r->ebx = c.ebx;
	r->ecx = c.ecx;
	r->edx = c.edx;
}

static void emit(uint32_t leaf, uint32_t sub, const struct cpuid_walk_regs *r)
{
	printf("cpuid-dump: %08x %x %08x %08x %08x %08x\n", leaf, sub, r->eax, r->ebx, r->ecx,
	       r->edx);
}

void guest_main(void)
{
	cpuid_walk(query, emit);
	printf("cpuid-dump: end\n");
}

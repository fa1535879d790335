#include "kernel/selftest.h"

#include "drivers/nvme/nvme_selftest.h"
#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/iommu/iommu_selftest.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/net/net_selftest.h"
#include "kernel/pci/pci_selftest.h"
#include "kernel/time/tsc.h"

static char fault_kind[16];

static volatile uint64_t sink;

static __attribute__((noinline)) uint64_t recurse(uint64_t depth)
{
	volatile uint8_t pad[256];
	if (depth > (1ull << 40))
		return 0; /* never: the guard page stops us long before */
	pad[0] = (uint8_t)depth;
	sink += pad[0];
	return recurse(depth + 1) + pad[0];
}

static void fault_now(void)
{
	printk("hv: test_fault=%s on CPU %u\n", fault_kind, this_cpu()->index);
	if (strcmp(fault_kind, "pf") == 0) {
		volatile uint64_t *volatile null_page = (uint64_t *)0x10;
		sink = *null_page; /* page zero is never mapped */
	} else if (strcmp(fault_kind, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(fault_kind, "de") == 0) {
		/* in assembly: the compiler may turn 1/x into a comparison */
		uint64_t zero = 0, quotient;
		__asm__ volatile("divq %2" : "=a"(quotient) : "a"(1ull), "r"(zero), "d"(0ull));
		sink = quotient;
	} else if (strcmp(fault_kind, "gp") == 0) {
		volatile uint64_t *volatile bad = (uint64_t *)0x8000000000000000ull;
		sink = *bad; /* non-canonical */
	} else if (strcmp(fault_kind, "stack") == 0) {
		sink = recurse(0);
	} else {
		printk("hv: test_fault=%s is not a fault this build knows (pf ud de gp stack)\n",
		       fault_kind);
	}
}

void selftest_run(const char *cmdline)
{
	uint64_t cpu = 0;

	pci_selftest(cmdline);
	nvme_selftest(cmdline);
	net_selftest(cmdline);
	iommu_selftest(cmdline);
	if (!cmdline_get_str(cmdline, "test_fault", fault_kind, sizeof(fault_kind)))
		return;
	cmdline_get_u64(cmdline, "test_fault_cpu", &cpu);
	if (cpu == 0) {
		fault_now();
		return;
	}
	if (!smp_call((unsigned)cpu, fault_now)) {
		printk("hv: test_fault_cpu=%llu is not an online CPU\n", (unsigned long long)cpu);
		return;
	}
	udelay(2000000); /* the fault stops the machine long before this ends */
	printk("hv: CPU %llu did not fault\n", (unsigned long long)cpu);
}

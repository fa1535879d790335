/* Per-CPU GDT and TSS, and the per-CPU area behind GS. */
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"

/* The boot CPU's: GS and the first exceptions need it before there is a heap. */
static struct cpu bsp_cpu;
static struct cpu *bsp_only[1] = {&bsp_cpu};
struct cpu **cpus = bsp_only;
unsigned cpu_count;
struct cpuset cpus_online_set;

unsigned cpus_online(void)
{
	return cpuset_count(&cpus_online_set);
}

int cpu_alloc_stacks(struct cpu *c)
{
	if (mm_alloc_stack(STACK_PAGES, &c->stack.bottom, &c->stack.top) < 0)
		return -1;
	for (int i = 1; i <= IST_COUNT; i++)
		if (mm_alloc_stack(IST_STACK_PAGES, &c->ist[i].bottom, &c->ist[i].top) < 0)
			return -1;
	return 0;
}

static void set_tss_descriptor(uint64_t *gdt, const struct tss *tss)
{
	uint64_t base = (uint64_t)tss, limit = sizeof(*tss) - 1;

	/* SDM Vol. 3A §7.2.3: 16-byte system descriptor, type 9 (available TSS) */
	gdt[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[1] = base >> 32;
}

void cpu_local_init(struct cpu *c)
{
	c->self = c;
	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffull; /* 64-bit code */
	c->gdt[2] = 0x00cf92000000ffffull; /* data */
	memset(&c->tss, 0, sizeof(c->tss));
	for (int i = 1; i <= IST_COUNT; i++)
		c->tss.ist[i - 1] = c->ist[i].top;
	c->tss.rsp[0] = c->stack.top;
	c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */
	set_tss_descriptor(&c->gdt[3], &c->tss);

	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = {sizeof(c->gdt) - 1, (uint64_t)c->gdt};

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w2, %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gdtr), "i"(KERNEL_CS), "r"(KERNEL_DS), "r"(KERNEL_TSS)
			 : "rax", "memory");
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	idt_load();

	/*
	 * CR4.OSXSAVE lets the host execute XSETBV for a guest (VMX exits on it)
	 * and XSAVE/XRSTOR when a core switches vCPUs; OSFXSR makes FXSAVE and
	 * XSAVE cover the SSE registers. The host itself keeps no FPU/SSE state.
	 */
	struct cpuid_regs r;
	cpuid(1, &r);
	write_cr4(read_cr4() | (1ul << 9) | (1ul << 10)); /* OSFXSR, OSXMMEXCPT */
	if (r.ecx & (1u << 26))
		write_cr4(read_cr4() | (1ul << 18));
}

#include "drivers/lapic.h"
#include "drivers/lapic_mode.h"

#include "include/x86.h"
#include "kernel/cpu/idt.h"

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xffffff000ull

static bool ready;
static bool x2apic;
static uint64_t mmio_base;

bool lapic_ready(void)
{
	return ready;
}

bool lapic_x2apic_mode(void)
{
	return x2apic;
}

uint64_t lapic_mmio_base(void)
{
	return mmio_base;
}

uint32_t lapic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return *(volatile uint32_t *)(mmio_base + reg);
}

void lapic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		*(volatile uint32_t *)(mmio_base + reg) = v;
}

uint32_t lapic_id(void)
{
	return lapic_id_from_register(x2apic, lapic_read(LAPIC_ID));
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

bool lapic_setup_bsp(void)
{
	struct cpuid_regs r;

	cpuid(1, &r);
	if (!(r.edx & (1u << 9)))
		return false;
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	mmio_base = base & APIC_BASE_ADDR_MASK;
	/* firmware may have switched to x2APIC already; otherwise use it where present */
	x2apic = lapic_want_x2apic(r.ecx & (1u << 21), base & APIC_BASE_X2APIC);
	ready = true;
	lapic_enable_this_cpu();
	return true;
}

void lapic_enable_this_cpu(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	base |= APIC_BASE_ENABLE;
	if (x2apic) {
		/* xAPIC -> x2APIC needs the enable bit set first (SDM Vol. 3A §11.12.5) */
		wrmsr(MSR_IA32_APIC_BASE, base);
		base |= APIC_BASE_X2APIC;
	}
	wrmsr(MSR_IA32_APIC_BASE, base);

	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_ERROR, VECTOR_LAPIC_ERROR);
	lapic_write(LAPIC_LVT_TIMER, 1u << 16); /* masked until the timer is set up */
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_SVR, 0x100 | VECTOR_SPURIOUS);
}

bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
	if (x2apic) {
		wrmsr(0x830, lapic_icr_x2apic(apic_id, icr_low));
		return true;
	}
	lapic_write(LAPIC_ICR_HIGH, lapic_icr_high_xapic(apic_id));
	lapic_write(LAPIC_ICR_LOW, icr_low);
	for (unsigned i = 0; i < 1000000; i++) {
		if (!(lapic_read(LAPIC_ICR_LOW) & ICR_DELIVERY_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

void lapic_send_nmi_all_but_self(void)
{
	lapic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_NMI | ICR_LEVEL_ASSERT);
}

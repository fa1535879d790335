#include "kernel/time/timer.h"

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/time/tsc.h"

#define LVT_MASKED (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define DIVIDE_BY_16 0x3

static bool tsc_deadline;
static uint64_t apic_hz;

static void timer_interrupt(struct trap_frame *f)
{
	(void)f;
	struct cpu *c = this_cpu();
	c->timer_ticks++;
	/*
	 * Nothing is armed now. The one-shot count comes from a calibration
	 * against the TSC (under QEMU 2% fast), so it can fire before the
	 * target: timer_oneshot_at must then arm the same target again, not
	 * take it for armed and leave the core in HLT with no timer at all.
	 */
	c->timer_target = 0;
}

void timer_setup_bsp(void)
{
	struct cpuid_regs r;

	cpuid(1, &r);
	tsc_deadline = r.ecx & (1u << 24);
	irq_register(VECTOR_TIMER, timer_interrupt);
	if (tsc_deadline)
		return;

	/* count the APIC timer down against the TSC for 10 ms */
	lapic_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VECTOR_TIMER);
	lapic_write(LAPIC_TIMER_INITIAL, 0xffffffffu);
	udelay(10000);
	uint32_t left = lapic_read(LAPIC_TIMER_CURRENT);
	lapic_write(LAPIC_TIMER_INITIAL, 0);
	apic_hz = (uint64_t)(0xffffffffu - left) * 100;
	if (!apic_hz)
		apic_hz = 1000000; /* a timer that does not count: keep going, slowly */
}

void timer_enable_this_cpu(void)
{
	if (tsc_deadline) {
		lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_TSC_DEADLINE | VECTOR_TIMER);
		/* SDM Vol. 3A §11.5.4.1: order the LVT write before the first deadline */
		__asm__ volatile("mfence" ::: "memory");
	} else {
		lapic_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_16);
		lapic_write(LAPIC_LVT_TIMER, VECTOR_TIMER); /* one-shot */
	}
}

/*
 * The target is recorded before the hardware is armed: an interrupt right
 * after arming then clears it (timer_interrupt), whatever RFLAGS.IF is.
 */
static void arm_apic_count(uint64_t us)
{
	uint64_t count = us * apic_hz / 1000000;
	if (count == 0)
		count = 1;
	if (count > 0xffffffffu)
		count = 0xffffffffu;
	lapic_write(LAPIC_TIMER_INITIAL, (uint32_t)count);
}

void timer_oneshot_us(uint64_t us)
{
	uint64_t now = rdtsc();
	this_cpu()->timer_target = now + us * tsc_khz() / 1000;
	if (tsc_deadline)
		wrmsr(MSR_IA32_TSC_DEADLINE, this_cpu()->timer_target);
	else
		arm_apic_count(us);
}

void timer_oneshot_at(uint64_t tsc)
{
	struct cpu *c = this_cpu();
	uint64_t now = rdtsc();
	/* armed for exactly this and not yet fired: leave the hardware alone */
	if (c->timer_target == tsc && (int64_t)(tsc - now) > 0)
		return;
	c->timer_target = tsc;
	if (tsc_deadline)
		wrmsr(MSR_IA32_TSC_DEADLINE, tsc);
	else
		arm_apic_count((int64_t)(tsc - now) > 0 ? (tsc - now) * 1000 / tsc_khz() + 1 : 1);
}

bool timer_uses_tsc_deadline(void)
{
	return tsc_deadline;
}

uint64_t timer_apic_hz(void)
{
	return apic_hz;
}

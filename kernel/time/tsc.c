#include "kernel/time/tsc.h"

#include "include/x86.h"

static uint64_t khz;
static uint64_t tsc_at_init;
static enum tsc_source source = TSC_UNKNOWN;
static bool invariant;

#define PM_TIMER_HZ 3579545ull /* ACPI 6.5 §4.8.3.3 */
#define PIT_HZ 1193182ull
#define CALIBRATION_MS 50

static uint64_t from_cpuid(void)
{
	struct cpuid_regs r;

	cpuid(0, &r);
	uint32_t max = r.eax;
	bool intel = r.ebx == 0x756e6547; /* "Genu" */
	if (max >= 0x15) {
		/* SDM Vol. 2A CPUID leaf 15H: TSC = crystal * EBX / EAX */
		cpuid(0x15, &r);
		if (r.eax && r.ebx && r.ecx) {
			source = TSC_FROM_CPUID_15H;
			return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
		}
	}
	if (intel && max >= 0x16) {
		cpuid(0x16, &r); /* base frequency in MHz: the TSC rate on these parts */
		if (r.eax & 0xffff) {
			source = TSC_FROM_CPUID_16H;
			return (uint64_t)(r.eax & 0xffff) * 1000;
		}
	}
	return 0;
}

static uint64_t calibrate_pm_timer(uint16_t port, bool wide)
{
	uint32_t mask = wide ? 0xffffffffu : 0xffffffu;
	uint64_t want = PM_TIMER_HZ * CALIBRATION_MS / 1000, ticks = 0;
	uint32_t last = inl(port) & mask;
	uint64_t t0 = rdtsc();
	/* bounded: a dead timer must not hang the boot */
	for (uint64_t spins = 0; ticks < want && spins < 200000000ull; spins++) {
		uint32_t now = inl(port) & mask;
		ticks += (now - last) & mask;
		last = now;
	}
	uint64_t t1 = rdtsc();
	if (ticks < want)
		return 0;
	return (t1 - t0) * PM_TIMER_HZ / ticks / 1000;
}

static uint64_t calibrate_pit(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * CALIBRATION_MS / 1000);

	/* channel 2, gate on, speaker off; mode 0 counts down once (8254 datasheet) */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	uint64_t t0 = rdtsc();
	uint64_t spins = 0;
	while (!(inb(0x61) & 0x20) && spins++ < 200000000ull)
		;
	uint64_t t1 = rdtsc();
	if (!(inb(0x61) & 0x20))
		return 0;
	return (t1 - t0) * 1000 / CALIBRATION_MS / 1000;
}

bool tsc_init(const struct acpi_info *acpi)
{
	struct cpuid_regs r;

	cpuid(0x80000000, &r);
	if (r.eax >= 0x80000007) {
		cpuid(0x80000007, &r);
		invariant = r.edx & (1u << 8);
	}
	khz = from_cpuid();
	if (!khz && acpi && acpi->pm_timer_port) {
		khz = calibrate_pm_timer((uint16_t)acpi->pm_timer_port, acpi->pm_timer_32bit);
		if (khz)
			source = TSC_FROM_PM_TIMER;
	}
	if (!khz) {
		khz = calibrate_pit();
		if (khz)
			source = TSC_FROM_PIT;
	}
	tsc_at_init = rdtsc();
	if (!khz) {
		khz = 1000000; /* assume 1 GHz so delays stay finite */
		source = TSC_UNKNOWN;
		return false;
	}
	return true;
}

uint64_t tsc_khz(void)
{
	return khz;
}

bool tsc_invariant(void)
{
	return invariant;
}

const char *tsc_source_name(void)
{
	switch (source) {
	case TSC_FROM_CPUID_15H:
		return "cpuid leaf 0x15";
	case TSC_FROM_CPUID_16H:
		return "cpuid leaf 0x16";
	case TSC_FROM_PM_TIMER:
		return "calibrated against the ACPI PM timer";
	case TSC_FROM_PIT:
		return "calibrated against the PIT";
	default:
		return "unknown (assumed 1 GHz)";
	}
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * khz / 1000;
	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

uint64_t uptime_us(void)
{
	/* whole seconds first: ticks * 1000 would overflow after ~70 days at 3 GHz */
	uint64_t ticks = rdtsc() - tsc_at_init, per_s = khz * 1000;
	return ticks / per_s * 1000000 + ticks % per_s * 1000 / khz;
}

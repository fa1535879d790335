/*
 * hpet: the VM's High Precision Event Timer, as an OS finds and uses it
 * (IA-PC HPET Specification 1.0a):
 *   - the ACPI "HPET" table (found through the RSDP in the BIOS area) gives
 *     its address, and its event timer block ID matches the capabilities;
 *   - the capabilities: revision, 3 timers, 64-bit counter, legacy
 *     replacement, vendor, a period within the spec's bound, and routes
 *     that exist on the VM's IOAPIC;
 *   - the main counter holds still while halted, is writable then, and
 *     counts monotonically at the advertised period once enabled (measured
 *     against the PIT's channel 2, with generous bounds);
 *   - a one-shot comparator routed to an IOAPIC pin interrupts once, no
 *     earlier than its match; a level-triggered one sets its status bit
 *     and interrupts once when the handler clears it; a periodic one
 *     interrupts again and again, its comparator accumulating;
 *   - in legacy replacement mode timers 0 and 1 arrive as IRQ 0 (IOAPIC
 *     pin 2) and IRQ 8.
 * Interrupts go IOAPIC -> local APIC (xAPIC at 0xfee00000) -> this CPU; the
 * 8259s stay masked.
 */
#include "apic.h"
#include "guest.h"

const char guest_name[] = "hpet";

/* HPET registers (§2.3.1). */
#define HPET_CAP 0x000
#define HPET_CONFIG 0x010
#define HPET_STATUS 0x020
#define HPET_COUNTER 0x0f0
#define HPET_TIMER(n) (0x100 + 0x20 * (n))
#define HPET_CMP(n) (0x108 + 0x20 * (n))
#define CFG_ENABLE 1u
#define CFG_LEGACY 2u
#define TN_LEVEL (1u << 1)
#define TN_ENB (1u << 2)
#define TN_PERIODIC (1u << 3)
#define TN_PER_CAP (1u << 4)
#define TN_VAL_SET (1u << 6)
#define TN_32MODE (1u << 8)
#define TN_ROUTE_SHIFT 9
#define HPET_FIXED_BASE 0xfed00000u

#define VEC_ROUTED 0x50	/* a timer on its own IOAPIC route */
#define VEC_IRQ0 0x51	/* legacy replacement: IRQ 0 (IOAPIC pin 2) */
#define VEC_IRQ8 0x52	/* legacy replacement: IRQ 8 */
#define VEC_SPURIOUS 0xff

#define PIT_HZ 1193182u

static uint32_t hpet_base = HPET_FIXED_BASE;
static uint32_t freq_hz; /* from the advertised period */

static inline uint32_t mmio_read(uint32_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write(uint32_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static uint32_t hpet_rd(uint32_t reg)
{
	return mmio_read(hpet_base + reg);
}

static void hpet_wr(uint32_t reg, uint32_t v)
{
	mmio_write(hpet_base + reg, v);
}

/* The 64-bit counter through 32-bit reads: high, low, high again until stable. */
static uint64_t hpet_counter(void)
{
	uint32_t hi, lo, hi2;
	do {
		hi = hpet_rd(HPET_COUNTER + 4);
		lo = hpet_rd(HPET_COUNTER);
		hi2 = hpet_rd(HPET_COUNTER + 4);
	} while (hi != hi2);
	return (uint64_t)hi << 32 | lo;
}

/* ---- ACPI ---- */

static bool sum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static bool sig_is(const uint8_t *p, const char *sig)
{
	return p[0] == sig[0] && p[1] == sig[1] && p[2] == sig[2] && p[3] == sig[3];
}

static uint32_t rd32u(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ACPI 6.5 §5.2.5.1: the RSDP on a 16-byte boundary in 0xe0000-0xfffff. */
static const uint8_t *find_rsdp(void)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		if (p[0] == 'R' && p[1] == 'S' && p[2] == 'D' && p[3] == ' ' && p[4] == 'P' &&
		    p[5] == 'T' && p[6] == 'R' && p[7] == ' ' && sum_ok(p, 20))
			return p;
	}
	return NULL;
}

static const uint8_t *find_table(const char *sig)
{
	const uint8_t *rsdp = find_rsdp();
	if (!check(rsdp != NULL, "no RSDP in 0xe0000-0xfffff"))
		return NULL;
	const uint8_t *rsdt = (const uint8_t *)rd32u(rsdp + 16);
	if (!check(sig_is(rsdt, "RSDT") && sum_ok(rsdt, rd32u(rsdt + 4)), "RSDT at %p is bad",
		   (const void *)rsdt))
		return NULL;
	uint32_t n = (rd32u(rsdt + 4) - 36) / 4;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *t = (const uint8_t *)rd32u(rsdt + 36 + 4 * i);
		if (sig_is(t, sig)) {
			check(sum_ok(t, rd32u(t + 4)), "%s table checksum wrong", sig);
			return t;
		}
	}
	return NULL;
}

/* ---- interrupts ---- */

volatile uint32_t irq_count[3];
volatile uint32_t irq_counter_lo[3];	/* the HPET counter when each arrived */
volatile uint32_t irq_status[3];	/* the general interrupt status then */
static volatile uint32_t level_ack;	/* the handler clears these status bits */

void hpet_isr(uint32_t vector);
void hpet_isr(uint32_t vector)
{
	unsigned i = vector - VEC_ROUTED;
	irq_counter_lo[i] = hpet_rd(HPET_COUNTER);
	irq_status[i] = hpet_rd(HPET_STATUS);
	irq_count[i]++;
	if (level_ack)
		hpet_wr(HPET_STATUS, level_ack); /* before EOI: the line drops first */
	lapic_eoi();
}

void stub_routed(void);
void stub_irq0(void);
void stub_irq8(void);
void stub_spurious(void);

__asm__(".text\n"
	".macro HPET_STUB name, vec\n"
	".align 8\n"
	".globl \\name\n"
	"\\name:\n\t"
	"pushal\n\t"
	"pushl $\\vec\n\t"
	"call hpet_isr\n\t"
	"addl $4, %esp\n\t"
	"popal\n\t"
	"iretl\n"
	".endm\n"
	"HPET_STUB stub_routed, 0x50\n"
	"HPET_STUB stub_irq0, 0x51\n"
	"HPET_STUB stub_irq8, 0x52\n"
	".align 8\n"
	".globl stub_spurious\n"
	"stub_spurious:\n\t"
	"iretl\n");

static uint32_t apic_id;

/* Pin -> vector, fixed delivery to this CPU, edge or level, active high, unmasked. */
static void ioapic_route(unsigned pin, uint8_t vector, bool level)
{
	ioapic_set_pin(pin, vector | (level ? IOAPIC_REDIR_LEVEL : 0), apic_id);
}

static void interrupts_setup(void)
{
	pic_mask_all(); /* everything comes through the IOAPIC */
	idt_set_gate(VEC_ROUTED, stub_routed);
	idt_set_gate(VEC_IRQ0, stub_irq0);
	idt_set_gate(VEC_IRQ8, stub_irq8);
	idt_set_gate(VEC_SPURIOUS, stub_spurious);
	apic_id = lapic_id();
	lapic_write(LAPIC_TPR, 0);
	lapic_enable(VEC_SPURIOUS);
}

/* ---- timing ---- */

/*
 * How far ahead of the counter a comparator is armed. A match only fires
 * when the counter reaches it, so a comparator already behind the counter
 * when written fires after a wrap (minutes): under QEMU TCG on a loaded
 * host the vCPU can lose milliseconds between reading the counter and
 * writing the comparator, so leave room for that.
 */
#define ARM_AHEAD_US 50000


static uint32_t ticks_from_us(uint32_t us)
{
	return (uint32_t)((uint64_t)freq_hz * us / 1000000);
}

/* Spins (interrupts on) until `done` or the counter passes `deadline_lo`. */
static void wait_until(volatile uint32_t *count, uint32_t want, uint32_t deadline_lo)
{
	__asm__ volatile("sti" ::: "memory");
	while (*count < want && (int32_t)(hpet_rd(HPET_COUNTER) - deadline_lo) < 0)
		__asm__ volatile("pause" ::: "memory");
	__asm__ volatile("cli" ::: "memory");
}

/* PIT channel 2, mode 0, counting `count` clocks from now; returns when OUT2 rises. */
static bool pit_wait(uint16_t count)
{
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xb0);				    /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	for (uint32_t spin = 0; spin < 100000000u; spin++)
		if (inb(0x61) & 0x20)
			return true;
	return false;
}

/* ---- the checks ---- */

static unsigned timers;
static unsigned ioapic_pins;

static void check_acpi_and_caps(void)
{
	const uint8_t *t = find_table("HPET");
	uint32_t table_id = 0;
	if (check(t != NULL, "no HPET table in the RSDT")) {
		uint32_t lo = rd32u(t + 44), hi = rd32u(t + 48);
		table_id = rd32u(t + 36);
		printf("hpet: ACPI table: id 0x%08x, space %u, address 0x%x%08x, number %u, "
		       "min tick %u\n",
		       table_id, t[40], hi, lo, t[52], t[53] | t[54] << 8);
		check(t[40] == 0, "HPET base in address space %u, not system memory", t[40]);
		check(hi == 0 && lo == HPET_FIXED_BASE, "HPET at 0x%x%08x, want 0x%x", hi, lo,
		      HPET_FIXED_BASE);
		check(t[52] == 0, "HPET number %u", t[52]);
		if (hi == 0 && lo != 0)
			hpet_base = lo;
	}

	uint32_t cap = hpet_rd(HPET_CAP), period = hpet_rd(HPET_CAP + 4);
	timers = (cap >> 8 & 0x1f) + 1;
	printf("hpet: capabilities 0x%08x, period %u fs, %u timers\n", cap, period, timers);
	check((cap & 0xff) != 0, "revision 0");
	check(timers >= 3, "%u timers, want at least 3", timers);
	check(cap & (1u << 13), "32-bit main counter");
	check(cap & (1u << 15), "no legacy replacement route");
	check(cap >> 16 == 0x8086, "vendor 0x%04x", cap >> 16);
	check(period > 0 && period <= 100000000u, "period %u fs outside (0, 100 ns]", period);
	check(t == NULL || table_id == cap, "ACPI block ID 0x%08x != capabilities 0x%08x",
	      table_id, cap);
	freq_hz = period ? (uint32_t)(1000000000000000ull / period) : 1;

	ioapic_pins = (ioapic_read(IOAPIC_VER) >> 16 & 0xff) + 1;
	for (unsigned i = 0; i < timers && i < 32; i++) {
		uint32_t route_cap = hpet_rd(HPET_TIMER(i) + 4);
		printf("hpet: timer %u config 0x%08x route cap 0x%08x\n", i,
		       hpet_rd(HPET_TIMER(i)), route_cap);
		check(route_cap != 0, "timer %u can be routed nowhere", i);
		check(ioapic_pins >= 32 || route_cap >> ioapic_pins == 0,
		      "timer %u route cap 0x%x beyond the IOAPIC's %u pins", i, route_cap,
		      ioapic_pins);
	}
}

static void check_counter(void)
{
	hpet_wr(HPET_CONFIG, 0);
	hpet_wr(HPET_COUNTER, 0x12345678);
	hpet_wr(HPET_COUNTER + 4, 0);
	uint64_t a = hpet_counter();
	pit_wait(1193); /* 1 ms */
	uint64_t b = hpet_counter();
	check(a == 0x12345678 && b == a, "halted counter moved or was not written: 0x%llx 0x%llx",
	      (unsigned long long)a, (unsigned long long)b);
	hpet_wr(HPET_COUNTER, 0);

	hpet_wr(HPET_CONFIG, CFG_ENABLE);
	uint64_t last = hpet_counter(), first = last;
	unsigned backwards = 0;
	for (int i = 0; i < 2000; i++) {
		uint64_t c = hpet_counter();
		if (c < last)
			backwards++;
		last = c;
	}
	printf("hpet: counter 0x%llx -> 0x%llx over 2000 reads\n", (unsigned long long)first,
	       (unsigned long long)last);
	check(backwards == 0, "counter ran backwards %u times", backwards);
	check(last > first, "counter did not advance");

	/* the rate, against the PIT: 65535 PIT clocks (54.9 ms) */
	uint64_t t0 = rdtsc_ordered(), h0 = hpet_counter();
	bool pit_ok = pit_wait(0xffff);
	uint64_t h1 = hpet_counter(), t1 = rdtsc_ordered();
	uint64_t want = (uint64_t)freq_hz * 65535 / PIT_HZ, got = h1 - h0;
	printf("hpet: %llu clocks over 65535 PIT clocks (want about %llu), %llu TSC per clock\n",
	       (unsigned long long)got, (unsigned long long)want,
	       (unsigned long long)(got ? (t1 - t0) / got : 0));
	check(pit_ok, "PIT channel 2 never ran out");
	/* generous: a host that stalls the VM between two reads must not fail this */
	check(got > want / 2 && got < want * 2, "%llu HPET clocks over 54.9 ms, want about %llu",
	      (unsigned long long)got, (unsigned long long)want);
}

static unsigned pick_pin(unsigned timer)
{
	uint32_t cap = hpet_rd(HPET_TIMER(timer) + 4);
	for (unsigned pin = 0; pin < ioapic_pins && pin < 32; pin++)
		if (cap >> pin & 1)
			return pin;
	return 0;
}

/* One-shot, edge: one interrupt, no earlier than the match. */
static void check_oneshot(unsigned timer, unsigned pin)
{
	irq_count[0] = 0;
	ioapic_route(pin, VEC_ROUTED, false);
	hpet_wr(HPET_TIMER(timer), TN_ENB | TN_32MODE | pin << TN_ROUTE_SHIFT);
	uint32_t cmp = hpet_rd(HPET_COUNTER) + ticks_from_us(ARM_AHEAD_US);
	hpet_wr(HPET_CMP(timer), cmp);
	wait_until(&irq_count[0], 1, cmp + ticks_from_us(500000));
	printf("hpet: one-shot timer %u on pin %u: %u interrupt(s), at counter 0x%x (match 0x%x)\n",
	       timer, pin, irq_count[0], irq_counter_lo[0], cmp);
	check(irq_count[0] == 1, "one-shot timer %u on pin %u: %u interrupts, want 1", timer, pin,
	      irq_count[0]);
	check((int32_t)(irq_counter_lo[0] - cmp) >= 0, "interrupt at 0x%x, before the match 0x%x",
	      irq_counter_lo[0], cmp);
	/* and not again */
	wait_until(&irq_count[0], 2, hpet_rd(HPET_COUNTER) + ticks_from_us(5000));
	check(irq_count[0] == 1, "one-shot timer %u fired %u times", timer, irq_count[0]);
	hpet_wr(HPET_TIMER(timer), 0);
	ioapic_mask_pin(pin);
}

/* Level: the status bit is set, and the handler's clearing it ends the interrupt. */
static void check_level(unsigned timer, unsigned pin)
{
	irq_count[0] = 0;
	level_ack = 1u << timer;
	ioapic_route(pin, VEC_ROUTED, true);
	hpet_wr(HPET_TIMER(timer), TN_LEVEL | TN_ENB | TN_32MODE | pin << TN_ROUTE_SHIFT);
	uint32_t cmp = hpet_rd(HPET_COUNTER) + ticks_from_us(ARM_AHEAD_US);
	hpet_wr(HPET_CMP(timer), cmp);
	wait_until(&irq_count[0], 1, cmp + ticks_from_us(500000));
	wait_until(&irq_count[0], 2, hpet_rd(HPET_COUNTER) + ticks_from_us(5000));
	uint32_t status = hpet_rd(HPET_STATUS);
	printf("hpet: level timer %u on pin %u: %u interrupt(s), status then 0x%x, now 0x%x\n",
	       timer, pin, irq_count[0], irq_status[0], status);
	check(irq_count[0] == 1, "level timer %u: %u interrupts, want 1", timer, irq_count[0]);
	check(irq_status[0] & (1u << timer), "status bit %u not set in the handler (0x%x)", timer,
	      irq_status[0]);
	check(!(status & (1u << timer)), "status bit %u still set after clearing", timer);
	level_ack = 0;
	hpet_wr(HPET_TIMER(timer), 0);
	ioapic_mask_pin(pin);
}

/* Periodic (Linux's sequence: VAL_SET, comparator, then the period): it repeats. */
static void check_periodic(unsigned pin)
{
	if (!check(hpet_rd(HPET_TIMER(0)) & TN_PER_CAP, "timer 0 is not periodic-capable"))
		return;
	irq_count[0] = 0;
	uint32_t period = ticks_from_us(1000);
	ioapic_route(pin, VEC_ROUTED, false);
	hpet_wr(HPET_TIMER(0),
		TN_ENB | TN_PERIODIC | TN_VAL_SET | TN_32MODE | pin << TN_ROUTE_SHIFT);
	uint32_t first = hpet_rd(HPET_COUNTER) + ticks_from_us(ARM_AHEAD_US);
	hpet_wr(HPET_CMP(0), first);
	hpet_wr(HPET_CMP(0), period);
	wait_until(&irq_count[0], 5, first + 100 * period + ticks_from_us(500000));
	hpet_wr(HPET_TIMER(0), 0);
	uint32_t cmp = hpet_rd(HPET_CMP(0));
	printf("hpet: periodic timer 0 on pin %u: %u interrupts, comparator 0x%x (first 0x%x)\n",
	       pin, irq_count[0], cmp, first);
	check(irq_count[0] >= 5, "periodic timer 0: %u interrupts, want 5", irq_count[0]);
	check(cmp != first && (cmp - first) % period == 0,
	      "comparator 0x%x did not accumulate periods of 0x%x from 0x%x", cmp, period, first);
	ioapic_mask_pin(pin);
}

/* Legacy replacement: timer 0 is IRQ 0 (IOAPIC pin 2), timer 1 is IRQ 8. */
static void check_legacy(unsigned pin)
{
	for (int i = 0; i < 3; i++)
		irq_count[i] = 0;
	ioapic_route(pin, VEC_ROUTED, false); /* where timer 0's own route points */
	ioapic_route(2, VEC_IRQ0, false);
	ioapic_route(8, VEC_IRQ8, false);
	hpet_wr(HPET_CONFIG, CFG_ENABLE | CFG_LEGACY);
	hpet_wr(HPET_TIMER(0), TN_ENB | TN_32MODE | pin << TN_ROUTE_SHIFT);
	hpet_wr(HPET_TIMER(1), TN_ENB);
	uint32_t now = hpet_rd(HPET_COUNTER);
	hpet_wr(HPET_CMP(0), now + ticks_from_us(ARM_AHEAD_US));
	hpet_wr(HPET_CMP(1), now + ticks_from_us(ARM_AHEAD_US + 500));
	wait_until(&irq_count[2], 1, now + ticks_from_us(500000));
	wait_until(&irq_count[1], 1, now + ticks_from_us(500000));
	wait_until(&irq_count[0], 1, hpet_rd(HPET_COUNTER) + ticks_from_us(5000));
	printf("hpet: legacy replacement: IRQ 0 %u, IRQ 8 %u, pin %u %u\n", irq_count[1],
	       irq_count[2], pin, irq_count[0]);
	check(irq_count[1] == 1, "legacy timer 0: %u interrupts on IRQ 0, want 1", irq_count[1]);
	check(irq_count[2] == 1, "legacy timer 1: %u interrupts on IRQ 8, want 1", irq_count[2]);
	check(irq_count[0] == 0, "legacy timer 0 also interrupted on its route (pin %u)", pin);
	hpet_wr(HPET_TIMER(0), 0);
	hpet_wr(HPET_TIMER(1), 0);
	hpet_wr(HPET_CONFIG, CFG_ENABLE);
	ioapic_mask_pin(2);
	ioapic_mask_pin(8);
	ioapic_mask_pin(pin);
}

void guest_main(void)
{
	check_acpi_and_caps();
	if (check_failures())
		return;
	interrupts_setup();
	check_counter();
	unsigned pin = pick_pin(2);
	printf("hpet: IOAPIC with %u pins, routing to pin %u\n", ioapic_pins, pin);
	check_oneshot(2, pin);
	check_level(2, pin);
	check_periodic(pick_pin(0));
	check_legacy(pick_pin(0));
	hpet_wr(HPET_CONFIG, 0);
	__asm__ volatile("cli" ::: "memory");
}

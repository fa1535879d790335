/*
 * fastcheck: the exit fast path (kernel/vm/fastpath.h) changes no
 * architectural result. Each CPUID leaf and sub-leaf is asked three times
 * (the first answer comes from the general dispatch, which teaches the fast
 * path; the others may come from the fast path) and must not change; MSRs
 * are written and read back; COM1's registers and the POST port are read and
 * written with 8, 16 and 32-bit accesses over a known EAX. Everything seen is
 * folded into digests that the harness compares between a run with
 * fastpath=off and one with the fast path on: they must be equal.
 *
 * The local APIC's EOI, in x2APIC mode a WRMSR, is taken through nested
 * interrupts whose results (ISR, IRR, PPR, handlers run) are digested too.
 *
 * Output: "fastcheck: cpuid N answers digest X", "fastcheck: msr ... = V",
 * "fastcheck: pio N results digest X", "fastcheck: apic counts A B C digest X".
 */
#include "guest.h"
#include "apic.h"

#include "../tools/cpuid_walk.h"

const char guest_name[] = "fastcheck";

static uint32_t digest = 2166136261u; /* FNV-1a over every value seen */
static unsigned answers;

static void fold(uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		digest ^= (v >> (8 * i)) & 0xff;
		digest *= 16777619u;
	}
}

static void query(uint32_t leaf, uint32_t sub, struct cpuid_walk_regs *r)
{
	struct cpuid_regs a = cpuid(leaf, sub);
	for (int again = 0; again < 2; again++) {
		struct cpuid_regs b = cpuid(leaf, sub);
		check(a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx,
		      "cpuid %x.%x changed: %08x %08x %08x %08x then %08x %08x %08x %08x", leaf, sub,
		      a.eax, a.ebx, a.ecx, a.edx, b.eax, b.ebx, b.ecx, b.edx);
	}
	*r = (struct cpuid_walk_regs){a.eax, a.ebx, a.ecx, a.edx};
}

static void emit(uint32_t leaf, uint32_t sub, const struct cpuid_walk_regs *r)
{
	fold(leaf);
	fold(sub);
	fold(r->eax);
	fold(r->ebx);
	fold(r->ecx);
	fold(r->edx);
	answers++;
}

static void cpuid_part(void)
{
	struct cpuid_walk_regs r;
	cpuid_walk(query, emit);
	/* the hypervisor leaves, and a few no CPU has */
	for (uint32_t leaf = 0x40000000u; leaf <= 0x40000010u; leaf++) {
		query(leaf, 0, &r);
		emit(leaf, 0, &r);
	}
	for (uint32_t leaf = 0x40000100u; leaf <= 0x40000101u; leaf++) {
		query(leaf, 0, &r);
		emit(leaf, 0, &r);
	}
	query(0x7fffffffu, 3, &r);
	emit(0x7fffffffu, 3, &r);
	query(0xc0000000u, 0, &r);
	emit(0xc0000000u, 0, &r);
	printf("fastcheck: cpuid %u answers digest %08x\n", answers, digest);
}

/* Writes v, reads it back, restores the old value; prints what it read. */
static void msr_round_trip(const char *name, uint32_t msr, uint64_t v)
{
	uint64_t old = 0, got = 0;
	uint32_t err;
	int f = rdmsr_safe(msr, &old, &err);
	if (f) {
		printf("fastcheck: msr %s absent (vector %d)\n", name, f - 1);
		return;
	}
	int w = wrmsr_safe(msr, v, &err);
	int r = rdmsr_safe(msr, &got, &err);
	wrmsr_safe(msr, old, &err);
	printf("fastcheck: msr %s old %llx wrote %llx (fault %d) read %llx (fault %d)\n", name, old,
	       v, w, got, r);
}

static void msr_part(void)
{
	msr_round_trip("pat", 0x277, 0x0007040600070406ull);
	msr_round_trip("pat2", 0x277, 0x0006040700060407ull);
	msr_round_trip("mtrr_def_type", 0x2ff, 0xc06);
	msr_round_trip("sysenter_cs", 0x174, 0x10);
	msr_round_trip("sysenter_esp", 0x175, 0x12345678);
	msr_round_trip("sysenter_eip", 0x176, 0x87654321);
	msr_round_trip("tsc_aux", 0xc0000103u, 0x5a);
	msr_round_trip("star", 0xc0000081u, 0x0023001000000000ull);
	msr_round_trip("lstar", 0xc0000082u, 0xffffffff81000000ull);
	msr_round_trip("kernel_gs_base", 0xc0000102u, 0xffff888000001000ull);
	msr_round_trip("fs_base", 0xc0000100u, 0x1000);
	msr_round_trip("apic_base", 0x1b, 0xfee00900ull);
	msr_round_trip("misc_enable", 0x1a0, 1);
}

static uint32_t in_sized(uint16_t port, unsigned size, uint32_t eax)
{
	if (size == 1)
		__asm__ volatile("inb %w1, %b0" : "+a"(eax) : "Nd"(port));
	else if (size == 2)
		__asm__ volatile("inw %w1, %w0" : "+a"(eax) : "Nd"(port));
	else
		__asm__ volatile("inl %w1, %0" : "+a"(eax) : "Nd"(port));
	return eax;
}

static void out_sized(uint16_t port, unsigned size, uint32_t eax)
{
	if (size == 1)
		__asm__ volatile("outb %b0, %w1" : : "a"(eax), "Nd"(port));
	else if (size == 2)
		__asm__ volatile("outw %w0, %w1" : : "a"(eax), "Nd"(port));
	else
		__asm__ volatile("outl %0, %w1" : : "a"(eax), "Nd"(port));
}

#define COM1 0x3f8

static void pio_part(void)
{
	unsigned n = 0;
	digest = 2166136261u;
	/* COM1's scratch register keeps what was written (16550: SCR) */
	for (unsigned v = 0; v < 256; v++) {
		outb(COM1 + 7, (uint8_t)v);
		uint32_t got = in_sized(COM1 + 7, 1, 0xa5a5a500u);
		check(got == (0xa5a5a500u | v), "COM1 SCR wrote %02x read %08x", v, got);
		fold(got);
		n++;
	}
	/* every register at every size, over a known EAX: merged or zero-extended alike */
	static const uint16_t ports[] = {COM1 + 1, COM1 + 2, COM1 + 3, COM1 + 4, COM1 + 5,
					 COM1 + 6, COM1 + 7, 0x80};
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		for (unsigned size = 1; size <= 4; size *= 2) {
			uint32_t got = in_sized(ports[i], size, 0x12345678u);
			fold(ports[i]);
			fold(size);
			fold(got);
			n++;
		}
	}
	/* writes: POST codes of each size, then COM1's scratch and line control back */
	for (unsigned size = 1; size <= 4; size *= 2)
		out_sized(0x80, size, 0xdeadbeefu);
	uint8_t lcr = inb(COM1 + 3);
	out_sized(COM1 + 3, 1, lcr ^ 0x40); /* break on and off */
	fold(inb(COM1 + 3));
	out_sized(COM1 + 3, 1, lcr);
	fold(inb(COM1 + 3));
	out_sized(COM1 + 7, 2, 0x4321); /* a 16-bit write reaches SCR's byte only */
	fold(inb(COM1 + 7));
	n += 3;
	printf("fastcheck: pio %u results digest %08x\n", n, digest);
}

/*
 * The local APIC in x2APIC mode, where an EOI is a WRMSR the fast path may
 * finish (an edge vector, nothing let through by it) or must leave to the
 * slow path (something waiting below gets through). Self-IPIs go to IRR
 * while IF=0 and are taken with `sti; nop; nop; cli`; the handlers only
 * count (the EOIs are the test's). ISR, IRR, PPR and the counts after each
 * step go into the digest.
 */
#define X2APIC_TPR 0x808
#define X2APIC_PPR 0x80a
#define X2APIC_EOI 0x80b
#define X2APIC_SVR 0x80f
#define X2APIC_ISR2 0x812 /* vectors 0x40-0x5f */
#define X2APIC_ISR3 0x813 /* vectors 0x60-0x7f */
#define X2APIC_IRR2 0x822
#define X2APIC_SELF_IPI 0x83f

volatile uint32_t apic_count[3];
void apic_stub_50(void);
void apic_stub_55(void);
void apic_stub_60(void);
__asm__(".text\n"
	".align 8\n.globl apic_stub_50\napic_stub_50:\n\tlock incl apic_count\n\tiretl\n"
	".align 8\n.globl apic_stub_55\napic_stub_55:\n\tlock incl apic_count+4\n\tiretl\n"
	".align 8\n.globl apic_stub_60\napic_stub_60:\n\tlock incl apic_count+8\n\tiretl\n");

static uint64_t msr_or_fault(uint32_t msr)
{
	uint64_t v = 0;
	uint32_t err;
	return rdmsr_safe(msr, &v, &err) ? 0xdeadull : v;
}

static void apic_snapshot(void)
{
	fold((uint32_t)msr_or_fault(X2APIC_ISR2));
	fold((uint32_t)msr_or_fault(X2APIC_ISR3));
	fold((uint32_t)msr_or_fault(X2APIC_IRR2));
	fold((uint32_t)msr_or_fault(X2APIC_PPR));
	fold((uint32_t)msr_or_fault(X2APIC_TPR));
	for (int i = 0; i < 3; i++)
		fold(apic_count[i]);
}

static int eoi(uint64_t v)
{
	uint32_t err;
	return wrmsr_safe(X2APIC_EOI, v, &err);
}

static void self_ipi(uint8_t vector)
{
	uint32_t err;
	wrmsr_safe(X2APIC_SELF_IPI, vector, &err);
}

static void take_interrupts(void)
{
	__asm__ volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
}

static void apic_part(void)
{
	uint64_t base;
	uint32_t err;
	digest = 2166136261u;
	if (rdmsr_safe(0x1b, &base, &err) || !(cpuid(1, 0).ecx & (1u << 21))) {
		printf("fastcheck: apic no x2APIC\n");
		return;
	}
	pic_mask_all();
	idt_set_gate(0x50, apic_stub_50);
	idt_set_gate(0x55, apic_stub_55);
	idt_set_gate(0x60, apic_stub_60);
	int f = wrmsr_safe(0x1b, base | (1u << 10), &err); /* x2APIC mode */
	f |= wrmsr_safe(X2APIC_SVR, 0x1ff, &err);
	check(!f, "x2APIC mode: fault");
	/* nothing in service: an EOI changes nothing (the fast path enters again at once) */
	for (int i = 0; i < 20; i++)
		fold((uint32_t)eoi(0));
	/* one edge vector in service, nothing waiting: the fast path's EOI */
	self_ipi(0x50);
	take_interrupts();
	apic_snapshot();
	fold((uint32_t)eoi(0));
	apic_snapshot();
	for (int i = 0; i < 20; i++) { /* a few more, for the fast path to count */
		self_ipi(0x50);
		take_interrupts();
		fold((uint32_t)eoi(0));
	}
	apic_snapshot();
	/* 0x60 nested in 0x50, 0x55 waiting below: retiring 0x60 lets nothing through */
	self_ipi(0x50);
	take_interrupts();
	self_ipi(0x60);
	take_interrupts();
	self_ipi(0x55);
	take_interrupts();
	apic_snapshot();
	fold((uint32_t)eoi(1)); /* reserved bits: #GP */
	fold((uint32_t)eoi(0));
	apic_snapshot();
	/* retiring 0x50 lets 0x55 through: the slow path's */
	fold((uint32_t)eoi(0));
	take_interrupts();
	apic_snapshot();
	fold((uint32_t)eoi(0));
	/* TPR holds 0x55 back; lowered, it lets it through */
	wrmsr_safe(X2APIC_TPR, 0x60, &err);
	self_ipi(0x55);
	take_interrupts();
	apic_snapshot();
	wrmsr_safe(X2APIC_TPR, 0, &err);
	take_interrupts();
	apic_snapshot();
	fold((uint32_t)eoi(0));
	apic_snapshot();
	printf("fastcheck: apic counts %u %u %u digest %08x\n", apic_count[0], apic_count[1],
	       apic_count[2], digest);
}

void guest_main(void)
{
	cpuid_part();
	msr_part();
	pio_part();
	apic_part();
}

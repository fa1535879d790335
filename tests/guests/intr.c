/*
 * intr: external-interrupt delivery and HLT wake-up through the hypervisor's
 * interrupt hypercalls (kernel/vm/exit.h):
 *   HC_RAISE_IRQ (1): EBX = vector 32..255, one external interrupt for this vCPU;
 *   HC_TIMER_IRQ (2): EBX = vector, ECX = microseconds, the same after that delay.
 * Results in EAX: 0 ok, -1000 unknown call, -22 bad argument.
 *
 * Delivery follows the rules for a real external interrupt (SDM Vol. 3A §6.8.1,
 * §6.8.3): only with EFLAGS.IF=1 and outside the one-instruction STI shadow;
 * pending while IF=0; HLT with IF=1 resumes on it. There is no APIC: no EOI.
 *
 * On bare QEMU the hypercalls raise #UD: each step then fails its check and is
 * skipped without enabling interrupts (the BIOS's PIC/PIT would otherwise
 * deliver IRQ 0 on vector 8).
 */
#include "guest.h"

const char guest_name[] = "intr";

#define HC_RAISE_IRQ 1
#define HC_TIMER_IRQ 2
#define HC_EINVAL ((uint32_t)-22)

#define VEC_A 0x40
#define VEC_B 0x41
#define VEC_C 0x42

#define TIMER_US 2000

/* One counter per test vector, bumped by the stubs below. */
volatile uint32_t intr_count[3];

void intr_stub_a(void);
void intr_stub_b(void);
void intr_stub_c(void);

/* Interrupt-gate handlers: INC changes only flags, which IRET restores. */
__asm__(".text\n"
	".align 8\n"
	".globl intr_stub_a\n"
	"intr_stub_a:\n\t"
	"lock incl intr_count\n\t"
	"iretl\n"
	".align 8\n"
	".globl intr_stub_b\n"
	"intr_stub_b:\n\t"
	"lock incl intr_count+4\n\t"
	"iretl\n"
	".align 8\n"
	".globl intr_stub_c\n"
	"intr_stub_c:\n\t"
	"lock incl intr_count+8\n\t"
	"iretl\n");

static void idt_install(void)
{
	idt_set_gate(VEC_A, intr_stub_a);
	idt_set_gate(VEC_B, intr_stub_b);
	idt_set_gate(VEC_C, intr_stub_c);
	printf("intr: IDT 256 entries, gates 0x%x 0x%x 0x%x\n", VEC_A, VEC_B, VEC_C);
}

static bool amd;

/* One hypercall; false (with a check failure) when it faulted or did not return 0. */
static bool hc_ok(const char *what, uint32_t nr, uint32_t a0, uint32_t a1)
{
	uint32_t ret = 0, err = 0;
	int fault = hypercall_safe(amd, nr, a0, a1, 0, &ret, &err);

	if (!check(!fault, "%s: hypercall %u raised vector %d", what, nr, fault - 1))
		return false;
	return check(ret == 0, "%s: hypercall %u returned %d, want 0", what, nr, (int32_t)ret);
}

static void sum_counts(uint32_t out[3])
{
	for (int i = 0; i < 3; i++)
		out[i] = intr_count[i];
}

/* Step 2: a raised interrupt waits while IF=0 and arrives after the STI shadow. */
static void test_masked(void)
{
	__asm__ volatile("cli" ::: "memory");
	if (!hc_ok("masked raise", HC_RAISE_IRQ, VEC_A, 0))
		return;
	for (volatile uint32_t i = 0; i < 5000; i++)
		;
	check(intr_count[0] == 0, "vector 0x%x delivered with IF=0 (count %u)", VEC_A,
	      intr_count[0]);

	uint32_t in_shadow, after;
	/* The MOV right after STI runs in the STI shadow: no interrupt before it. */
	__asm__ volatile("sti\n\t"
			 "movl intr_count, %0\n\t"
			 "nop\n\t"
			 "nop\n\t"
			 "movl intr_count, %1\n\t"
			 "cli"
			 : "=&r"(in_shadow), "=r"(after)
			 :
			 : "memory");
	printf("intr: masked raise: count in STI shadow %u, after %u\n", in_shadow, after);
	check(in_shadow == 0, "vector 0x%x delivered inside the STI shadow", VEC_A);
	check(after == 1, "pending vector 0x%x: count %u after sti; nop; nop, want 1", VEC_A,
	      after);
}

/* Step 3: with IF=1 the interrupt arrives as soon as the hypercall returns. */
static void test_immediate(void)
{
	uint32_t count;

	__asm__ volatile("sti" ::: "memory");
	bool ok = hc_ok("immediate raise", HC_RAISE_IRQ, VEC_B, 0);
	__asm__ volatile("nop\n\tnop" ::: "memory");
	count = intr_count[1];
	__asm__ volatile("cli" ::: "memory");
	if (!ok)
		return;
	printf("intr: immediate raise: count %u\n", count);
	check(count == 1, "vector 0x%x with IF=1: count %u right after the hypercall, want 1",
	      VEC_B, count);
	check(intr_count[0] == 1, "vector 0x%x delivered again (count %u)", VEC_A, intr_count[0]);
}

/* Step 4: HLT with IF=1 wakes on the timer interrupt. */
static void test_hlt_wake(void)
{
	__asm__ volatile("cli" ::: "memory");
	uint64_t t0 = rdtsc_ordered();
	if (!hc_ok("timer", HC_TIMER_IRQ, VEC_C, TIMER_US))
		return;
	uint32_t before = intr_count[2];
	/* One statement: the STI shadow keeps the interrupt from landing before HLT. */
	__asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
	uint64_t t1 = rdtsc_ordered();
	uint64_t delta = t1 - t0;
	printf("intr: hlt wake: count %u (before %u), tsc delta %llu\n", intr_count[2], before,
	       (unsigned long long)delta);
	check(before == 0, "timer vector 0x%x delivered with IF=0 before HLT", VEC_C);
	check(intr_count[2] == 1, "HLT woke with vector 0x%x count %u, want 1", VEC_C,
	      intr_count[2]);
	check(t1 > t0, "TSC did not advance across the %u us HLT (delta %llu)", TIMER_US,
	      (unsigned long long)delta);
}

/* Step 5: a vector below 32 is refused and delivers nothing. */
static void test_bad_vector(void)
{
	uint32_t before[3], after[3], ret = 0, err = 0;

	sum_counts(before);
	int fault = hypercall_safe(amd, HC_RAISE_IRQ, 5, 0, 0, &ret, &err);
	if (!check(!fault, "raise vector 5: hypercall raised vector %d", fault - 1))
		return;
	printf("intr: raise vector 5 -> %d\n", (int32_t)ret);
	check(ret == HC_EINVAL, "raise vector 5 returned %d, want -22", (int32_t)ret);
	/* Open an interrupt window: a wrongly queued vector 5 would land in the
	 * runtime's exception handler and end the run with a FAIL. */
	__asm__ volatile("sti\n\tnop\n\tnop\n\tnop\n\tcli" ::: "memory");
	sum_counts(after);
	check(after[0] == before[0] && after[1] == before[1] && after[2] == before[2],
	      "refused raise delivered an interrupt (counts %u %u %u -> %u %u %u)", before[0],
	      before[1], before[2], after[0], after[1], after[2]);
}

void guest_main(void)
{
	amd = cpu_vendor() == VENDOR_AMD;
	printf("intr: using %s\n", amd ? "vmmcall" : "vmcall");
	idt_install();

	/* Probe first: without our hypervisor nothing may enable interrupts (the
	 * BIOS's PIT would deliver IRQ 0 on vector 8, an exception vector). */
	uint32_t ver = 0, err = 0;
	int fault = hypercall_safe(amd, 0 /* HC_VERSION */, 0, 0, 0, &ver, &err);
	if (!check(!fault, "hypercalls unavailable: version call raised vector %d (not under our hypervisor?)",
		   fault - 1))
		return;
	printf("intr: hypervisor ABI version %u\n", ver);

	test_masked();
	test_immediate();
	test_hlt_wake();
	test_bad_vector();
	__asm__ volatile("cli" ::: "memory");
}

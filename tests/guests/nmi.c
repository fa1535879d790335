/*
 * nmi: non-maskable interrupts through the local APIC and the IOAPIC, as the
 * architecture defines them (SDM Vol. 3A §6.7.1, §6.8.1, §11.6.1; APM Vol. 2
 * §8.2.2), one vCPU:
 *   - an NMI IPI to the vCPU's own APIC ID (physical), and with the self and
 *     all-including-self shorthands, is taken on vector 2; all-excluding-self
 *     reaches nobody;
 *   - it is taken with EFLAGS.IF=0;
 *   - an NMI sent from inside the NMI handler waits for the handler's IRET
 *     (no nesting) and is then taken exactly once; two sent from inside give
 *     exactly one more (one is latched, the rest merge);
 *   - an IOAPIC entry in NMI delivery mode (the PIT's pin 2) wakes `cli; hlt`;
 *   - a storm of self-NMIs, each taken before the next is sent, counts right
 *     and leaves the guest running;
 *   - in x2APIC mode (where CPUID offers it), the same IPIs through the ICR MSR.
 * Nothing here needs our hypervisor: on bare hardware or QEMU it passes too.
 */
#include "apic.h"
#include "guest.h"

const char guest_name[] = "nmi";

#define ICR_NMI (4u << 8)
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)
#define ICR_ALL (2u << 18)
#define ICR_OTHERS (3u << 18)
#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_ICR 0x830

#define PIT_PIN 2 /* ISA IRQ 0 on IOAPIC pin 2, as a PC's MADT says */

#define STORM 10000
#define WAIT_SPINS 2000000u

/* Bumped by the handler; what the handler does is chosen by nmi_mode. */
volatile uint32_t nmi_count;
static volatile uint32_t depth, max_depth, sends_in_handler, count_before_iret;
static volatile enum { PLAIN, SEND_ONE, SEND_TWO } nmi_mode;
static volatile uint32_t handler_eflags;
static bool x2apic;
static uint32_t apic_id;

void nmi_stub(void);
void nmi_handler(void);

/* The NMI gate (an interrupt gate: IF cleared inside, as for any interrupt). */
__asm__(".text\n"
	".align 8\n"
	".globl nmi_stub\n"
	"nmi_stub:\n\t"
	"pushal\n\t"
	"cld\n\t"
	"call nmi_handler\n\t"
	"popal\n\t"
	"iretl\n");

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

/* An NMI IPI: shorthand (0 = none: physical destination `dest`). */
static void send_nmi(uint32_t shorthand, uint32_t dest)
{
	uint32_t lo = ICR_NMI | ICR_ASSERT | shorthand;
	if (x2apic) {
		wrmsr(MSR_X2APIC_ICR, (uint64_t)dest << 32 | lo);
	} else {
		lapic_write(LAPIC_ICR_HI, dest << 24);
		lapic_write(LAPIC_ICR_LO, lo);
	}
}

/* check(), with a PASS line for each expectation met as well. */
#define expect(ok, ...)                                                                            \
	do {                                                                                       \
		if (ok) {                                                                          \
			printf("nmi: PASS: ");                                                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		} else {                                                                           \
			check(false, __VA_ARGS__);                                                 \
		}                                                                                  \
	} while (0)

static void send_self_nmi(void)
{
	send_nmi(0, apic_id);
}

void nmi_handler(void)
{
	uint32_t flags;
	__asm__ volatile("pushfl; popl %0" : "=r"(flags));
	handler_eflags = flags;
	uint32_t d = ++depth;
	if (d > max_depth)
		max_depth = d;
	uint32_t n = ++nmi_count;
	if (n == 1 && nmi_mode != PLAIN) {
		send_self_nmi();
		sends_in_handler++;
		if (nmi_mode == SEND_TWO) {
			send_self_nmi();
			sends_in_handler++;
		}
		/* time for a wrongly nested NMI to land before our IRET */
		for (volatile uint32_t i = 0; i < 20000; i++)
			;
		count_before_iret = nmi_count;
	}
	depth--;
}

/* Spins until nmi_count reaches `want` (or a bound); returns the count. */
static uint32_t wait_count(uint32_t want)
{
	for (uint32_t i = 0; i < WAIT_SPINS && nmi_count < want; i++)
		__asm__ volatile("pause");
	return nmi_count;
}

/* Spins a while to let anything extra arrive. */
static void settle(void)
{
	for (volatile uint32_t i = 0; i < 50000; i++)
		;
}

static void reset_counts(void)
{
	nmi_count = depth = max_depth = sends_in_handler = count_before_iret = 0;
	nmi_mode = PLAIN;
}

static uint32_t eflags(void)
{
	uint32_t f;
	__asm__ volatile("pushfl; popl %0" : "=r"(f));
	return f;
}

/* One NMI per IPI, for each way of naming ourselves. */
static void test_ipis(const char *mode)
{
	static const struct {
		const char *name;
		uint32_t shorthand;
	} ways[] = {{"physical own ID", 0}, {"shorthand self", ICR_SELF},
		    {"all including self", ICR_ALL}};

	for (unsigned i = 0; i < sizeof(ways) / sizeof(ways[0]); i++) {
		reset_counts();
		send_nmi(ways[i].shorthand, apic_id);
		uint32_t got = wait_count(1);
		settle();
		expect(got == 1 && nmi_count == 1, "%s: NMI IPI (%s): count %u, want 1", mode,
		      ways[i].name, nmi_count);
	}
	reset_counts();
	send_nmi(ICR_OTHERS, 0);
	settle();
	expect(nmi_count == 0, "%s: all-excluding-self reached this vCPU (count %u)", mode, nmi_count);
	printf("nmi: %s: IPIs ok so far (%d failures)\n", mode, check_failures());
}

static void test_if_clear(void)
{
	reset_counts();
	__asm__ volatile("cli" ::: "memory");
	send_self_nmi();
	uint32_t got = wait_count(1);
	expect(got == 1, "NMI with IF=0: count %u, want 1", got);
	expect(!(handler_eflags & (1u << 9)), "NMI handler ran with IF set (eflags %x)",
	      handler_eflags);
	expect(!(eflags() & (1u << 9)), "IF set after the NMI's IRET");
}

static void test_sent_from_handler(unsigned how_many)
{
	reset_counts();
	nmi_mode = how_many == 1 ? SEND_ONE : SEND_TWO;
	send_self_nmi();
	uint32_t got = wait_count(2);
	settle();
	settle();
	printf("nmi: %u sent from the handler: count %u, before the handler's IRET %u, "
	       "max depth %u\n", how_many, nmi_count, count_before_iret, max_depth);
	expect(sends_in_handler == how_many, "handler sent %u NMIs, want %u", sends_in_handler,
	      how_many);
	expect(count_before_iret == 1, "%u NMI(s) sent in the handler: taken before its IRET "
	      "(count %u there, want 1)", how_many, count_before_iret);
	expect(max_depth == 1, "NMI handler nested (depth %u)", max_depth);
	expect(got == 2 && nmi_count == 2, "%u NMI(s) sent in the handler: count %u after its "
	      "IRET, want 2", how_many, nmi_count);
	nmi_mode = PLAIN;
}

/* The IOAPIC's NMI delivery mode, from the PIT, wakes a HLT with IF=0. */
static void test_hlt_wake(void)
{
	reset_counts();
	pic_mask_all(); /* the PIT reaches only the IOAPIC */
	/* pin 2: NMI delivery, physical destination, edge, unmasked (82093AA §3.2.4) */
	ioapic_set_pin(PIT_PIN, IOAPIC_REDIR_NMI, apic_id);
	/* PIT channel 0, mode 0: OUT rises once the count (20 ms) runs out */
	uint16_t count = 23864;
	outb(0x43, 0x30);
	outb(0x40, (uint8_t)count);
	outb(0x40, (uint8_t)(count >> 8));
	__asm__ volatile("cli; hlt" ::: "memory");
	uint32_t got = nmi_count;
	ioapic_mask_pin(PIT_PIN);
	printf("nmi: cli; hlt woke with count %u\n", got);
	expect(got == 1, "IOAPIC NMI woke cli; hlt with count %u, want 1", got);
}

static void test_storm(void)
{
	reset_counts();
	uint32_t sent = 0, late = 0;
	for (uint32_t i = 0; i < STORM; i++) {
		send_self_nmi();
		sent++;
		if (wait_count(sent) != sent)
			late++;
	}
	settle();
	printf("nmi: storm: sent %u, taken %u, late %u\n", sent, nmi_count, late);
	expect(nmi_count == sent, "NMI storm: %u taken for %u sent", nmi_count, sent);
	expect(max_depth == 1, "NMI storm: handler nested (depth %u)", max_depth);
}

static bool enter_x2apic(void)
{
	if (!(cpuid(1, 0).ecx & (1u << 21)))
		return false;
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 10) | (1u << 11));
	x2apic = true;
	apic_id = (uint32_t)rdmsr(MSR_X2APIC_ID);
	return true;
}

void guest_main(void)
{
	__asm__ volatile("cli" ::: "memory");
	idt_set_gate(2, nmi_stub);
	lapic_enable(0xff);
	apic_id = lapic_id();
	printf("nmi: APIC ID %u, xAPIC mode\n", apic_id);

	test_ipis("xAPIC");
	test_if_clear();
	test_sent_from_handler(1);
	test_sent_from_handler(2);
	test_hlt_wake();
	test_storm();
	if (enter_x2apic()) {
		printf("nmi: x2APIC mode, ID %u\n", apic_id);
		test_ipis("x2APIC");
		test_sent_from_handler(2);
	} else {
		printf("nmi: no x2APIC: its checks skipped\n");
	}
	__asm__ volatile("cli" ::: "memory");
}

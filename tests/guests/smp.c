/*
 * Many vCPUs: the MADT lists them, INIT and STARTUP IPIs start them, and
 * each one sees its own place in the topology.
 *
 * The BSP reads the MADT (Processor Local APIC and Processor Local x2APIC
 * entries), turns its local APIC to x2APIC mode and starts every other
 * APIC ID with INIT, STARTUP, STARTUP sent to that ID alone (physical
 * destination, so each message crosses the VM's APIC bus on its own). The
 * APs come up in real mode at the trampoline, switch to 32-bit protected
 * mode, take a stack and run ap_main: CPUID leaf 0xB names their x2APIC ID
 * and the topology's count, leaf 1 the same ID's low byte and a count,
 * and their local APIC (x2APIC mode, MSR 0x802) the same ID again. Each AP
 * records what it found; the BSP checks that every ID of the MADT came up
 * exactly once, with no disagreement, and within a bounded time.
 *
 * Options: cpus=N, the vCPUs the VM file gives (the MADT must list that
 * many).
 */
#include "guest.h"

const char guest_name[] = "smp";

#define MAX_CPUS 512 /* the hypervisor's VCPU_MAX */
#define AP_STACK 2048
#define TRAMPOLINE 0x8000u /* SIPI vector 0x08: below 1 MiB, free of the loader's data */

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN (1u << 11)
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_ICR 0x830
#define ICR_INIT 0x00004500u /* INIT, assert, physical */
#define ICR_STARTUP 0x00004600u
#define PM_TIMER 0x608 /* ACPI PM timer: 3.579545 MHz, 24 bits at least */

/* What each AP found, indexed by its x2APIC ID (0: not come up). */
enum { AP_NONE, AP_OK, AP_BAD_TOPO, AP_BAD_LEAF1, AP_BAD_APIC, AP_TWICE };
static volatile uint8_t ap_state[MAX_CPUS];
static volatile uint32_t ap_detail[MAX_CPUS];
static volatile uint32_t ap_up;	  /* APs that finished ap_main */
volatile uint32_t ap_next;	  /* stacks handed out (the trampoline takes one each) */
static uint32_t expected;
static struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) bsp_idtr;
char ap_stacks[MAX_CPUS][AP_STACK] __attribute__((aligned(16)));

static uint32_t apic_ids[MAX_CPUS];
static unsigned ncpus_madt;

/*
 * The AP trampoline, copied to TRAMPOLINE: real mode, then protected mode
 * with its own flat GDT (selectors 0x08 code, 0x10 data, as the runtime's),
 * then a stack of its own and ap_entry.
 */
__asm__(".section .text\n"
	".globl tramp_start, tramp_end\n"
	".code16\n"
	"tramp_start:\n"
	"	cli\n"
	"	xorw %ax, %ax\n"
	"	movw %ax, %ds\n"
	"	lgdtl (0x8000 + tramp_gdtr - tramp_start)\n"
	"	movl %cr0, %eax\n"
	"	orl $1, %eax\n"
	"	movl %eax, %cr0\n"
	"	ljmpl $0x08, $(0x8000 + tramp_32 - tramp_start)\n"
	".code32\n"
	"tramp_32:\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	movw %ax, %fs\n"
	"	movw %ax, %gs\n"
	"	movl $1, %eax\n"
	"	lock xaddl %eax, ap_next\n"
	"	incl %eax\n"
	"	imull $2048, %eax\n"
	"	leal ap_stacks(%eax), %esp\n"
	"	movl $ap_entry, %eax\n"
	"	call *%eax\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp 1b\n"
	"	.balign 8\n"
	"tramp_gdt:\n"
	"	.quad 0\n"
	"	.quad 0x00cf9a000000ffff\n"
	"	.quad 0x00cf92000000ffff\n"
	"tramp_gdtr:\n"
	"	.word 23\n"
	"	.long 0x8000 + tramp_gdt - tramp_start\n"
	"tramp_end:\n");
extern const char tramp_start[], tramp_end[];

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void ap_record(uint32_t id, uint8_t state, uint32_t detail)
{
	if (id >= MAX_CPUS)
		return;
	if (__atomic_exchange_n(&ap_state[id], state, __ATOMIC_SEQ_CST) != AP_NONE)
		ap_state[id] = AP_TWICE;
	ap_detail[id] = detail;
	__atomic_fetch_add(&ap_up, 1, __ATOMIC_SEQ_CST);
}

void ap_entry(void);
void ap_entry(void)
{
	__asm__ volatile("lidt %0" : : "m"(bsp_idtr)); /* the runtime's exception gates */
	struct cpuid_regs t0 = cpuid(0xb, 0), t1 = cpuid(0xb, 1), l1 = cpuid(1, 0);
	uint32_t id = t0.edx;
	if (t1.edx != id || (t1.ebx & 0xffff) != expected || (t1.ecx >> 8 & 0xff) != 2) {
		ap_record(id, AP_BAD_TOPO, t1.ebx);
		return;
	}
	uint32_t count = l1.ebx >> 16 & 0xff;
	if ((l1.ebx >> 24) != (id & 0xff) || count != (expected > 255 ? 255 : expected)) {
		ap_record(id, AP_BAD_LEAF1, l1.ebx);
		return;
	}
	/* an AP's local APIC starts in xAPIC mode: this one goes to x2APIC, as the BSP did */
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
	uint32_t apic_id = (uint32_t)rdmsr(MSR_X2APIC_ID);
	if (apic_id != id) {
		ap_record(id, AP_BAD_APIC, apic_id);
		return;
	}
	ap_record(id, AP_OK, 0);
}

/* ---- ACPI: the MADT's processors ---- */

static int memcmp_(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

static bool sum_ok(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static const uint8_t *find_rsdp(void)
{
	for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
		if (memcmp_((const void *)a, "RSD PTR ", 8) == 0 && sum_ok((const void *)a, 20))
			return (const uint8_t *)a;
	return NULL;
}

static const uint8_t *find_madt(void)
{
	const uint8_t *rsdp = find_rsdp();
	if (!rsdp)
		return NULL;
	const uint8_t *rsdt = (const uint8_t *)*(const uint32_t *)(rsdp + 16);
	uint32_t len = *(const uint32_t *)(rsdt + 4);
	for (uint32_t off = 36; off + 4 <= len; off += 4) {
		const uint8_t *t = (const uint8_t *)*(const uint32_t *)(rsdt + off);
		if (memcmp_(t, "APIC", 4) == 0)
			return t;
	}
	return NULL;
}

static void read_madt(void)
{
	const uint8_t *m = find_madt();
	if (!check(m != NULL, "no MADT (APIC) in the RSDT"))
		return;
	uint32_t len = *(const uint32_t *)(m + 4);
	check(sum_ok(m, len), "MADT checksum");
	unsigned lapics = 0, x2apics = 0;
	for (uint32_t off = 44; off + 2 <= len;) {
		const uint8_t *e = m + off;
		if (e[1] < 2 || off + e[1] > len) {
			check(false, "MADT entry at %u has length %u", off, e[1]);
			break;
		}
		uint32_t id = ~0u, flags = 0;
		if (e[0] == 0 && e[1] == 8) { /* Processor Local APIC */
			id = e[3];
			flags = *(const uint32_t *)(e + 4);
			lapics++;
			check(e[2] == id, "local APIC %u has UID %u", id, e[2]);
		} else if (e[0] == 9 && e[1] == 16) { /* Processor Local x2APIC */
			id = *(const uint32_t *)(e + 4);
			flags = *(const uint32_t *)(e + 8);
			x2apics++;
			/* ACPI 6.5 §5.2.12.12: IDs below 255 use the Local APIC structure */
			check(id >= 255, "x2APIC entry for ID %u (below 255)", id);
			check(*(const uint32_t *)(e + 12) == id, "x2APIC %u has UID %u", id,
			      *(const uint32_t *)(e + 12));
		}
		if (id != ~0u && (flags & 1) && ncpus_madt < MAX_CPUS)
			apic_ids[ncpus_madt++] = id;
		off += e[1];
	}
	printf("smp: MADT lists %u processors (%u local APIC, %u local x2APIC entries)\n",
	       ncpus_madt, lapics, x2apics);
}

/* Guest time in PM-timer ticks, kept 64-bit across the 24-bit counter's wraps. */
static uint64_t pm_now(void)
{
	static uint32_t last;
	static uint64_t total;
	uint32_t v = inl(PM_TIMER) & 0xffffff;
	total += (v - last) & 0xffffff;
	last = v;
	return total;
}

void guest_main(void)
{
	expected = (uint32_t)opt_u64("cpus", 1);
	__asm__ volatile("sidt %0" : "=m"(bsp_idtr));
	read_madt();
	check(ncpus_madt == expected, "the MADT lists %u processors, the VM has %u", ncpus_madt,
	      expected);

	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | APIC_BASE_EXTD);
	uint32_t self = (uint32_t)rdmsr(MSR_X2APIC_ID);
	struct cpuid_regs t1 = cpuid(0xb, 1);
	check(self == 0 && cpuid(0xb, 0).edx == 0, "the BSP's x2APIC ID is %u", self);
	check((t1.ebx & 0xffff) == expected, "leaf 0xB counts %u vCPUs, not %u", t1.ebx & 0xffff,
	      expected);

	memcpy((void *)TRAMPOLINE, tramp_start, (size_t)(tramp_end - tramp_start));
	pm_now();
	uint64_t t0 = pm_now();
	for (unsigned i = 0; i < ncpus_madt; i++) {
		if (apic_ids[i] == self)
			continue;
		wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_ids[i] << 32 | ICR_INIT);
		wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_ids[i] << 32 | ICR_STARTUP | (TRAMPOLINE >> 12));
		wrmsr(MSR_X2APIC_ICR, (uint64_t)apic_ids[i] << 32 | ICR_STARTUP | (TRAMPOLINE >> 12));
	}
	/* at most 60 s of guest time for all of them */
	uint32_t want = ncpus_madt ? ncpus_madt - 1 : 0;
	while (__atomic_load_n(&ap_up, __ATOMIC_SEQ_CST) < want && pm_now() - t0 < 60ull * 3579545)
		__asm__ volatile("pause");
	uint64_t ms = udiv64((pm_now() - t0) * 1000, 3579545, NULL);
	printf("smp: %u of %u APs up in %u ms\n", ap_up, want, (unsigned)ms);
	check(ap_up == want, "only %u of %u APs came up", ap_up, want);

	unsigned ok = 0;
	for (unsigned i = 0; i < ncpus_madt; i++) {
		uint32_t id = apic_ids[i];
		if (id == self || id >= MAX_CPUS)
			continue;
		switch (ap_state[id]) {
		case AP_OK:
			ok++;
			break;
		case AP_NONE:
			check(false, "APIC %u never came up", id);
			break;
		case AP_BAD_TOPO:
			check(false, "APIC %u: leaf 0xB says EBX 0x%x", id, ap_detail[id]);
			break;
		case AP_BAD_LEAF1:
			check(false, "APIC %u: leaf 1 EBX 0x%x", id, ap_detail[id]);
			break;
		case AP_BAD_APIC:
			check(false, "APIC %u: its x2APIC ID register reads %u", id, ap_detail[id]);
			break;
		default:
			check(false, "APIC %u came up twice", id);
		}
	}
	printf("smp: %u vCPUs checked their topology (x2APIC ID, leaf 0xB, leaf 1)\n", ok + 1);
}

#include "kernel/panic.h"
#include "kernel/console/screen.h"

#include <stdarg.h>

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/percpu.h"
#include "kernel/hvexit.h"
#include "kernel/ksyms.h"
#include "kernel/log.h"

static volatile int panicking;

bool panic_in_progress(void)
{
	return panicking;
}

static const char *const exception_names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved (15)",
    "#MF x87 floating point",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating point",
    "#VE virtualization exception",
    "#CP control protection",
    "reserved (22)",
    "reserved (23)",
    "reserved (24)",
    "reserved (25)",
    "reserved (26)",
    "reserved (27)",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security exception",
    "reserved (31)",
};

/*
 * Stops the other CPUs with an NMI (it cannot be masked, so a core spinning
 * with interrupts off stops too) and lets this one print undisturbed.
 * Returns false if another CPU is already panicking.
 */
static bool stop_other_cpus(void)
{
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST))
		return false;
	if (lapic_ready())
		lapic_send_nmi_all_but_self();
	for (volatile int i = 0; i < 1000000; i++)
		cpu_relax();
	log_break_lock();
	return true;
}

static __attribute__((noreturn)) void halt_forever(void)
{
	for (;;) {
		irq_disable();
		halt();
	}
}

static __attribute__((noreturn)) void finish(void)
{
	printk("hv: all CPUs stopped\n");
	screen_flush_now(); /* the operator at the screen sees the panic too */
	hv_exit_status(3);
	halt_forever();
}

static unsigned cpu_index_or_zero(void)
{
	/* GS is not set up in the first moments of boot */
	return rdmsr(MSR_GS_BASE) ? this_cpu()->index : 0;
}

void panic(const char *fmt, ...)
{
	irq_disable();
	if (!stop_other_cpus())
		halt_forever();
	va_list ap;
	va_start(ap, fmt);
	printk("\n*** hv panic on CPU %u: ", cpu_index_or_zero());
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	finish();
}

static bool stack_address_ok(uint64_t a)
{
	/* frame pointers live on a kernel stack, below 4 GiB, 8-byte aligned */
	return a && !(a & 7) && a < (4ull << 30) && a >= 0x1000;
}

static void print_frame(uint64_t addr, unsigned repeats)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);
	if (name)
		printk("  %#llx %s+%#llx", (unsigned long long)addr, name, (unsigned long long)off);
	else
		printk("  %#llx", (unsigned long long)addr);
	if (repeats > 1)
		printk(" (%u times)", repeats);
	printk("\n");
}

static void backtrace(uint64_t rip, uint64_t rbp)
{
	uint64_t last = rip;
	unsigned repeats = 1;

	printk("backtrace:\n");
	for (int depth = 0; depth < 4096 && stack_address_ok(rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (!ret)
			break;
		if (ret == last) {
			repeats++; /* runaway recursion: one line, with a count */
		} else {
			print_frame(last, repeats);
			last = ret;
			repeats = 1;
		}
		if (frame[0] <= rbp)
			break; /* frames grow upwards; anything else is a broken chain */
		rbp = frame[0];
	}
	print_frame(last, repeats);
}

void panic_exception(const struct trap_frame *f)
{
	if (!stop_other_cpus())
		halt_forever();
	unsigned v = (unsigned)f->vector;
	uint32_t apic = lapic_ready() ? lapic_id() : 0;

	printk("\n*** hv: fatal exception %s (vector %u) on CPU %u (APIC ID %u), error code %#llx\n",
	       v < 32 ? exception_names[v] : "interrupt", v, cpu_index_or_zero(), apic,
	       (unsigned long long)f->error_code);
	printk("RIP %016llx CS %04llx RFLAGS %016llx\n", (unsigned long long)f->rip,
	       (unsigned long long)f->cs, (unsigned long long)f->rflags);
	printk("RSP %016llx SS %04llx\n", (unsigned long long)f->rsp, (unsigned long long)f->ss);
	printk("RAX %016llx RBX %016llx RCX %016llx\n", (unsigned long long)f->rax,
	       (unsigned long long)f->rbx, (unsigned long long)f->rcx);
	printk("RDX %016llx RSI %016llx RDI %016llx\n", (unsigned long long)f->rdx,
	       (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	printk("RBP %016llx R8  %016llx R9  %016llx\n", (unsigned long long)f->rbp,
	       (unsigned long long)f->r8, (unsigned long long)f->r9);
	printk("R10 %016llx R11 %016llx R12 %016llx\n", (unsigned long long)f->r10,
	       (unsigned long long)f->r11, (unsigned long long)f->r12);
	printk("R13 %016llx R14 %016llx R15 %016llx\n", (unsigned long long)f->r13,
	       (unsigned long long)f->r14, (unsigned long long)f->r15);
	printk("CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx\n",
	       (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
	       (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	backtrace(f->rip, f->rbp);
	finish();
}

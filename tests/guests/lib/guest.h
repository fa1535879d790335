/*
 * The test guests' runtime: what every guest in tests/guests/ links against.
 *
 * A guest is a 32-bit multiboot1 kernel (entered with paging off, flat
 * segments, EAX=0x2BADB002, EBX=multiboot info). The runtime copies what it
 * needs out of the multiboot information before main runs (a guest may
 * overwrite its RAM), installs its own GDT and an IDT that catches every
 * exception, and reports the verdict on COM1 and through the exit port.
 *
 * A guest defines `const char guest_name[]` and `void guest_main(void)`;
 * guest_main calls check() for each expectation and returns. The runtime
 * then prints "GUEST NAME: PASS" (exit code 0) or "GUEST NAME: FAIL <first
 * failure>" (exit code 1).
 */
#ifndef GUEST_LIB_GUEST_H
#define GUEST_LIB_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes written to the debug-exit port (QEMU exits with (code << 1) | 1). */
#define GUEST_EXIT_PASS 0
#define GUEST_EXIT_FAIL 1
#define GUEST_EXIT_EXCEPTION 2 /* an exception nobody expected */
#define GUEST_EXIT_BAD_BOOT 3  /* not entered by a multiboot1 loader */

#define GUEST_EXIT_PORT 0xf4
#define GUEST_COM1 0x3f8

/* Exception vectors a test may expect (SDM Vol. 3A §6.15). */
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

/* The guest's own view of its boot, copied out of the multiboot information. */
#define GUEST_MMAP_MAX 32
#define GUEST_CMDLINE_MAX 512

struct guest_mmap_entry {
	uint64_t base, len;
	uint32_t type; /* 1 = usable RAM */
};

struct guest_boot {
	uint32_t info_flags;
	uint32_t mem_lower, mem_upper; /* KiB, valid when info_flags bit 0 */
	char cmdline[GUEST_CMDLINE_MAX];
	struct guest_mmap_entry mmap[GUEST_MMAP_MAX];
	int mmap_count;
	int mod_count;
	uint32_t mod_start, mod_end; /* the first module, if any */
	/* The highest byte (exclusive) of anything the loader handed us above 1 MiB. */
	uint32_t loader_data_end;
	char loader_name[32];
	uint32_t info_addr; /* where EBX pointed: the multiboot information */
};

extern struct guest_boot boot;
extern const char guest_name[];	/* defined by each guest */
void guest_main(void);		/* defined by each guest */

/* Linker-script symbols: the loaded image and the end of its BSS. */
extern char __image_start[], __image_end[];

/* Port I/O. */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* RDTSC that does not start before earlier instructions finish (LFENCE, SDM Vol. 2B RDTSC). */
static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Serial output (COM1, polled) and a small printf: %d %u %x %s %c %p %%, width,
 * '0' and '-' flags, and the l / ll length modifiers. */
void putc_serial(char c);
void puts_serial(const char *s);
int vprintf_serial(const char *fmt, va_list ap);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Verdicts. check() prints a line for a failed expectation and remembers the
 * first one; the runtime turns the count into PASS or FAIL when main returns. */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int check_failures(void);
__attribute__((noreturn)) void guest_exit(uint8_t code);
__attribute__((noreturn, format(printf, 1, 2))) void guest_fail_now(const char *fmt, ...);

/* Command-line options: "name" or "name=value", space separated. */
bool opt_present(const char *name);
/* Copies the value of "name=value"; false when absent or too long. */
bool opt_str(const char *name, char *out, size_t size);
/* Decimal or 0x-hex value of "name=value", or def when absent or malformed. */
uint64_t opt_u64(const char *name, uint64_t def);

/* CPU identity. */
enum cpu_vendor { VENDOR_OTHER, VENDOR_INTEL, VENDOR_AMD };
enum cpu_vendor cpu_vendor(void);
/* The 12-character vendor string of CPUID leaf 0 (terminated). */
void cpu_vendor_string(char out[13]);

/*
 * Faults a test expects: each helper runs one instruction with the exception
 * handler armed to skip it. They return 0 when the instruction completed, or
 * the vector + 1 of the exception it raised, with its error code in *err.
 */
int rdmsr_safe(uint32_t msr, uint64_t *val, uint32_t *err);

/*
 * The catch those helpers arm, for a guest's own inline assembly: clear
 * vector, store the resume label's address in resume, set armed, run the
 * instruction, clear armed at the label. A fault resumes at the label with
 * the registers as the fault left them; vector is then its number + 1, error
 * its error code, cr2 the faulting address of a #PF.
 */
struct guest_fault_catch {
	volatile uint32_t armed;
	uint32_t resume;
	volatile uint32_t vector;	/* vector + 1 once caught */
	volatile uint32_t error;
	volatile uint32_t cr2;
};
extern struct guest_fault_catch fault_catch;
int wrmsr_safe(uint32_t msr, uint64_t val, uint32_t *err);
/* XSETBV: XCR[index] = val (needs CR4.OSXSAVE, else #UD). */
int xsetbv_safe(uint32_t index, uint64_t val, uint32_t *err);
/* XGETBV of XCR0 (needs CR4.OSXSAVE). */
static inline uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}
/* VMCALL (Intel) or VMMCALL (AMD) with EAX = nr, EBX/ECX/EDX = a0..a2; EAX back in *ret. */
int hypercall_safe(bool amd, uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t *ret,
		   uint32_t *err);

/* Loads an IDT register with this base and limit (the triple-fault guest uses it). */
void load_idt(uint32_t base, uint16_t limit);

/*
 * An interrupt gate (present, DPL 0, 32-bit, IF cleared on entry) for
 * `vector`. The runtime's own IDT covers only the 32 exception vectors: the
 * first call moves to a 256-entry one holding those exception gates and no
 * others, so any vector without a gate raises #NP.
 */
void idt_set_gate(uint8_t vector, void (*handler)(void));

/* The runtime's own memset/memcpy (there is no C library). */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* 64-bit unsigned division: the guests link without libgcc. */
uint64_t udiv64(uint64_t n, uint64_t d, uint64_t *rem);

#endif

/*
 * The test guests' runtime: boot-information copy, COM1 output with a small
 * printf, verdicts and the exit port, command-line options, the IDT and the
 * fault-catching helpers. See guest.h.
 */
#include "guest.h"

#define MB1_BOOT_MAGIC 0x2badb002	/* EAX at entry, Multiboot spec 0.6.96 §3.2 */

/* Multiboot information flags and layout (Multiboot spec 0.6.96 §3.3). */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

struct mb_mmap {
	uint32_t size;	/* of the rest of this entry */
	uint64_t base, len;
	uint32_t type;
} __attribute__((packed));

struct mb_module {
	uint32_t start, end, string, reserved;
} __attribute__((packed));

struct guest_boot boot;

/* ---- freestanding helpers the compiler may call ---- */

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

uint64_t udiv64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	if (d == 0) {
		if (rem)
			*rem = 0;
		return ~0ull;
	}
	for (int bit = 63; bit >= 0; bit--) {
		r = (r << 1) | ((n >> bit) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << bit;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

/* libgcc's names, for a plain '/' or '%' on 64-bit values. */
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return udiv64(n, d, NULL);
}
uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;
	udiv64(n, d, &r);
	return r;
}

/* ---- COM1 ---- */

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_LSR_THRE 0x20

static void serial_init(void)
{
	outb(GUEST_COM1 + UART_IER, 0x00);
	outb(GUEST_COM1 + UART_LCR, 0x80);	/* DLAB: divisor 1 = 115200 baud */
	outb(GUEST_COM1 + 0, 0x01);
	outb(GUEST_COM1 + 1, 0x00);
	outb(GUEST_COM1 + UART_LCR, 0x03);	/* 8n1 */
	outb(GUEST_COM1 + UART_FCR, 0x07);	/* FIFOs on and cleared */
	outb(GUEST_COM1 + UART_MCR, 0x03);	/* DTR, RTS */
}

void putc_serial(char c)
{
	/* Bounded wait: a broken UART model must not hang the guest silently. */
	for (uint32_t spin = 0; spin < 10000000u; spin++)
		if (inb(GUEST_COM1 + UART_LSR) & UART_LSR_THRE)
			break;
	outb(GUEST_COM1 + UART_THR, (uint8_t)c);
}

void puts_serial(const char *s)
{
	while (*s) {
		if (*s == '\n')
			putc_serial('\r');
		putc_serial(*s++);
	}
}

/* ---- printf ---- */

struct sink {
	char *buf;	/* NULL: to the serial port */
	size_t size, len;
};

static void sink_put(struct sink *s, char c)
{
	if (!s->buf) {
		if (c == '\n')
			putc_serial('\r');
		putc_serial(c);
	} else if (s->len + 1 < s->size) {
		s->buf[s->len] = c;
	}
	s->len++;
}

static void put_padded(struct sink *s, const char *digits, size_t n, int width, bool zero,
		       bool left, bool neg)
{
	int pad = width - (int)n - (neg ? 1 : 0);

	if (neg && zero)
		sink_put(s, '-');
	if (!left)
		for (; pad > 0; pad--)
			sink_put(s, zero ? '0' : ' ');
	if (neg && !zero)
		sink_put(s, '-');
	for (size_t i = 0; i < n; i++)
		sink_put(s, digits[i]);
	for (; pad > 0; pad--)
		sink_put(s, ' ');
}

static void format_to(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		bool zero = false, left = false;
		int width = 0, longs = 0;
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		if (*fmt == 'z')
			fmt++;	/* size_t is 32 bits here */

		char tmp[24];
		size_t n = 0;
		uint64_t v;
		bool neg = false;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t sv = longs >= 2 ? va_arg(ap, int64_t)
						: (int64_t)va_arg(ap, int32_t);
			neg = sv < 0;
			v = neg ? (uint64_t)0 - (uint64_t)sv : (uint64_t)sv;
			goto decimal;
		}
		case 'u':
			v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
decimal:
			do {
				uint64_t r;
				v = udiv64(v, 10, &r);
				tmp[n++] = (char)('0' + r);
			} while (v);
			goto reverse;
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			v = (uint32_t)va_arg(ap, void *);
			goto hex;
		case 'x':
		case 'X':
			v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
hex:
			do {
				tmp[n++] = "0123456789abcdef"[v & 15];
				v >>= 4;
			} while (v);
reverse:
			for (size_t i = 0; i < n / 2; i++) {
				char t = tmp[i];
				tmp[i] = tmp[n - 1 - i];
				tmp[n - 1 - i] = t;
			}
			put_padded(s, tmp, n, width, zero && !left, left, neg);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			put_padded(s, str, str_len(str), width, false, left, false);
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(s, tmp, 1, width, false, left, false);
			break;
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default:
			sink_put(s, '%');
			sink_put(s, *fmt);
			break;
		}
	}
}

int vprintf_serial(const char *fmt, va_list ap)
{
	struct sink s = { 0 };
	format_to(&s, fmt, ap);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf_serial(fmt, ap);
	va_end(ap);
	return n;
}

static int vsnprintf_buf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };
	format_to(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf_buf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- verdicts and exit ---- */

static int failures;
static char first_failure[128];

__attribute__((noreturn)) void guest_exit(uint8_t code)
{
	outb(GUEST_EXIT_PORT, code);
	/* No exit device: park the CPU. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

bool check(bool ok, const char *fmt, ...)
{
	if (ok)
		return true;
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf_buf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("%s: check failed: %s\n", guest_name, line);
	if (failures++ == 0)
		memcpy(first_failure, line, sizeof(line));
	return false;
}

int check_failures(void)
{
	return failures;
}

__attribute__((noreturn)) void guest_fail_now(const char *fmt, ...)
{
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf_buf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("GUEST %s: FAIL %s\n", guest_name, line);
	guest_exit(GUEST_EXIT_FAIL);
}

/* ---- command-line options ---- */

/* Finds "name" or "name=..." as a whole word; returns the value (after '=') or
 * the end of the word, with *has_value saying which. */
static const char *opt_find(const char *name, bool *has_value)
{
	size_t nlen = str_len(name);
	const char *p = boot.cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		size_t wlen = (size_t)(p - word);
		if (wlen < nlen)
			continue;
		bool same = true;
		for (size_t i = 0; i < nlen; i++)
			if (word[i] != name[i])
				same = false;
		if (!same)
			continue;
		if (wlen == nlen) {
			*has_value = false;
			return p;
		}
		if (word[nlen] == '=') {
			*has_value = true;
			return word + nlen + 1;
		}
	}
	return NULL;
}

bool opt_present(const char *name)
{
	bool has_value;
	return opt_find(name, &has_value) != NULL;
}

bool opt_str(const char *name, char *out, size_t size)
{
	bool has_value;
	const char *v = opt_find(name, &has_value);
	size_t n = 0;

	if (!v || !has_value || size == 0)
		return false;
	while (v[n] && v[n] != ' ') {
		if (n + 1 >= size)
			return false;
		out[n] = v[n];
		n++;
	}
	out[n] = '\0';
	return true;
}

uint64_t opt_u64(const char *name, uint64_t def)
{
	char s[24];
	uint64_t v = 0;
	const char *p = s;
	unsigned base = 10;

	if (!opt_str(name, s, sizeof(s)) || !s[0])
		return def;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return def;
	}
	for (; *p; p++) {
		unsigned digit;
		if (*p >= '0' && *p <= '9')
			digit = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			digit = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			digit = (unsigned)(*p - 'A' + 10);
		else
			return def;
		v = v * base + digit;
	}
	return v;
}

/* ---- CPU identity ---- */

void cpu_vendor_string(char out[13])
{
	struct cpuid_regs r = cpuid(0, 0);
	memcpy(out, &r.ebx, 4);
	memcpy(out + 4, &r.edx, 4);
	memcpy(out + 8, &r.ecx, 4);
	out[12] = '\0';
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

enum cpu_vendor cpu_vendor(void)
{
	char v[13];
	cpu_vendor_string(v);
	if (str_eq(v, "GenuineIntel"))
		return VENDOR_INTEL;
	if (str_eq(v, "AuthenticAMD") || str_eq(v, "HygonGenuine"))
		return VENDOR_AMD;
	return VENDOR_OTHER;
}

/* ---- IDT and exceptions ---- */

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t zero, type_attr;
	uint16_t offset_hi;
} __attribute__((packed));

struct exception_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* pushal */
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

extern const uint32_t exception_stubs[32];
static struct idt_gate idt[32] __attribute__((aligned(8)));

/* One armed catch at a time: the helpers below (and guests, see guest.h) arm it. */
struct guest_fault_catch fault_catch;

void load_idt(uint32_t base, uint16_t limit)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = { limit, base };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* A present, DPL 0, 32-bit interrupt gate to `off` in the flat code segment. */
static void gate_init(struct idt_gate *g, uint32_t off)
{
	g->offset_lo = (uint16_t)off;
	g->offset_hi = (uint16_t)(off >> 16);
	g->selector = 0x08;
	g->zero = 0;
	g->type_attr = 0x8e;
}

static void idt_init(void)
{
	for (int v = 0; v < 32; v++)
		gate_init(&idt[v], exception_stubs[v]);
	load_idt((uint32_t)idt, sizeof(idt) - 1);
}

/*
 * The full-size IDT idt_set_gate switches to: the exception gates above plus
 * the guest's interrupt gates. Vectors without a gate stay not-present, so a
 * stray interrupt shows up as #NP (SDM Vol. 3A §6.12.1).
 */
static struct idt_gate idt_full[256] __attribute__((aligned(8)));
static bool idt_full_loaded;

void idt_set_gate(uint8_t vector, void (*handler)(void))
{
	if (!idt_full_loaded)
		memcpy(idt_full, idt, sizeof(idt));
	gate_init(&idt_full[vector], (uint32_t)handler);
	if (!idt_full_loaded) {
		load_idt((uint32_t)idt_full, sizeof(idt_full) - 1);
		idt_full_loaded = true;
	}
}

void guest_exception(struct exception_frame *f);
void guest_exception(struct exception_frame *f)
{
	if (fault_catch.armed) {
		fault_catch.armed = 0;
		fault_catch.vector = f->vector + 1;
		fault_catch.error = f->error;
		if (f->vector == VEC_PF) {
			uint32_t cr2;
			__asm__ volatile("movl %%cr2, %0" : "=r"(cr2));
			fault_catch.cr2 = cr2;
		}
		f->eip = fault_catch.resume;
		return;
	}
	printf("%s: unexpected exception %u (error 0x%x) at eip 0x%08x\n", guest_name, f->vector,
	       f->error, f->eip);
	printf("GUEST %s: FAIL unexpected exception %u at 0x%08x\n", guest_name, f->vector, f->eip);
	guest_exit(GUEST_EXIT_EXCEPTION);
}

static int caught(uint32_t *err)
{
	int v = (int)fault_catch.vector;
	if (err)
		*err = v ? fault_catch.error : 0;
	return v;
}

/*
 * Each helper stores the address of the label after the instruction as the
 * resume point, arms the catch, runs the instruction and disarms: a fault
 * lands on the label with the catch recording the vector.
 */
int rdmsr_safe(uint32_t msr, uint64_t *val, uint32_t *err)
{
	uint32_t lo = 0, hi = 0;

	fault_catch.vector = 0;
	__asm__ volatile("movl $1f, %[resume]\n\t"
			 "movl $1, %[armed]\n\t"
			 "rdmsr\n"
			 "1:\tmovl $0, %[armed]"
			 : "+a"(lo), "+d"(hi), [resume] "=m"(fault_catch.resume),
			   [armed] "=m"(fault_catch.armed)
			 : "c"(msr)
			 : "memory");
	*val = ((uint64_t)hi << 32) | lo;
	return caught(err);
}

int wrmsr_safe(uint32_t msr, uint64_t val, uint32_t *err)
{
	fault_catch.vector = 0;
	__asm__ volatile("movl $1f, %[resume]\n\t"
			 "movl $1, %[armed]\n\t"
			 "wrmsr\n"
			 "1:\tmovl $0, %[armed]"
			 : [resume] "=m"(fault_catch.resume), [armed] "=m"(fault_catch.armed)
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
	return caught(err);
}

int xsetbv_safe(uint32_t index, uint64_t val, uint32_t *err)
{
	fault_catch.vector = 0;
	__asm__ volatile("movl $1f, %[resume]\n\t"
			 "movl $1, %[armed]\n\t"
			 ".byte 0x0f, 0x01, 0xd1\n" /* XSETBV */
			 "1:\tmovl $0, %[armed]"
			 : [resume] "=m"(fault_catch.resume), [armed] "=m"(fault_catch.armed)
			 : "c"(index), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "memory");
	return caught(err);
}

int hypercall_safe(bool amd, uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t *ret,
		   uint32_t *err)
{
	uint32_t eax = nr, ebx = a0, ecx = a1, edx = a2;

	fault_catch.vector = 0;
	if (amd)
		__asm__ volatile("movl $1f, %[resume]\n\t"
				 "movl $1, %[armed]\n\t"
				 ".byte 0x0f, 0x01, 0xd9\n"	/* VMMCALL */
				 "1:\tmovl $0, %[armed]"
				 : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx),
				   [resume] "=m"(fault_catch.resume),
				   [armed] "=m"(fault_catch.armed)
				 :
				 : "memory");
	else
		__asm__ volatile("movl $1f, %[resume]\n\t"
				 "movl $1, %[armed]\n\t"
				 ".byte 0x0f, 0x01, 0xc1\n"	/* VMCALL */
				 "1:\tmovl $0, %[armed]"
				 : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx),
				   [resume] "=m"(fault_catch.resume),
				   [armed] "=m"(fault_catch.armed)
				 :
				 : "memory");
	*ret = eax;
	return caught(err);
}

/* ---- boot ---- */

static void note_loader_data(uint32_t start, uint32_t len)
{
	uint32_t end = start + len;
	if (start >= 0x100000 && end > boot.loader_data_end)
		boot.loader_data_end = end;
}

static void copy_string(char *dst, size_t size, uint32_t src)
{
	const char *s = (const char *)src;
	size_t n = 0;
	while (s[n] && n + 1 < size) {
		dst[n] = s[n];
		n++;
	}
	dst[n] = '\0';
	note_loader_data(src, (uint32_t)str_len(s) + 1);
}

/* Copies what the guests use out of the multiboot information, which lives in
 * RAM the ram guest is about to overwrite. */
static void boot_info_copy(const struct mb_info *mbi)
{
	boot.info_flags = mbi->flags;
	boot.info_addr = (uint32_t)mbi;
	note_loader_data((uint32_t)mbi, sizeof(*mbi));
	if (mbi->flags & MBI_MEM) {
		boot.mem_lower = mbi->mem_lower;
		boot.mem_upper = mbi->mem_upper;
	}
	if (mbi->flags & MBI_CMDLINE)
		copy_string(boot.cmdline, sizeof(boot.cmdline), mbi->cmdline);
	if (mbi->flags & MBI_LOADER_NAME)
		copy_string(boot.loader_name, sizeof(boot.loader_name), mbi->boot_loader_name);
	if (mbi->flags & MBI_MMAP) {
		uint32_t p = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
		note_loader_data(mbi->mmap_addr, mbi->mmap_length);
		while (p + sizeof(struct mb_mmap) <= end && boot.mmap_count < GUEST_MMAP_MAX) {
			const struct mb_mmap *e = (const struct mb_mmap *)p;
			boot.mmap[boot.mmap_count].base = e->base;
			boot.mmap[boot.mmap_count].len = e->len;
			boot.mmap[boot.mmap_count].type = e->type;
			boot.mmap_count++;
			p += e->size + 4;	/* "size" does not count itself */
		}
	}
	if ((mbi->flags & MBI_MODS) && mbi->mods_count) {
		const struct mb_module *m = (const struct mb_module *)mbi->mods_addr;
		boot.mod_count = (int)mbi->mods_count;
		boot.mod_start = m[0].start;
		boot.mod_end = m[0].end;
		note_loader_data(mbi->mods_addr, mbi->mods_count * (uint32_t)sizeof(*m));
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			note_loader_data(m[i].start, m[i].end - m[i].start);
			if (m[i].string)
				note_loader_data(m[i].string,
						 (uint32_t)str_len((const char *)m[i].string) + 1);
		}
	}
}

void guest_runtime_start(uint32_t magic, uint32_t info);
__attribute__((noreturn)) void guest_runtime_start(uint32_t magic, uint32_t info)
{
	serial_init();
	idt_init();
	if (magic != MB1_BOOT_MAGIC) {
		printf("GUEST %s: FAIL entered with EAX=0x%08x, not the multiboot1 magic\n",
		       guest_name, magic);
		guest_exit(GUEST_EXIT_BAD_BOOT);
	}
	boot_info_copy((const struct mb_info *)info);
	printf("%s: start, cmdline \"%s\"\n", guest_name, boot.cmdline);

	guest_main();

	if (failures) {
		printf("GUEST %s: FAIL %s\n", guest_name, first_failure);
		guest_exit(GUEST_EXIT_FAIL);
	}
	printf("GUEST %s: PASS\n", guest_name);
	guest_exit(GUEST_EXIT_PASS);
}

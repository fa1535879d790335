/*
 * strio: instructions that the hypervisor must decode and emulate itself.
 *
 * String port I/O: REP OUTSB/OUTSW/OUTSD and INSB/INSW/INSD to COM1's
 * scratch register (port 0x3ff) and, in loopback, through its receive FIFO
 * (order and direction visible); a zero count; DF=1; 16-bit addressing in
 * 32-bit code (the 0x67 prefix: SI, DI, CX, the upper halves untouched).
 * Faults: with paging on, INS into a page that is not present and into a
 * read-only page, OUTS from a page that is not present, and REP MOVSD from
 * the IOAPIC into a missing page: each a #PF with the architectural error
 * code and CR2, the REP stopped after the elements before it.
 * MMIO forms on the IOAPIC (IOREGSEL at 0xfec00000, IOWIN at +0x10; Intel
 * 82093AA datasheet §3.0): BT with an immediate and with a register offset
 * that moves the address, BTS, XCHG, LOCK CMPXCHG both ways, INC, REP MOVSD
 * from and to the register window, REP STOSD to it, LODSD from it.
 */
#include "guest.h"

const char guest_name[] = "strio";

#define COM1_RBR 0x3f8
#define COM1_FCR 0x3fa
#define COM1_MCR 0x3fc
#define COM1_LSR 0x3fd
#define COM1_SCR 0x3ff
#define MCR_LOOP 0x10

#define IOAPIC 0xfec00000u
#define IOREGSEL ((volatile uint32_t *)IOAPIC)
#define IOWIN ((volatile uint32_t *)(IOAPIC + 0x10))
#define IOAPIC_VERSION 0x00170011u	/* 24 pins, version 0x11 */

/* The registers a string instruction uses, in and out, and what it raised. */
struct sx {
	uint32_t eax, esi, edi, ecx;
	uint32_t vector, error, cr2;	/* vector + 1, 0 when none */
};

/*
 * Runs one instruction (a string) with the fault catch armed; DX is the
 * port. The label after it is where a fault resumes; DF is cleared there.
 */
#define RUN(s, port, text)                                                                    \
	do {                                                                                  \
		fault_catch.vector = 0;                                                       \
		__asm__ volatile("movl $1f, %[resume]\n\t"                                    \
				 "movl $1, %[armed]\n\t" text "\n"                            \
				 "1:\tmovl $0, %[armed]\n\t"                                  \
				 "cld"                                                        \
				 : "+a"((s)->eax), "+S"((s)->esi), "+D"((s)->edi),            \
				   "+c"((s)->ecx), [resume] "=m"(fault_catch.resume),         \
				   [armed] "=m"(fault_catch.armed)                            \
				 : "d"((uint16_t)(port))                                      \
				 : "memory", "cc");                                           \
		(s)->vector = fault_catch.vector;                                             \
		(s)->error = fault_catch.error;                                               \
		(s)->cr2 = fault_catch.cr2;                                                   \
	} while (0)

static uint8_t scr(void)
{
	return inb(COM1_SCR);
}

/* ---- string port I/O ---- */

static void check_scratch_bytes(void)
{
	static const uint8_t src[3] = { 0x11, 0x22, 0x33 };
	uint8_t dst[6] = { 0 };
	struct sx s = { .esi = (uint32_t)src, .ecx = 3 };

	RUN(&s, COM1_SCR, "rep outsb");
	check(scr() == 0x33, "rep outsb: scratch 0x%02x, want 0x33", scr());
	check(s.esi == (uint32_t)(src + 3) && s.ecx == 0, "rep outsb: esi +%d ecx %u",
	      (int)(s.esi - (uint32_t)src), s.ecx);

	s = (struct sx){ .edi = (uint32_t)(dst + 1), .ecx = 4 };
	RUN(&s, COM1_SCR, "rep insb");
	check(dst[0] == 0 && dst[1] == 0x33 && dst[4] == 0x33 && dst[5] == 0,
	      "rep insb: %02x %02x .. %02x %02x", dst[0], dst[1], dst[4], dst[5]);
	check(s.edi == (uint32_t)(dst + 5) && s.ecx == 0, "rep insb: edi +%d ecx %u",
	      (int)(s.edi - (uint32_t)dst), s.ecx);
}

static void check_scratch_words_dwords(void)
{
	static const uint16_t w[2] = { 0x1144, 0x2255 };
	static const uint32_t d[3] = { 0xa1b2c366, 0xa1b2c377, 0xa1b2c388 };
	uint16_t win[3] = { 0, 0, 0xeeee };
	uint32_t din[2] = { 0, 0 };
	struct sx s = { .esi = (uint32_t)w, .ecx = 2 };

	RUN(&s, COM1_SCR, "rep outsw");
	check(scr() == 0x55 && s.esi == (uint32_t)(w + 2) && s.ecx == 0,
	      "rep outsw: scratch 0x%02x esi +%d", scr(), (int)(s.esi - (uint32_t)w));
	s = (struct sx){ .edi = (uint32_t)win, .ecx = 2 };
	RUN(&s, COM1_SCR, "rep insw");
	/* the scratch register is one byte: the low byte of each word is what it holds */
	check((win[0] & 0xff) == 0x55 && (win[1] & 0xff) == 0x55 && win[2] == 0xeeee &&
		      s.edi == (uint32_t)(win + 2),
	      "rep insw: %04x %04x %04x", win[0], win[1], win[2]);

	s = (struct sx){ .esi = (uint32_t)d, .ecx = 3 };
	RUN(&s, COM1_SCR, "rep outsl");
	check(scr() == 0x88 && s.esi == (uint32_t)(d + 3), "rep outsd: scratch 0x%02x", scr());
	s = (struct sx){ .edi = (uint32_t)din, .ecx = 1 };
	RUN(&s, COM1_SCR, "rep insl");
	check((din[0] & 0xff) == 0x88 && din[1] == 0 && s.edi == (uint32_t)(din + 1),
	      "rep insd: %08x %08x", din[0], din[1]);

	/* without REP: one element, ECX untouched */
	s = (struct sx){ .esi = (uint32_t)d, .ecx = 0x1234 };
	RUN(&s, COM1_SCR, "outsl");
	check(scr() == 0x66 && s.ecx == 0x1234 && s.esi == (uint32_t)(d + 1),
	      "outsd: scratch 0x%02x ecx 0x%x", scr(), s.ecx);
}

static void check_zero_count(void)
{
	static const uint8_t src[1] = { 0x99 };
	uint8_t dst[2] = { 0x5a, 0x5a };
	struct sx s = { .esi = (uint32_t)src, .ecx = 0 };

	outb(COM1_SCR, 0x42);
	RUN(&s, COM1_SCR, "rep outsb");
	check(scr() == 0x42 && s.esi == (uint32_t)src, "rep outsb, ecx=0: scratch 0x%02x", scr());
	s = (struct sx){ .edi = (uint32_t)dst, .ecx = 0 };
	RUN(&s, COM1_SCR, "rep insb");
	check(dst[0] == 0x5a && s.edi == (uint32_t)dst, "rep insb, ecx=0 wrote 0x%02x", dst[0]);
}

static void check_df_set(void)
{
	static const uint8_t src[3] = { 0x01, 0x02, 0x03 };
	uint8_t dst[4] = { 0, 0, 0, 0 };
	struct sx s = { .esi = (uint32_t)(src + 2), .ecx = 3 };

	RUN(&s, COM1_SCR, "std\n\trep outsb");
	check(scr() == 0x01 && s.esi == (uint32_t)src - 1 && s.ecx == 0,
	      "std; rep outsb: scratch 0x%02x esi %d", scr(), (int)(s.esi - (uint32_t)src));
	s = (struct sx){ .edi = (uint32_t)(dst + 2), .ecx = 2 };
	RUN(&s, COM1_SCR, "std\n\trep insb");
	check(dst[3] == 0 && dst[2] == 1 && dst[1] == 1 && dst[0] == 0 && s.edi == (uint32_t)dst,
	      "std; rep insb: %02x %02x %02x %02x", dst[0], dst[1], dst[2], dst[3]);
}

/* Loopback: what THR sends lands in the receive FIFO, in order (16550 MCR bit 4). */
static void check_loopback_fifo(void)
{
	static const char msg[] = "STRING";
	char fwd[7] = { 0 }, back[7] = { 0 };
	uint8_t mcr = inb(COM1_MCR);
	struct sx a = { .esi = (uint32_t)msg, .ecx = 6 };
	struct sx b = { .edi = (uint32_t)fwd, .ecx = 6 };
	struct sx c = { .esi = (uint32_t)(msg + 5), .ecx = 6 };
	struct sx d = { .edi = (uint32_t)back, .ecx = 6 };

	/* nothing is printed until the loop is off again: it would land in the FIFO */
	outb(COM1_MCR, mcr | MCR_LOOP);
	outb(COM1_FCR, 0x07);	/* FIFOs on, both cleared */
	RUN(&a, COM1_RBR, "rep outsb");
	RUN(&b, COM1_RBR, "rep insb");
	RUN(&c, COM1_RBR, "std\n\trep outsb");
	RUN(&d, COM1_RBR, "rep insb");
	uint8_t lsr = inb(COM1_LSR);
	outb(COM1_MCR, mcr);

	check(fwd[0] == 'S' && fwd[5] == 'G' && fwd[6] == 0, "loopback: read \"%s\"", fwd);
	check(back[0] == 'G' && back[5] == 'S', "loopback, DF=1: read \"%s\"", back);
	check(!(lsr & 1), "loopback: data still ready after reading all (LSR 0x%02x)", lsr);
}

static void check_addr16(void)
{
	/* 67 rep outsb / insb in 32-bit code: SI, DI and CX, below 64 KiB */
	volatile uint8_t *low = (volatile uint8_t *)0x7000;
	struct sx s = { .esi = 0x12340000u | 0x7000, .ecx = 0xabcd0003u };

	low[0] = 0x61;
	low[1] = 0x62;
	low[2] = 0x63;
	low[0x10] = 0;
	low[0x13] = 0xee;
	RUN(&s, COM1_SCR, ".byte 0x67, 0xf3, 0x6e");
	check(scr() == 0x63, "addr16 rep outsb: scratch 0x%02x", scr());
	check(s.esi == 0x12347003u && s.ecx == 0xabcd0000u,
	      "addr16 rep outsb: esi 0x%08x ecx 0x%08x", s.esi, s.ecx);
	s = (struct sx){ .edi = 0x56780000u | 0x7010, .ecx = 0xffff0003u };
	RUN(&s, COM1_SCR, ".byte 0x67, 0xf3, 0x6c");
	check(low[0x10] == 0x63 && low[0x12] == 0x63 && low[0x13] == 0xee,
	      "addr16 rep insb: %02x %02x %02x", low[0x10], low[0x12], low[0x13]);
	check(s.edi == 0x56787013u && s.ecx == 0xffff0000u,
	      "addr16 rep insb: edi 0x%08x ecx 0x%08x", s.edi, s.ecx);
}

/* ---- MMIO on the IOAPIC ---- */

static void check_ioapic_bits(void)
{
	uint8_t cf;
	uint32_t off;

	*IOREGSEL = 1;
	__asm__ volatile("btl $0, %1; setc %0" : "=q"(cf) : "m"(*IOWIN) : "cc");
	check(cf == 1, "bt $0 on the version register: CF %u", cf);
	__asm__ volatile("btl $1, %1; setc %0" : "=q"(cf) : "m"(*IOWIN) : "cc");
	check(cf == 0, "bt $1 on the version register: CF %u", cf);
	__asm__ volatile("btl $48, %1; setc %0" : "=q"(cf) : "m"(*IOWIN) : "cc");
	check(cf == 1, "bt $48 (= 16) on the version register: CF %u", cf);
	/* a register offset of -128 reaches IOREGSEL 16 bytes below IOWIN */
	off = (uint32_t)-128;
	__asm__ volatile("btl %2, %1; setc %0" : "=q"(cf) : "m"(*IOWIN), "r"(off) : "cc");
	check(cf == 1, "bt -128 from IOWIN (IOREGSEL bit 0): CF %u", cf);
	off = (uint32_t)-127;
	__asm__ volatile("btl %2, %1; setc %0" : "=q"(cf) : "m"(*IOWIN), "r"(off) : "cc");
	check(cf == 0, "bt -127 from IOWIN (IOREGSEL bit 1): CF %u", cf);
	*IOREGSEL = 0;
	__asm__ volatile("lock btsl $1, %1; setc %0" : "=q"(cf), "+m"(*IOREGSEL) : : "cc");
	check(cf == 0 && *IOREGSEL == 2, "lock bts $1 on IOREGSEL: CF %u, now %u", cf,
	      *IOREGSEL);
	__asm__ volatile("btrl $1, %1; setc %0" : "=q"(cf), "+m"(*IOREGSEL) : : "cc");
	check(cf == 1 && *IOREGSEL == 0, "btr $1 on IOREGSEL: CF %u, now %u", cf, *IOREGSEL);
}

static void check_ioapic_exchange(void)
{
	uint32_t eax = 0x12, ecx = 0x13;
	uint8_t zf;

	*IOREGSEL = 2;
	__asm__ volatile("xchgl %0, %1" : "+r"(eax), "+m"(*IOREGSEL));
	check(eax == 2 && *IOREGSEL == 0x12, "xchg with IOREGSEL: got %u, now 0x%x", eax,
	      *IOREGSEL);
	eax = 0x12;
	__asm__ volatile("lock cmpxchgl %3, %1; setz %0"
			 : "=q"(zf), "+m"(*IOREGSEL), "+a"(eax)
			 : "r"(ecx)
			 : "cc");
	check(zf == 1 && *IOREGSEL == 0x13 && eax == 0x12,
	      "lock cmpxchg (equal): ZF %u, IOREGSEL 0x%x, eax 0x%x", zf, *IOREGSEL, eax);
	eax = 0x99;
	ecx = 0x44;
	__asm__ volatile("lock cmpxchgl %3, %1; setz %0"
			 : "=q"(zf), "+m"(*IOREGSEL), "+a"(eax)
			 : "r"(ecx)
			 : "cc");
	check(zf == 0 && *IOREGSEL == 0x13 && eax == 0x13,
	      "lock cmpxchg (unequal): ZF %u, IOREGSEL 0x%x, eax 0x%x", zf, *IOREGSEL, eax);
	__asm__ volatile("incl %0" : "+m"(*IOREGSEL) : : "cc");
	check(*IOREGSEL == 0x14, "inc IOREGSEL: 0x%x", *IOREGSEL);
}

static uint32_t ioapic_reg(uint32_t index)
{
	*IOREGSEL = index;
	return *IOWIN;
}

static void check_ioapic_strings(void)
{
	uint32_t buf[9];
	struct sx s;

	/* rep movsd from the page: IOREGSEL, three undecoded dwords, IOWIN, ... */
	for (int i = 0; i < 9; i++)
		buf[i] = 0x5a5a5a5a;
	*IOREGSEL = 1;
	s = (struct sx){ .esi = IOAPIC, .edi = (uint32_t)buf, .ecx = 8 };
	RUN(&s, 0, "rep movsl");
	check(buf[0] == 1 && buf[4] == IOAPIC_VERSION && buf[8] == 0x5a5a5a5a,
	      "rep movsd from the IOAPIC: %08x .. %08x .. %08x", buf[0], buf[4], buf[8]);
	check(s.esi == IOAPIC + 32 && s.ecx == 0, "rep movsd from the IOAPIC: esi 0x%x ecx %u",
	      s.esi, s.ecx);

	/* rep stosd: IOREGSEL = 0x12, then IOWIN = the same dword (pin 1, masked, vector 0x12) */
	s = (struct sx){ .eax = 0x00010012, .edi = IOAPIC, .ecx = 5 };
	RUN(&s, 0, "rep stosl");
	check(ioapic_reg(0x12) == 0x00010012 && s.edi == IOAPIC + 20,
	      "rep stosd to the IOAPIC: redirection 1 low 0x%08x", ioapic_reg(0x12));

	/* rep movsd to the page: IOREGSEL = 0x14, IOWIN = pin 2 masked with vector 0x15 */
	buf[0] = 0x14;
	buf[4] = 0x00010015;
	s = (struct sx){ .esi = (uint32_t)buf, .edi = IOAPIC, .ecx = 5 };
	RUN(&s, 0, "rep movsl");
	check(ioapic_reg(0x14) == 0x00010015, "rep movsd to the IOAPIC: redirection 2 low 0x%08x",
	      ioapic_reg(0x14));

	/* lodsd from IOWIN */
	*IOREGSEL = 1;
	s = (struct sx){ .esi = IOAPIC + 0x10 };
	RUN(&s, 0, "lodsl");
	check(s.eax == IOAPIC_VERSION && s.esi == IOAPIC + 0x14, "lodsd from IOWIN: 0x%08x",
	      s.eax);

	/* put the pins back as reset left them: masked, vector 0 */
	*IOREGSEL = 0x12;
	*IOWIN = 0x00010000;
	*IOREGSEL = 0x14;
	*IOWIN = 0x00010000;
}

/* ---- faults with paging on ---- */

#define MISSING 0x500000u	/* not present */
#define READONLY 0x501000u	/* present, read-only */

static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t page_table[1024] __attribute__((aligned(4096)));

/*
 * Identity map of 4 GiB in 4 MiB pages (CR4.PSE), except 4..8 MiB, which a
 * page table maps in 4 KiB pages with one missing and one read-only.
 */
static void paging_on(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		page_dir[i] = (i << 22) | 0x83;	/* present, writable, 4 MiB */
	for (uint32_t i = 0; i < 1024; i++)
		page_table[i] = (0x400000 + (i << 12)) | 0x3;
	page_table[(MISSING - 0x400000) >> 12] = 0;
	page_table[(READONLY - 0x400000) >> 12] &= ~2u;
	page_dir[1] = (uint32_t)page_table | 0x3;
	__asm__ volatile("movl %%cr4, %%eax; orl $0x10, %%eax; movl %%eax, %%cr4\n\t"
			 "movl %0, %%cr3\n\t"
			 "movl %%cr0, %%eax; orl $0x80010000, %%eax; movl %%eax, %%cr0"
			 :
			 : "r"(page_dir)
			 : "eax", "memory");
}

static void paging_off(void)
{
	__asm__ volatile("movl %%cr0, %%eax; andl $0x7fffffff, %%eax; movl %%eax, %%cr0"
			 :
			 :
			 : "eax", "memory");
}

static void check_page_faults(void)
{
	volatile uint8_t *below = (volatile uint8_t *)(MISSING - 2);
	struct sx s;

	paging_on();
	below[0] = below[1] = 0;
	outb(COM1_SCR, 0x7e);

	/* rep insb across into the missing page: two bytes, then #PF(W) at its start */
	s = (struct sx){ .edi = MISSING - 2, .ecx = 4 };
	RUN(&s, COM1_SCR, "rep insb");
	uint8_t b0 = below[0], b1 = below[1];

	/* rep insw into the read-only page: #PF(P|W) */
	struct sx r = { .edi = READONLY + 8, .ecx = 2 };
	RUN(&r, COM1_SCR, "rep insw");

	/* outsb from the missing page: #PF for a read (error 0) */
	struct sx o = { .esi = MISSING + 0x123, .ecx = 1 };
	RUN(&o, COM1_SCR, "rep outsb");

	/* rep movsd from the IOAPIC into the missing page: one dword, then #PF */
	*IOREGSEL = 1;
	volatile uint32_t *dw = (volatile uint32_t *)(MISSING - 4);
	*dw = 0;
	struct sx m = { .esi = IOAPIC + 0x10, .edi = MISSING - 4, .ecx = 2 };
	RUN(&m, 0, "rep movsl");
	uint32_t got = *dw;

	paging_off();

	check(s.vector == VEC_PF + 1, "rep insb into a missing page: vector %d", (int)s.vector - 1);
	check(s.cr2 == MISSING && s.error == 2, "rep insb #PF: cr2 0x%08x error 0x%x, want 0x%08x 2",
	      s.cr2, s.error, MISSING);
	check(s.edi == MISSING && s.ecx == 2, "rep insb #PF: edi 0x%08x ecx %u (want the 2 left)",
	      s.edi, s.ecx);
	check(b0 == 0x7e && b1 == 0x7e, "rep insb before the #PF: %02x %02x", b0, b1);

	check(r.vector == VEC_PF + 1 && r.cr2 == READONLY + 8 && r.error == 3 && r.ecx == 2,
	      "rep insw into a read-only page: vector %d cr2 0x%08x error 0x%x ecx %u",
	      (int)r.vector - 1, r.cr2, r.error, r.ecx);
	check(o.vector == VEC_PF + 1 && o.cr2 == MISSING + 0x123 && o.error == 0,
	      "outsb from a missing page: vector %d cr2 0x%08x error 0x%x", (int)o.vector - 1,
	      o.cr2, o.error);
	check(m.vector == VEC_PF + 1 && m.cr2 == MISSING && m.error == 2 && m.ecx == 1 &&
		      m.esi == IOAPIC + 0x14,
	      "rep movsd from the IOAPIC into a missing page: vector %d cr2 0x%08x error 0x%x "
	      "ecx %u",
	      (int)m.vector - 1, m.cr2, m.error, m.ecx);
	check(got == IOAPIC_VERSION, "rep movsd before the #PF: 0x%08x", got);
}

void guest_main(void)
{
	check_scratch_bytes();
	check_scratch_words_dwords();
	check_zero_count();
	check_df_set();
	check_loopback_fifo();
	check_addr16();
	check_ioapic_bits();
	check_ioapic_exchange();
	check_ioapic_strings();
	check_page_faults();
	printf("strio: %d checks failed\n", check_failures());
}

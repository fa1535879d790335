/*
 * uart: the COM1 16550 as a driver sees it: lines written through THR, and
 * the registers a driver programs reading back what it wrote (scratch, the
 * divisor latch behind DLAB, LCR, IER), LSR reporting the transmitter empty.
 * Register map: National Semiconductor PC16550D data sheet, Table II.
 * Every register is put back as the runtime set it (115200 8n1).
 */
#include "guest.h"

const char guest_name[] = "uart";

#define RBR_THR 0	/* DLL when LCR.DLAB */
#define IER 1		/* DLM when LCR.DLAB */
#define LCR 3
#define LSR 5
#define SCR 7
#define LCR_DLAB 0x80
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static uint8_t reg_read(int reg)
{
	return inb((uint16_t)(GUEST_COM1 + reg));
}

static void reg_write(int reg, uint8_t v)
{
	outb((uint16_t)(GUEST_COM1 + reg), v);
}

/* Waits (bounded) for the transmitter to drain; returns the last LSR seen. */
static uint8_t wait_tx_empty(void)
{
	uint8_t lsr = 0;
	for (uint32_t spin = 0; spin < 10000000u; spin++) {
		lsr = reg_read(LSR);
		if ((lsr & (LSR_THRE | LSR_TEMT)) == (LSR_THRE | LSR_TEMT))
			break;
	}
	return lsr;
}

static void check_scratch(void)
{
	static const uint8_t values[] = { 0x00, 0x5a, 0xa5, 0xff, 0x01 };
	for (unsigned i = 0; i < sizeof(values); i++) {
		reg_write(SCR, values[i]);
		uint8_t got = reg_read(SCR);
		check(got == values[i], "scratch wrote 0x%02x read 0x%02x", values[i], got);
	}
}

static void check_divisor(void)
{
	static const uint16_t divisors[] = { 0x0001, 0x000c, 0x0180, 0xa55a };
	uint8_t lcr = reg_read(LCR);

	wait_tx_empty();	/* do not change the rate under a byte in flight */
	reg_write(LCR, lcr | LCR_DLAB);
	uint16_t saved = (uint16_t)(reg_read(RBR_THR) | reg_read(IER) << 8);
	for (unsigned i = 0; i < sizeof(divisors) / sizeof(divisors[0]); i++) {
		reg_write(RBR_THR, (uint8_t)divisors[i]);
		reg_write(IER, (uint8_t)(divisors[i] >> 8));
		uint16_t got = (uint16_t)(reg_read(RBR_THR) | reg_read(IER) << 8);
		check(got == divisors[i], "divisor wrote 0x%04x read 0x%04x", divisors[i], got);
	}
	reg_write(RBR_THR, (uint8_t)saved);
	reg_write(IER, (uint8_t)(saved >> 8));
	uint8_t lcr_dlab = reg_read(LCR);
	check(lcr_dlab == (lcr | LCR_DLAB), "LCR with DLAB read 0x%02x", lcr_dlab);
	reg_write(LCR, lcr);
	printf("uart: divisor latch was 0x%04x (restored)\n", saved);
}

static void check_lcr_ier(void)
{
	/* 8n1, 7e2, 5o1 with break off, 8 mark parity: all seven low bits exercised. */
	static const uint8_t lcrs[] = { 0x03, 0x1e, 0x08, 0x2b, 0x03 };
	/* IER bits 0-3 are defined; interrupts stay masked at the CPU (IF=0). */
	static const uint8_t iers[] = { 0x01, 0x02, 0x05, 0x0f, 0x00 };

	wait_tx_empty();
	for (unsigned i = 0; i < sizeof(lcrs); i++) {
		reg_write(LCR, lcrs[i]);
		uint8_t got = reg_read(LCR);
		check(got == lcrs[i], "LCR wrote 0x%02x read 0x%02x", lcrs[i], got);
	}
	for (unsigned i = 0; i < sizeof(iers); i++) {
		reg_write(IER, iers[i]);
		uint8_t got = reg_read(IER);
		check(got == iers[i], "IER wrote 0x%02x read 0x%02x", iers[i], got);
	}
}

void guest_main(void)
{
	for (int i = 1; i <= 3; i++)
		printf("uart: line %d of 3: the quick brown fox jumps over the lazy dog\n", i);

	uint8_t lsr = wait_tx_empty();
	printf("uart: LSR 0x%02x after the lines drained\n", lsr);
	check(lsr & LSR_THRE, "LSR 0x%02x: THR not empty", lsr);
	check(lsr & LSR_TEMT, "LSR 0x%02x: transmitter not empty", lsr);

	check_scratch();
	check_divisor();
	check_lcr_ier();
	printf("uart: registers read back\n");
}

// SOURCES: guest/vuart.c kernel/lib/string.c kernel/lib/format.c
/*
 * The 16550A model driven as Linux's 8250 driver and a polling guest drive it:
 * autoconfig (scratch, loopback and FIFO probes), the startup THRE test,
 * transmit, FIFO receive with trigger levels and overrun, interrupt
 * priorities, OUT2 gating and the modem status lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest/vuart.h"

static struct vuart u;
static uint8_t txbuf[256];
static size_t txlen;
static bool irq;
static unsigned irq_rises, irq_calls;

static void tx(void *ctx, uint8_t b)
{
	assert_ptr_equal(ctx, &u);
	assert_true(txlen < sizeof(txbuf));
	txbuf[txlen++] = b;
}

static void set_irq(void *ctx, bool level)
{
	assert_ptr_equal(ctx, &u);
	assert_true(level != irq); /* only changes are reported */
	irq_calls++;
	if (level)
		irq_rises++;
	irq = level;
}

static int setup(void **state)
{
	(void)state;
	txlen = 0;
	irq = false;
	irq_rises = irq_calls = 0;
	vuart_init(&u, tx, set_irq, &u);
	return 0;
}

static uint8_t in(uint16_t off)
{
	return vuart_read(&u, off);
}

static void out(uint16_t off, uint8_t v)
{
	vuart_write(&u, off, v);
}

static size_t rx(const char *s)
{
	return vuart_receive(&u, (const uint8_t *)s, strlen(s));
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(in(VUART_IER), 0);
	assert_int_equal(in(VUART_IIR), 0x01);
	assert_int_equal(in(VUART_LCR), 0);
	assert_int_equal(in(VUART_MCR), 0);
	assert_int_equal(in(VUART_LSR), 0x60);
	assert_int_equal(in(VUART_MSR), 0xb0); /* CTS, DSR, DCD; no deltas */
	assert_int_equal(in(VUART_SCR), 0);
	assert_false(irq);
	assert_int_equal(vuart_rx_space(&u), 1);
}

/* What drivers/tty/serial/8250/8250_port.c autoconfig() does to a 16550A. */
static void test_linux_autoconfig(void **state)
{
	(void)state;
	/* IER scratch test: only the low nibble is implemented. */
	uint8_t save_ier = in(VUART_IER);
	out(VUART_IER, 0);
	uint8_t scratch2 = in(VUART_IER) & 0x0f;
	out(VUART_IER, 0x0f);
	uint8_t scratch3 = in(VUART_IER) & 0x0f;
	out(VUART_IER, save_ier);
	assert_int_equal(scratch2, 0);
	assert_int_equal(scratch3, 0x0f);

	/* Loopback test: RTS->CTS and OUT2->DCD, nothing else. */
	uint8_t save_mcr = in(VUART_MCR);
	out(VUART_MCR, VUART_MCR_LOOP | 0x0a);
	uint8_t status1 = in(VUART_MSR) & 0xf0;
	out(VUART_MCR, save_mcr);
	assert_int_equal(status1, 0x90);

	/* FIFO probe: LCR 0xbf, EFR(=FCR here) 0, then FCR enable, IIR >> 6. */
	uint8_t save_lcr = in(VUART_LCR);
	out(VUART_LCR, 0xbf);
	out(VUART_IIR, 0);
	out(VUART_LCR, 0);
	out(VUART_IIR, VUART_FCR_ENABLE);
	uint8_t scratch = in(VUART_IIR) >> 6;
	assert_int_equal(scratch, 3); /* 16550A */

	/* autoconfig_16550a: no EFR under DLAB, no divisor-latch ID. */
	out(VUART_LCR, 0x80);
	assert_int_not_equal(in(VUART_IIR), 0); /* not an ST16C650V1 */
	uint8_t dll = in(VUART_RBR), dlm = in(VUART_IER);
	out(VUART_RBR, 0);
	out(VUART_IER, 0);
	uint16_t id = (uint16_t)(in(VUART_RBR) | in(VUART_IER) << 8);
	out(VUART_RBR, dll);
	out(VUART_IER, dlm);
	assert_int_equal(id, 0);
	assert_int_equal(vuart_divisor(&u), 12);
	out(VUART_LCR, 0);
	/* The XScale UUE bit (IER bit 6) must not stick. */
	out(VUART_IER, 0x40);
	assert_int_equal(in(VUART_IER), 0);

	out(VUART_LCR, save_lcr);
	out(VUART_MCR, save_mcr);
	out(VUART_IIR, VUART_FCR_ENABLE | VUART_FCR_CLEAR_RX | VUART_FCR_CLEAR_TX);
	out(VUART_IIR, 0);
	(void)in(VUART_RBR);
	out(VUART_IER, 0);
	assert_int_equal(in(VUART_IIR), 0x01);
	assert_int_equal(txlen, 0); /* the probe never transmitted */
	assert_false(irq);
}

/* serial8250_do_startup(): THRE must re-assert after the IER toggle. */
static void test_linux_thre_test(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_OUT2 | VUART_MCR_DTR | VUART_MCR_RTS);
	assert_true(in(VUART_LSR) & VUART_LSR_THRE);
	out(VUART_IER, VUART_IER_ETBEI);
	assert_true(irq);
	uint8_t iir1 = in(VUART_IIR);
	assert_false(irq); /* reading IIR with THRE as its source cleared it */
	out(VUART_IER, 0);
	out(VUART_IER, VUART_IER_ETBEI);
	uint8_t iir = in(VUART_IIR);
	out(VUART_IER, 0);
	assert_int_equal(iir1, VUART_IIR_THRI);
	assert_int_equal(iir, VUART_IIR_THRI);
	/* Linux: bug if (!(iir1 & NO_INT) && (iir & NO_INT)). */
	assert_false(!(iir1 & VUART_IIR_NO_INT) && (iir & VUART_IIR_NO_INT));
	assert_int_equal(irq_rises, 2);
	assert_false(irq);
}

static void test_thre_cleared_by_iir_read_stays_clear(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_IER, VUART_IER_ETBEI);
	assert_int_equal(in(VUART_IIR), VUART_IIR_THRI);
	assert_int_equal(in(VUART_IIR), VUART_IIR_NO_INT);
	/* Re-writing IER with ETBEI already set is not a rising edge. */
	out(VUART_IER, VUART_IER_ETBEI);
	assert_int_equal(in(VUART_IIR), VUART_IIR_NO_INT);
	assert_false(irq);
}

/* Each THR write drops the THRE interrupt and raises it as THR empties. */
static void test_thr_write_pulses_thre(void **state)
{
	(void)state;
	out(VUART_LCR, 0x03);
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_IER, VUART_IER_ETBEI);
	assert_true(irq);
	unsigned rises = irq_rises;
	out(VUART_RBR, 'x');
	assert_true(irq);
	assert_int_equal(irq_rises, rises + 1); /* a fresh edge for an edge PIC */
	assert_int_equal(in(VUART_IIR), VUART_IIR_THRI);
	/* Cleared by the IIR read; the next write raises it again. */
	assert_false(irq);
	out(VUART_RBR, 'y');
	assert_true(irq);
	/* Disabling ETBEI (Linux's stop_tx) drops the line. */
	out(VUART_IER, 0);
	assert_false(irq);
	assert_int_equal(txlen, 2);
	assert_memory_equal(txbuf, "xy", 2);
}

static void test_transmit_polled(void **state)
{
	(void)state;
	const char *msg = "Linux version 6.1\r\n";
	out(VUART_LCR, 0x03);
	for (const char *p = msg; *p; p++) {
		/* early_serial_putc: wait for THRE, then write. */
		assert_true(in(VUART_LSR) & VUART_LSR_THRE);
		out(VUART_RBR, (uint8_t)*p);
		assert_int_equal(in(VUART_LSR) & 0x60, 0x60);
	}
	assert_int_equal(txlen, strlen(msg));
	assert_memory_equal(txbuf, msg, txlen);
	assert_false(irq); /* IER = 0 */
}

static void test_divisor_latch(void **state)
{
	(void)state;
	out(VUART_IER, VUART_IER_ERBFI);
	out(VUART_LCR, VUART_LCR_DLAB | 0x03);
	out(VUART_RBR, 1); /* 115200 baud: DLL = 1, DLM = 0 */
	out(VUART_IER, 0);
	assert_int_equal(in(VUART_RBR), 1);
	assert_int_equal(in(VUART_IER), 0);
	out(VUART_LCR, 0x03);
	assert_int_equal(vuart_divisor(&u), 1);
	assert_int_equal(in(VUART_IER), VUART_IER_ERBFI); /* untouched */
	assert_int_equal(txlen, 0); /* DLL writes are not data */
	assert_int_equal(in(VUART_LCR), 0x03);
	out(VUART_LCR, VUART_LCR_DLAB);
	out(VUART_IER, 0x12);
	assert_int_equal(vuart_divisor(&u), 0x1201);
}

static void test_receive_without_fifo(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_IER, VUART_IER_ERBFI);
	assert_false(irq);
	assert_int_equal(rx("a"), 1);
	assert_true(irq);
	assert_int_equal(in(VUART_LSR), 0x61);
	assert_int_equal(in(VUART_IIR), VUART_IIR_RDI);
	assert_int_equal(vuart_rx_space(&u), 0);
	/* A second character before the first is read: overrun, it is lost. */
	assert_int_equal(rx("b"), 0);
	assert_int_equal(in(VUART_LSR), 0x63);
	assert_int_equal(in(VUART_LSR), 0x61); /* OE cleared by the read */
	assert_int_equal(in(VUART_RBR), 'a');
	assert_false(irq);
	assert_int_equal(in(VUART_LSR), 0x60);
	assert_int_equal(in(VUART_IIR), VUART_IIR_NO_INT);
	/* An empty RBR reads back the last character. */
	assert_int_equal(in(VUART_RBR), 'a');
}

/* Linux programs UART_FCR_ENABLE_FIFO | UART_FCR_R_TRIG_10 (8 bytes). */
static void test_fifo_trigger_and_timeout(void **state)
{
	(void)state;
	out(VUART_IIR, 0x81 | VUART_FCR_CLEAR_RX | VUART_FCR_CLEAR_TX);
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_IER, VUART_IER_ERBFI);
	assert_int_equal(in(VUART_IIR), 0xc1);
	assert_int_equal(rx("hello"), 5);
	assert_true(irq);
	assert_int_equal(in(VUART_IIR), 0xc0 | VUART_IIR_TIMEOUT);
	assert_int_equal(rx("abc"), 3);
	assert_int_equal(in(VUART_IIR), 0xc0 | VUART_IIR_RDI);
	assert_int_equal(vuart_rx_space(&u), 8);

	/* serial8250_rx_chars: read while DR. */
	char got[32];
	size_t n = 0;
	while (in(VUART_LSR) & VUART_LSR_DR)
		got[n++] = (char)in(VUART_RBR);
	assert_int_equal(n, 8);
	assert_memory_equal(got, "helloabc", 8);
	assert_false(irq);
	assert_int_equal(in(VUART_IIR), 0xc1);
}

static void test_fifo_trigger_levels(void **state)
{
	(void)state;
	static const struct {
		uint8_t fcr;
		size_t level;
	} cases[] = { { 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xc1, 14 } };
	out(VUART_IER, VUART_IER_ERBFI);
	for (size_t i = 0; i < 4; i++) {
		out(VUART_IIR, cases[i].fcr | VUART_FCR_CLEAR_RX);
		for (size_t k = 1; k <= VUART_FIFO_SIZE; k++) {
			assert_int_equal(rx("z"), 1);
			uint8_t want = k >= cases[i].level ? VUART_IIR_RDI : VUART_IIR_TIMEOUT;
			assert_int_equal(in(VUART_IIR), 0xc0 | want);
		}
	}
}

static void test_fifo_overrun_and_clear(void **state)
{
	(void)state;
	out(VUART_IIR, 0xc1);
	assert_int_equal(vuart_rx_space(&u), 16);
	assert_int_equal(rx("0123456789abcdefXYZ"), 16);
	uint8_t lsr = in(VUART_LSR);
	assert_true(lsr & VUART_LSR_OE);
	assert_true(lsr & VUART_LSR_DR);
	assert_int_equal(in(VUART_RBR), '0');
	assert_int_equal(vuart_rx_space(&u), 1);
	assert_int_equal(rx("!"), 1);
	assert_false(in(VUART_LSR) & VUART_LSR_OE);
	/* FCR receive-FIFO reset empties it; the FIFO stays enabled. */
	out(VUART_IIR, 0xc1 | VUART_FCR_CLEAR_RX);
	assert_int_equal(in(VUART_LSR), 0x60);
	assert_int_equal(in(VUART_IIR) & 0xc0, 0xc0);
	/* The last one before the reset ... */
	assert_int_equal(rx("q"), 1);
	assert_int_equal(in(VUART_RBR), 'q');
}

static void test_fifo_enable_change_resets(void **state)
{
	(void)state;
	out(VUART_IIR, 0x01);
	rx("abcd");
	out(VUART_IIR, 0x00); /* FIFO off: both FIFOs reset */
	assert_int_equal(in(VUART_LSR) & VUART_LSR_DR, 0);
	assert_int_equal(in(VUART_IIR), 0x01); /* no FIFO bits */
	assert_int_equal(vuart_rx_space(&u), 1);
	/* Other FCR bits are not programmed while FCR0 is 0. */
	out(VUART_IIR, 0xc0);
	assert_int_equal(in(VUART_IIR) & 0xc0, 0);
	rx("e");
	out(VUART_IIR, 0x01); /* FIFO on: reset again */
	assert_int_equal(in(VUART_LSR) & VUART_LSR_DR, 0);
}

static void test_interrupt_priorities(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_IER, 0x0f);
	/* THRE is pending from the ETBEI edge; make everything else pending too. */
	rx("a");
	rx("b"); /* overrun: line status */
	vuart_set_modem_inputs(&u, VUART_MSR_CTS | VUART_MSR_DSR); /* DCD drops */
	assert_true(irq);
	assert_int_equal(in(VUART_IIR), VUART_IIR_RLSI);
	(void)in(VUART_LSR);
	assert_int_equal(in(VUART_IIR), VUART_IIR_RDI);
	(void)in(VUART_RBR);
	assert_int_equal(in(VUART_IIR), VUART_IIR_THRI);
	/* That read cleared THRE; modem status is next. */
	assert_int_equal(in(VUART_IIR), VUART_IIR_MSI);
	assert_true(irq);
	assert_int_equal(in(VUART_MSR), VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DDCD);
	assert_int_equal(in(VUART_IIR), VUART_IIR_NO_INT);
	assert_false(irq);
}

static void test_ier_masks_sources(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_OUT2);
	rx("a");
	rx("b");
	vuart_set_modem_inputs(&u, 0);
	assert_int_equal(in(VUART_IIR), VUART_IIR_NO_INT);
	assert_false(irq);
	out(VUART_IER, VUART_IER_EDSSI);
	assert_int_equal(in(VUART_IIR), VUART_IIR_MSI);
	out(VUART_IER, VUART_IER_ERBFI);
	assert_int_equal(in(VUART_IIR), VUART_IIR_RDI);
	assert_true(irq);
	out(VUART_IER, 0);
	assert_false(irq);
}

static void test_out2_gates_irq(void **state)
{
	(void)state;
	out(VUART_IER, VUART_IER_ERBFI);
	rx("a");
	assert_int_equal(in(VUART_IIR), VUART_IIR_RDI); /* pending inside the chip */
	assert_false(irq);
	out(VUART_MCR, VUART_MCR_OUT2);
	assert_true(irq);
	out(VUART_MCR, VUART_MCR_DTR | VUART_MCR_RTS);
	assert_false(irq);
	out(VUART_MCR, VUART_MCR_OUT2 | VUART_MCR_DTR | VUART_MCR_RTS);
	assert_true(irq);
	(void)in(VUART_RBR);
	assert_false(irq);
}

static void test_loopback_data(void **state)
{
	(void)state;
	out(VUART_LCR, 0x03);
	out(VUART_IIR, 0x01);
	out(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT2);
	out(VUART_IER, VUART_IER_ERBFI);
	out(VUART_RBR, 0x55);
	out(VUART_RBR, 0xaa);
	assert_int_equal(txlen, 0); /* nothing reaches the line */
	assert_true(in(VUART_LSR) & VUART_LSR_DR);
	assert_int_equal(in(VUART_IIR), 0xc0 | VUART_IIR_RDI); /* trigger level 1 */
	assert_false(irq); /* the OUT2 pin is forced inactive in loopback */
	/* The serial input is disconnected. */
	assert_int_equal(rx("x"), 0);
	assert_int_equal(vuart_rx_space(&u), 0);
	assert_int_equal(in(VUART_RBR), 0x55);
	assert_int_equal(in(VUART_RBR), 0xaa);
	assert_false(in(VUART_LSR) & VUART_LSR_DR);
	/* Leaving loopback: transmit reaches the line again. */
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_RBR, 'k');
	assert_int_equal(txlen, 1);
	assert_int_equal(txbuf[0], 'k');
	assert_false(in(VUART_LSR) & VUART_LSR_DR);
}

static void test_loopback_overrun(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_LOOP);
	out(VUART_RBR, 1);
	out(VUART_RBR, 2); /* no FIFO: one-byte holding register */
	assert_int_equal(in(VUART_LSR), 0x63);
	assert_int_equal(in(VUART_RBR), 1);
}

static void test_loopback_modem_status(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_LOOP);
	/* Entering loopback with all outputs off drops CTS, DSR and DCD. */
	assert_int_equal(in(VUART_MSR),
			 VUART_MSR_DCTS | VUART_MSR_DDSR | VUART_MSR_DDCD);
	assert_int_equal(in(VUART_MSR), 0);
	out(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR);
	assert_int_equal(in(VUART_MSR), VUART_MSR_DSR | VUART_MSR_DDSR);
	out(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR | VUART_MCR_OUT1);
	/* RI rising is not a TERI edge. */
	assert_int_equal(in(VUART_MSR), VUART_MSR_DSR | VUART_MSR_RI);
	out(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_DTR);
	assert_int_equal(in(VUART_MSR), VUART_MSR_DSR | VUART_MSR_TERI);
	out(VUART_MCR, VUART_MCR_LOOP | 0x0f);
	assert_int_equal(in(VUART_MSR) & 0xf0, 0xf0);
	/* Modem status interrupt works in loopback (IIR), gated off the pin. */
	out(VUART_IER, VUART_IER_EDSSI);
	out(VUART_MCR, VUART_MCR_LOOP | VUART_MCR_OUT2);
	assert_int_equal(in(VUART_IIR), VUART_IIR_MSI);
	assert_false(irq);
}

static void test_external_modem_lines(void **state)
{
	(void)state;
	out(VUART_MCR, VUART_MCR_OUT2);
	out(VUART_IER, VUART_IER_EDSSI);
	vuart_set_modem_inputs(&u, 0xff); /* only the status bits are taken */
	assert_false(irq);		   /* a rising RI is no event */
	assert_int_equal(in(VUART_MSR), 0xf0);
	vuart_set_modem_inputs(&u, VUART_MSR_CTS | VUART_MSR_DCD);
	assert_true(irq);
	assert_int_equal(in(VUART_MSR), VUART_MSR_CTS | VUART_MSR_DCD | VUART_MSR_DDSR |
						 VUART_MSR_TERI);
	/* Outside loopback MCR does not affect MSR. */
	out(VUART_MCR, VUART_MCR_OUT2 | VUART_MCR_DTR | VUART_MCR_RTS);
	assert_int_equal(in(VUART_MSR), VUART_MSR_CTS | VUART_MSR_DCD);
}

static void test_scratch_and_readonly(void **state)
{
	(void)state;
	out(VUART_SCR, 0x5a);
	assert_int_equal(in(VUART_SCR), 0x5a);
	out(VUART_LSR, 0x00);
	assert_int_equal(in(VUART_LSR), 0x60);
	out(VUART_MSR, 0x00);
	assert_int_equal(in(VUART_MSR), 0xb0);
	out(VUART_MCR, 0xff);
	assert_int_equal(in(VUART_MCR), 0x1f);
	assert_int_equal(in(8), 0xff); /* outside the range */
	out(8, 1);
}

static void test_null_callbacks(void **state)
{
	(void)state;
	struct vuart v;
	vuart_init(&v, NULL, NULL, NULL);
	vuart_write(&v, VUART_MCR, VUART_MCR_OUT2);
	vuart_write(&v, VUART_IER, 0x0f);
	vuart_write(&v, VUART_RBR, 'a');
	assert_int_equal(vuart_read(&v, VUART_IIR), VUART_IIR_THRI);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_linux_autoconfig, setup),
		cmocka_unit_test_setup(test_linux_thre_test, setup),
		cmocka_unit_test_setup(test_thre_cleared_by_iir_read_stays_clear, setup),
		cmocka_unit_test_setup(test_thr_write_pulses_thre, setup),
		cmocka_unit_test_setup(test_transmit_polled, setup),
		cmocka_unit_test_setup(test_divisor_latch, setup),
		cmocka_unit_test_setup(test_receive_without_fifo, setup),
		cmocka_unit_test_setup(test_fifo_trigger_and_timeout, setup),
		cmocka_unit_test_setup(test_fifo_trigger_levels, setup),
		cmocka_unit_test_setup(test_fifo_overrun_and_clear, setup),
		cmocka_unit_test_setup(test_fifo_enable_change_resets, setup),
		cmocka_unit_test_setup(test_interrupt_priorities, setup),
		cmocka_unit_test_setup(test_ier_masks_sources, setup),
		cmocka_unit_test_setup(test_out2_gates_irq, setup),
		cmocka_unit_test_setup(test_loopback_data, setup),
		cmocka_unit_test_setup(test_loopback_overrun, setup),
		cmocka_unit_test_setup(test_loopback_modem_status, setup),
		cmocka_unit_test_setup(test_external_modem_lines, setup),
		cmocka_unit_test_setup(test_scratch_and_readonly, setup),
		cmocka_unit_test_setup(test_null_callbacks, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

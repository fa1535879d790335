/*
 * A 16550A UART as a guest sees it at COM1..COM4 (8 ports: 0x3f8, 0x2f8...).
 *
 * Transmission is instantaneous: every byte written to THR leaves at once
 * through the tx callback, so THR and the shift register always read empty
 * (LSR.THRE|TEMT). Reception goes through a 16-byte FIFO (1 byte with FIFOs
 * off) filled by vuart_receive(). Interrupt identification follows the
 * datasheet's priorities (National PC16550D, Table IV) and the THRE-interrupt
 * behaviour that Linux's 8250 driver tests at startup. The IRQ line goes out
 * gated by MCR.OUT2, as the OUT2 pin gates the interrupt buffer on a PC.
 *
 * Pure state machine: no clock, no bus, no knowledge of the PIC.
 */
#ifndef HV_GUEST_VUART_H
#define HV_GUEST_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets within the 8-port range. */
#define VUART_RBR 0	/* read: receive buffer; write: THR; DLAB: DLL */
#define VUART_IER 1	/* DLAB: DLM */
#define VUART_IIR 2	/* read: interrupt identification; write: FCR */
#define VUART_LCR 3
#define VUART_MCR 4
#define VUART_LSR 5
#define VUART_MSR 6
#define VUART_SCR 7
#define VUART_NR_PORTS 8

#define VUART_IER_ERBFI 0x01	/* received data available */
#define VUART_IER_ETBEI 0x02	/* transmitter holding register empty */
#define VUART_IER_ELSI 0x04	/* receiver line status */
#define VUART_IER_EDSSI 0x08	/* modem status */

#define VUART_IIR_NO_INT 0x01
#define VUART_IIR_MSI 0x00
#define VUART_IIR_THRI 0x02
#define VUART_IIR_RDI 0x04
#define VUART_IIR_RLSI 0x06
#define VUART_IIR_TIMEOUT 0x0c
#define VUART_IIR_FIFO 0xc0	/* both set when FIFOs are enabled */

#define VUART_FCR_ENABLE 0x01
#define VUART_FCR_CLEAR_RX 0x02
#define VUART_FCR_CLEAR_TX 0x04

#define VUART_LCR_DLAB 0x80

#define VUART_MCR_DTR 0x01
#define VUART_MCR_RTS 0x02
#define VUART_MCR_OUT1 0x04
#define VUART_MCR_OUT2 0x08
#define VUART_MCR_LOOP 0x10

#define VUART_LSR_DR 0x01
#define VUART_LSR_OE 0x02
#define VUART_LSR_PE 0x04
#define VUART_LSR_FE 0x08
#define VUART_LSR_BI 0x10
#define VUART_LSR_THRE 0x20
#define VUART_LSR_TEMT 0x40

#define VUART_MSR_DCTS 0x01
#define VUART_MSR_DDSR 0x02
#define VUART_MSR_TERI 0x04
#define VUART_MSR_DDCD 0x08
#define VUART_MSR_CTS 0x10
#define VUART_MSR_DSR 0x20
#define VUART_MSR_RI 0x40
#define VUART_MSR_DCD 0x80

#define VUART_FIFO_SIZE 16

struct vuart {
	/* Programmer-visible registers. */
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t fcr;		/* FIFO enable and trigger bits as last written */
	uint8_t lsr_errors;	/* OE|PE|FE|BI, cleared by reading LSR */
	uint8_t msr_delta;	/* DCTS|DDSR|TERI|DDCD, cleared by reading MSR */
	uint8_t msr_status;	/* CTS|DSR|RI|DCD as last seen (for the deltas) */
	uint8_t modem_in;	/* the modem input pins from the outside world */
	uint8_t rbr;		/* the last byte read (re-read when the FIFO is empty) */

	/* Receive FIFO (capacity 1 with FIFOs disabled, as a 16450's RBR). */
	uint8_t rx[VUART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	bool rx_timeout;	/* character-timeout indication pending */

	bool thre_pending;	/* the THRE interrupt is pending (see vuart.c) */
	bool irq_level;		/* what set_irq last reported */

	void (*tx)(void *ctx, uint8_t byte);
	void (*set_irq)(void *ctx, bool level);
	void *ctx;
};

/*
 * Resets the UART to its power-on state (MR pin): all interrupts off, FIFOs
 * off, LSR = THRE|TEMT, the modem inputs CTS|DSR|DCD asserted. Either callback
 * may be NULL.
 */
void vuart_init(struct vuart *u, void (*tx)(void *ctx, uint8_t byte),
		void (*set_irq)(void *ctx, bool level), void *ctx);

/* A guest IN/OUT at `offset` (0..7) within the UART's port range. */
uint8_t vuart_read(struct vuart *u, uint16_t offset);
void vuart_write(struct vuart *u, uint16_t offset, uint8_t val);

/*
 * Bytes arriving on the serial line. Returns how many fit in the receive
 * FIFO; if any did not, the guest sees an overrun (LSR.OE). A caller that does
 * not want to lose input offers at most vuart_rx_space() bytes. The line is
 * taken to go idle at the end of each call, so in FIFO mode a count below the
 * trigger level raises the character-timeout interrupt at once.
 * In loopback mode the serial input is disconnected: nothing is accepted.
 */
size_t vuart_receive(struct vuart *u, const uint8_t *bytes, size_t n);

/* How many bytes the receive FIFO can take now without an overrun. */
size_t vuart_rx_space(const struct vuart *u);

/* Drives the modem input pins (VUART_MSR_CTS|DSR|RI|DCD) from outside. */
void vuart_set_modem_inputs(struct vuart *u, uint8_t msr_bits);

/* The divisor latch (DLM:DLL); baud = 115200 / divisor. */
uint16_t vuart_divisor(const struct vuart *u);

#endif

#include "drivers/uart16550.h"

#include "include/x86.h"

/* Register offsets, National Semiconductor PC16550D datasheet. */
#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define UART_DLL 0 /* with LCR.DLAB */
#define UART_DLM 1

#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80

static uint16_t port = 0x3f8;

uint16_t uart_port(void)
{
	return port;
}

bool uart_init(const struct serial_params *p)
{
	uint16_t divisor = (uint16_t)(115200 / p->baud);
	uint8_t lcr = (uint8_t)(p->data_bits - 5);

	/* the scratch register tells whether a UART is there at all */
	outb(p->port + UART_SCR, 0x5a);
	if (inb(p->port + UART_SCR) != 0x5a)
		return false;

	if (p->stop_bits == 2)
		lcr |= 0x04;
	switch (p->parity) {
	case 'o':
		lcr |= 0x08;
		break;
	case 'e':
		lcr |= 0x18;
		break;
	case 'm':
		lcr |= 0x28;
		break;
	case 's':
		lcr |= 0x38;
		break;
	default:
		break;
	}
	port = p->port;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, (uint8_t)divisor);
	outb(port + UART_DLM, (uint8_t)(divisor >> 8));
	outb(port + UART_LCR, lcr);
	outb(port + UART_FCR, 0xc7); /* FIFOs on and cleared, 14-byte trigger */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
	return true;
}

void uart_putc(char c)
{
	/* bounded wait: a missing or stuck UART must not hang the host */
	for (unsigned spins = 0; spins < 1000000; spins++) {
		if (inb(port + UART_LSR) & LSR_THR_EMPTY)
			break;
		cpu_relax();
	}
	outb(port + UART_THR, (uint8_t)c);
}

int uart_getc(void)
{
	if (!(inb(port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(port + UART_RBR);
}

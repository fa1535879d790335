/*
 * 16550A UART model. References: National Semiconductor PC16550D datasheet
 * (register summary Table II, interrupt priorities Table IV, FCR and MCR
 * descriptions, loopback in §8.6 "Modem Control Register").
 *
 * THRE interrupt: the datasheet clears it when IIR is read with THRE as its
 * source or when THR is written, and sets it when THR empties. Enabling
 * IER.ETBEI while THR is empty also raises it: real parts do, Windows depends
 * on it, and Linux's 8250 startup reads IIR twice around an IER toggle and
 * marks the port buggy (polling it by timer) unless the second read shows the
 * interrupt again. Our THR empties the instant it is written.
 */
#include "guest/vuart.h"

#include "kernel/lib/string.h"

#define MODEM_STATUS_BITS (VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_RI | VUART_MSR_DCD)
#define LSR_ERROR_BITS (VUART_LSR_OE | VUART_LSR_PE | VUART_LSR_FE | VUART_LSR_BI)

static bool fifo_enabled(const struct vuart *u)
{
	return u->fcr & VUART_FCR_ENABLE;
}

static bool loopback(const struct vuart *u)
{
	return u->mcr & VUART_MCR_LOOP;
}

static size_t rx_capacity(const struct vuart *u)
{
	return fifo_enabled(u) ? VUART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 select the receive trigger level: 1, 4, 8 or 14 bytes. */
static unsigned rx_trigger(const struct vuart *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };
	return levels[u->fcr >> 6];
}

/* The highest-priority pending interrupt as IIR bits 3:0 (Table IV). */
static uint8_t pending_interrupt(const struct vuart *u)
{
	if ((u->ier & VUART_IER_ELSI) && u->lsr_errors)
		return VUART_IIR_RLSI;
	if ((u->ier & VUART_IER_ERBFI) && u->rx_count) {
		/*
		 * Below the trigger level the FIFO reports a character timeout
		 * once the line has been idle for four characters; the line is
		 * idle as soon as a vuart_receive() batch ends.
		 */
		if (!fifo_enabled(u) || u->rx_count >= rx_trigger(u))
			return VUART_IIR_RDI;
		return VUART_IIR_TIMEOUT;
	}
	if ((u->ier & VUART_IER_ETBEI) && u->thre_pending)
		return VUART_IIR_THRI;
	if ((u->ier & VUART_IER_EDSSI) && u->msr_delta)
		return VUART_IIR_MSI;
	return VUART_IIR_NO_INT;
}

/*
 * On a PC the INTRPT pin reaches the PIC through a buffer enabled by the OUT2
 * pin. In loopback the modem-control pins are forced inactive, so no
 * interrupt gets out even though IIR still shows it.
 */
static void update_irq(struct vuart *u)
{
	bool level = pending_interrupt(u) != VUART_IIR_NO_INT &&
		     (u->mcr & VUART_MCR_OUT2) && !loopback(u);
	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->set_irq)
		u->set_irq(u->ctx, level);
}

/* The modem inputs as the chip sees them: in loopback, MCR's outputs. */
static uint8_t modem_status_now(const struct vuart *u)
{
	if (!loopback(u))
		return u->modem_in & MODEM_STATUS_BITS;
	uint8_t s = 0;
	if (u->mcr & VUART_MCR_RTS)
		s |= VUART_MSR_CTS;
	if (u->mcr & VUART_MCR_DTR)
		s |= VUART_MSR_DSR;
	if (u->mcr & VUART_MCR_OUT1)
		s |= VUART_MSR_RI;
	if (u->mcr & VUART_MCR_OUT2)
		s |= VUART_MSR_DCD;
	return s;
}

/* Latches the delta bits for any change of the modem status inputs. */
static void sample_modem_status(struct vuart *u)
{
	uint8_t now = modem_status_now(u);
	uint8_t changed = now ^ u->msr_status;

	if (changed & VUART_MSR_CTS)
		u->msr_delta |= VUART_MSR_DCTS;
	if (changed & VUART_MSR_DSR)
		u->msr_delta |= VUART_MSR_DDSR;
	if ((u->msr_status & VUART_MSR_RI) && !(now & VUART_MSR_RI))
		u->msr_delta |= VUART_MSR_TERI; /* trailing edge only */
	if (changed & VUART_MSR_DCD)
		u->msr_delta |= VUART_MSR_DDCD;
	u->msr_status = now;
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* One character arriving at the receiver: into the FIFO, or an overrun. */
static bool rx_push(struct vuart *u, uint8_t byte)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_errors |= VUART_LSR_OE;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = byte;
	u->rx_count++;
	return true;
}

void vuart_init(struct vuart *u, void (*tx)(void *ctx, uint8_t byte),
		void (*set_irq)(void *ctx, bool level), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->set_irq = set_irq;
	u->ctx = ctx;
	u->dll = 12; /* 9600 baud, a common firmware default */
	u->modem_in = VUART_MSR_CTS | VUART_MSR_DSR | VUART_MSR_DCD;
	u->msr_status = u->modem_in;
	u->thre_pending = false;
}

static uint8_t read_rbr(struct vuart *u)
{
	if (u->rx_count) {
		u->rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % VUART_FIFO_SIZE;
		u->rx_count--;
	}
	update_irq(u);
	return u->rbr;
}

static uint8_t read_iir(struct vuart *u)
{
	uint8_t id = pending_interrupt(u);

	if (id == VUART_IIR_THRI) {
		u->thre_pending = false;
		update_irq(u);
	}
	return id | (fifo_enabled(u) ? VUART_IIR_FIFO : 0);
}

static uint8_t read_lsr(struct vuart *u)
{
	uint8_t lsr = VUART_LSR_THRE | VUART_LSR_TEMT | u->lsr_errors;

	if (u->rx_count)
		lsr |= VUART_LSR_DR;
	/* a driver polls LSR: only clearing an error can change the interrupt line */
	if (u->lsr_errors) {
		u->lsr_errors = 0;
		update_irq(u);
	}
	return lsr;
}

static uint8_t read_msr(struct vuart *u)
{
	sample_modem_status(u);
	uint8_t msr = u->msr_status | u->msr_delta;
	u->msr_delta = 0;
	update_irq(u);
	return msr;
}

uint8_t vuart_read(struct vuart *u, uint16_t offset)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;

	switch (offset) {
	case VUART_RBR:
		return dlab ? u->dll : read_rbr(u);
	case VUART_IER:
		return dlab ? u->dlm : u->ier;
	case VUART_IIR:
		return read_iir(u);
	case VUART_LCR:
		return u->lcr;
	case VUART_MCR:
		return u->mcr;
	case VUART_LSR:
		return read_lsr(u);
	case VUART_MSR:
		return read_msr(u);
	case VUART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
}

static void write_thr(struct vuart *u, uint8_t byte)
{
	/* Writing THR clears the THRE interrupt; the line may drop... */
	u->thre_pending = false;
	update_irq(u);
	if (loopback(u))
		rx_push(u, byte);
	else if (u->tx)
		u->tx(u->ctx, byte);
	/* ...and THR empties at once, which raises it again. */
	u->thre_pending = true;
	update_irq(u);
}

static void write_ier(struct vuart *u, uint8_t val)
{
	uint8_t old = u->ier;

	u->ier = val & 0x0f; /* bits 7:4 read as zero on a 16550A */
	if ((u->ier & VUART_IER_ETBEI) && !(old & VUART_IER_ETBEI))
		u->thre_pending = true; /* THR is always empty */
	update_irq(u);
}

static void write_fcr(struct vuart *u, uint8_t val)
{
	bool enable = val & VUART_FCR_ENABLE;

	/* Changing the FIFO enable resets both FIFOs. */
	if (enable != fifo_enabled(u))
		rx_clear(u);
	if (!enable) {
		/* With FCR0 clear the other bits are not programmed. */
		u->fcr = 0;
	} else {
		if (val & VUART_FCR_CLEAR_RX)
			rx_clear(u);
		/* The self-clearing reset bits are not kept. */
		u->fcr = val & 0xc9;
	}
	update_irq(u);
}

static void write_mcr(struct vuart *u, uint8_t val)
{
	u->mcr = val & 0x1f;
	sample_modem_status(u);
	update_irq(u);
}

void vuart_write(struct vuart *u, uint16_t offset, uint8_t val)
{
	bool dlab = u->lcr & VUART_LCR_DLAB;

	switch (offset) {
	case VUART_RBR:
		if (dlab)
			u->dll = val;
		else
			write_thr(u, val);
		break;
	case VUART_IER:
		if (dlab)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case VUART_IIR:
		write_fcr(u, val);
		break;
	case VUART_LCR:
		u->lcr = val;
		break;
	case VUART_MCR:
		write_mcr(u, val);
		break;
	case VUART_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR are read-only here (LSR writes are a factory test). */
		break;
	}
}

size_t vuart_rx_space(const struct vuart *u)
{
	if (loopback(u))
		return 0;
	return rx_capacity(u) - u->rx_count;
}

size_t vuart_receive(struct vuart *u, const uint8_t *bytes, size_t n)
{
	size_t taken = 0;

	if (loopback(u) || n == 0)
		return 0; /* serial input disconnected in loopback */
	while (taken < n && rx_push(u, bytes[taken]))
		taken++;
	update_irq(u);
	return taken;
}

void vuart_set_modem_inputs(struct vuart *u, uint8_t msr_bits)
{
	u->modem_in = msr_bits & MODEM_STATUS_BITS;
	sample_modem_status(u);
	update_irq(u);
}

uint16_t vuart_divisor(const struct vuart *u)
{
	return (uint16_t)(u->dlm << 8 | u->dll);
}

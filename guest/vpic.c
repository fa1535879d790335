/*
 * 8259A pair. References: Intel 8259A datasheet (ICW1-4, OCW1-3, priority
 * rotation, poll command, special mask and special fully nested modes);
 * Intel ICH/PIIX datasheets for the ELCR (IRQ 0, 1, 2, 8 and 13 are always
 * edge-triggered; ICW1.LTIM is ignored in favour of ELCR).
 *
 * An edge-triggered input latches IRR on a rising edge and keeps it until
 * the INTA cycle, even if the line drops first (device models often pulse).
 * A level-triggered input requests exactly while it is high.
 */
#include "guest/vpic.h"

#include "kernel/lib/string.h"

/* ICW1/OCW2/OCW3 bit fields on the command port. */
#define ICW1_SELECT 0x10
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define OCW3_SELECT 0x08
#define OCW3_POLL 0x04
#define OCW3_RR 0x02
#define OCW3_RIS 0x01
#define OCW3_ESMM 0x40
#define OCW3_SMM 0x20
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10

/* Priority rank 0 (highest) .. 7 of each set bit; returns 8 for none. */
static unsigned highest_priority(const struct vpic_chip *c, uint8_t bits)
{
	for (unsigned rank = 0; rank < 8; rank++)
		if (bits & (1u << ((rank + c->lowest_first) & 7)))
			return rank;
	return 8;
}

static unsigned rank_to_irq(const struct vpic_chip *c, unsigned rank)
{
	return (rank + c->lowest_first) & 7;
}

/* The IR this chip would present at INTA, or -1. */
static int chip_pending(const struct vpic *pic, unsigned which)
{
	const struct vpic_chip *c = &pic->chip[which];
	unsigned req = highest_priority(c, c->irr & ~c->imr);
	if (req == 8)
		return -1;

	uint8_t in_service = c->isr;
	/* Special mask mode: masked levels in service do not inhibit others. */
	if (c->special_mask)
		in_service &= ~c->imr;
	/*
	 * Special fully nested mode (master): the slave's own priority logic
	 * decides, so requests through an in-service cascade still pass.
	 */
	if (which == VPIC_MASTER && c->special_nested)
		in_service &= ~(1u << VPIC_CASCADE_IRQ);
	if (req < highest_priority(c, in_service))
		return (int)rank_to_irq(c, req);
	return -1;
}

/*
 * Re-evaluates the slave's INT (the master's IR2) and the master's INT.
 * The master requests on IR2 exactly while the slave's INT is high: the slave
 * holds INT until its INTA, and drops it when its request goes away, which on
 * a real pair leaves the master's edge input without a request as well.
 */
static void update_output(struct vpic *pic)
{
	struct vpic_chip *m = &pic->chip[VPIC_MASTER];

	m->irr &= ~(1u << VPIC_CASCADE_IRQ);
	if (chip_pending(pic, VPIC_SLAVE) >= 0)
		m->irr |= 1u << VPIC_CASCADE_IRQ;

	bool level = chip_pending(pic, VPIC_MASTER) >= 0;
	if (level == pic->output)
		return;
	pic->output = level;
	if (pic->int_output)
		pic->int_output(pic->ctx, level);
}

static void chip_reset(struct vpic_chip *c, uint8_t elcr_mask)
{
	memset(c, 0, sizeof(*c));
	c->elcr_mask = elcr_mask;
}

/* ICW1: the start of initialisation (8259A datasheet, "Initialization"). */
static void write_icw1(struct vpic_chip *c, uint8_t val)
{
	/* The edge sense circuit resets: only level inputs still request. */
	c->irr = c->lines & c->elcr;
	c->isr = 0;
	c->imr = 0;
	c->lowest_first = 0; /* IR7 lowest */
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_on_aeoi = false;
	c->icw4_needed = val & ICW1_IC4;
	c->single = val & ICW1_SNGL;
	/* Without ICW4 all its functions are zero. */
	c->auto_eoi = false;
	c->special_nested = false;
	c->init_step = 2;
}

static void write_data_during_init(struct vpic_chip *c, uint8_t val)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = val & 0xf8;
		c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
		break;
	case 3:
		c->icw3 = val;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = val & ICW4_AEOI;
		c->special_nested = val & ICW4_SFNM;
		c->init_step = 0;
		break;
	}
}

static void clear_highest_isr(struct vpic_chip *c, bool rotate)
{
	unsigned rank = highest_priority(c, c->isr);
	if (rank == 8)
		return;
	unsigned irq = rank_to_irq(c, rank);
	c->isr &= ~(1u << irq);
	if (rotate)
		c->lowest_first = (irq + 1) & 7;
}

/* OCW2 (bits 7:5 = R, SL, EOI; bits 2:0 = level). */
static void write_ocw2(struct vpic_chip *c, uint8_t val)
{
	unsigned level = val & 7;

	switch (val >> 5) {
	case 0: /* clear rotate in automatic EOI mode */
		c->rotate_on_aeoi = false;
		break;
	case 4: /* set rotate in automatic EOI mode */
		c->rotate_on_aeoi = true;
		break;
	case 1: /* non-specific EOI */
		clear_highest_isr(c, false);
		break;
	case 5: /* rotate on non-specific EOI */
		clear_highest_isr(c, true);
		break;
	case 3: /* specific EOI */
		c->isr &= ~(1u << level);
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= ~(1u << level);
		c->lowest_first = (level + 1) & 7;
		break;
	case 6: /* set priority: `level` becomes the lowest */
		c->lowest_first = (level + 1) & 7;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct vpic_chip *c, uint8_t val)
{
	if (val & OCW3_ESMM)
		c->special_mask = val & OCW3_SMM;
	if (val & OCW3_POLL)
		c->poll = true;
	if (val & OCW3_RR)
		c->read_isr = val & OCW3_RIS;
}

/* INTA on one chip for `irq`: in service unless auto-EOI; edge request taken. */
static void chip_ack(struct vpic_chip *c, unsigned irq)
{
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->lowest_first = (irq + 1) & 7;
	} else {
		c->isr |= 1u << irq;
	}
	if (!(c->elcr & (1u << irq)))
		c->irr &= ~(1u << irq);
}

/*
 * The poll command: the next read of the command port returns 0x80 | IR of
 * the highest request and acknowledges it, or 0 when none.
 */
static uint8_t poll_read(struct vpic *pic, unsigned which)
{
	struct vpic_chip *c = &pic->chip[which];
	int irq = chip_pending(pic, which);

	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, (unsigned)irq);
	update_output(pic); /* the slave's INT, so the master's IR2, follows */
	return (uint8_t)(0x80 | irq);
}

void vpic_init(struct vpic *pic, void (*int_output)(void *ctx, bool level), void *ctx)
{
	memset(pic, 0, sizeof(*pic));
	pic->int_output = int_output;
	pic->ctx = ctx;
	/* IRQ 0, 1, 2 and IRQ 8, 13 have no ELCR bit (ICH datasheet, ELCR1/2). */
	chip_reset(&pic->chip[VPIC_MASTER], 0xf8);
	chip_reset(&pic->chip[VPIC_SLAVE], 0xde);
	pic->chip[VPIC_MASTER].vector_base = 0x08;
	pic->chip[VPIC_MASTER].icw3 = 1u << VPIC_CASCADE_IRQ;
	pic->chip[VPIC_MASTER].imr = (uint8_t)~(1u << VPIC_CASCADE_IRQ);
	pic->chip[VPIC_SLAVE].vector_base = 0x70;
	pic->chip[VPIC_SLAVE].icw3 = VPIC_CASCADE_IRQ;
	pic->chip[VPIC_SLAVE].imr = 0xff;
}

uint8_t vpic_read(struct vpic *pic, unsigned which, uint16_t offset)
{
	if (which > VPIC_SLAVE)
		return 0xff;
	struct vpic_chip *c = &pic->chip[which];

	if (offset == 1)
		return c->imr;
	if (offset != 0)
		return 0xff;
	if (c->poll)
		return poll_read(pic, which);
	return c->read_isr ? c->isr : c->irr;
}

void vpic_write(struct vpic *pic, unsigned which, uint16_t offset, uint8_t val)
{
	if (which > VPIC_SLAVE || offset > 1)
		return;
	struct vpic_chip *c = &pic->chip[which];

	if (offset == 1) {
		if (c->init_step)
			write_data_during_init(c, val);
		else
			c->imr = val; /* OCW1 */
	} else if (val & ICW1_SELECT) {
		write_icw1(c, val);
	} else if (val & OCW3_SELECT) {
		write_ocw3(c, val);
	} else {
		write_ocw2(c, val);
	}
	update_output(pic);
}

uint8_t vpic_elcr_read(struct vpic *pic, uint16_t offset)
{
	if (offset > 1)
		return 0xff;
	return pic->chip[offset].elcr;
}

void vpic_elcr_write(struct vpic *pic, uint16_t offset, uint8_t val)
{
	if (offset > 1)
		return;
	struct vpic_chip *c = &pic->chip[offset];

	c->elcr = val & c->elcr_mask;
	/* A level input's request follows its line from now on. */
	c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
	update_output(pic);
}

void vpic_set_irq(struct vpic *pic, unsigned irq, bool level)
{
	if (irq >= 16 || irq == VPIC_CASCADE_IRQ)
		return;
	struct vpic_chip *c = &pic->chip[irq >> 3];
	uint8_t bit = (uint8_t)(1u << (irq & 7));
	bool was = c->lines & bit;

	if (level) {
		c->lines |= bit;
		if ((c->elcr & bit) || !was)
			c->irr |= bit;
	} else {
		c->lines &= ~bit;
		if (c->elcr & bit)
			c->irr &= ~bit;
	}
	update_output(pic);
}

bool vpic_has_interrupt(const struct vpic *pic)
{
	return chip_pending(pic, VPIC_MASTER) >= 0;
}

uint8_t vpic_ack(struct vpic *pic)
{
	struct vpic_chip *m = &pic->chip[VPIC_MASTER];
	struct vpic_chip *s = &pic->chip[VPIC_SLAVE];
	int irq = chip_pending(pic, VPIC_MASTER);
	uint8_t vector;

	if (irq < 0) {
		vector = m->vector_base | 7; /* spurious IRQ 7: ISR untouched */
	} else {
		chip_ack(m, (unsigned)irq);
		if (irq == VPIC_CASCADE_IRQ && !m->single) {
			int sirq = chip_pending(pic, VPIC_SLAVE);
			if (sirq >= 0) {
				chip_ack(s, (unsigned)sirq);
				vector = (uint8_t)(s->vector_base | sirq);
			} else {
				/* Spurious IRQ 15; unreachable while IR2 follows the slave. */
				vector = s->vector_base | 7;
			}
		} else {
			vector = (uint8_t)(m->vector_base | irq);
		}
	}
	update_output(pic);
	return vector;
}

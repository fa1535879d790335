/*
 * I/O APIC model. Reference: Intel 82093AA I/O Advanced Programmable
 * Interrupt Controller datasheet (order 290566): IOREGSEL/IOWIN (§3.0),
 * IOAPICID, IOAPICVER, IOAPICARB (§3.2.1-3.2.3), the redirection table
 * (§3.2.4): masked edge interrupts are discarded, level interrupts set
 * Remote IRR when accepted and clear it on the local APIC's EOI with a
 * matching vector.
 *
 * Linux's io_apic.c, on a version 0x11 chip (no EOI register), clears a
 * stuck Remote IRR by switching the entry to edge and back (__eoi_ioapic_pin,
 * clear_IO_APIC_pin): writing edge trigger mode clears it here too, as the
 * real part's behaviour that this relies on.
 */
#include "guest/vioapic.h"

#include "kernel/lib/string.h"

/* Writable bits of an entry: vector, delivery mode, destination mode,
 * polarity, trigger mode, mask, destination (bits 63:56). */
#define RTE_WRITABLE (0xff00000000000000ull | 0x1afffull)
#define DELIVERY_FIXED 0
#define DELIVERY_LOWEST 1
#define DELIVERY_NMI 4

static unsigned delivery_mode(uint64_t rte)
{
	return rte >> VIOAPIC_RTE_DELIVERY_SHIFT & 7;
}

/*
 * Level-triggered in effect: only fixed and lowest-priority entries; the
 * datasheet requires edge for NMI, SMI and INIT, so they act on edges alone.
 */
static bool sets_remote_irr(uint64_t rte)
{
	unsigned mode = delivery_mode(rte);
	return rte & VIOAPIC_RTE_LEVEL && (mode == DELIVERY_FIXED || mode == DELIVERY_LOWEST);
}

static void send(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->redir[pin];
	if (sets_remote_irr(rte))
		io->redir[pin] |= VIOAPIC_RTE_REMOTE_IRR;
	if (io->deliver)
		io->deliver(io->ctx, rte & VIOAPIC_RTE_DEST_LOGICAL ? 1 : 0,
			    (uint32_t)(rte >> VIOAPIC_RTE_DEST_SHIFT), delivery_mode(rte),
			    (uint8_t)(rte & VIOAPIC_RTE_VECTOR), (rte & VIOAPIC_RTE_LEVEL) != 0);
}

/* A level entry delivers while its line is asserted and the last one is not in service. */
static void service_level(struct vioapic *io, unsigned pin)
{
	uint64_t rte = io->redir[pin];
	if (!sets_remote_irr(rte) || rte & VIOAPIC_RTE_MASKED ||
	    rte & VIOAPIC_RTE_REMOTE_IRR || !(io->lines >> pin & 1))
		return;
	send(io, pin);
}

void vioapic_init(struct vioapic *io, uint8_t id,
		  void (*deliver)(void *ctx, unsigned dest_mode, uint32_t dest,
				  unsigned delivery_mode, uint8_t vector, bool level_triggered),
		  void *ctx)
{
	memset(io, 0, sizeof(*io));
	io->id = (uint32_t)(id & 0xf) << 24;
	for (unsigned i = 0; i < VIOAPIC_NR_PINS; i++)
		io->redir[i] = VIOAPIC_RTE_MASKED;
	io->deliver = deliver;
	io->ctx = ctx;
}

uint64_t vioapic_entry(const struct vioapic *io, unsigned pin)
{
	return pin < VIOAPIC_NR_PINS ? io->redir[pin] : 0;
}

static uint32_t read_indirect(const struct vioapic *io)
{
	uint32_t reg = io->ioregsel;
	switch (reg) {
	case VIOAPIC_REG_ID:
		return io->id;
	case VIOAPIC_REG_VER:
		return VIOAPIC_VERSION;
	case VIOAPIC_REG_ARB:
		return io->id; /* loaded with the ID whenever the ID is written */
	}
	if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_NR_PINS)
		return 0xffffffff;
	uint64_t rte = io->redir[(reg - VIOAPIC_REG_REDIR) >> 1];
	return reg & 1 ? (uint32_t)(rte >> 32) : (uint32_t)rte;
}

static void write_indirect(struct vioapic *io, uint32_t val)
{
	uint32_t reg = io->ioregsel;
	if (reg == VIOAPIC_REG_ID) {
		io->id = val & 0x0f000000;
		return;
	}
	if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_NR_PINS)
		return; /* version and arbitration are read-only */

	unsigned pin = (reg - VIOAPIC_REG_REDIR) >> 1;
	uint64_t old = io->redir[pin], rte;
	if (reg & 1)
		rte = (old & 0xffffffffull) | (uint64_t)val << 32;
	else
		rte = (old & 0xffffffff00000000ull) | val;
	rte &= RTE_WRITABLE;
	/* Remote IRR is read-only, and meaningless (cleared) in edge mode. */
	if (rte & VIOAPIC_RTE_LEVEL)
		rte |= old & VIOAPIC_RTE_REMOTE_IRR;
	io->redir[pin] = rte;
	/* Unmasking (or switching to level) an asserted level line delivers it. */
	service_level(io, pin);
}

uint32_t vioapic_mmio_read(struct vioapic *io, uint32_t offset)
{
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		return io->ioregsel;
	case VIOAPIC_IOWIN:
		return read_indirect(io);
	default:
		return 0xffffffff;
	}
}

void vioapic_mmio_write(struct vioapic *io, uint32_t offset, uint32_t val)
{
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		io->ioregsel = val & 0xff;
		break;
	case VIOAPIC_IOWIN:
		write_indirect(io, val);
		break;
	}
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level)
{
	if (pin >= VIOAPIC_NR_PINS)
		return;
	bool was = io->lines >> pin & 1;
	if (level)
		io->lines |= 1u << pin;
	else
		io->lines &= ~(1u << pin);

	uint64_t rte = io->redir[pin];
	if (sets_remote_irr(rte))
		service_level(io, pin);
	else if (level && !was && !(rte & VIOAPIC_RTE_MASKED))
		send(io, pin); /* a masked edge is lost */
}

void vioapic_eoi(struct vioapic *io, uint8_t vector)
{
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		uint64_t rte = io->redir[pin];
		if ((rte & VIOAPIC_RTE_VECTOR) != vector || !(rte & VIOAPIC_RTE_REMOTE_IRR))
			continue;
		io->redir[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
		service_level(io, pin);
	}
}

bool vioapic_routes_nmi(const struct vioapic *io)
{
	for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
		uint64_t rte = io->redir[pin];
		if (!(rte & VIOAPIC_RTE_MASKED) && delivery_mode(rte) == DELIVERY_NMI)
			return true;
	}
	return false;
}

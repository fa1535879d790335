/*
 * Configuration-space accessors over `struct pci_cfg`, which only moves
 * aligned dwords: narrower reads pick their bytes out of the dword, narrower
 * writes read, merge and write the dword back.
 *
 * Read-merge-write has one trap: the Status registers (0x06, and a bridge's
 * Secondary Status at 0x1e) are write-1-to-clear, so writing back what was
 * read would clear the error bits set there. When the merged write is not
 * aimed at such a register, its half of the dword is written as zeros (a
 * zero leaves a RW1C bit as it is).
 */
#include "kernel/pci/pci.h"

static bool in_range(const struct pci_dev *d, uint16_t off, unsigned width)
{
	return d->cfg && (uint32_t)off + width <= d->cfg->max_offset;
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	if ((off & 3) || !in_range(d, off, 4))
		return 0xffffffffu;
	return d->cfg->read32(d->cfg->ctx, d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	if ((off & 1) || !in_range(d, off, 2))
		return 0xffff;
	return (uint16_t)(pci_read32(d, off & ~3u) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	if (!in_range(d, off, 1))
		return 0xff;
	return (uint8_t)(pci_read32(d, off & ~3u) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	if ((off & 3) || !in_range(d, off, 4))
		return;
	d->cfg->write32(d->cfg->ctx, d->bus, d->dev, d->fn, off, v);
}

/* The bits of the dword at `dword` that are write-1-to-clear status bits. */
static uint32_t rw1c_mask(const struct pci_dev *d, uint16_t dword)
{
	if (dword == PCI_COMMAND)
		return 0xffff0000u; /* Status */
	if (dword == 0x1c && (d->header_type & 0x7f) == 1)
		return 0xffff0000u; /* a bridge's Secondary Status */
	return 0;
}

static void write_merged(const struct pci_dev *d, uint16_t off, uint32_t v, uint32_t mask)
{
	uint16_t dword = off & ~3u;
	unsigned shift = (off & 3) * 8;
	uint32_t old = pci_read32(d, dword) & ~rw1c_mask(d, dword);
	pci_write32(d, dword, (old & ~(mask << shift)) | ((v & mask) << shift));
}

void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	if ((off & 1) || !in_range(d, off, 2))
		return;
	write_merged(d, off, v, 0xffff);
}

void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{
	if (!in_range(d, off, 1))
		return;
	write_merged(d, off, v, 0xff);
}

/*
 * BAR sizing (PCI 3.0 §6.2.5.1): write all ones, read back which address
 * bits stick, write the original value again. While a BAR holds all ones
 * it may decode over anything, so memory and I/O decoding are off during
 * the probe (host bridges excepted: some route the machine's own memory
 * through their BARs' decoding, and Linux leaves them on too) and the
 * Command register is restored afterwards.
 */
#include "kernel/pci/pci.h"

static bool is_host_bridge(const struct pci_dev *d)
{
	return d->class_base == PCI_CLASS_BRIDGE && d->class_sub == 0x00;
}

/* The size a mask of writable address bits means: its lowest set bit. */
static uint64_t mask_size(uint64_t m)
{
	return m & (~m + 1);
}

unsigned pci_bar_probe(struct pci_dev *d, unsigned i)
{
	unsigned nbars = (d->header_type & 0x7f) == 0 ? 6 : (d->header_type & 0x7f) == 1 ? 2 : 0;
	if (i >= PCI_MAX_BARS)
		return PCI_MAX_BARS;
	struct pci_bar *b = &d->bar[i];
	*b = (struct pci_bar){0};
	if (i >= nbars)
		return i + 1;

	uint16_t off = PCI_BAR0 + 4 * i;
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	bool quiet = (cmd & (PCI_CMD_IO | PCI_CMD_MEM)) && !is_host_bridge(d);
	if (quiet)
		pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));

	uint32_t orig = pci_read32(d, off);
	pci_write32(d, off, 0xffffffffu);
	uint32_t sz = pci_read32(d, off);
	pci_write32(d, off, orig);
	unsigned next = i + 1;

	if (sz == 0 || sz == 0xffffffffu) {
		/* nothing implemented here, or the function is gone */
	} else if (orig & 1) {
		uint32_t m = sz & ~3u;
		if (m && !(m & 0xffff0000u))
			m |= 0xffff0000u; /* 16-bit I/O decoders read the upper half as 0 */
		if (m) {
			b->io = true;
			b->base = orig & ~3u;
			b->size = mask_size(m);
		}
	} else {
		uint64_t writable = sz & ~0xfu; /* address bits that took the ones */
		uint64_t base = orig & ~0xfu;
		bool is64 = ((orig >> 1) & 3) == 2 && i + 1 < nbars;
		if (is64) {
			uint32_t orig_hi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, 0xffffffffu);
			uint32_t sz_hi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, orig_hi);
			writable |= (uint64_t)sz_hi << 32;
			base |= (uint64_t)orig_hi << 32;
			d->bar[i + 1] = (struct pci_bar){0}; /* the upper half */
			next = i + 2;
		}
		b->is64 = is64;
		if (writable) {
			/* a 32-bit BAR's upper bits are fixed at 0: they count as writable */
			uint64_t m = is64 ? writable : writable | 0xffffffff00000000ull;
			b->base = base;
			b->size = mask_size(m);
			b->prefetch = orig & 8;
		}
	}

	if (quiet)
		pci_write16(d, PCI_COMMAND, cmd);
	return next;
}

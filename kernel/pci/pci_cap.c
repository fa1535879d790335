/*
 * Capability lists (PCI 3.0 §6.7, PCIe 5.0 §7.6). A device's lists come from
 * its firmware and silicon and may be broken: a pointer into the header, a
 * loop, a list that never ends. Every walk is bounded by the number of
 * entries that fit in the space, so a broken list ends the walk, never the host.
 */
#include "kernel/pci/pci.h"

#define PCI_CAP_FIRST 0x40
#define PCI_EXT_CAP_FIRST 0x100
/* 48 four-byte capabilities fit in 0x40..0xff: any longer walk is a loop */
#define PCI_CAP_MAX_WALK ((0x100 - PCI_CAP_FIRST) / 4)

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	/* type 2 (CardBus) headers keep the pointer at 0x14 */
	uint8_t ptr = pci_read8(d, (d->header_type & 0x7f) == 2 ? 0x14 : PCI_CAP_PTR);
	for (unsigned n = 0; n < PCI_CAP_MAX_WALK; n++) {
		ptr &= 0xfc; /* the low two bits are reserved */
		if (ptr < PCI_CAP_FIRST)
			return 0; /* the end (0), or a pointer into the header */
		uint16_t hdr = pci_read16(d, ptr);
		if ((hdr & 0xff) == 0xff)
			return 0; /* the function is gone */
		if ((hdr & 0xff) == id)
			return ptr;
		ptr = (uint8_t)(hdr >> 8);
	}
	return 0;
}

uint16_t pci_find_ext_cap(const struct pci_dev *d, uint16_t id)
{
	/*
	 * Extended space exists only for PCIe functions reached through ECAM;
	 * elsewhere offsets from 0x100 may alias the first 256 bytes.
	 */
	if (!d->cfg || d->cfg->max_offset <= PCI_EXT_CAP_FIRST || !pci_find_cap(d, PCI_CAP_ID_PCIE))
		return 0;
	uint16_t off = PCI_EXT_CAP_FIRST;
	unsigned max_walk = (d->cfg->max_offset - PCI_EXT_CAP_FIRST) / 4;
	for (unsigned n = 0; n < max_walk; n++) {
		uint32_t hdr = pci_read32(d, off);
		if (hdr == 0 || hdr == 0xffffffffu)
			return 0;
		if ((hdr & 0xffff) == id)
			return off;
		off = (uint16_t)((hdr >> 20) & 0xffc);
		if (off < PCI_EXT_CAP_FIRST)
			return 0;
	}
	return 0;
}

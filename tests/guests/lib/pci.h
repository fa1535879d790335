/*
 * PCI configuration access for the test guests (PCI Local Bus 3.0 §3.2.2.3.2
 * mechanism #1: address latch 0xcf8, data window 0xcfc), a bus-0 scan, the
 * capability list (§6.7) and BARs (§6.2.5): read, size, move.
 *
 * The guests run in 32-bit mode without paging, so every BAR they use must
 * decode below 4 GiB: pci_bar_map() moves a 64-bit BAR that the firmware
 * put above 4 GiB (the hypervisor puts 64-bit prefetchable BARs at 64 GiB)
 * into the 32-bit window, and assigns one left unassigned (0: QEMU's
 * -kernel boot without a firmware pass over that device), the way an OS
 * reassigns BARs: memory decoding off, low dword, high dword, decoding on.
 */
#ifndef GUEST_LIB_PCI_H
#define GUEST_LIB_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* A function on bus 0: device (slot) 0-31, function 0-7. */
struct pci_fn {
	uint8_t dev, fn;
};

#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_CMD 0x04
#define PCI_STS 0x06
#define PCI_REVISION 0x08
#define PCI_HDR_TYPE 0x0e
#define PCI_BAR(n) (0x10 + 4 * (n))
#define PCI_CAPS 0x34

#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_STS_CAPS (1u << 4)

/* Where the guests put BARs they move or assign: inside the hypervisor's
 * 32-bit window 0xc1000000-0xfebfffff, 1 MiB per slot. */
#define PCI_GUEST_BAR_BASE 0xd0000000u
#define PCI_GUEST_BAR_SLOT 0x100000u

uint32_t pci_read32(struct pci_fn f, uint8_t off);
uint16_t pci_read16(struct pci_fn f, uint8_t off);
uint8_t pci_read8(struct pci_fn f, uint8_t off);
void pci_write32(struct pci_fn f, uint8_t off, uint32_t v);
void pci_write16(struct pci_fn f, uint8_t off, uint16_t v);
void pci_write8(struct pci_fn f, uint8_t off, uint8_t v);

/*
 * The index-th function (from 0) on bus 0 with this vendor and device ID, in
 * slot order; false when there are fewer.
 */
bool pci_find(uint16_t vendor, uint16_t device, unsigned index, struct pci_fn *out);
/* Prints every function on bus 0 (IDs, class, BARs). */
void pci_dump(void);

/*
 * The capability list: the offset of the first capability with this ID at
 * or after `from` (0: the start of the list), or 0 when none. The walk stops
 * after 48 entries: a looped list cannot hang the guest.
 */
uint8_t pci_cap_next(struct pci_fn f, uint8_t id, uint8_t from);

struct pci_bar {
	bool present, io, is64, prefetch;
	uint64_t addr, size;
};
/* BAR n as it is now, sized (all ones then read back, decoding off meanwhile). */
struct pci_bar pci_bar_read(struct pci_fn f, unsigned n);
/* Moves memory BAR n to addr (memory decoding off during the move). */
void pci_bar_move(struct pci_fn f, unsigned n, uint64_t addr);
/*
 * Makes memory BAR n decode below 4 GiB: leaves it where it is when it
 * already does, else moves it to PCI_GUEST_BAR_BASE + slot * PCI_GUEST_BAR_SLOT
 * + n * 128 KiB (always, with force; function 0 only, BARs of 128 KiB at
 * most). Enables memory decoding and bus mastering. Returns
 * the BAR's address, or 0 when it is not a memory BAR or does not fit.
 */
uint32_t pci_bar_map(struct pci_fn f, unsigned n, bool force);

#endif

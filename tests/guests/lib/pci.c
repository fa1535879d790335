/*
 * PCI configuration mechanism #1, bus-0 scan, capabilities and BARs for the
 * test guests. See pci.h.
 */
#include "pci.h"

#include "guest.h"

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* Enable bit 31, bus 0, device 15:11, function 10:8, dword register 7:2. */
static void latch(struct pci_fn f, uint8_t off)
{
	outl(PCI_ADDR, 0x80000000u | ((uint32_t)f.dev << 11) | ((uint32_t)f.fn << 8) | (off & 0xfc));
}

uint32_t pci_read32(struct pci_fn f, uint8_t off)
{
	latch(f, off);
	return inl(PCI_DATA);
}

uint16_t pci_read16(struct pci_fn f, uint8_t off)
{
	latch(f, off);
	return inw(PCI_DATA + (off & 2));
}

uint8_t pci_read8(struct pci_fn f, uint8_t off)
{
	latch(f, off);
	return inb(PCI_DATA + (off & 3));
}

void pci_write32(struct pci_fn f, uint8_t off, uint32_t v)
{
	latch(f, off);
	outl(PCI_DATA, v);
}

void pci_write16(struct pci_fn f, uint8_t off, uint16_t v)
{
	latch(f, off);
	outw(PCI_DATA + (off & 2), v);
}

void pci_write8(struct pci_fn f, uint8_t off, uint8_t v)
{
	latch(f, off);
	outb(PCI_DATA + (off & 3), v);
}

/* Calls visit for every function present on bus 0 until it returns true. */
static bool scan(bool (*visit)(struct pci_fn f, void *ctx), void *ctx)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		struct pci_fn f = {dev, 0};
		if (pci_read16(f, PCI_VENDOR) == 0xffff)
			continue;
		/* header type bit 7: a multi-function device (PCI 3.0 §6.2.1) */
		unsigned nfn = (pci_read8(f, PCI_HDR_TYPE) & 0x80) ? 8 : 1;
		for (uint8_t fn = 0; fn < nfn; fn++) {
			f.fn = fn;
			if (pci_read16(f, PCI_VENDOR) == 0xffff)
				continue;
			if (visit(f, ctx))
				return true;
		}
	}
	return false;
}

struct find_ctx {
	uint16_t vendor, device;
	unsigned left;
	struct pci_fn found;
};

static bool find_visit(struct pci_fn f, void *ctx)
{
	struct find_ctx *c = ctx;
	if (pci_read16(f, PCI_VENDOR) != c->vendor || pci_read16(f, PCI_DEVICE) != c->device)
		return false;
	if (c->left--)
		return false;
	c->found = f;
	return true;
}

bool pci_find(uint16_t vendor, uint16_t device, unsigned index, struct pci_fn *out)
{
	struct find_ctx c = {vendor, device, index, {0, 0}};
	if (!scan(find_visit, &c))
		return false;
	*out = c.found;
	return true;
}

static bool dump_visit(struct pci_fn f, void *ctx)
{
	(void)ctx;
	printf("pci: 00:%02x.%u %04x:%04x class %06x\n", f.dev, f.fn, pci_read16(f, PCI_VENDOR),
	       pci_read16(f, PCI_DEVICE), pci_read32(f, PCI_REVISION) >> 8);
	if ((pci_read8(f, PCI_HDR_TYPE) & 0x7f) != 0)
		return false; /* a bridge: its BARs are not ours to print */
	for (unsigned n = 0; n < 6; n++) {
		struct pci_bar b = pci_bar_read(f, n);
		if (b.present)
			printf("pci:   BAR%u %s%s 0x%llx size 0x%llx\n", n,
			       b.io ? "io" : (b.is64 ? "mem64" : "mem32"), b.prefetch ? " pref" : "",
			       (unsigned long long)b.addr, (unsigned long long)b.size);
		if (b.is64)
			n++;
	}
	return false;
}

void pci_dump(void)
{
	scan(dump_visit, NULL);
}

uint8_t pci_cap_next(struct pci_fn f, uint8_t id, uint8_t from)
{
	if (!(pci_read16(f, PCI_STS) & PCI_STS_CAPS))
		return 0;
	uint8_t off = from ? pci_read8(f, from + 1) : pci_read8(f, PCI_CAPS);
	/* at most 48 capabilities fit in 192 bytes; the low two bits are reserved */
	for (unsigned n = 0; n < 48 && off >= 0x40; n++) {
		off &= 0xfc;
		if (pci_read8(f, off) == id)
			return off;
		off = pci_read8(f, off + 1);
	}
	return 0;
}

struct pci_bar pci_bar_read(struct pci_fn f, unsigned n)
{
	struct pci_bar b = {0};
	uint8_t off = PCI_BAR(n);
	uint32_t lo = pci_read32(f, off);
	uint16_t cmd = pci_read16(f, PCI_CMD);

	b.io = lo & 1;
	b.is64 = !b.io && ((lo >> 1) & 3) == 2 && n < 5;
	b.prefetch = !b.io && (lo & 8);
	/* sizing writes all ones: no decoding meanwhile (PCI 3.0 §6.2.5.1) */
	pci_write16(f, PCI_CMD, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	pci_write32(f, off, 0xffffffffu);
	uint32_t mlo = pci_read32(f, off);
	pci_write32(f, off, lo);
	uint32_t hi = 0, mhi = b.is64 ? 0xffffffffu : 0;
	if (b.is64) {
		hi = pci_read32(f, off + 4);
		pci_write32(f, off + 4, 0xffffffffu);
		mhi = pci_read32(f, off + 4);
		pci_write32(f, off + 4, hi);
	}
	pci_write16(f, PCI_CMD, cmd);

	uint64_t mask = ((uint64_t)mhi << 32) | (mlo & (b.io ? ~3u : ~15u));
	if (b.io)
		mask |= 0xffffffff00000000ull | (mhi ? 0 : 0xffff0000u); /* 16-bit I/O decoders */
	else if (!b.is64)
		mask |= 0xffffffff00000000ull;
	if ((mask & 0xffffffffu) == 0 && !(b.is64 && mhi))
		return b; /* nothing implemented: no BAR */
	b.present = true;
	b.size = ~mask + 1;
	b.addr = (((uint64_t)hi << 32) | lo) & (b.io ? ~3ull : ~15ull);
	return b;
}

void pci_bar_move(struct pci_fn f, unsigned n, uint64_t addr)
{
	struct pci_bar b = pci_bar_read(f, n);
	uint16_t cmd = pci_read16(f, PCI_CMD);
	uint8_t off = PCI_BAR(n);

	/* an OS moves a BAR with decoding off: a half-written 64-bit address
	 * must never decode (PCI 3.0 §6.2.5.1) */
	pci_write16(f, PCI_CMD, cmd & ~PCI_CMD_MEM);
	pci_write32(f, off, (uint32_t)addr | (pci_read32(f, off) & 15));
	if (b.is64)
		pci_write32(f, off + 4, (uint32_t)(addr >> 32));
	pci_write16(f, PCI_CMD, cmd);
}

uint32_t pci_bar_map(struct pci_fn f, unsigned n, bool force)
{
	struct pci_bar b = pci_bar_read(f, n);
	if (!b.present || b.io || b.size > PCI_GUEST_BAR_SLOT / 8)
		return 0;
	/* a BAR of slot s goes to base + s MiB + n * 128 KiB (naturally aligned) */
	uint64_t to = PCI_GUEST_BAR_BASE + (uint64_t)f.dev * PCI_GUEST_BAR_SLOT +
		      (uint64_t)n * (PCI_GUEST_BAR_SLOT / 8);
	if (b.addr != to && (force || b.addr == 0 || b.addr + b.size > 0x100000000ull)) {
		printf("pci: 00:%02x.%u BAR%u 0x%llx -> 0x%llx\n", f.dev, f.fn, n,
		       (unsigned long long)b.addr, (unsigned long long)to);
		pci_bar_move(f, n, to);
		b = pci_bar_read(f, n);
		if (b.addr != to) {
			printf("pci: 00:%02x.%u BAR%u reads 0x%llx after the move\n", f.dev, f.fn, n,
			       (unsigned long long)b.addr);
			return 0;
		}
	}
	pci_write16(f, PCI_CMD, pci_read16(f, PCI_CMD) | PCI_CMD_MEM | PCI_CMD_MASTER);
	return (uint32_t)b.addr;
}

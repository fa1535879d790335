/*
 * The VM's PCI bus 0: configuration mechanism #1 (PCI Local Bus 3.0
 * §3.2.2.3.2) and ECAM (PCI Express Base 4.0 §7.2.2) onto its 32 slots,
 * the firmware's BAR layout, and memory and I/O accesses dispatched to the
 * BAR that decodes them now. The host bridge sits at 00:00.0 with the IDs
 * of Intel's Q35 DRAM controller (8086:29c0, class 06/00/00), what QEMU's
 * q35 machine shows. Only function 0 of each slot exists.
 */
#include "guest/pci/vpci.h"

#include "guest/pci/vpci_internal.h"
#include "kernel/lib/string.h"

#define CF8_ENABLE 0x80000000u
#define CF8_WRITABLE 0x80fffffcu /* enable, bus, device, function, register 7:2 */
#define ECAM_DEVFN_SHIFT 12
#define HOST_BRIDGE_VENDOR 0x8086
#define HOST_BRIDGE_DEVICE 0x29c0
#define HOST_BRIDGE_CLASS 0x060000

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

void vpci_bus_init(struct vpci_bus *b, const struct vpci_bus_config *cfg)
{
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	b->mem32_next = cfg->mem32.base;
	b->mem64_next = cfg->mem64.base;
	b->io_next = cfg->io.base;
	vpci_func_init(&b->host_bridge, "host-bridge", HOST_BRIDGE_VENDOR, HOST_BRIDGE_DEVICE,
		       HOST_BRIDGE_CLASS, 0, 0, 0, NULL, NULL);
	b->host_bridge.bus = b;
	b->slots[0] = &b->host_bridge;
}

struct vpci_func *vpci_bus_func(struct vpci_bus *b, unsigned slot)
{
	return slot < VPCI_SLOTS ? b->slots[slot] : NULL;
}

/* The next naturally aligned `size` bytes in a window from *cursor; false when full. */
static bool window_alloc(const struct vpci_window *w, uint64_t *cursor, uint64_t size,
			 uint64_t *addr)
{
	uint64_t a = (*cursor + size - 1) & ~(size - 1);
	if (!w->size || a < *cursor || a < w->base || a + size < a || a + size > w->base + w->size)
		return false;
	*addr = a;
	*cursor = a + size;
	return true;
}

int vpci_bus_add(struct vpci_bus *b, struct vpci_func *f, unsigned slot)
{
	if (slot == 0)
		while (++slot < VPCI_SLOTS && b->slots[slot])
			;
	if (slot >= VPCI_SLOTS || b->slots[slot] || f->bus)
		return -1;

	/* lay out every BAR first, so that a function that does not fit takes nothing */
	uint64_t m32 = b->mem32_next, m64 = b->mem64_next, io = b->io_next, addr[6] = {0};
	uint16_t cmd = 0;
	for (unsigned i = 0; i < 6; i++) {
		const struct vpci_bar *bar = &f->bars[i];
		bool ok = true;
		switch (bar->type) {
		case VPCI_BAR_IO:
			ok = window_alloc(&b->cfg.io, &io, bar->size, &addr[i]);
			cmd |= PCI_COMMAND_IO;
			break;
		case VPCI_BAR_MEM64:
			if (bar->prefetchable && b->cfg.mem64.size) {
				ok = window_alloc(&b->cfg.mem64, &m64, bar->size, &addr[i]);
				cmd |= PCI_COMMAND_MEMORY;
				break;
			}
			/* Linux keeps non-prefetchable BARs below 4 GiB */
			__attribute__((fallthrough));
		case VPCI_BAR_MEM32:
			ok = window_alloc(&b->cfg.mem32, &m32, bar->size, &addr[i]);
			cmd |= PCI_COMMAND_MEMORY;
			break;
		case VPCI_BAR_NONE:
			break;
		}
		if (!ok)
			return -1;
	}
	b->mem32_next = m32;
	b->mem64_next = m64;
	b->io_next = io;

	f->bus = b;
	f->slot = slot;
	b->slots[slot] = f;
	/* what the firmware leaves: BARs placed, decoding on, the GSI in INTERRUPT_LINE */
	for (unsigned i = 0; i < 6; i++)
		if (f->bars[i].type != VPCI_BAR_NONE)
			vpci_func_place_bar(f, i, addr[i]);
	f->cfg[PCI_COMMAND] |= (uint8_t)cmd;
	if (f->intx_pin)
		f->cfg[PCI_INTERRUPT_LINE] = (uint8_t)vpci_intx_gsi(slot, f->intx_pin);
	vpci_func_snapshot(f);
	f->intx_out = false;
	vpci_func_update_intx(f); /* a line the device raised before it was plugged in */
	b->changed &= ~(1u << slot);
	return (int)slot;
}

void vpci_bus_drive_intx(struct vpci_bus *b, unsigned gsi, bool level)
{
	unsigned i = gsi - VPCI_INTX_GSI_BASE;
	if (i >= 4)
		return;
	/* the lines are wired-OR (shared, level, active low on a PC): the GSI is up while any is */
	if (level) {
		if (b->gsi_count[i]++ == 0 && b->cfg.set_gsi)
			b->cfg.set_gsi(b->cfg.ctx, gsi, true);
	} else if (b->gsi_count[i] && --b->gsi_count[i] == 0 && b->cfg.set_gsi) {
		b->cfg.set_gsi(b->cfg.ctx, gsi, false);
	}
}

void vpci_bus_reset(struct vpci_bus *b)
{
	b->cf8 = 0;
	for (unsigned s = 0; s < VPCI_SLOTS; s++)
		if (b->slots[s])
			vpci_func_reset(b->slots[s]);
}

uint32_t vpci_bus_take_changed(struct vpci_bus *b)
{
	uint32_t m = b->changed;
	b->changed = 0;
	return m;
}

/* ---- configuration cycles ---- */

/* Bus 0, function 0 of a slot: everything else is absent (reads all ones). */
static struct vpci_func *func_at(struct vpci_bus *b, unsigned bus, unsigned dev, unsigned fn)
{
	return bus == 0 && fn == 0 && dev < VPCI_SLOTS ? b->slots[dev] : NULL;
}

/* One config cycle of n bytes at ECAM-style address a (devfn << 12 | reg), within a dword. */
static uint32_t config_read(struct vpci_bus *b, unsigned bus, uint32_t a, unsigned n)
{
	struct vpci_func *f = func_at(b, bus, a >> 15 & 31, a >> 12 & 7);
	return f ? vpci_func_config_read(f, a & 0xfff, n) : (uint32_t)ones(n);
}

static void config_write(struct vpci_bus *b, unsigned bus, uint32_t a, unsigned n, uint32_t v)
{
	struct vpci_func *f = func_at(b, bus, a >> 15 & 31, a >> 12 & 7);
	if (f)
		vpci_func_config_write(f, a & 0xfff, n, v);
}

/* The current function behind CF8, as an ECAM-style address of its register dword. */
static uint32_t cf8_target(const struct vpci_bus *b)
{
	return (b->cf8 >> 8 & 0xff) << ECAM_DEVFN_SHIFT | (b->cf8 & 0xfc);
}

uint64_t vpci_cf8_read(struct vpci_bus *b, unsigned offset, unsigned size)
{
	if (size == 0 || size > 4 || offset >= 8)
		return ones(size);
	if (offset < 4) {
		if (offset == 0 && size == 4)
			return b->cf8;
		b->bad_config++; /* only a dword at 0xcf8 is the address latch */
		return ones(size);
	}
	if (!(b->cf8 & CF8_ENABLE))
		return ones(size);
	/* the data window is 0xcfc-0xcff: bytes past it are not ours */
	unsigned n = offset + size > 8 ? 8 - offset : size;
	uint64_t v = config_read(b, b->cf8 >> 16 & 0xff, cf8_target(b) + (offset - 4), n);
	return v | (ones(size) & ~ones(n));
}

void vpci_cf8_write(struct vpci_bus *b, unsigned offset, unsigned size, uint64_t value)
{
	if (size == 0 || size > 4 || offset >= 8)
		return;
	if (offset < 4) {
		if (offset == 0 && size == 4)
			b->cf8 = (uint32_t)value & CF8_WRITABLE;
		else
			b->bad_config++;
		return;
	}
	if (!(b->cf8 & CF8_ENABLE))
		return;
	unsigned n = offset + size > 8 ? 8 - offset : size;
	config_write(b, b->cf8 >> 16 & 0xff, cf8_target(b) + (offset - 4), n, (uint32_t)value);
}

/*
 * ECAM: any width up to a qword, split at dword boundaries into the config
 * cycles a root complex would make (PCIe allows only up to a dword each).
 */
uint64_t vpci_ecam_read(struct vpci_bus *b, uint64_t offset, unsigned size)
{
	uint64_t v = 0;
	if (size == 0 || size > 8)
		return ones(size);
	for (unsigned done = 0; done < size;) {
		uint64_t o = offset + done;
		unsigned n = 4 - (o & 3);
		if (n > size - done)
			n = size - done;
		uint64_t piece = o < VPCI_ECAM_SIZE ? config_read(b, (unsigned)(o >> 20), (uint32_t)o & 0xfffff, n)
						   : ones(n);
		v |= piece << (8 * done);
		done += n;
	}
	return v;
}

void vpci_ecam_write(struct vpci_bus *b, uint64_t offset, unsigned size, uint64_t value)
{
	if (size == 0 || size > 8)
		return;
	for (unsigned done = 0; done < size;) {
		uint64_t o = offset + done;
		unsigned n = 4 - (o & 3);
		if (n > size - done)
			n = size - done;
		if (o < VPCI_ECAM_SIZE)
			config_write(b, (unsigned)(o >> 20), (uint32_t)o & 0xfffff, n,
				     (uint32_t)(value >> (8 * done)));
		done += n;
	}
}

/* ---- memory and I/O ---- */

static bool inside(const struct vpci_window *w, uint64_t addr, unsigned size)
{
	return w->size && addr >= w->base && addr - w->base < w->size &&
	       size <= w->size - (addr - w->base);
}

static bool decode(struct vpci_bus *b, uint64_t addr, unsigned size, bool io, struct vpci_hit *h)
{
	if (size == 0)
		return false;
	if (io ? !inside(&b->cfg.io, addr, size)
	       : !inside(&b->cfg.mem32, addr, size) && !inside(&b->cfg.mem64, addr, size))
		return false;
	for (unsigned s = 0; s < VPCI_SLOTS; s++) {
		struct vpci_func *f = b->slots[s];
		if (!f || !(cfg_rd16(f, PCI_COMMAND) & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
			continue;
		for (unsigned i = 0; i < 6; i++) {
			const struct vpci_bar *bar = &f->bars[i];
			if (bar->type == VPCI_BAR_NONE || (bar->type == VPCI_BAR_IO) != io)
				continue;
			if (addr >= bar->addr && addr - bar->addr < bar->size &&
			    size <= bar->size - (addr - bar->addr)) {
				*h = (struct vpci_hit){f, i, addr - bar->addr};
				return true;
			}
		}
	}
	return false;
}

bool vpci_mem_decode(struct vpci_bus *b, uint64_t addr, unsigned size, struct vpci_hit *h)
{
	return decode(b, addr, size, false, h);
}

bool vpci_io_decode(struct vpci_bus *b, uint64_t port, unsigned size, struct vpci_hit *h)
{
	return decode(b, port, size, true, h);
}

static uint64_t hit_read(const struct vpci_hit *h, unsigned size)
{
	uint64_t v = 0;
	if (vpci_msix_mmio_read(h->f, h->bar, h->offset, size, &v))
		return v;
	if (h->f->ops && h->f->ops->bar_read)
		return h->f->ops->bar_read(h->f->opaque, h->bar, h->offset, size);
	return 0;
}

static void hit_write(const struct vpci_hit *h, unsigned size, uint64_t value)
{
	if (vpci_msix_mmio_write(h->f, h->bar, h->offset, size, value))
		return;
	if (h->f->ops && h->f->ops->bar_write)
		h->f->ops->bar_write(h->f->opaque, h->bar, h->offset, size, value);
}

bool vpci_mem_read(struct vpci_bus *b, uint64_t addr, unsigned size, uint64_t *value)
{
	struct vpci_hit h;
	if (!vpci_mem_decode(b, addr, size, &h))
		return false;
	*value = hit_read(&h, size);
	return true;
}

bool vpci_mem_write(struct vpci_bus *b, uint64_t addr, unsigned size, uint64_t value)
{
	struct vpci_hit h;
	if (!vpci_mem_decode(b, addr, size, &h))
		return false;
	hit_write(&h, size, value);
	return true;
}

bool vpci_io_read(struct vpci_bus *b, uint64_t port, unsigned size, uint64_t *value)
{
	struct vpci_hit h;
	if (!vpci_io_decode(b, port, size, &h))
		return false;
	*value = hit_read(&h, size);
	return true;
}

bool vpci_io_write(struct vpci_bus *b, uint64_t port, unsigned size, uint64_t value)
{
	struct vpci_hit h;
	if (!vpci_io_decode(b, port, size, &h))
		return false;
	hit_write(&h, size, value);
	return true;
}

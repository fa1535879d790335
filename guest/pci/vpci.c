/*
 * A PCI function's configuration space (PCI Local Bus 3.0 §6): a type 0
 * header, its BARs, the capability list and INTx. Every byte the guest may
 * change is named by wmask (read-write) or w1cmask (write 1 to clear); the
 * rest is read-only, so a hostile guest cannot change what the hypervisor
 * set up. BARs are registers of their own (§6.2.5.1): the low bits say the
 * type and read back fixed, the bits below the size read 0, so writing all
 * ones and reading back gives the size.
 */
#include "guest/pci/vpci.h"

#include "guest/pci/vpci_internal.h"
#include "kernel/lib/string.h"

#define PCI_HEADER_TYPE_0 0x00
#define PCI_STATUS_ERRORS_HI 0xf9 /* STATUS 15:11 and 8: the error bits, all write 1 to clear */
#define PCI_BAR_IO_SPACE 0x1u
#define PCI_BAR_MEM_TYPE_64 0x4u
#define PCI_BAR_MEM_PREFETCH 0x8u
#define PCI_BAR_COUNT 6
#define PCI_CAP_FIRST 0x40 /* capabilities follow the 64-byte header */
#define PCI_CAP_MAX_WALK 48 /* (256 - 64) / 4: a list longer than that loops */

void vpci_func_init(struct vpci_func *f, const char *name, uint16_t vendor, uint16_t device,
		    uint32_t class_code, uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id,
		    const struct vpci_func_ops *ops, void *opaque)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->ops = ops;
	f->opaque = opaque;
	f->next_cap = PCI_CAP_FIRST;
	cfg_wr16(f, PCI_VENDOR_ID, vendor);
	cfg_wr16(f, PCI_DEVICE_ID, device);
	cfg_wr32(f, PCI_CLASS_REVISION, (class_code & 0xffffff) << 8 | revision);
	f->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_0; /* single function */
	cfg_wr16(f, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	cfg_wr16(f, PCI_SUBSYSTEM_ID, subsys_id);

	uint16_t cmd = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_INTX_DISABLE;
	f->wmask[PCI_COMMAND] = (uint8_t)cmd;
	f->wmask[PCI_COMMAND + 1] = (uint8_t)(cmd >> 8);
	f->w1cmask[PCI_STATUS + 1] = PCI_STATUS_ERRORS_HI;
	f->wmask[PCI_INTERRUPT_LINE] = 0xff; /* the firmware's scratch byte (§6.2.4) */
	vpci_func_snapshot(f);
}

void vpci_func_snapshot(struct vpci_func *f)
{
	memcpy(f->cfg_reset, f->cfg, sizeof(f->cfg));
	/* a line asserted at snapshot time is the device's state, not the power-on one */
	f->cfg_reset[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
}

/* ---- BARs (§6.2.5.1) ---- */

/* The first BAR register of the 64-bit BAR whose upper half idx is; -1 if idx is none. */
static int upper_half_of(const struct vpci_func *f, unsigned idx)
{
	return idx > 0 && f->bars[idx - 1].type == VPCI_BAR_MEM64 ? (int)idx - 1 : -1;
}

/* The BAR's registers from its type and address. */
static void bar_store(struct vpci_func *f, unsigned idx)
{
	const struct vpci_bar *bar = &f->bars[idx];
	unsigned reg = PCI_BAR0 + 4 * idx;
	uint32_t flags = bar->prefetchable ? PCI_BAR_MEM_PREFETCH : 0;
	switch (bar->type) {
	case VPCI_BAR_IO:
		cfg_wr32(f, reg, (uint32_t)bar->addr | PCI_BAR_IO_SPACE);
		break;
	case VPCI_BAR_MEM32:
		cfg_wr32(f, reg, (uint32_t)bar->addr | flags);
		break;
	case VPCI_BAR_MEM64:
		cfg_wr32(f, reg, (uint32_t)bar->addr | flags | PCI_BAR_MEM_TYPE_64);
		cfg_wr32(f, reg + 4, (uint32_t)(bar->addr >> 32));
		break;
	case VPCI_BAR_NONE:
		break;
	}
}

/* The address a BAR's registers hold (after a reset to the snapshot). */
static void bar_load(struct vpci_func *f, unsigned idx)
{
	struct vpci_bar *bar = &f->bars[idx];
	unsigned reg = PCI_BAR0 + 4 * idx;
	uint32_t lo = cfg_rd32(f, reg);
	switch (bar->type) {
	case VPCI_BAR_IO:
		bar->addr = lo & ~3u;
		break;
	case VPCI_BAR_MEM32:
		bar->addr = lo & ~0xfu;
		break;
	case VPCI_BAR_MEM64:
		bar->addr = (uint64_t)cfg_rd32(f, reg + 4) << 32 | (lo & ~0xfu);
		break;
	case VPCI_BAR_NONE:
		break;
	}
}

/* The guest wrote `value` to BAR register idx: only the bits at and above the size stick. */
static void bar_write(struct vpci_func *f, unsigned idx, uint32_t value)
{
	int lower = upper_half_of(f, idx);
	struct vpci_bar *bar = &f->bars[lower >= 0 ? (unsigned)lower : idx];
	uint64_t addr = bar->addr;
	if (lower >= 0)
		addr = (addr & 0xffffffffull) | (uint64_t)value << 32;
	else if (bar->type == VPCI_BAR_MEM64)
		addr = (addr & ~0xffffffffull) | (value & ~0xfu);
	else if (bar->type == VPCI_BAR_MEM32)
		addr = value & ~0xfu;
	else if (bar->type == VPCI_BAR_IO)
		addr = value & ~3u;
	else
		return; /* not implemented: reads 0 (§6.2.5.1) */
	bar->addr = addr & ~(bar->size - 1);
	bar_store(f, lower >= 0 ? (unsigned)lower : idx);
	vpci_func_changed(f);
}

void vpci_func_place_bar(struct vpci_func *f, unsigned idx, uint64_t addr)
{
	struct vpci_bar *bar = &f->bars[idx];
	bar->addr = addr & ~(bar->size - 1);
	bar_store(f, idx);
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

int vpci_func_add_bar(struct vpci_func *f, unsigned idx, enum vpci_bar_type type, uint64_t size,
		      bool prefetchable)
{
	if (idx >= PCI_BAR_COUNT || f->bars[idx].type != VPCI_BAR_NONE ||
	    upper_half_of(f, idx) >= 0 || !is_pow2(size))
		return -1;
	switch (type) {
	case VPCI_BAR_IO:
		/* I/O BARs ask for at most 256 bytes (§6.2.5.1) */
		if (size < 4 || size > 256 || prefetchable)
			return -1;
		break;
	case VPCI_BAR_MEM32:
		if (size < 16 || size > (1ull << 31))
			return -1;
		break;
	case VPCI_BAR_MEM64:
		if (size < 16 || size > (1ull << 40) || idx + 1 >= PCI_BAR_COUNT ||
		    f->bars[idx + 1].type != VPCI_BAR_NONE)
			return -1;
		break;
	default:
		return -1;
	}
	f->bars[idx] = (struct vpci_bar){.type = type, .prefetchable = prefetchable, .size = size};
	bar_store(f, idx);
	vpci_func_snapshot(f);
	return 0;
}

/* ---- capabilities (§6.7) ---- */

uint8_t vpci_func_add_cap(struct vpci_func *f, uint8_t id, const uint8_t *body, uint8_t len)
{
	unsigned off = f->next_cap;
	if (len < 2 || off < PCI_CAP_FIRST || off + len > VPCI_CFG_SIZE)
		return 0;
	f->cfg[off] = id;
	f->cfg[off + 1] = 0;
	if (body)
		memcpy(&f->cfg[off + 2], body, len - 2u);
	else
		memset(&f->cfg[off + 2], 0, len - 2u);

	/* linked last, so the list runs in the order the caps were added */
	if (!f->cfg[PCI_CAP_PTR]) {
		f->cfg[PCI_CAP_PTR] = (uint8_t)off;
	} else {
		unsigned p = f->cfg[PCI_CAP_PTR];
		for (unsigned n = 0; f->cfg[p + 1] && n < PCI_CAP_MAX_WALK; n++)
			p = f->cfg[p + 1];
		f->cfg[p + 1] = (uint8_t)off;
	}
	f->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	f->next_cap = (uint8_t)((off + len + 3) & ~3u);
	if (off + len + 3 >= VPCI_CFG_SIZE)
		f->next_cap = 0; /* full: the next add fails */
	vpci_func_snapshot(f);
	return (uint8_t)off;
}

/* ---- INTx (§6.2.4, §6.8: MSI or MSI-X enabled stops it) ---- */

void vpci_func_set_intx_pin(struct vpci_func *f, uint8_t pin)
{
	if (pin > 4)
		return;
	f->intx_pin = pin;
	f->cfg[PCI_INTERRUPT_PIN] = pin;
	vpci_func_snapshot(f);
	vpci_func_update_intx(f);
}

void vpci_func_update_intx(struct vpci_func *f)
{
	bool out = f->intx_pin && f->intx_level &&
		   !(cfg_rd16(f, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) && !vpci_msi_enabled(f) &&
		   !vpci_msix_enable_bit(f);
	if (out == f->intx_out)
		return;
	f->intx_out = out;
	if (f->bus)
		vpci_bus_drive_intx(f->bus, vpci_intx_gsi(f->slot, f->intx_pin), out);
}

void vpci_func_set_intx(struct vpci_func *f, bool level)
{
	f->intx_level = level;
	/* STATUS.INTERRUPT is the line inside the function, whatever INTX_DISABLE says (§6.2.3) */
	if (level)
		f->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		f->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	vpci_func_update_intx(f);
}

void vpci_func_changed(struct vpci_func *f)
{
	if (f->bus && f->bus->cfg.defer_config_changed)
		f->bus->changed |= 1u << f->slot;
	else if (f->ops && f->ops->config_changed)
		f->ops->config_changed(f->opaque);
}

/* ---- config cycles ---- */

uint32_t vpci_func_config_read(struct vpci_func *f, unsigned reg, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		if (reg + i < VPCI_CFG_SIZE) { /* the extended space reads 0: no extended caps */
			uint8_t b = f->cfg[reg + i];
			/* a passed-through function's line is the host function's */
			if (reg + i == PCI_STATUS && f->ops && f->ops->intx_status && f->intx_pin)
				b = (uint8_t)((b & ~PCI_STATUS_INTERRUPT) |
					      (f->ops->intx_status(f->opaque) ? PCI_STATUS_INTERRUPT : 0));
			v |= (uint32_t)b << (8 * i);
		}
	return v;
}

/* The bytes of the dword at reg (4-aligned) that `lanes` selects (0xff per byte) take value. */
static void write_dword(struct vpci_func *f, unsigned reg, uint32_t value, uint32_t lanes)
{
	uint32_t old = cfg_rd32(f, reg);
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 4 * PCI_BAR_COUNT) {
		bar_write(f, (reg - PCI_BAR0) / 4, (old & ~lanes) | (value & lanes));
		return;
	}
	for (unsigned i = 0; i < 4; i++) {
		if (!(lanes >> (8 * i) & 0xff))
			continue;
		uint8_t v = (uint8_t)(value >> (8 * i)), *b = &f->cfg[reg + i];
		*b = (uint8_t)(((*b & ~f->wmask[reg + i]) | (v & f->wmask[reg + i])) &
			       ~(v & f->w1cmask[reg + i]));
	}
	if (reg == PCI_COMMAND &&
	    ((old ^ cfg_rd32(f, reg)) & 0xffff)) { /* decoding, mastering, INTx changed */
		vpci_func_update_intx(f);
		vpci_func_changed(f);
	}
	vpci_msix_config_written(f, reg, old);
	vpci_msi_config_written(f, reg, old);
}

void vpci_func_config_write(struct vpci_func *f, unsigned reg, unsigned size, uint32_t value)
{
	if (size > 4)
		size = 4;
	/* split at the dword boundary: each piece is what one config cycle's byte enables take */
	while (size) {
		unsigned shift = reg & 3, n = 4 - shift < size ? 4 - shift : size;
		uint32_t lanes = (n == 4 ? ~0u : ((1u << (8 * n)) - 1)) << (8 * shift);
		if (reg < VPCI_CFG_SIZE) /* the extended space ignores writes */
			write_dword(f, reg & ~3u, value << (8 * shift), lanes);
		reg += n;
		size -= n;
		value = n == 4 ? 0 : value >> (8 * n);
	}
}

void vpci_func_reset(struct vpci_func *f)
{
	memcpy(f->cfg, f->cfg_reset, sizeof(f->cfg));
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++)
		bar_load(f, i);
	vpci_msix_reset(f);
	f->intx_level = false; /* the function is reset: its line drops */
	vpci_func_update_intx(f);
	vpci_func_changed(f);
}

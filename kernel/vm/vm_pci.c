#include "kernel/vm/vm_pci.h"

#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"
#include "kernel/vm/vplatform.h"

struct vm_pci {
	spinlock_t lock; /* the bus lock: see vm_pci.h for the order */
	struct vm *vm;
	struct vpci_bus bus;
};

static struct vm_pci *pci_of(struct vm *vm)
{
	return vm->pci;
}

/* ---- what the bus sends out ---- */

static void bus_msi(void *ctx, uint64_t address, uint32_t data)
{
	struct vm_pci *p = ctx;
	vplatform_deliver_msi(p->vm, address, data);
}

static void bus_set_gsi(void *ctx, unsigned gsi, bool level)
{
	struct vm_pci *p = ctx;
	vplatform_set_gsi(p->vm, gsi, level);
}

/* config_changed for the functions a config write marked, with the bus lock dropped. */
static void run_changed(struct vm_pci *p, uint32_t slots)
{
	for (unsigned s = 0; s < VPCI_SLOTS; s++) {
		/* slots are filled at build time only: reading one unlocked is safe */
		struct vpci_func *f = p->bus.slots[s];
		if ((slots >> s & 1) && f && f->ops && f->ops->config_changed)
			f->ops->config_changed(f->opaque);
	}
}

/* ---- configuration cycles ---- */

/* 0xcf8 (the latch) and 0xcfa-0xcff registered apart, around the reset control at 0xcf9 */
static uint64_t cf8_read(void *o, uint64_t off, unsigned size)
{
	struct vm_pci *p = o;
	spin_lock(&p->lock);
	uint64_t v = vpci_cf8_read(&p->bus, (unsigned)off, size);
	spin_unlock(&p->lock);
	return v;
}

static void cf8_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	struct vm_pci *p = o;
	spin_lock(&p->lock);
	vpci_cf8_write(&p->bus, (unsigned)off, size, v);
	uint32_t changed = vpci_bus_take_changed(&p->bus);
	spin_unlock(&p->lock);
	run_changed(p, changed);
}

static uint64_t cfa_read(void *o, uint64_t off, unsigned size)
{
	return cf8_read(o, off + 2, size);
}

static void cfa_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	cf8_write(o, off + 2, size, v);
}

static uint64_t ecam_read(void *o, uint64_t off, unsigned size)
{
	struct vm_pci *p = o;
	spin_lock(&p->lock);
	uint64_t v = vpci_ecam_read(&p->bus, off, size);
	spin_unlock(&p->lock);
	return v;
}

static void ecam_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	struct vm_pci *p = o;
	spin_lock(&p->lock);
	vpci_ecam_write(&p->bus, off, size, v);
	uint32_t changed = vpci_bus_take_changed(&p->bus);
	spin_unlock(&p->lock);
	run_changed(p, changed);
}

/* ---- BARs: decoded under the lock, the device called without it ---- */

static uint64_t bar_read(struct vm_pci *p, bool io, uint64_t addr, unsigned size)
{
	struct vpci_hit h;
	uint64_t v = 0;
	spin_lock(&p->lock);
	bool hit = io ? vpci_io_decode(&p->bus, addr, size, &h)
		      : vpci_mem_decode(&p->bus, addr, size, &h);
	if (!hit) {
		spin_unlock(&p->lock);
		return ~0ull; /* nothing decodes it: master abort */
	}
	if (!io && vpci_msix_mmio_read(h.f, h.bar, h.offset, size, &v)) {
		spin_unlock(&p->lock);
		return v;
	}
	spin_unlock(&p->lock);
	if (h.f->ops && h.f->ops->bar_read)
		v = h.f->ops->bar_read(h.f->opaque, h.bar, h.offset, size);
	return v;
}

static void bar_write(struct vm_pci *p, bool io, uint64_t addr, unsigned size, uint64_t v)
{
	struct vpci_hit h;
	spin_lock(&p->lock);
	bool hit = io ? vpci_io_decode(&p->bus, addr, size, &h)
		      : vpci_mem_decode(&p->bus, addr, size, &h);
	/* an MSI-X unmask may send a message: the platform lock nests inside this one */
	if (!hit || (!io && vpci_msix_mmio_write(h.f, h.bar, h.offset, size, v))) {
		spin_unlock(&p->lock);
		return;
	}
	spin_unlock(&p->lock);
	if (h.f->ops && h.f->ops->bar_write)
		h.f->ops->bar_write(h.f->opaque, h.bar, h.offset, size, v);
}

static uint64_t mem32_read(void *o, uint64_t off, unsigned size)
{
	return bar_read(o, false, VPCI_MEM32_BASE + off, size);
}

static void mem32_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	bar_write(o, false, VPCI_MEM32_BASE + off, size, v);
}

static uint64_t mem64_read(void *o, uint64_t off, unsigned size)
{
	return bar_read(o, false, VPCI_MEM64_BASE + off, size);
}

static void mem64_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	bar_write(o, false, VPCI_MEM64_BASE + off, size, v);
}

static uint64_t io_read(void *o, uint64_t off, unsigned size)
{
	return bar_read(o, true, VPCI_IO_BASE + off, size);
}

static void io_write(void *o, uint64_t off, unsigned size, uint64_t v)
{
	bar_write(o, true, VPCI_IO_BASE + off, size, v);
}

/* ---- the VM's bus ---- */

int vm_pci_init(struct vm *vm)
{
	struct vm_pci *p = kzalloc(sizeof(*p));
	if (!p)
		return -1;
	p->vm = vm;
	vm->pci = p;
	struct vpci_bus_config cfg = {
		.ecam_base = VPCI_ECAM_BASE,
		.mem32 = {VPCI_MEM32_BASE, VPCI_MEM32_SIZE},
		.mem64 = {VPCI_MEM64_BASE, VPCI_MEM64_SIZE},
		.io = {VPCI_IO_BASE, VPCI_IO_SIZE},
		.msi = bus_msi,
		.set_gsi = bus_set_gsi,
		.ctx = p,
		.defer_config_changed = true,
	};
	vpci_bus_init(&p->bus, &cfg);

	int r = 0;
	r |= iobus_register(&vm->pio, 0xcf8, 1, cf8_read, cf8_write, p, "pci-cf8");
	r |= iobus_register(&vm->pio, 0xcfa, 6, cfa_read, cfa_write, p, "pci-cfc");
	r |= iobus_register(&vm->pio, VPCI_IO_BASE, VPCI_IO_SIZE, io_read, io_write, p, "pci-io");
	r |= iobus_register(&vm->mmio, VPCI_ECAM_BASE, VPCI_ECAM_SIZE, ecam_read, ecam_write, p,
			    "pci-ecam");
	r |= iobus_register(&vm->mmio, VPCI_MEM32_BASE, VPCI_MEM32_SIZE, mem32_read, mem32_write, p,
			    "pci-mem32");
	r |= iobus_register(&vm->mmio, VPCI_MEM64_BASE, VPCI_MEM64_SIZE, mem64_read, mem64_write, p,
			    "pci-mem64");
	return r ? -1 : 0;
}

void vm_pci_reset(struct vm *vm)
{
	struct vm_pci *p = pci_of(vm);
	if (!p)
		return;
	spin_lock(&p->lock);
	vpci_bus_reset(&p->bus);
	uint32_t changed = vpci_bus_take_changed(&p->bus);
	spin_unlock(&p->lock);
	run_changed(p, changed);
}

void vm_pci_free(struct vm *vm)
{
	kfree(vm->pci);
	vm->pci = NULL;
}

int vm_pci_add(struct vm *vm, struct vpci_func *f, unsigned slot)
{
	struct vm_pci *p = pci_of(vm);
	if (!p)
		return -1;
	spin_lock(&p->lock);
	int r = vpci_bus_add(&p->bus, f, slot);
	spin_unlock(&p->lock);
	return r;
}

void vm_pci_lock(struct vm *vm)
{
	spin_lock(&pci_of(vm)->lock);
}

void vm_pci_unlock(struct vm *vm)
{
	spin_unlock(&pci_of(vm)->lock);
}

bool vm_pci_msix_notify(struct vm *vm, struct vpci_func *f, unsigned vec)
{
	struct vm_pci *p = pci_of(vm);
	spin_lock(&p->lock);
	bool sent = vpci_msix_notify(f, vec);
	spin_unlock(&p->lock);
	return sent;
}

bool vm_pci_msi_notify(struct vm *vm, struct vpci_func *f, unsigned vec)
{
	struct vm_pci *p = pci_of(vm);
	spin_lock(&p->lock);
	bool sent = vpci_msi_notify(f, vec);
	spin_unlock(&p->lock);
	return sent;
}

void vm_pci_set_intx(struct vm *vm, struct vpci_func *f, bool level)
{
	struct vm_pci *p = pci_of(vm);
	spin_lock(&p->lock);
	vpci_func_set_intx(f, level);
	spin_unlock(&p->lock);
}

/* ---- pci-list ---- */

static const char *bar_type_name(const struct vpci_bar *bar)
{
	switch (bar->type) {
	case VPCI_BAR_IO:
		return "io";
	case VPCI_BAR_MEM32:
		return bar->prefetchable ? "mem32 pref" : "mem32";
	case VPCI_BAR_MEM64:
		return bar->prefetchable ? "mem64 pref" : "mem64";
	default:
		return "none";
	}
}

bool vm_pci_describe(struct vm *vm, unsigned slot, char *buf, size_t len)
{
	struct vm_pci *p = pci_of(vm);
	if (!p || len == 0)
		return false;
	spin_lock(&p->lock);
	const struct vpci_func *f = vpci_bus_func(&p->bus, slot);
	if (!f) {
		spin_unlock(&p->lock);
		return false;
	}
	size_t n = 0;
	const uint8_t *c = f->cfg;
	uint16_t cmd = (uint16_t)(c[PCI_COMMAND] | c[PCI_COMMAND + 1] << 8);
	uint32_t class_code = (uint32_t)(c[0x09] | c[0x0a] << 8 | c[0x0b] << 16);
	buf[0] = 0;
	format_append(buf, len, &n, "00:%02x.0 %04x:%04x class %06x %s", slot,
	    c[PCI_VENDOR_ID] | c[PCI_VENDOR_ID + 1] << 8, c[PCI_DEVICE_ID] | c[PCI_DEVICE_ID + 1] << 8,
	    class_code, f->name ? f->name : "?");
	for (unsigned i = 0; i < 6; i++) {
		const struct vpci_bar *bar = &f->bars[i];
		if (bar->type == VPCI_BAR_NONE)
			continue;
		bool on = cmd & (bar->type == VPCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
		format_append(buf, len, &n, "  BAR%u %s 0x%llx+0x%llx [%s]", i, bar_type_name(bar),
		    (unsigned long long)bar->addr, (unsigned long long)bar->size, on ? "on" : "off");
	}
	if (f->intx_pin)
		format_append(buf, len, &n, "  IRQ INT%c->GSI%u%s%s", 'A' + f->intx_pin - 1,
		    vpci_intx_gsi(slot, f->intx_pin), f->intx_level ? " asserted" : "",
		    cmd & PCI_COMMAND_INTX_DISABLE ? " (disabled)" : "");
	if (f->msix.cap) {
		unsigned unmasked = 0;
		for (unsigned v = 0; v < f->msix.nvec; v++)
			unmasked += !(f->msix.entries[v].ctrl & 1);
		uint16_t mc = (uint16_t)(c[f->msix.cap + 2] | c[f->msix.cap + 3] << 8);
		format_append(buf, len, &n, "  MSI-X %u/%u %s", unmasked, f->msix.nvec,
		    !(mc & 0x8000) ? "disabled" : (mc & 0x4000) ? "function-masked" : "enabled");
		if (f->msix.pending)
			format_append(buf, len, &n, " pending 0x%llx", (unsigned long long)f->msix.pending);
	}
	if (f->msi_cap)
		format_append(buf, len, &n, "  MSI %s", vpci_msi_enabled(f) ? "enabled" : "disabled");
	if (f->msix.cap || f->msi_cap)
		format_append(buf, len, &n, "  msgs %llu sent %llu held", (unsigned long long)f->msi_sent,
		    (unsigned long long)f->msi_masked);
	spin_unlock(&p->lock);
	return true;
}

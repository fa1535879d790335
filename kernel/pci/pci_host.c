/*
 * The host's PCI hardware: configuration access, the boot-time walk, the
 * driver binding and the report (see pci.h for the layering).
 *
 * Access: ECAM (PCIe 5.0 §7.2.2) for each MCFG entry, its window mapped
 * uncached bus by bus for the buses the entry lists only; each dword is
 * read with a plain 32-bit MOV through EAX, the one form every chipset and
 * every hypervisor's MMIO emulation takes. Without a usable MCFG, PCI
 * configuration mechanism #1 (ports 0xCF8/0xCFC), after checking that 0xCF8
 * holds what is written to it; it reaches 256 bytes per function.
 */
#include <stdarg.h>

#include "include/x86.h"
#include "kernel/acpi/acpi.h"
#include "kernel/pci/pci_intx.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"
#include "kernel/iommu/iommu.h"

#define CF8_ADDRESS 0xcf8
#define CF8_DATA 0xcfc
#define CF8_ENABLE 0x80000000u

#define ECAM_BUS_SHIFT 20
#define ECAM_MAX_OFFSET 0x1000
#define CF8_MAX_OFFSET 0x100

struct pci_segment {
	struct pci_cfg cfg;
	uint16_t segment;
	uintptr_t ecam; /* the mapping of bus cfg.bus_start; 0 with CF8 */
};

struct pci_dev pci_devices[PCI_MAX_DEVICES];
size_t pci_device_count;

static struct pci_segment segments[ACPI_MAX_MCFG];
static unsigned nsegments;
static size_t devices_found; /* may exceed what pci_devices holds */
static const char *method = "none";
static spinlock_t cf8_lock = SPINLOCK_INIT;
/* "failed: REASON" of each device whose probe failed */
static char failures[PCI_MAX_DEVICES][80];

/* ---- ECAM ---- */

static volatile uint32_t *ecam_addr(const struct pci_segment *s, uint8_t bus, uint8_t dev, uint8_t fn,
				    uint16_t off)
{
	if (bus < s->cfg.bus_start || bus > s->cfg.bus_end || dev > 31 || fn > 7 ||
	    off > ECAM_MAX_OFFSET - 4)
		return NULL;
	uint64_t o = (uint64_t)(bus - s->cfg.bus_start) << ECAM_BUS_SHIFT | (uint64_t)dev << 15 |
		     (uint64_t)fn << 12 | off;
	return (volatile uint32_t *)(s->ecam + o);
}

static uint32_t ecam_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	volatile uint32_t *p = ecam_addr(ctx, bus, dev, fn, off);
	uint32_t v = 0xffffffffu;
	if (p)
		__asm__ volatile("movl %1, %0" : "=a"(v) : "m"(*p) : "memory");
	return v;
}

static void ecam_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	volatile uint32_t *p = ecam_addr(ctx, bus, dev, fn, off);
	if (p)
		__asm__ volatile("movl %1, %0" : "=m"(*p) : "a"(v) : "memory");
}

/* ---- CF8/CFC ---- */

static uint32_t cf8_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return CF8_ENABLE | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | off;
}

static uint32_t cf8_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	(void)ctx;
	if (dev > 31 || fn > 7 || off > CF8_MAX_OFFSET - 4)
		return 0xffffffffu;
	uint64_t flags = spin_lock_irqsave(&cf8_lock);
	outl(CF8_ADDRESS, cf8_address(bus, dev, fn, off));
	uint32_t v = inl(CF8_DATA);
	spin_unlock_irqrestore(&cf8_lock, flags);
	return v;
}

static void cf8_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	(void)ctx;
	if (dev > 31 || fn > 7 || off > CF8_MAX_OFFSET - 4)
		return;
	uint64_t flags = spin_lock_irqsave(&cf8_lock);
	outl(CF8_ADDRESS, cf8_address(bus, dev, fn, off));
	outl(CF8_DATA, v);
	spin_unlock_irqrestore(&cf8_lock, flags);
}

/* Mechanism #1 is there when its address register keeps what we write (as Linux checks). */
static bool cf8_answers(void)
{
	uint64_t flags = spin_lock_irqsave(&cf8_lock);
	uint32_t old = inl(CF8_ADDRESS);
	outl(CF8_ADDRESS, CF8_ENABLE);
	uint32_t back = inl(CF8_ADDRESS);
	outl(CF8_ADDRESS, old);
	spin_unlock_irqrestore(&cf8_lock, flags);
	return back == CF8_ENABLE;
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	printk("%s\n", line);
}

/* ---- finding the devices ---- */

static bool setup_ecam(const struct acpi_mcfg *m)
{
	if (!m->base || (m->base & ((1ull << ECAM_BUS_SHIFT) - 1)) || m->bus_end < m->bus_start) {
		printk("pci: MCFG entry for segment %u, buses %02x-%02x at %#llx is malformed; "
		       "ignored\n",
		       m->segment, m->bus_start, m->bus_end, (unsigned long long)m->base);
		return false;
	}
	for (unsigned i = 0; i < nsegments; i++) {
		const struct pci_cfg *c = &segments[i].cfg;
		if (segments[i].segment == m->segment && m->bus_start <= c->bus_end &&
		    c->bus_start <= m->bus_end) {
			printk("pci: MCFG entry for segment %u, buses %02x-%02x overlaps another; "
			       "ignored\n",
			       m->segment, m->bus_start, m->bus_end);
			return false;
		}
	}
	uint64_t pa = m->base + ((uint64_t)m->bus_start << ECAM_BUS_SHIFT);
	uint64_t size = (uint64_t)(m->bus_end - m->bus_start + 1) << ECAM_BUS_SHIFT;
	void *va = mm_map_mmio(pa, size);
	if (!va) {
		printk("pci: cannot map the ECAM window of segment %u at %#llx; ignored\n", m->segment,
		       (unsigned long long)pa);
		return false;
	}
	struct pci_segment *s = &segments[nsegments++];
	*s = (struct pci_segment){
	    .cfg = {.read32 = ecam_read32,
		    .write32 = ecam_write32,
		    .ctx = s,
		    .max_offset = ECAM_MAX_OFFSET,
		    .bus_start = m->bus_start,
		    .bus_end = m->bus_end,
		    .log = log_line},
	    .segment = m->segment,
	    .ecam = (uintptr_t)va,
	};
	return true;
}

static void setup_cf8(void)
{
	struct pci_segment *s = &segments[nsegments++];
	*s = (struct pci_segment){
	    .cfg = {.read32 = cf8_read32,
		    .write32 = cf8_write32,
		    .ctx = s,
		    .max_offset = CF8_MAX_OFFSET,
		    .bus_start = 0,
		    .bus_end = 255,
		    .log = log_line},
	    .segment = 0,
	};
}

static void enumerate_all(void)
{
	pci_device_count = 0;
	devices_found = 0;
	for (unsigned i = 0; i < nsegments; i++) {
		struct pci_segment *s = &segments[i];
		size_t room = PCI_MAX_DEVICES - pci_device_count;
		size_t n = pci_enumerate(&s->cfg, s->segment, pci_devices + pci_device_count, room);
		devices_found += n;
		pci_device_count += n < room ? n : room;
	}
}

/* ---- drivers ---- */

static char kept_for_vms[256];

void pci_host_keep_for_vms(const char *list)
{
	strlcpy_hv(kept_for_vms, list, sizeof(kept_for_vms));
}

static void bind(struct pci_dev *d, size_t index)
{
	if (pci_list_has(kept_for_vms, d)) {
		d->status = "kept for VMs (pciback=)";
		return; /* no driver: blocked by the IOMMU until a VM is given it */
	}
	for (size_t k = 0; k < pci_driver_count; k++) {
		const struct pci_driver *drv = pci_drivers[k];
		if (!drv || !drv->match || !drv->match(d))
			continue;
		d->driver = drv;
		char err[64] = "";
		/* its DMA in the hypervisor's IOMMU domain before the driver starts it */
		if (iommu_attach_hv(d, err, sizeof(err)) < 0 || drv->probe(d, err, sizeof(err)) < 0) {
			char name[16];
			pci_dev_name(d, name, sizeof(name));
			if (!err[0])
				strlcpy_hv(err, "probe failed", sizeof(err));
			printk("pci %s: %s: %s\n", name, drv->name, err);
			/* left off: no DMA, no interrupts from it */
			pci_msi_disable(d);
			pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_CMD_MASTER);
			iommu_block(d);
			format(failures[index], sizeof(failures[index]), "failed: %s", err);
			d->status = failures[index];
		}
		return;
	}
}

static void describe(const struct pci_dev *d, char *buf, size_t len)
{
	char name[16], bus[24] = "", state[96];
	pci_dev_name(d, name, sizeof(name));
	if ((d->header_type & 0x7f) == 1)
		format(bus, sizeof(bus), " to bus %02x-%02x", d->secondary_bus, d->subordinate_bus);
	if (d->driver)
		format(state, sizeof(state), "driver %s%s%s", d->driver->name, d->status ? ": " : "",
		       d->status ? d->status : "");
	else
		format(state, sizeof(state), "no driver%s%s", d->status ? ": " : "",
		       d->status ? d->status : "");
	format(buf, len, "pci %s: %04x:%04x %s%s [%s]", name, d->vendor, d->device,
	       pci_class_name(d->class_base, d->class_sub, d->prog_if), bus, state);
}

/* Distinct segment numbers (several MCFG entries may share one). */
static unsigned count_segments(void)
{
	unsigned segs = 0;
	for (unsigned i = 0; i < nsegments; i++) {
		bool seen = false;
		for (unsigned j = 0; j < i; j++)
			seen |= segments[j].segment == segments[i].segment;
		segs += !seen;
	}
	return segs;
}

void pci_host_init(const struct acpi_info *acpi)
{
	pci_intx_init(acpi);
	nsegments = 0;
	for (size_t i = 0; acpi && i < acpi->nmcfg && nsegments < ACPI_MAX_MCFG; i++)
		setup_ecam(&acpi->mcfg[i]);
	if (nsegments) {
		method = "ECAM";
		enumerate_all();
		/* an MCFG that points at nothing, while mechanism #1 works: trust the ports */
		if (!devices_found && cf8_answers()) {
			printk("pci: no device answers through ECAM; trying ports 0xCF8/0xCFC\n");
			nsegments = 0;
		}
	}
	if (!nsegments) {
		if (!cf8_answers()) {
			printk("pci: no configuration access (no usable MCFG, and ports 0xCF8/0xCFC do "
			       "not answer): no PCI devices\n");
			iommu_init(acpi);
			return;
		}
		method = "CF8";
		setup_cf8();
		enumerate_all();
	}

	/* the IOMMU knows the devices now, and blocks them all until a driver binds */
	iommu_init(acpi);
	for (size_t i = 0; i < pci_device_count; i++)
		bind(&pci_devices[i], i);
	for (size_t i = 0; i < pci_device_count; i++) {
		char line[192];
		describe(&pci_devices[i], line, sizeof(line));
		printk("%s\n", line);
	}
	unsigned segs = count_segments();
	printk("pci: %zu device%s on %u segment%s (%s)\n", devices_found,
	       devices_found == 1 ? "" : "s", segs, segs == 1 ? "" : "s", method);
	if (devices_found > pci_device_count)
		printk("pci: only the first %zu devices are kept; the others get no driver\n",
		       pci_device_count);
}

/* ---- the pci-list verb ---- */

static void size_text(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;
	while (u < 3 && size >= 1024 && !(size & 1023)) {
		size >>= 10;
		u++;
	}
	if (u < 0)
		format(buf, len, "%llu", (unsigned long long)size);
	else
		format(buf, len, "%llu%c", (unsigned long long)size, units[u]);
}

void pci_host_list(void)
{
	if (!nsegments) {
		console_print("no PCI configuration access: no host devices\n");
		return;
	}
	for (size_t i = 0; i < pci_device_count; i++) {
		const struct pci_dev *d = &pci_devices[i];
		char name[16], line[400];
		size_t n = 0;
		pci_dev_name(d, name, sizeof(name));
		format_append(line, sizeof(line), &n, "%s %04x:%04x class %02x%02x%02x %s", name, d->vendor,
		       d->device, d->class_base, d->class_sub, d->prog_if,
		       pci_class_name(d->class_base, d->class_sub, d->prog_if));
		if ((d->header_type & 0x7f) == 1)
			format_append(line, sizeof(line), &n, " bus %02x-%02x", d->secondary_bus,
			       d->subordinate_bus);
		for (unsigned b = 0; b < PCI_MAX_BARS; b++) {
			const struct pci_bar *bar = &d->bar[b];
			if (!bar->size)
				continue;
			char sz[16];
			size_text(bar->size, sz, sizeof(sz));
			format_append(line, sizeof(line), &n, "; bar%u %s %#llx+%s%s", b,
			       bar->io ? "io" : bar->is64 ? "mem64" : "mem",
			       (unsigned long long)bar->base, sz, bar->prefetch ? " pref" : "");
		}
		if (d->cap_msix)
			format_append(line, sizeof(line), &n, "; msix %u",
			       (pci_read16(d, d->cap_msix + 2) & 0x7ffu) + 1);
		if (d->cap_msi)
			format_append(line, sizeof(line), &n, "; msi");
		if (d->driver)
			format_append(line, sizeof(line), &n, "; driver %s", d->driver->name);
		else
			format_append(line, sizeof(line), &n, "; no driver");
		if (d->status)
			format_append(line, sizeof(line), &n, ": %s", d->status);
		console_print("%s\n", line);
	}
	unsigned segs = count_segments();
	console_print("%zu device%s on %u segment%s (%s)\n", devices_found,
		      devices_found == 1 ? "" : "s", segs, segs == 1 ? "" : "s", method);
}

/* ---- for drivers ---- */

void pci_enable(struct pci_dev *d, bool mem, bool io, bool master)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	uint16_t want = cmd | (mem ? PCI_CMD_MEM : 0) | (io ? PCI_CMD_IO : 0) |
			(master ? PCI_CMD_MASTER : 0);
	if (want != cmd)
		pci_write16(d, PCI_COMMAND, want);
}

volatile void *pci_bar_map(struct pci_dev *d, unsigned i)
{
	if (i >= PCI_MAX_BARS)
		return NULL;
	const struct pci_bar *b = &d->bar[i];
	if (b->io || !b->size || !b->base)
		return NULL;
	return mm_map_mmio(b->base, b->size);
}

volatile uint8_t *pci_probe_mmio_bar(struct pci_dev *d, unsigned i, uint64_t min_size, char *err,
				     size_t errlen)
{
	const struct pci_bar *b = i < PCI_MAX_BARS ? &d->bar[i] : NULL;
	if (!b || b->io || b->size < min_size || !b->base) {
		if (min_size >= 1024)
			format(err, errlen, "BAR%u is not a memory BAR of at least %llu KiB", i,
			       (unsigned long long)(min_size >> 10));
		else
			format(err, errlen, "BAR%u is not a memory BAR", i);
		return NULL;
	}
	pci_enable(d, true, false, true);
	volatile uint8_t *regs = (volatile uint8_t *)pci_bar_map(d, i);
	if (!regs)
		format(err, errlen, "cannot map BAR%u", i);
	return regs;
}

/*
 * Enumeration: which functions answer on which bus, as the firmware left
 * the bridges numbered (we renumber nothing). Buses are taken in ascending
 * order: a bridge's secondary bus is always above its own bus (we refuse the
 * bridges where it is not), so by the time a bus is reached every bridge
 * that could lead to it has been seen.
 */
#include <stdarg.h>

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/pci/pci.h"

#define BUSES 256

struct walk {
	const struct pci_cfg *cfg;
	uint16_t segment;
	bool reached[BUSES]; /* a bridge leads here, or bus_start */
	bool behind[BUSES];  /* inside some bridge's secondary..subordinate range */
	struct pci_dev *out;
	size_t max, found;
};

static bool absent(uint16_t vendor)
{
	return vendor == 0xffff || vendor == 0x0000;
}

static void say(const struct walk *w, const struct pci_dev *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct walk *w, const struct pci_dev *d, const char *fmt, ...)
{
	if (!w->cfg->log)
		return;
	char name[16], line[160];
	pci_dev_name(d, name, sizeof(name));
	int n = format(line, sizeof(line), "pci %s: ", name);
	if (n > 0 && (size_t)n < sizeof(line)) {
		va_list ap;
		va_start(ap, fmt);
		format_v(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	w->cfg->log(w->cfg->ctx, line);
}

/* A bridge's secondary bus: walked later, or refused with the reason. */
static void take_bridge(struct walk *w, struct pci_dev *d)
{
	unsigned sec = d->secondary_bus, sub = d->subordinate_bus;
	const struct pci_cfg *cfg = w->cfg;

	if (sub >= sec && sec > d->bus)
		for (unsigned b = sec; b <= sub; b++)
			w->behind[b] = true;
	if (sec == 0 || sec <= d->bus) {
		say(w, d, "bridge skipped: secondary bus %u is not above its own bus %u", sec, d->bus);
		d->status = "skipped: bad secondary bus";
	} else if (sec < cfg->bus_start || sec > cfg->bus_end) {
		say(w, d, "bridge skipped: secondary bus %u is outside buses %u-%u this access reaches",
		    sec, cfg->bus_start, cfg->bus_end);
		d->status = "skipped: secondary bus unreachable";
	} else if (w->reached[sec]) {
		say(w, d, "bridge skipped: bus %u is already behind another bridge", sec);
		d->status = "skipped: secondary bus taken";
	} else {
		w->reached[sec] = true;
	}
}

/* Reads what identifies a function and, when it is stored, its BARs and capabilities. */
static void read_function(struct walk *w, struct pci_dev *d, uint8_t bus, uint8_t dev, uint8_t fn,
			  bool full)
{
	memset(d, 0, sizeof(*d));
	d->segment = w->segment;
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->cfg = w->cfg;
	uint32_t id = pci_read32(d, PCI_VENDOR_ID);
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cls = pci_read32(d, PCI_REVISION);
	d->revision = (uint8_t)cls;
	d->prog_if = (uint8_t)(cls >> 8);
	d->class_sub = (uint8_t)(cls >> 16);
	d->class_base = (uint8_t)(cls >> 24);
	d->header_type = pci_read8(d, PCI_HEADER_TYPE);
	if ((d->header_type & 0x7f) == 1) {
		d->secondary_bus = pci_read8(d, PCI_SECONDARY_BUS);
		d->subordinate_bus = pci_read8(d, PCI_SUBORDINATE_BUS);
	}
	if (!full)
		return;

	/* decoding off once for all the BARs (pci_bar_probe then leaves it alone) */
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	bool host_bridge = d->class_base == PCI_CLASS_BRIDGE && d->class_sub == 0;
	bool quiet = (cmd & (PCI_CMD_IO | PCI_CMD_MEM)) && !host_bridge;
	if (quiet)
		pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (unsigned i = 0; i < PCI_MAX_BARS;)
		i = pci_bar_probe(d, i);
	if (quiet)
		pci_write16(d, PCI_COMMAND, cmd);

	d->cap_msi = pci_find_cap(d, PCI_CAP_ID_MSI);
	d->cap_msix = pci_find_cap(d, PCI_CAP_ID_MSIX);
	d->cap_pcie = pci_find_cap(d, PCI_CAP_ID_PCIE);
	d->cap_pm = pci_find_cap(d, PCI_CAP_ID_PM);
}

static void walk_bus(struct walk *w, uint8_t bus)
{
	struct pci_dev probe = {.segment = w->segment, .bus = bus, .cfg = w->cfg};
	struct pci_dev spare;

	for (uint8_t dev = 0; dev < 32; dev++) {
		probe.dev = dev;
		probe.fn = 0;
		if (absent(pci_read16(&probe, PCI_VENDOR_ID)))
			continue; /* function 0 is always there when the device is */
		bool multi = pci_read8(&probe, PCI_HEADER_TYPE) & 0x80;
		for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++) {
			probe.fn = fn;
			if (fn && absent(pci_read16(&probe, PCI_VENDOR_ID)))
				continue;
			bool keep = w->found < w->max;
			struct pci_dev *d = keep ? &w->out[w->found] : &spare;
			read_function(w, d, bus, dev, fn, keep);
			w->found++;
			if ((d->header_type & 0x7f) == 1)
				take_bridge(w, d);
		}
	}
}

/* Does anything answer on this bus? (A bus no bridge leads to.) */
static bool bus_answers(const struct walk *w, uint8_t bus)
{
	struct pci_dev probe = {.segment = w->segment, .bus = bus, .cfg = w->cfg};
	for (probe.dev = 0; probe.dev < 32; probe.dev++)
		if (!absent(pci_read16(&probe, PCI_VENDOR_ID)))
			return true;
	return false;
}

size_t pci_enumerate(const struct pci_cfg *cfg, uint16_t segment, struct pci_dev *out, size_t max)
{
	struct walk w;

	if (!cfg || cfg->bus_end < cfg->bus_start)
		return 0;
	memset(&w, 0, sizeof(w));
	w.cfg = cfg;
	w.segment = segment;
	w.out = out;
	w.max = out ? max : 0;
	w.reached[cfg->bus_start] = true;
	for (unsigned bus = cfg->bus_start; bus <= cfg->bus_end; bus++) {
		if (!w.reached[bus] && (w.behind[bus] || !bus_answers(&w, (uint8_t)bus)))
			continue;
		walk_bus(&w, (uint8_t)bus);
	}
	return w.found;
}

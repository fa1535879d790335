/* Names for the report: a function's address, and its class in English (PCI Code and ID Assignment 1.16). */
#include "kernel/lib/format.h"
#include "kernel/pci/pci.h"

void pci_dev_name(const struct pci_dev *d, char *buf, size_t len)
{
	format(buf, len, "%04x:%02x:%02x.%u", d->segment, d->bus, d->dev, d->fn & 7u);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* n hex digits at s, or -1 */
static int hexfield(const char *s, unsigned n)
{
	int v = 0;
	for (unsigned i = 0; i < n; i++) {
		int d = hexval(s[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

bool pci_list_has(const char *list, const struct pci_dev *d)
{
	const char *s = list;
	while (s && *s) {
		const char *e = s;
		while (*e && *e != ',')
			e++;
		const char *p = s;
		int seg = 0;
		if (e - s == 12) {
			seg = hexfield(p, 4);
			p = p[4] == ':' ? p + 5 : NULL;
		}
		if (p && e - p == 7 && p[2] == ':' && p[5] == '.') {
			int bus = hexfield(p, 2), dev = hexfield(p + 3, 2), fn = hexfield(p + 6, 1);
			if (seg == d->segment && bus == d->bus && dev == d->dev && fn == d->fn)
				return true;
		}
		s = *e ? e + 1 : e;
	}
	return false;
}

#define ANY 0xffff

struct class_name {
	uint8_t base;
	uint16_t sub;	  /* ANY: every subclass */
	uint16_t prog_if; /* ANY: every interface */
	const char *name;
};

/* The first match wins: exact entries before their class's catch-all. */
static const struct class_name names[] = {
    {0x00, 0x01, ANY, "VGA-compatible device"},
    {0x00, ANY, ANY, "unclassified device"},
    {0x01, 0x00, ANY, "SCSI controller"},
    {0x01, 0x01, ANY, "IDE controller"},
    {0x01, 0x02, ANY, "floppy controller"},
    {0x01, 0x04, ANY, "RAID controller"},
    {0x01, 0x05, ANY, "ATA controller"},
    {0x01, 0x06, 0x01, "SATA controller (AHCI)"},
    {0x01, 0x06, ANY, "SATA controller"},
    {0x01, 0x07, ANY, "SAS controller"},
    {0x01, 0x08, 0x02, "NVM Express controller"},
    {0x01, 0x08, ANY, "non-volatile memory controller"},
    {0x01, ANY, ANY, "storage controller"},
    {0x02, 0x00, ANY, "Ethernet controller"},
    {0x02, ANY, ANY, "network controller"},
    {0x03, 0x00, ANY, "VGA controller"},
    {0x03, ANY, ANY, "display controller"},
    {0x04, 0x03, ANY, "audio device"},
    {0x04, ANY, ANY, "multimedia controller"},
    {0x05, ANY, ANY, "memory controller"},
    {0x06, 0x00, ANY, "host bridge"},
    {0x06, 0x01, ANY, "ISA bridge"},
    {0x06, 0x04, ANY, "PCI bridge"},
    {0x06, 0x09, ANY, "PCI bridge"},
    {0x06, ANY, ANY, "bridge"},
    {0x07, 0x00, ANY, "serial controller"},
    {0x07, ANY, ANY, "communication controller"},
    {0x08, 0x05, ANY, "SD host controller"},
    {0x08, 0x06, ANY, "IOMMU"},
    {0x08, ANY, ANY, "system peripheral"},
    {0x09, ANY, ANY, "input device controller"},
    {0x0b, ANY, ANY, "processor"},
    {0x0c, 0x03, 0x30, "USB controller (xHCI)"},
    {0x0c, 0x03, 0x20, "USB controller (EHCI)"},
    {0x0c, 0x03, ANY, "USB controller"},
    {0x0c, 0x05, ANY, "SMBus controller"},
    {0x0c, ANY, ANY, "serial bus controller"},
    {0x0d, ANY, ANY, "wireless controller"},
    {0x10, ANY, ANY, "encryption controller"},
    {0x11, ANY, ANY, "signal processing controller"},
    {0x12, ANY, ANY, "processing accelerator"},
    {0x13, ANY, ANY, "non-essential instrumentation"},
    {0xff, ANY, ANY, "unassigned class"},
};

const char *pci_class_name(uint8_t base, uint8_t sub, uint8_t prog_if)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct class_name *n = &names[i];
		if (n->base == base && (n->sub == ANY || n->sub == sub) &&
		    (n->prog_if == ANY || n->prog_if == prog_if))
			return n->name;
	}
	return "device";
}
